//! The JVM artifact `dev.matrixmobilecore:core-jvm` and its consumer test.
//!
//! `publish_jvm` runs Maven's own `deploy` on `kotlin/pom.xml` (profile
//! `publish`) with `-DaltDeploymentRepository`, so the repository it fills has
//! the layout, `maven-metadata.xml` and checksums that any Maven or Gradle
//! build reads: the release's staging directory, which JReleaser signs and
//! uploads (`jreleaser.rs`). The version is `Ctx::version()`, handed to the
//! POM's `${revision}`; the POM that is published carries the resolved value.
//! The jars are reproducible (`project.build.outputTimestamp`): two builds of
//! one commit write the same bytes.
//!
//! `consumer_test` is what a new user does: a Maven project outside the build
//! (`consumers/jvm/`) that names `core-jvm` by its coordinates and a
//! repository, and nothing else: no `jna.library.path`, no file dependency.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};

use crate::central::{self, jar_listing, without_comments};
use crate::ctx::{self, Ctx};
use crate::{kotlin, strip};

const GROUP_PATH: &str = "dev/matrixmobilecore";
const ARTIFACT: &str = "core-jvm";

/// The runtime dependencies the published POM must name, with a version.
const RUNTIME_DEPENDENCIES: [&str; 3] = ["kotlin-stdlib", "kotlinx-coroutines-core-jvm", "jna"];

