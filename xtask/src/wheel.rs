//! The Python wheel, built by maturin in its UniFFI mode, and a consumer that
//! installs it as a new user would.
//!
//! `python/pyproject.toml` holds maturin's settings: the core's manifest, the
//! `uniffi` bindings, the hand-written package in `python/` mixed in, and the
//! `pypi` compatibility, which admits only manylinux tags on Linux. maturin
//! builds the core's cdylib with `cargo rustc --profile P --crate-type cdylib`
//! and no extra rust flags on Linux, so a `dev` wheel reuses the shared cargo
//! cache: only the core crate itself is compiled again. It generates the
//! bindings with the `uniffi-bindgen` it finds on its `PATH`, which is this
//! xtask's own generator (`bindings.rs`, the one every suite's bindings come
//! from): the workspace has no `uniffi-bindgen` binary, which maturin would
//! otherwise build and prefer. maturin also passes `core/uniffi.toml` as
//! `--config`, which is ignored as uniffi-bindgen 0.32 ignores it; the
//! crate's own `uniffi.toml` still applies (found through cargo metadata),
//! and the module is the same as `cargo xtask bindings python` writes.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::ctx::{self, Ctx};
use crate::{glibc, python, strip};

/// The checks on a built wheel, run with the venv's Python (it reads zips).
const CHECK_SCRIPT: &str = include_str!("wheel_check.py");

/// The distribution's name in wheel file names.
const WHEEL_PREFIX: &str = "matrix_mobile_core-";

/// Builds the wheel from cargo `profile` into `out` and returns its path.
///
/// When it returns Ok, `out` holds exactly one wheel of this distribution, and
/// that wheel has been checked: its tag is `py3-none-<platform>` with the
/// host's platform (`manylinux_*` on Linux, `macosx_*` on macOS), its version
/// is `Ctx::version`, it carries the hand-written package layer, and its only
/// native library is byte for byte the stripped copy of the cdylib that cargo
/// has just built for `profile` (never a library left over from another
/// build or another profile); on Linux, that library needs no newer glibc
/// than the manylinux tag promises (`glibc::check`). Older wheels of this
/// distribution in `out` are removed first.
pub fn build(ctx: &Ctx, profile: &str, out: &Path) -> Result<PathBuf> {
    let venv_python = python::ensure_venv(ctx)?;
    let maturin = venv_python.with_file_name("maturin");
    let version = ctx.version()?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for old in wheels_in(out)? {
        std::fs::remove_file(&old).with_context(|| format!("removing {}", old.display()))?;
    }

    let started = Instant::now();
    let bindgen = bindgen_on_path()?;
    ctx::run(
        Command::new(&maturin)
            .current_dir(ctx.root.join("python"))
            .args(["build", "--profile", profile, "--out"])
            .arg(out)
            .env("CARGO_TARGET_DIR", ctx.target_dir())
            .env("PATH", &bindgen.path)
            .env(
                XTASK_EXE_VAR,
                std::env::current_exe().context("finding the xtask executable")?,
            ),
    )?;
    let wheel = match wheels_in(out)?.as_slice() {
        [one] => one.clone(),
        other => bail!(
            "maturin wrote {} wheels into {}, expected one: {other:?}",
            other.len(),
            out.display()
        ),
    };

    // maturin generated the bindings from the full library; what ships is
    // the stripped copy (xtask/src/strip.rs).
    let cdylib = strip::stripped_copy(&ctx.cdylib(ctx::profile_dir(profile)))?;
    replace_library(&venv_python, &wheel, &cdylib)?;
    let output = Command::new(&venv_python)
        .args(["-c", CHECK_SCRIPT])
        .arg(&wheel)
        .arg(&cdylib)
        .arg(&version)
        .output()
        .context("running the wheel check")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "the wheel {} fails its check:\n{}{}",
            wheel.display(),
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    print!("{stdout}");
    if cfg!(target_os = "linux") {
        let (tag, claim) = glibc::wheel_claim(&wheel)
            .with_context(|| format!("{} has no manylinux tag", wheel.display()))?;
        glibc::check(&cdylib, "the wheel's library", &tag, claim)?;
    }
    let size = std::fs::metadata(&wheel)?.len();
    println!(
        "xtask: wheel {} ({profile} profile), {:.1} MiB, built in {:.0} s",
        wheel.display(),
        size as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );
    Ok(wheel)
}

/// A folder holding a `uniffi-bindgen` that runs this xtask's generator
/// (`cargo xtask uniffi-bindgen ...`), and `PATH` with it first.
struct BindgenOnPath {
    _dir: tempfile::TempDir,
    path: std::ffi::OsString,
}

/// The variable that tells the `uniffi-bindgen` of [`bindgen_on_path`]
/// which executable to run.
const XTASK_EXE_VAR: &str = "MMC_XTASK_EXE";

