//! The JVM consumer shrunk by ProGuard with the rules core-jvm's users get.
//!
//! `maven::consumer_test` leaves the consumer's jar and its runtime
//! dependencies (core-jvm with its native library, JNA, kotlin-stdlib,
//! kotlinx-coroutines) under `target/consumers/jvm/build/`; the `consumers`
//! suite calls this module next. It asks Maven for ProGuard's class path
//! (`consumers/jvm/proguard/pom.xml`, from Maven Central), then shrinks,
//! optimizes and obfuscates the whole app into one jar with
//!
//! - the rules the dependency jars embed under `META-INF/proguard/`: core-jvm's
//!   (`kotlin/consumer-rules.pro`, which core-android also publishes in its
//!   AAR) and kotlinx-coroutines'. R8 applies them by itself; standalone
//!   ProGuard does not, so they are extracted and included here. core-jvm's
//!   jar must carry its own, or this fails;
//! - `consumers/jvm/proguard/app-rules.pro`, the app's own (its entry point),
//!
//! and runs the shrunk jar against the homeserver: it must register, log in,
//! sync, send, log out and shut down as the unshrunk one does.
//!
//! `MMC_CONSUMER_RULES` replaces core-jvm's rules (to show that a rule they
//! carry is needed: the shrunk app then fails).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::central::jar_listing;
use crate::ctx::{self, Ctx};

/// Past this the shrunk app is killed. It ends itself after 120 s, but a
/// shrinker can break the coroutines machinery so that it never does.
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// Shrinks the consumer built in `build` (the folder `maven::consumer_test`
/// returns) and runs it against the homeserver at `homeserver_url`.
pub fn shrunk_consumer_test(ctx: &Ctx, build: &Path, homeserver_url: &str) -> Result<()> {
    let app_jar = build.join("jvm-consumer-1.jar");
    let deps = build.join("dependency");
    if !app_jar.is_file() || !deps.is_dir() {
        bail!(
            "shrink: {} or {} is missing",
            app_jar.display(),
            deps.display()
        );
    }
    let started = Instant::now();
    let proguard_dir = ctx.root.join("consumers").join("jvm").join("proguard");
    let classpath_file = build.join("proguard.classpath");
    let status = Command::new("mvn")
        .current_dir(&proguard_dir)
        .args([
            "-B",
            "-q",
            "-Dstyle.color=never",
            "dependency:build-classpath",
        ])
        .arg(format!("-Dmdep.outputFile={}", classpath_file.display()))
        .env_remove("JAVA_TOOL_OPTIONS")
        .status()
        .context("could not start mvn")?;
    if !status.success() {
        bail!("shrink: Maven could not resolve ProGuard (com.guardsquare:proguard-base): {status}");
    }
    let proguard_cp = std::fs::read_to_string(&classpath_file)
        .with_context(|| format!("reading {}", classpath_file.display()))?;

    let embedded = embedded_rules(&deps, &build.join("embedded-rules"))?;
    let (core_rules, embedded): (Vec<PathBuf>, Vec<PathBuf>) =
        embedded.into_iter().partition(|path| {
            path.components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with("core-jvm"))
        });
    let rules = match std::env::var_os("MMC_CONSUMER_RULES") {
        Some(path) => PathBuf::from(path),
        None => match core_rules.as_slice() {
            [rules] => rules.clone(),
            _ => bail!("shrink: core-jvm's jar must carry one META-INF/proguard/*.pro, found {core_rules:?}"),
        },
    };
    if !rules.is_file() {
        bail!("shrink: no rules file {}", rules.display());
    }
    let java_home = std::env::var_os("JAVA_HOME")
        .map(PathBuf::from)
        .or_else(java_home_from_path)
        .context("shrink: JAVA_HOME is not set and `java` is not on PATH")?;
    let jmods = java_home.join("jmods");
    if !jmods.is_dir() {
        bail!(
            "shrink: {} is missing; ProGuard needs the JDK's jmods as library jars",
            jmods.display()
        );
    }
    let shrunk = build.join("jvm-consumer-shrunk.jar");
    let _ = std::fs::remove_file(&shrunk);
    let mut proguard = Command::new("java");
    proguard
        .arg("-cp")
        .arg(proguard_cp.trim())
        .arg("proguard.ProGuard")
        .arg("-injars")
        .arg(&app_jar)
        .arg("-injars")
        // Each jar's manifest and signatures would clash in the one output jar.
        .arg(format!(
            "{}(!META-INF/MANIFEST.MF,!META-INF/versions/**,!META-INF/*.SF,!META-INF/*.RSA,!META-INF/*.DSA)",
            deps.display()
        ))
        .arg("-outjars")
        .arg(&shrunk)
        .arg("-libraryjars")
        .arg(format!("{}(!**.jar;!module-info.class)", jmods.display()))
        .arg("-include")
        .arg(&rules);
    for file in &embedded {
        proguard.arg("-include").arg(file);
    }
    let status = proguard
        .arg("-include")
        .arg(proguard_dir.join("app-rules.pro"))
        .arg("-printmapping")
        .arg(build.join("proguard-mapping.txt"))
        .env_remove("JAVA_TOOL_OPTIONS")
        .status()
        .context("could not start java")?;
    if !status.success() {
        bail!("shrink: ProGuard failed: {status}");
    }
    let before = file_bytes(&app_jar)? + dir_bytes(&deps)?;
    let after = file_bytes(&shrunk)?;
    eprintln!(
        "jvm consumer: ProGuard took {:.1} s (with resolving it), {} classes in, {} out; \
         {} bytes of jars in, {} out (rules: {}, and {} embedded in the dependencies)",
        started.elapsed().as_secs_f64(),
        class_count(&app_jar)? + dir_class_count(&deps)?,
        class_count(&shrunk)?,
        before,
        after,
        rules.display(),
        embedded.len(),
    );

    let ran = Instant::now();
    let (status, stdout, stderr) = run_limited(
        Command::new("java")
            .arg("-cp")
            .arg(&shrunk)
            .arg("dev.matrixmobilecore.consumer.MainKt")
            .env("MMC_HOMESERVER_URL", homeserver_url)
            .env_remove("JAVA_TOOL_OPTIONS"),
        &build.join("shrunk-run"),
    )?;
    print!(
        "{}",
        stdout.replace("jvm consumer:", "jvm consumer (shrunk):")
    );
    eprint!("{stderr}");
    eprintln!(
        "jvm consumer: the shrunk jar ran for {:.1} s",
        ran.elapsed().as_secs_f64()
    );
    let Some(status) = status else {
        bail!(
            "the shrunk JVM consumer outlived {} s and was killed",
            RUN_LIMIT.as_secs()
        );
    };
    if !status.success() {
        bail!("the shrunk JVM consumer failed: {status}");
    }
    if !stdout.contains("jvm consumer: ok") {
        bail!("the shrunk JVM consumer exited without its closing line");
    }
    Ok(())
}

