//! The Maven Central deployment of a release: JReleaser's Maven Central
//! deployer (`kotlin/central/jreleaser.yml`, run by jreleaser-maven-plugin
//! through `kotlin/central/pom.xml`) on the staging directory `DIR/maven/`
//! that `release-local DIR` fills with every component, unsigned.
//!
//! - [`stage`] is JReleaser's dry run: Central's rules (the sources and
//!   javadoc jars beside each jar, the POMs through PomChecker where it can
//!   be fetched), an `.asc` beside every file (gpg with the [`Signer`]'s
//!   key), the checksums that are missing, and the bundle, a zip of the
//!   directory; everything but the upload. `release-local` then checks the
//!   directory itself (`central::validate`) and that the bundle holds exactly
//!   its files ([`check_bundle`]).
//! - [`publish`] uploads that directory as one deployment and publishes it:
//!   JReleaser's stage `UPLOAD` (Central validates the deployment and keeps
//!   it unpublished), then a check that the bundle it uploaded holds the
//!   bytes that were validated, file for file, then its stage `PUBLISH` of
//!   that deployment. A deployment whose bytes differ is left unpublished.
//!
//! JReleaser signs and sums only files whose `.asc` or checksum is missing
//! or older than themselves; [`publish`] first makes every sidecar newer
//! than its file (a directory carried between CI jobs loses its times), so
//! the upload run writes nothing into the validated directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};

use crate::central;
use crate::ctx::{self, Ctx};
use crate::signing::Signer;

/// The staging directory under the release directory: `stagingRepositories`
/// of `jreleaser.yml`, relative to its basedir.
pub const STAGING: &str = "maven";

/// JReleaser's own folder under the release directory: its log, its
/// `output.properties` and the bundle.
const OUTPUT: &str = "jreleaser";

/// The deployer's name in `jreleaser.yml` (`deploy.maven.mavenCentral.central`).
const DEPLOYER: &str = "central";

/// The Central Portal token JReleaser uploads with; a dry run needs the
/// variables set, to anything.
const CREDENTIALS: [&str; 2] = [
    "JRELEASER_MAVENCENTRAL_USERNAME",
    "JRELEASER_MAVENCENTRAL_PASSWORD",
];

/// The files of a staging directory that go into the bundle, by path
/// (`/`-separated, relative), with their SHA-256.
pub type Manifest = BTreeMap<String, String>;

/// JReleaser's dry run on `dir/maven/` (see the module's documentation);
/// returns the bundle it wrote.
pub fn stage(ctx: &Ctx, dir: &Path, signer: &Signer, version: &str) -> Result<PathBuf> {
    let mut dry_run = jreleaser(ctx, dir, signer, version)?;
    dry_run.arg("-Djreleaser.dry.run=true");
    for var in CREDENTIALS {
        if std::env::var_os(var).is_none() {
            dry_run.env(var, "dry-run");
        }
    }
    ctx::run(dry_run.arg("jreleaser:deploy")).context("JReleaser's dry run failed")?;
    let bundle = bundle_path(dir, version);
    if !bundle.is_file() {
        bail!("JReleaser's dry run wrote no {}", bundle.display());
    }
    Ok(bundle)
}

/// Fails unless `publish` can upload: the Central Portal token is in the
/// environment. Called before anything is built.
pub fn check_credentials() -> Result<()> {
    let missing: Vec<&str> = CREDENTIALS
        .into_iter()
        .filter(|var| std::env::var_os(var).is_none_or(|v| v.is_empty()))
        .collect();
    if !missing.is_empty() {
        bail!(
            "uploading to Maven Central needs a Central Portal token in {}",
            missing.join(" and ")
        );
    }
    Ok(())
}