fn bindgen_on_path() -> Result<BindgenOnPath> {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::Builder::new()
        .prefix("mmc-uniffi-bindgen-")
        .tempdir()
        .context("creating a folder for uniffi-bindgen")?;
    let script = dir.path().join("uniffi-bindgen");
    // The executable comes through the environment, so no path is quoted
    // into the script.
    std::fs::write(
        &script,
        format!("#!/bin/sh\nexec \"${XTASK_EXE_VAR}\" uniffi-bindgen \"$@\"\n"),
    )?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    let mut dirs = vec![dir.path().to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(dirs).context("a PATH entry contains ':'")?;
    Ok(BindgenOnPath { _dir: dir, path })
}

/// Puts `library` in place of the native library of the same name inside
/// `wheel`, with the `wheel` tool's `unpack` and `pack` (which write the new
/// RECORD). The wheel keeps its name and tags.
fn replace_library(venv_python: &Path, wheel: &Path, library: &Path) -> Result<()> {
    let name = library
        .file_name()
        .context("the library has no file name")?;
    let scratch = tempfile::Builder::new()
        .prefix("mmc-wheel-repack-")
        .tempdir()
        .context("creating a scratch folder")?;
    ctx::run(
        Command::new(venv_python)
            .args(["-m", "wheel", "unpack", "--dest"])
            .arg(scratch.path())
            .arg(wheel),
    )?;
    let unpacked = only_entry(scratch.path())?;
    let target = find_file(&unpacked, name)?
        .with_context(|| format!("{} holds no {}", wheel.display(), name.to_string_lossy()))?;
    std::fs::copy(library, &target)
        .with_context(|| format!("copying {} into the wheel", library.display()))?;
    let out = wheel.parent().context("the wheel has no folder")?;
    std::fs::remove_file(wheel).with_context(|| format!("removing {}", wheel.display()))?;
    ctx::run(
        Command::new(venv_python)
            .args(["-m", "wheel", "pack", "--dest-dir"])
            .arg(out)
            .arg(&unpacked)
            // Every entry dated 1980-02-01, as the jars (kotlin/pom.xml's
            // project.build.outputTimestamp): the wheel is reproducible.
            .env("SOURCE_DATE_EPOCH", "318211200"),
    )?;
    if !wheel.is_file() {
        bail!("repacking did not write {} again", wheel.display());
    }
    Ok(())
}

/// The one entry of `dir`.
fn only_entry(dir: &Path) -> Result<PathBuf> {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    match entries.as_slice() {
        [one] => Ok(one.clone()),
        other => bail!("expected one folder in {}, found {other:?}", dir.display()),
    }
}

/// The first file named `name` under `dir`, depth first.
fn find_file(dir: &Path, name: &OsStr) -> Result<Option<PathBuf>> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name)? {
                return Ok(Some(found));
            }
        } else if path.file_name() == Some(name) {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// Installs `wheel` (what `release-local` wrote) into a fresh venv with pip
/// (offline), and runs
/// `consumers/python/consumer.py` against `homeserver_url` from a folder
/// outside the repository, so that Python imports the installed package.
///
/// The consumer registers a user, logs in, syncs, sends and reads back a
/// message, logs out, checks the `LogoutReport` (client dropped, no store file
/// open) and shuts the core down. Fails when any of that fails.
pub fn consumer_test(ctx: &Ctx, wheel: &Path, homeserver_url: &str) -> Result<()> {
    let version = ctx.version()?;
    if !ctx::have_tool("python3") {
        bail!("python3 is not on PATH; the wheel consumer needs Python 3 with its venv module");
    }
    let scratch = tempfile::Builder::new()
        .prefix("mmc-wheel-consumer-")
        .tempdir()
        .context("creating a scratch folder")?;
    let venv = scratch.path().join("venv");
    ctx::run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    let python = venv.join("bin").join("python");
    python::pip_install(&python, [OsStr::new("--no-index"), wheel.as_os_str()])?;

    // Run a copy from the scratch folder: nothing of the repository is on
    // sys.path, so the import can only find the installed package.
    let script = scratch.path().join("consumer.py");
    let source = ctx
        .root
        .join("consumers")
        .join("python")
        .join("consumer.py");
    std::fs::copy(&source, &script)
        .with_context(|| format!("copying {} to {}", source.display(), script.display()))?;
    ctx::run(
        Command::new(&python)
            .current_dir(scratch.path())
            .arg(&script)
            .arg(homeserver_url)
            .arg(&version)
            .env_remove("PYTHONPATH")
            .env("PYTHONNOUSERSITE", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1"),
    )
    .context("the wheel consumer failed")?;
    println!(
        "xtask: wheel consumer passed: {}, installed in a fresh venv, logged in, \
         synced, sent a message and logged out cleanly",
        file_name(wheel)
    );
    Ok(())
}

/// The wheels of this distribution in `dir`.
fn wheels_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = file_name(&path);
        if name.starts_with(WHEEL_PREFIX) && name.ends_with(".whl") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