/// Extracts the ProGuard rules each jar in `deps` embeds
/// (`META-INF/proguard/*.pro`) into `out`, and returns their paths.
fn embedded_rules(deps: &Path, out: &Path) -> Result<Vec<PathBuf>> {
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    let mut files = Vec::new();
    let mut jars: Vec<PathBuf> = std::fs::read_dir(deps)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    jars.sort();
    for jar in jars
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jar"))
    {
        let entries: Vec<String> = jar_listing(jar)?
            .into_iter()
            .filter(|e| e.starts_with("META-INF/proguard/") && e.ends_with(".pro"))
            .collect();
        if entries.is_empty() {
            continue;
        }
        let dir = out.join(jar.file_stem().context("a jar without a name")?);
        std::fs::create_dir_all(&dir)?;
        let status = Command::new("jar")
            .current_dir(&dir)
            .arg("xf")
            .arg(jar)
            .args(&entries)
            .status()
            .context("could not run `jar xf`")?;
        if !status.success() {
            bail!("shrink: `jar xf {}` failed: {status}", jar.display());
        }
        files.extend(entries.iter().map(|e| dir.join(e)));
    }
    Ok(files)
}

/// Runs `command` with its output in files beside `stem`, killing it past
/// `RUN_LIMIT`; `None` for the status means it was killed.
fn run_limited(
    command: &mut Command,
    stem: &Path,
) -> Result<(Option<std::process::ExitStatus>, String, String)> {
    let out_path = stem.with_extension("stdout");
    let err_path = stem.with_extension("stderr");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path)?)
        .stderr(std::fs::File::create(&err_path)?)
        .spawn()
        .context("could not start java")?;
    let status = ctx::wait_or_kill(&mut child, RUN_LIMIT)?;
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    Ok((status, read(&out_path), read(&err_path)))
}

fn java_home_from_path() -> Option<PathBuf> {
    let output = Command::new("sh")
        .args(["-c", "readlink -f \"$(command -v java)\""])
        .output()
        .ok()?;
    let java = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    Some(java.parent()?.parent()?.to_path_buf())
}

fn class_count(jar: &Path) -> Result<usize> {
    Ok(jar_listing(jar)?
        .iter()
        .filter(|e| e.ends_with(".class") && !e.starts_with("META-INF/"))
        .count())
}

fn dir_class_count(dir: &Path) -> Result<usize> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        total += class_count(&entry?.path())?;
    }
    Ok(total)
}

fn file_bytes(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len())
}

fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        total += entry?.metadata()?.len();
    }
    Ok(total)
}
