//! Swift: the package's committed bindings, and its tests on Linux.
//!
//! - [`generated`]: the generated Swift file, C header and Linux module map
//!   that are committed under `swift/Sources/`, with `cargo xtask
//!   swift-bindings` to rewrite them and a check that they are current;
//! - [`cancel`]: the patch of UniFFI's generated Swift that makes `Task`
//!   cancellation reach the core;
//! - [`root`]: the Debian trixie root with Swift 6 in which `swift test`
//!   runs here. The repository is bind-mounted into the root at its own
//!   absolute path, so every path (package, build directory, cdylib) means the
//!   same thing on both sides, and the root shares the host's network
//!   namespace, so a homeserver on the host's loopback is reachable.
//!
//! The package manifest is the repository's root `Package.swift`.

mod cancel;
pub mod generated;
mod root;

use crate::ctx::{self, Ctx};
use anyhow::{Context, Result};
use std::path::Path;
use std::time::Instant;

/// `cargo xtask swift-bindings`: regenerates the committed Swift bindings from
/// a debug build of the core and says which files changed.
pub fn write_bindings(ctx: &Ctx) -> Result<()> {
    let cdylib = ctx.build_core("dev")?;
    let files = generated::generate(ctx, &cdylib)?;
    let changed = generated::write(&ctx.root, &files)?;
    if changed.is_empty() {
        println!("swift: the committed bindings are current");
    }
    for path in changed {
        println!("swift: rewrote {} (commit it)", path.display());
    }
    Ok(())
}

/// Checks that the committed bindings match `cdylib`, then builds and runs
/// the package's XCTests in the trixie root against that library, with
/// `MMC_HOMESERVER_URL` set to `homeserver_url`.
///
/// Fails before building anything when the committed bindings are stale,
/// naming the command that regenerates them. Every bind mount made for the
/// run is undone before this returns, whether the tests pass, fail, or the
/// run errors.
pub fn test(ctx: &Ctx, cdylib: &Path, homeserver_url: &str) -> Result<()> {
    let cdylib = cdylib
        .canonicalize()
        .with_context(|| format!("no core library at {}", cdylib.display()))?;
    let lib_dir = cdylib
        .parent()
        .context("the cdylib has no parent directory")?
        .to_path_buf();
    generated::check(&ctx.root, &generated::generate(ctx, &cdylib)?)?;

    let root = root::ensure_root(ctx)?;
    let mut mounts = root::Mounts::new(&root)?;
    mounts.bind(Path::new("/proc"))?;
    let repo = ctx.root.canonicalize()?;
    mounts.bind(&repo)?;
    if !lib_dir.starts_with(&repo) {
        mounts.bind(&lib_dir)?;
    }
    // HTTPS: the root's system store becomes the host's trust bundle plus the
    // run's CA (`SSL_CERT_FILE`, set by `synapse::start`), as a company CA
    // installed on the machine would be. URLSession (libcurl) on Linux reads
    // only that store, and the core (rustls-platform-verifier) reads it too.
    if let Some(trust) = std::env::var_os("SSL_CERT_FILE") {
        mounts.bind_file(
            Path::new(&trust),
            Path::new("/etc/ssl/certs/ca-certificates.crt"),
        )?;
    }

    let lib = lib_dir
        .to_str()
        .context("the cdylib's directory is not UTF-8")?;
    let linker = [
        "-Xlinker", "-L", "-Xlinker", lib, "-Xlinker", "-rpath", "-Xlinker", lib,
    ];
    let swift = |sub: &str| {
        let mut cmd = root::chroot(&root);
        // The tests' own knobs (MMC_SWIFT_RELEASE_ITERATIONS, ...) pass through.
        cmd.envs(std::env::vars().filter(|(k, _)| k.starts_with("MMC_")));
        cmd.env("LD_LIBRARY_PATH", lib)
            .env("MMC_HOMESERVER_URL", homeserver_url)
            .args(["swift", sub, "--package-path"])
            .arg(&repo);
        cmd
    };

    let started = Instant::now();
    ctx::run(swift("build").arg("--build-tests").args(linker))?;
    let build_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    // XCTest only: with Swift Testing on, the last line would read
    // "0 tests passed" although every XCTest ran.
    let outcome = ctx::run(
        swift("test")
            .args(["--skip-build", "--disable-swift-testing"])
            .args(linker),
    );
    eprintln!(
        "swift: swift build {build_secs:.1} s, swift test {:.1} s",
        started.elapsed().as_secs_f64()
    );
    outcome
}
