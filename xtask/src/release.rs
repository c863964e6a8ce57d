//! `cargo xtask release-local DIR [--profile P]`: every artifact this machine
//! can build, in the release profile, into DIR.
//!
//! - `DIR/maven/`: a Maven repository with `dev.matrixmobilecore:core-jvm`, and
//!   `core-android` and `rustls-platform-verifier-android` when the Android
//!   SDK and NDK are present, every file
//!   signed with a key made for the run (a throwaway `GNUPGHOME`);
//! - `DIR/central/`: `core-jvm`'s Central Portal bundle as
//!   central-publishing-maven-plugin wrote it, and unpacked;
//! - `DIR/python/`: the manylinux wheel;
//! - `DIR/apple/`: the XCFramework zip and its checksum, on macOS.
//!
//! `--profile dev` gives the same layout from a debug build, in minutes
//! instead of a quarter of an hour; the test suites use it for the consumers.
//! The version of every artifact is the workspace's (`Ctx::version`), and the
//! project URL of their metadata is `Ctx::repository`.
//!
//! Both Maven components are checked against Maven Central's rules
//! (`central::validate`: files, checksums, signatures, POM fields) before
//! this returns; a bundle that Central would refuse fails here.
//!
//! `--jvm-natives NATIVES` adds the other platforms' libraries to `core-jvm`
//! (`natives.rs`); a publication to Maven Central refuses to go without all
//! five platforms.
//!
//! `--publish` (the release workflow) signs with the key `MMC_SIGNING_KEY` of
//! the caller's keyring instead, and once both checks passed, uploads
//! `core-jvm` (central-publishing-maven-plugin), `core-android` and
//! `rustls-platform-verifier-android` (the vanniktech maven-publish plugin)
//! to Maven Central.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::ctx::{self, Ctx};
use crate::maven::Publication;
use crate::signing::Signer;
use crate::{android, apple, central, maven, natives, repository, wheel};

const USAGE: &str =
    "usage: cargo xtask release-local DIR [--profile release|dev|bench-fast] [--publish] [--jvm-natives NATIVES]";

/// What `release-local` was asked for.
struct Args {
    dir: PathBuf,
    profile: String,
    /// Sign with the release key and upload to Maven Central.
    publish: bool,
    /// The other platforms' libraries for `core-jvm`.
    jvm_natives: Option<PathBuf>,
}

fn args(raw: &[String]) -> Result<Args> {
    let mut dir = None;
    let mut profile = "release".to_owned();
    let mut publish = false;
    let mut jvm_natives = None;
    let mut it = raw.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--profile" => profile = it.next().context(USAGE)?.clone(),
            "--publish" => publish = true,
            "--jvm-natives" => jvm_natives = Some(PathBuf::from(it.next().context(USAGE)?)),
            flag if flag.starts_with("--") => bail!("unknown option `{flag}`\n{USAGE}"),
            path if dir.is_none() => dir = Some(PathBuf::from(path)),
            extra => bail!("unexpected argument `{extra}`\n{USAGE}"),
        }
    }
    Ok(Args {
        dir: dir.context(USAGE)?,
        profile,
        publish,
        jvm_natives,
    })
}

pub fn run(ctx: &Ctx, raw: &[String]) -> Result<()> {
    let Args {
        dir,
        profile,
        publish,
        jvm_natives,
    } = args(raw)?;
    let signer = if publish {
        let key = std::env::var("MMC_SIGNING_KEY").context(
            "--publish signs with the key MMC_SIGNING_KEY names (a fingerprint in the keyring)",
        )?;
        Signer::from_keyring(&key)?
    } else {
        Signer::throwaway()?
    };
    let artifacts = build_signed(
        ctx,
        &dir,
        &profile,
        &signer,
        publish,
        jvm_natives.as_deref(),
    )?;
    list(&artifacts.dir)
}

/// Where [`build`] wrote what the test suites consume.
pub struct Artifacts {
    /// The canonical output folder.
    pub dir: PathBuf,
    /// The wheel, under `dir/python/`.
    pub wheel: PathBuf,
    /// The Maven repository, `dir/maven/`.
    pub maven: PathBuf,
}

/// Writes every artifact this machine can build from cargo `profile` into
/// `dir`, the Maven ones signed with a throwaway key and checked against
/// Central's rules. The test suites call it with `dev`, so the path a release
/// takes (bindings from the full library, then the stripped copy packed; the
/// bundle signed and validated) is the path they run.
pub fn build(ctx: &Ctx, dir: &Path, profile: &str) -> Result<Artifacts> {
    build_signed(ctx, dir, profile, &Signer::throwaway()?, false, None)
}

