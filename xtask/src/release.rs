//! `cargo xtask release-local DIR [--profile P]`: every artifact this machine
//! can build, in the release profile, into DIR, each built once; what is
//! checked is what would be uploaded.
//!
//! - `DIR/maven/`: the staging directory, a Maven repository holding
//!   `dev.matrixmobilecore:core-jvm` and, when the Android SDK and NDK are
//!   present, `core-android` and `rustls-platform-verifier-android`; every
//!   file signed by JReleaser (`jreleaser::stage`) with a key made for the
//!   run (a throwaway `GNUPGHOME`), or the key `MMC_SIGNING_KEY` names;
//! - `DIR/jreleaser/`: JReleaser's log and the bundle of `DIR/maven/`, the
//!   zip that would be uploaded;
//! - `DIR/python/`: the wheel (manylinux on Linux, macosx on macOS);
//! - `DIR/apple/`: the XCFramework zip and its checksum, on macOS.
//!
//! `--profile dev` gives the same layout from a debug build, in minutes
//! instead of a quarter of an hour; the test suites use it for the consumers.
//! The version of every artifact is the workspace's (`Ctx::version`), and the
//! project URL of their metadata is `Ctx::repository`.
//!
//! Order: every artifact is built first (the wheel, whose library needs no
//! newer glibc than its tag promises, `glibc.rs`; core-jvm, whose other
//! Linux libraries must keep that promise too; core-android; the
//! XCFramework), then JReleaser's dry run signs the staging directory, sums
//! it, checks Central's rules and writes the bundle, then
//! `central::validate` checks the directory on its own (files, checksums,
//! signatures, POM fields, what the jars hold) and `jreleaser::check_bundle`
//! that the bundle holds exactly its files. A directory that Central would
//! refuse fails here.
//!
//! `--jvm-natives NATIVES` adds the other platforms' libraries to `core-jvm`
//! (`natives.rs`); a publication to Maven Central refuses to go without all
//! five platforms.
//!
//! `--publish` (a maintainer's machine) needs the release key
//! (`MMC_SIGNING_KEY`), the Android tools and a Central Portal token
//! (`jreleaser::check_credentials`), all checked before anything is built;
//! once the directory passed, it is uploaded as one deployment and published
//! (`jreleaser::publish`). `cargo xtask central-upload DIR` does that last
//! step alone for a directory that `release-local DIR` signed and validated
//! earlier, elsewhere (the release workflow's build job), after checking it
//! again.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::ctx::{self, Ctx};
use crate::jreleaser::{self, Manifest};
use crate::signing::Signer;
use crate::{android, apple, central, glibc, maven, natives, repository, wheel};

/// `cargo xtask release-local DIR [--profile P] [--publish] [--jvm-natives NATIVES]`.
#[derive(clap::Args)]
pub struct Args {
    /// The output directory.
    dir: PathBuf,
    /// The cargo profile: release, dev (minutes instead of a quarter of an
    /// hour) or bench-fast.
    #[arg(long, value_name = "P", default_value = "release")]
    profile: String,
    /// Sign with the release key (MMC_SIGNING_KEY) and upload to Maven
    /// Central as one deployment.
    #[arg(long)]
    publish: bool,
    /// The other platforms' libraries for core-jvm, as
    /// NATIVES/<jna-prefix>/<lib>.
    #[arg(long, value_name = "NATIVES")]
    jvm_natives: Option<PathBuf>,
}

/// `cargo xtask central-upload DIR`.
#[derive(clap::Args)]
pub struct UploadArgs {
    /// A directory that `release-local DIR` signed and validated.
    dir: PathBuf,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    let Args {
        dir,
        profile,
        publish,
        jvm_natives,
    } = args;
    if publish {
        jreleaser::check_credentials()?;
        if let Some(why) = android::missing_tools() {
            bail!("--publish releases core-jvm and core-android together, and core-android cannot be built here: {why}");
        }
    }
    let signer = release_signer(publish)?;
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

/// `cargo xtask central-upload DIR`: checks `DIR/maven/` again (Central's
/// rules, signatures by the key `MMC_SIGNING_KEY` names, all three
/// components of this version) and uploads and publishes it as it is.
pub fn upload(ctx: &Ctx, args: UploadArgs) -> Result<()> {
    jreleaser::check_credentials()?;
    let signer = release_signer(true)?;
    let dir = args.dir.canonicalize().with_context(|| {
        format!(
            "{}: no such directory (a directory `release-local` wrote)",
            args.dir.display()
        )
    })?;
    let version = ctx.version()?;
    let staging = dir.join(jreleaser::STAGING);
    let validated = validate(&staging, &version, &signer, true)?;
    jreleaser::publish(ctx, &dir, &signer, &version, &validated)
}

/// The release key `MMC_SIGNING_KEY` names (required when `release`), or a
/// throwaway key.
fn release_signer(release: bool) -> Result<Signer> {
    match std::env::var("MMC_SIGNING_KEY") {
        Ok(key) if !key.is_empty() => Signer::from_keyring(&key),
        _ if release => bail!(
            "the release is signed with the key MMC_SIGNING_KEY names (a fingerprint in the keyring)"
        ),
        _ => Signer::throwaway(),
    }
}

/// Where [`build`] wrote what the test suites consume.
pub struct Artifacts {
    /// The canonical output folder.
    pub dir: PathBuf,
    /// The wheel, under `dir/python/`.
    pub wheel: PathBuf,
    /// The Maven repository, `dir/maven/` (the staging directory).
    pub maven: PathBuf,
}

/// Writes every artifact this machine can build from cargo `profile` into
/// `dir`, the Maven ones signed with a throwaway key and checked against
/// Central's rules. The test suites call it with `dev`, so the path a release
/// takes (bindings from the full library, then the stripped copy packed; the
/// staging directory signed by JReleaser and validated) is the path they run.
pub fn build(ctx: &Ctx, dir: &Path, profile: &str) -> Result<Artifacts> {
    build_signed(ctx, dir, profile, &Signer::throwaway()?, false, None)
}

/// [`build`] with `signer`; with `upload`, the staging directory goes to
/// Maven Central once it passed the checks.
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
    // The staging directory holds this build and nothing else; `central/`
    // is an older layout's.
    for old in [jreleaser::STAGING, "jreleaser", "central"] {
        let old = dir.join(old);
        if old.exists() {
            std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
        }
    }
    let staging = dir.join(jreleaser::STAGING);