/// Uploads `dir/maven/`, whose files `validated` lists, as one deployment,
/// and publishes it once the bundle that went up is shown to hold exactly
/// those files (see the module's documentation).
pub fn publish(
    ctx: &Ctx,
    dir: &Path,
    signer: &Signer,
    version: &str,
    validated: &Manifest,
) -> Result<()> {
    check_credentials()?;
    let staging = dir.join(STAGING);
    freshen_sidecars(&staging)?;
    let mut upload = jreleaser(ctx, dir, signer, version)?;
    upload.env("JRELEASER_MAVENCENTRAL_STAGE", "UPLOAD");
    ctx::run(upload.arg("jreleaser:deploy")).context("JReleaser's upload failed")?;
    let id = deployment_id(&dir.join(OUTPUT).join("output.properties"))?;
    let uploaded = bundle_path(dir, version);
    if manifest(&staging)? != *validated {
        bail!("the staging directory changed during the upload; deployment {id} is left unpublished (drop it at https://central.sonatype.com/publishing/deployments)");
    }
    check_bundle(&uploaded, validated).with_context(|| {
        format!("deployment {id} is not what was validated and is left unpublished (drop it at https://central.sonatype.com/publishing/deployments)")
    })?;
    println!(
        "central: deployment {id} holds the {} validated files; publishing it",
        validated.len()
    );
    let mut publish = jreleaser(ctx, dir, signer, version)?;
    publish
        .env("JRELEASER_MAVENCENTRAL_STAGE", "PUBLISH")
        .env("JRELEASER_MAVENCENTRAL_DEPLOYMENT_ID", &id);
    ctx::run(publish.arg("jreleaser:deploy"))
        .with_context(|| format!("publishing deployment {id} failed"))?;
    println!("central: deployment {id} published to Maven Central");
    Ok(())
}

/// `mvn` in `kotlin/central/` with JReleaser pointed at `dir` and signing
/// with `signer`.
fn jreleaser(ctx: &Ctx, dir: &Path, signer: &Signer, version: &str) -> Result<Command> {
    if !ctx::have_tool("mvn") {
        bail!("`mvn` is not on PATH: JReleaser runs as a Maven plugin (kotlin/central/pom.xml)");
    }
    let mut mvn = Command::new("mvn");
    mvn.current_dir(ctx.root.join("kotlin").join("central"))
        .args(["-B", "-ntp", "-Dstyle.color=never"])
        .arg(format!("-Drevision={version}"))
        .arg(format!(
            "-Djreleaser.output.directory={}",
            dir.join(OUTPUT).display()
        ))
        .env("JRELEASER_BASEDIR", dir)
        .env("JRELEASER_PROJECT_VERSION", version)
        .env("JRELEASER_GPG_KEYNAME", signer.key());
    match signer.gnupg_home() {
        // A throwaway key has no passphrase; the caller's keyring is its
        // own (and the passphrase, JRELEASER_GPG_PASSPHRASE, the caller's).
        Some(home) => {
            mvn.env("JRELEASER_GPG_HOMEDIR", home)
                .env_remove("JRELEASER_GPG_PASSPHRASE");
        }
        None => {
            mvn.env_remove("JRELEASER_GPG_HOMEDIR");
        }
    }
    Ok(mvn)
}

/// Where JReleaser writes the bundle: `<namespace>-<project>-<version>-bundle.zip`.
fn bundle_path(dir: &Path, version: &str) -> PathBuf {
    dir.join(OUTPUT)
        .join("deploy/mavenCentral")
        .join(DEPLOYER)
        .join(format!(
            "dev.matrixmobilecore-matrix-mobile-core-{version}-bundle.zip"
        ))
}

/// The deployment id that JReleaser's upload wrote into `output.properties`
/// (`deployMavenCentral<Name>DeploymentId=...`).
fn deployment_id(properties: &Path) -> Result<String> {
    let text = std::fs::read_to_string(properties)
        .with_context(|| format!("reading {}", properties.display()))?;
    text.lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.starts_with("deployMavenCentral") && k.ends_with("DeploymentId"))
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .with_context(|| {
            format!(
                "JReleaser uploaded, but {} names no deployment id",
                properties.display()
            )
        })
}

/// The files of the staging directory `dir` that the bundle carries (all
/// but `maven-metadata.xml` and its sums, and hidden files, as JReleaser
/// leaves them out), with their SHA-256.
pub fn manifest(dir: &Path) -> Result<Manifest> {
    let mut files = Manifest::new();
    collect(dir, dir, &mut files)?;
    Ok(files)
}

fn collect(root: &Path, dir: &Path, files: &mut Manifest) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with('.') || name.contains("maven-metadata.xml") {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files)?;
        } else {
            let relative = path
                .strip_prefix(root)?
                .to_string_lossy()
                .replace('\\', "/");
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            files.insert(relative, central::digest("sha256", &bytes));
        }
    }
    Ok(())
}