/// [`build`] with `signer`; with `upload`, the Maven components go to Maven
/// Central once both passed the checks.
fn build_signed(
    ctx: &Ctx,
    dir: &Path,
    profile: &str,
    signer: &Signer,
    upload: bool,
    jvm_natives: Option<&Path>,
) -> Result<Artifacts> {
    std::fs::create_dir_all(dir)?;
    let dir = dir.canonicalize()?;
    let version = ctx.version()?;
    if upload {
        // Maven Central keeps what it is given: a jar without a platform's
        // library would fail there on the first call, for good.
        let host = maven::jna_resource_prefix()?;
        let mut entries = match jvm_natives {
            Some(natives) => natives::check_dir(natives, &host)?,
            None => Vec::new(),
        };
        entries.push(format!("{host}/{}", maven::lib_file_name()));
        let missing = natives::missing(&entries);
        if !missing.is_empty() {
            bail!(
                "--publish: core-jvm would lack the library of {}; pass the other platforms' with --jvm-natives",
                missing.join(", ")
            );
        }
    }
    repository::check(ctx)?;
    crate::swift::pin::check(ctx)?;
    println!(
        "xtask: release-local {version} ({profile} profile) into {}, signed by {}{}",
        dir.display(),
        signer.key(),
        if signer.is_throwaway() {
            " (throwaway)"
        } else {
            ""
        }
    );

    // maturin builds the host library (as a cdylib only) for the wheel; the
    // JVM jar packs that same file, so the release profile's long fat-LTO
    // link runs once.
    let wheel = wheel::build(ctx, profile, &dir.join("python"))?;
    let cdylib = ctx.cdylib(ctx::profile_dir(profile));
    let maven = dir.join("maven");
    let local = Publication {
        signer,
        upload: false,
    };
    let bundle = maven::publish_jvm(ctx, &cdylib, &maven, &version, &local, jvm_natives)?;
    check_jvm_bundle(&bundle, &dir.join("central"), &version, signer)?;
    let android = android::missing_tools();
    match &android {
        None => {
            android::publish(ctx, profile, &maven, &version, &local)?;
            // core-android and the verifier's Kotlin half it depends on.
            for artifact in ["core-android", "rustls-platform-verifier-android"] {
                let component = maven.join("dev/matrixmobilecore").join(artifact);
                let found = central::validate(&component, signer)?;
                println!("xtask: Central's rules hold for {}", found.join(", "));
            }
        }
        Some(why) => println!("xtask: no core-android: {why}"),
    }
    if upload {
        let central = Publication {
            signer,
            upload: true,
        };
        maven::publish_jvm(ctx, &cdylib, &maven, &version, &central, jvm_natives)?;
        if android.is_none() {
            android::publish(ctx, profile, &maven, &version, &central)?;
        }
    }
    match apple::missing_tools() {
        None => apple::release_zip(ctx, &dir.join("apple"))?,
        Some(why) => println!("xtask: no XCFramework: {why}"),
    }
    Ok(Artifacts { dir, wheel, maven })
}

/// Copies central-publishing-maven-plugin's `bundle` to
/// `out/core-jvm-VERSION-bundle.zip`, unpacks it into `out/core-jvm/` and
/// checks that against Central's rules.
fn check_jvm_bundle(bundle: &Path, out: &Path, version: &str, signer: &Signer) -> Result<()> {
    let unpacked = out.join("core-jvm");
    if unpacked.exists() {
        std::fs::remove_dir_all(&unpacked)?;
    }
    std::fs::create_dir_all(&unpacked)?;
    let zip = out.join(format!("core-jvm-{version}-bundle.zip"));
    std::fs::copy(bundle, &zip).with_context(|| format!("copying {}", bundle.display()))?;
    ctx::run(
        Command::new("jar")
            .current_dir(&unpacked)
            .arg("xf")
            .arg(&zip),
    )?;
    let started = Instant::now();
    let found = central::validate(&unpacked, signer)?;
    if found != [format!("dev.matrixmobilecore:core-jvm:{version}")] {
        bail!("the core-jvm bundle holds {found:?}, not core-jvm {version} alone");
    }
    println!(
        "xtask: Central's rules hold for {} ({}, {:.1} s)",
        found.join(", "),
        zip.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Prints every file under `dir` with its size.
fn list(dir: &Path) -> Result<()> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort();
    println!("\nxtask: release-local wrote:");
    for file in files {
        let size = std::fs::metadata(&file)?.len();
        let shown = file.strip_prefix(dir).unwrap_or(&file);
        println!(
            "{:>10.2} MiB  {}",
            size as f64 / (1024.0 * 1024.0),
            shown.display()
        );
    }
    Ok(())
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}
