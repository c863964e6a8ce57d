//! The project's Python tooling: one venv at `<repo>/.venv` (git-ignored) holding
//! Synapse and pytest, and the Python test run.
//!
//! The venv is (re)installed from `harness/requirements.txt` only when that file
//! changed since the last successful install, so repeated runs cost nothing.

use crate::ctx::{self, Ctx};
use anyhow::{bail, Context, Result};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The marker in the venv that holds the requirements of its last good install.
const MARKER: &str = "mmc-requirements.txt";

/// `<repo>/.venv`.
pub fn venv_dir(ctx: &Ctx) -> PathBuf {
    ctx.root.join(".venv")
}

/// `harness/requirements.txt`: what the venv holds.
pub fn requirements(ctx: &Ctx) -> PathBuf {
    ctx.root.join("harness").join("requirements.txt")
}

/// The harness script (`harness/synapse_harness.py`).
pub fn harness_script(ctx: &Ctx) -> PathBuf {
    ctx.root.join("harness").join("synapse_harness.py")
}

/// Makes sure `<repo>/.venv` exists and holds exactly `harness/requirements.txt`;
/// returns the venv's python.
///
/// When it returns Ok, the marker in the venv matches the requirements file byte for
/// byte, so the next call installs nothing. A failed install leaves no marker, so the
/// next call tries again.
pub fn ensure_venv(ctx: &Ctx) -> Result<PathBuf> {
    let venv = venv_dir(ctx);
    let python = venv.join("bin").join("python");
    let reqs_path = requirements(ctx);
    let reqs =
        std::fs::read(&reqs_path).with_context(|| format!("reading {}", reqs_path.display()))?;
    let marker = venv.join(MARKER);
    if python.exists() && std::fs::read(&marker).ok().as_deref() == Some(reqs.as_slice()) {
        return Ok(python);
    }

    let started = Instant::now();
    if !python.exists() {
        if !ctx::have_tool("python3") {
            bail!("python3 is not on PATH; install Python 3.10 or newer (with its venv module)");
        }
        eprintln!("python: creating {}", venv.display());
        ctx::run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    // A stale marker must not survive a half-done install.
    let _ = std::fs::remove_file(&marker);
    eprintln!(
        "python: installing {} into {}",
        reqs_path.display(),
        venv.display()
    );
    pip_install(&python, [OsStr::new("-r"), reqs_path.as_os_str()])?;
    std::fs::write(&marker, &reqs).with_context(|| format!("writing {}", marker.display()))?;
    eprintln!(
        "python: venv ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(python)
}

/// `python -m pip install --quiet ARGS` with the interpreter `python` (a
/// venv's).
pub fn pip_install<A: AsRef<OsStr>>(
    python: &Path,
    args: impl IntoIterator<Item = A>,
) -> Result<()> {
    ctx::run(
        Command::new(python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(args),
    )
}

/// Runs `python -m pytest python/tests -q --durations=10` with the venv's python.
///
/// `python_path` goes on `PYTHONPATH` (the folder holding the built
/// `matrix_mobile_core` package, typically `<repo>/python`); `envs` are set for the
/// run (for example `MMC_HOMESERVER_URL`). Fails when pytest fails, and also when it
/// collects no test at all (its exit code 5), so a broken suite cannot pass silently.
pub fn pytest(
    ctx: &Ctx,
    python_path: &[PathBuf],
    envs: &[(String, String)],
    extra_args: &[String],
) -> Result<()> {
    let python = ensure_venv(ctx)?;
    let mut dirs: Vec<PathBuf> = python_path.to_vec();
    dirs.push(ctx.root.join("harness"));
    let joined = std::env::join_paths(&dirs).context("a PYTHONPATH entry contains ':'")?;
    let mut cmd = Command::new(&python);
    cmd.current_dir(&ctx.root)
        // The slowest tests named in every run's log: where the suite's
        // time goes.
        .args(["-m", "pytest", "python/tests", "-q", "--durations=10"])
        .args(extra_args)
        .env("PYTHONPATH", joined)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for (key, value) in envs {
        cmd.env(key, value);
    }
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(5) => bail!("pytest collected no test in python/tests"),
        _ => bail!("pytest failed ({status})"),
    }
}

/// Lays the package out as the wheel does, under `target/python/<name>/`, and
/// returns that folder, the one to put on `PYTHONPATH`.
///
/// `matrix_mobile_core/` gets the hand-written files of `python/matrix_mobile_core/`
/// and the subpackage `_ffi/` that maturin generates in a wheel (see
/// python/pyproject.toml): the bindings as `matrix_mobile_core.py`, an
/// `__init__.py` that re-exports them, and the cdylib under its own file name
/// (UniFFI's module loads the library from its own folder). The folder is
/// rebuilt from scratch, so no file of an earlier build survives in it, and the
/// source tree is never written to.
pub fn stage_package(ctx: &Ctx, name: &str, generated_py: &Path, cdylib: &Path) -> Result<PathBuf> {
    let root = ctx.target_dir().join("python").join(name);
    let package = root.join(PACKAGE);
    if package.exists() {
        std::fs::remove_dir_all(&package)
            .with_context(|| format!("removing {}", package.display()))?;
    }
    let ffi = package.join("_ffi");
    std::fs::create_dir_all(&ffi).with_context(|| format!("creating {}", ffi.display()))?;
    let sources = ctx.root.join("python").join(PACKAGE);
    for file in HAND_WRITTEN {
        copy(&sources.join(file), &package.join(file))?;
    }
    copy(generated_py, &ffi.join("matrix_mobile_core.py"))?;
    std::fs::write(ffi.join("__init__.py"), FFI_INIT)
        .with_context(|| format!("writing {}", ffi.join("__init__.py").display()))?;
    let lib_name = cdylib
        .file_name()
        .context("the cdylib path has no file name")?;
    copy(cdylib, &ffi.join(lib_name))?;
    Ok(root)
}

/// The package's folder name.
const PACKAGE: &str = "matrix_mobile_core";

/// The hand-written files of the package, in `python/matrix_mobile_core/`.
const HAND_WRITTEN: [&str; 5] = [
    "__init__.py",
    "__init__.pyi",
    "_security.py",
    "_streams.py",
    "py.typed",
];

/// The `_ffi/__init__.py` that maturin's UniFFI mode writes into a wheel.
const FFI_INIT: &str = "from .matrix_mobile_core import *  # NOQA\n";

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}