/// Fails unless the zip `bundle` holds exactly the files of `expected`,
/// byte for byte; names the first differences.
pub fn check_bundle(bundle: &Path, expected: &Manifest) -> Result<()> {
    let unpacked = tempfile::Builder::new()
        .prefix("mmc-central-bundle-")
        .tempdir()
        .context("creating a folder to unpack the bundle")?;
    ctx::run(
        Command::new("jar")
            .current_dir(unpacked.path())
            .arg("xf")
            .arg(bundle),
    )?;
    let found = manifest(unpacked.path())?;
    let mut differences: Vec<String> = expected
        .iter()
        .filter(|(path, sum)| found.get(*path) != Some(sum))
        .map(|(path, _)| match found.get(path) {
            Some(_) => format!("{path}: other bytes"),
            None => format!("{path}: missing"),
        })
        .chain(
            found
                .keys()
                .filter(|path| !expected.contains_key(*path))
                .map(|path| format!("{path}: not validated")),
        )
        .collect();
    if !differences.is_empty() {
        differences.truncate(10);
        bail!(
            "the bundle {} is not the validated directory:\n  {}",
            bundle.display(),
            differences.join("\n  ")
        );
    }
    Ok(())
}

/// Makes every `.asc` and checksum file under `dir` newer than any file it
/// vouches for, so that JReleaser neither signs nor sums again what was
/// validated.
fn freshen_sidecars(dir: &Path) -> Result<()> {
    let now = SystemTime::now();
    for path in manifest(dir)?.keys() {
        if central::is_sidecar(path) {
            let file = dir.join(path);
            std::fs::File::options()
                .write(true)
                .open(&file)
                .and_then(|f| f.set_modified(now))
                .with_context(|| format!("setting the time of {}", file.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deployment_id_comes_from_output_properties() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("output.properties");
        std::fs::write(
            &file,
            "#JReleaser 1.23.0\ndeployMavenCentralCentralNamespace=dev.matrixmobilecore\n\
             deployMavenCentralCentralDeploymentId=28570f16-da32-4c14-bd2e-c1acc0782365\nprojectVersion=0.1.0\n",
        )
        .unwrap();
        assert_eq!(
            deployment_id(&file).unwrap(),
            "28570f16-da32-4c14-bd2e-c1acc0782365"
        );
        std::fs::write(&file, "projectVersion=0.1.0\n").unwrap();
        assert!(deployment_id(&file).is_err());
    }

    /// A bundle of the staging directory passes; one with a file changed,
    /// missing or added names it.
    #[test]
    fn a_bundle_must_hold_the_validated_bytes() {
        let staging = tempfile::tempdir().unwrap();
        let component = staging.path().join("dev/example/lib/1.0.0");
        std::fs::create_dir_all(&component).unwrap();
        std::fs::write(component.join("lib-1.0.0.pom"), "<project/>").unwrap();
        std::fs::write(component.join("lib-1.0.0.pom.asc"), "signature").unwrap();
        std::fs::write(
            staging.path().join("dev/example/lib/maven-metadata.xml"),
            "<m/>",
        )
        .unwrap();
        let validated = manifest(staging.path()).unwrap();
        assert_eq!(
            validated.keys().collect::<Vec<_>>(),
            [
                "dev/example/lib/1.0.0/lib-1.0.0.pom",
                "dev/example/lib/1.0.0/lib-1.0.0.pom.asc"
            ]
        );
        let out = tempfile::tempdir().unwrap();
        let zip = |name: &str| {
            let bundle = out.path().join(name);
            ctx::run(
                Command::new("jar")
                    .arg("cfM")
                    .arg(&bundle)
                    .arg("-C")
                    .arg(staging.path())
                    .arg("dev"),
            )
            .unwrap();
            bundle
        };
        let same = zip("same.zip");
        check_bundle(&same, &validated).unwrap();
        std::fs::write(component.join("lib-1.0.0.pom.asc"), "another signature").unwrap();
        std::fs::write(component.join("extra.jar"), "x").unwrap();
        let other = zip("other.zip");
        let said = format!("{:#}", check_bundle(&other, &validated).unwrap_err());
        assert!(said.contains("lib-1.0.0.pom.asc: other bytes"), "{said}");
        assert!(said.contains("extra.jar: not validated"), "{said}");
    }
}
