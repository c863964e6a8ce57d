//! `cargo xtask release-local DIR [--profile P]`: every artifact this machine
//! can build, in the release profile, into DIR.
//!
//! - `DIR/maven/`: a Maven repository with `dev.matrixmobilecore:core-jvm`, and
//!   `core-android` when the Android SDK and NDK are present;
//! - `DIR/python/`: the manylinux wheel;
//! - `DIR/apple/`: the XCFramework zip and its checksum, on macOS.
//!
//! `--profile dev` gives the same layout from a debug build, in minutes
//! instead of a quarter of an hour; the test suites use it for the consumers.
//! The version of every artifact is the workspace's (`Ctx::version`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::ctx::{self, Ctx};
use crate::{android, apple, maven, wheel};

const USAGE: &str = "usage: cargo xtask release-local DIR [--profile release|dev|bench-fast]";

/// What `release-local` was asked for.
struct Args {
    dir: PathBuf,
    profile: String,
}

fn args(raw: &[String]) -> Result<Args> {
    let mut dir = None;
    let mut profile = "release".to_owned();
    let mut it = raw.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--profile" => profile = it.next().context(USAGE)?.clone(),
            flag if flag.starts_with("--") => bail!("unknown option `{flag}`\n{USAGE}"),
            path if dir.is_none() => dir = Some(PathBuf::from(path)),
            extra => bail!("unexpected argument `{extra}`\n{USAGE}"),
        }
    }
    Ok(Args {
        dir: dir.context(USAGE)?,
        profile,
    })
}

pub fn run(ctx: &Ctx, raw: &[String]) -> Result<()> {
    let Args { dir, profile } = args(raw)?;
    let artifacts = build(ctx, &dir, &profile)?;
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
/// `dir`. The test suites call it with `dev`, so the path a release takes
/// (bindings from the full library, then the stripped copy packed) is the
/// path they run.
pub fn build(ctx: &Ctx, dir: &Path, profile: &str) -> Result<Artifacts> {
    std::fs::create_dir_all(dir)?;
    let dir = dir.canonicalize()?;
    let version = ctx.version()?;
    println!(
        "xtask: release-local {version} ({profile} profile) into {}",
        dir.display()
    );

    // maturin builds the host library (as a cdylib only) for the wheel; the
    // JVM jar packs that same file, so the release profile's long fat-LTO
    // link runs once.
    let wheel = wheel::build(ctx, profile, &dir.join("python"))?;
    let cdylib = ctx.cdylib(ctx::profile_dir(profile));
    let maven = dir.join("maven");
    maven::publish_jvm(ctx, &cdylib, &maven, &version)?;
    match android::missing_tools() {
        None => android::publish(ctx, profile, &maven, &version)?,
        Some(why) => println!("xtask: no core-android: {why}"),
    }
    match apple::missing_tools() {
        None => apple::release_zip(ctx, &dir.join("apple"))?,
        Some(why) => println!("xtask: no XCFramework: {why}"),
    }
    Ok(Artifacts { dir, wheel, maven })
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