/// Deploys `core-jvm` (jar with the host library inside, sources and KDoc
/// jars, POM, unsigned) for the workspace's version (`Ctx::version`) into
/// the Maven repository at `repo`. `natives` is a folder of the other
/// platforms' libraries (`natives::check_dir`), packed beside the host's.
/// Maven builds in `target/maven-publish/` with bindings of its own there, so
/// a test run of `kotlin/` at the same time keeps its folders.
///
/// Guarantee: when this returns, `repo` holds the four files of
/// `dev.matrixmobilecore:core-jvm:<version>`, the jar carries the library
/// under JNA's resource prefix for this host and every library of `natives`
/// under its own, and the POM names every runtime dependency with the
/// version the build compiled against (not yet signed nor checked against
/// Central's rules: `jreleaser::stage`, `central::validate`).
pub fn publish_jvm(ctx: &Ctx, cdylib: &Path, repo: &Path, natives: Option<&Path>) -> Result<()> {
    let version = &ctx.version()?;
    let prefix = jna_resource_prefix()?;
    let mut entries = vec![format!("{prefix}/{}", lib_file_name())];
    if let Some(natives) = natives {
        entries.extend(crate::natives::check_dir(natives, &prefix)?);
    }
    // The bindings come from the full library; the jar carries the stripped
    // copy (xtask/src/strip.rs).
    let work = ctx.target_dir().join("maven-publish");
    let generated = work.join("generated");
    let dir = kotlin::prepare_into(ctx, cdylib, &generated)?;
    let shipped = strip::stripped_copy(cdylib)?;
    std::fs::create_dir_all(repo).with_context(|| format!("creating {}", repo.display()))?;
    let repo = repo.canonicalize()?;
    let started = Instant::now();
    let build = work.join("build");
    let mut mvn = kotlin::maven(ctx, &dir, &shipped)?;
    mvn.args([
        "-Ppublish".to_owned(),
        // Neither tests nor ~/.m2: the artifact goes only where it is asked to.
        "-Dmaven.test.skip=true".to_owned(),
        "-Dmaven.install.skip=true".to_owned(),
        // After kotlin::maven's: the last -D of a name wins.
        format!("-Dmmc.generated.dir={}", generated.display()),
        format!("-Dmmc.build.dir={}", build.display()),
        format!("-Dmmc.jna.prefix={prefix}"),
        format!(
            "-Dmmc.natives.dir={}",
            match natives {
                Some(dir) => dir.canonicalize()?,
                // Absent: Maven skips a resource folder that does not exist.
                None => build.join("no-natives"),
            }
            .display()
        ),
        format!("-DaltDeploymentRepository=mmc-local::{}", file_url(&repo)),
    ]);
    ctx::run(mvn.args(["clean", "deploy"]))?;
    let published = artifact_dir(&repo, version);
    check_published(&published, version, &entries)?;
    println!(
        "maven: {}:{ARTIFACT}:{version} in {} ({:.1} s)",
        GROUP_PATH.replace('/', "."),
        repo.display(),
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// A Maven project outside the build, depending on `core-jvm` by its
/// coordinates, logs in to the homeserver, syncs, sends and logs out.
///
/// It resolves `core-jvm` from `repo` (the Maven repository `release-local`
/// wrote), after forgetting any copy of that version that an earlier run
/// left in the user's local repository (`~/.m2`), so that the consumer
/// resolves exactly this build through its `<repositories>`.
///
/// Returns the consumer's build folder: its jar, and its runtime
/// dependencies under `dependency/`, which `shrink::shrunk_consumer_test`
/// shrinks and runs next.
pub fn consumer_test(ctx: &Ctx, repo: &Path, homeserver_url: &str) -> Result<PathBuf> {
    let version = ctx.version()?;
    let work = ctx.target_dir().join("consumers").join("jvm");
    if work.exists() {
        std::fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    }
    let repo = &repo.canonicalize()?;
    forget_cached_copy(&version)?;

    let project = ctx.root.join("consumers").join("jvm");
    let started = Instant::now();
    let output = Command::new("mvn")
        .current_dir(&project)
        .args([
            "-B".to_owned(),
            "-q".to_owned(),
            "-Dstyle.color=never".to_owned(),
            format!("-Dmmc.version={version}"),
            format!("-Dmmc.repository={}", file_url(repo)),
            format!("-Dmmc.build.dir={}", work.join("build").display()),
            "package".to_owned(),
            // The runtime jars, for the shrunk run (`shrink.rs`).
            "dependency:copy-dependencies".to_owned(),
            "-DincludeScope=runtime".to_owned(),
            "exec:exec".to_owned(),
        ])
        .env("MMC_HOMESERVER_URL", homeserver_url)
        .env_remove("JAVA_TOOL_OPTIONS")
        .output()
        .context("could not start mvn")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    eprintln!(
        "jvm consumer: mvn took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if !output.status.success() {
        bail!("the JVM consumer failed with {}", output.status);
    }
    if !stdout.contains("jvm consumer: ok") {
        bail!("the JVM consumer exited without its closing line");
    }
    Ok(work.join("build"))
}

/// JNA's resource prefix for this host (`com.sun.jna.Platform.RESOURCE_PREFIX`).
pub fn jna_resource_prefix() -> Result<String> {
    let os = match std::env::consts::OS {
        "linux" => "linux",
        "macos" => "darwin",
        "windows" => "win32",
        other => bail!("core-jvm: no JNA resource prefix known for the OS `{other}`"),
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x86-64",
        "aarch64" => "aarch64",
        other => bail!("core-jvm: no JNA resource prefix known for the CPU `{other}`"),
    };
    Ok(format!("{os}-{arch}"))
}

/// The library's file name on this host, as the jar carries it.
pub fn lib_file_name() -> String {
    format!(
        "{}matrix_mobile_core.{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_EXTENSION
    )
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn artifact_dir(repo: &Path, version: &str) -> PathBuf {
    repo.join(GROUP_PATH).join(ARTIFACT).join(version)
}

/// Fails unless `dir` holds the jar (with every one of `lib_entries` in it), the
/// sources and javadoc jars, and a POM with a resolved version and the runtime
/// dependencies.
fn check_published(dir: &Path, version: &str, lib_entries: &[String]) -> Result<()> {
    let base = format!("{ARTIFACT}-{version}");
    for suffix in [".jar", "-sources.jar", "-javadoc.jar", ".pom"] {
        let file = dir.join(format!("{base}{suffix}"));
        if !file.is_file() {
            bail!("core-jvm: Maven did not publish {}", file.display());
        }
    }
    let listing = jar_listing(&dir.join(format!("{base}.jar")))?;
    for entry in lib_entries {
        if !listing.contains(entry) {
            bail!("core-jvm: the jar has no {entry}");
        }
    }
    let pom = std::fs::read_to_string(dir.join(format!("{base}.pom")))?;
    check_jvm_pom(&pom, version)
}

/// The published POM passes Central's checks for `core-jvm:version`
/// (coordinates, no property left for a consumer to resolve: `central.rs`)
/// and names each runtime dependency with a literal version.
fn check_jvm_pom(pom: &str, version: &str) -> Result<()> {
    central::check_pom(pom, &GROUP_PATH.replace('/', "."), ARTIFACT, version)
        .map_err(|e| anyhow!("core-jvm: the POM: {e}"))?;
    let pom = &without_comments(pom);
    for artifact in RUNTIME_DEPENDENCIES {
        let at = pom
            .find(&format!("<artifactId>{artifact}</artifactId>"))
            .with_context(|| format!("core-jvm: the POM does not depend on {artifact}"))?;
        let dependency = &pom[at..at + pom[at..].find("</dependency>").unwrap_or(0)];
        if !dependency.contains("<version>") || dependency.contains("<scope>test</scope>") {
            bail!("core-jvm: the POM's {artifact} is not a versioned runtime dependency");
        }
    }
    Ok(())
}

/// Removes `core-jvm:<version>` from the user's local Maven repository, where
/// an earlier consumer run cached it: Maven takes a release version from
/// there before it asks any repository.
fn forget_cached_copy(version: &str) -> Result<()> {
    let Some(home) = std::env::var_os("HOME") else {
        return Ok(());
    };
    let cached = PathBuf::from(home)
        .join(".m2/repository")
        .join(GROUP_PATH)
        .join(ARTIFACT)
        .join(version);
    if cached.exists() {
        std::fs::remove_dir_all(&cached)
            .with_context(|| format!("removing {}", cached.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POM: &str = "<project><groupId>dev.matrixmobilecore</groupId>\
        <artifactId>core-jvm</artifactId><version>1.2.3</version>\
        <name>core-jvm</name><description>The core</description><url>https://example.org/c</url>\
        <licenses><license><name>Apache-2.0</name><url>https://example.org/l</url></license></licenses>\
        <developers><developer><name>Someone</name></developer></developers>\
        <scm><url>https://example.org/c</url><connection>scm:git:https://example.org/c.git</connection></scm>\
        <dependencies>\
        <dependency><artifactId>kotlin-stdlib</artifactId><version>2.2.20</version></dependency>\
        <dependency><artifactId>kotlinx-coroutines-core-jvm</artifactId><version>1.10.2</version></dependency>\
        <dependency><artifactId>jna</artifactId><version>5.17.0</version></dependency>\
        </dependencies></project>";

    #[test]
    fn check_jvm_pom_accepts_resolved_runtime_dependencies() {
        check_jvm_pom(POM, "1.2.3").unwrap();
        check_jvm_pom(&format!("<!-- set by ${{revision}} -->{POM}"), "1.2.3").unwrap();
        assert!(check_jvm_pom(POM, "9.9.9").is_err());
    }

    #[test]
    fn check_jvm_pom_refuses_properties_and_test_scoped_dependencies() {
        assert!(check_jvm_pom(&POM.replace("5.17.0", "${jna.version}"), "1.2.3").is_err());
        let test_scoped = POM.replace(
            "<version>5.17.0</version>",
            "<version>5.17.0</version><scope>test</scope>",
        );
        assert!(check_jvm_pom(&test_scoped, "1.2.3").is_err());
    }

    #[test]
    fn jna_prefix_matches_the_host() {
        let prefix = jna_resource_prefix().unwrap();
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            assert_eq!(prefix, "linux-x86-64");
        }
    }
}