    // maturin builds the host library (as a cdylib only) for the wheel; the
    // JVM jar packs that same file, so the release profile's long fat-LTO
    // link runs once.
    let wheel = wheel::build(ctx, profile, &dir.join("python"))?;
    let cdylib = ctx.cdylib(ctx::profile_dir(profile));
    maven::publish_jvm(ctx, &cdylib, &staging, jvm_natives)?;
    check_jvm_glibc(&wheel, jvm_natives)?;
    let android = android::missing_tools();
    match &android {
        None => android::publish(ctx, profile, &staging)?,
        Some(why) => println!("xtask: no core-android: {why}"),
    }
    match apple::missing_tools() {
        None => apple::release_zip(ctx, &dir.join("apple"))?,
        Some(why) => println!("xtask: no XCFramework: {why}"),
    }

    // Every artifact is built: sign, check, and only then upload.
    let bundle = jreleaser::stage(ctx, &dir, signer, &version)?;
    let validated = validate(&staging, &version, signer, android.is_none())?;
    jreleaser::check_bundle(&bundle, &validated)?;
    println!(
        "xtask: the bundle {} holds exactly the {} validated files",
        bundle.display(),
        validated.len()
    );
    if upload {
        jreleaser::publish(ctx, &dir, signer, &version, &validated)?;
    }
    Ok(Artifacts {
        dir,
        wheel,
        maven: staging,
    })
}

/// Checks the staging directory against Central's rules (`central::validate`)
/// and that it holds core-jvm `version`, and with `android` core-android
/// `version` and the verifier, and nothing else; returns its files.
fn validate(staging: &Path, version: &str, signer: &Signer, android: bool) -> Result<Manifest> {
    let started = Instant::now();
    let found = central::validate(staging, signer)?;
    let group = "dev.matrixmobilecore";
    let mut expected = vec![format!("{group}:core-jvm:{version}")];
    if android {
        expected.push(format!("{group}:core-android:{version}"));
    }
    let verifier = format!("{group}:rustls-platform-verifier-android:");
    let (verifiers, others): (Vec<&String>, Vec<&String>) =
        found.iter().partition(|c| c.starts_with(&verifier));
    let mut components: Vec<String> = others.into_iter().cloned().collect();
    components.sort();
    expected.sort();
    if components != expected || verifiers.len() != usize::from(android) {
        bail!(
            "the staging directory {} holds {found:?}; expected {expected:?}{}",
            staging.display(),
            if android {
                " and one rustls-platform-verifier-android"
            } else {
                ""
            }
        );
    }
    let manifest = jreleaser::manifest(staging)?;
    println!(
        "xtask: Central's rules hold for {} ({} files, {:.1} s)",
        found.join(", "),
        manifest.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(manifest)
}

/// The Linux libraries that `core-jvm` carries besides the host's (which is
/// the wheel's, checked by `wheel::build`) need no newer glibc than the
/// wheel's tag promises: the jar makes the same promise, unwritten.
fn check_jvm_glibc(wheel: &Path, natives: Option<&Path>) -> Result<()> {
    let (Some((tag, claim)), Some(natives)) = (glibc::wheel_claim(wheel), natives) else {
        return Ok(());
    };
    for (prefix, file) in natives::PLATFORMS {
        let library = natives.join(prefix).join(file);
        if prefix.starts_with("linux-") && library.is_file() {
            glibc::check(
                &library,
                &format!("core-jvm's {prefix} library"),
                &tag,
                claim,
            )?;
        }
    }
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
