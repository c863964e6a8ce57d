//! Swift: the package's committed bindings, and its tests on Linux.
//!
//! - [`generated`]: the generated Swift file, C header and Linux module map
//!   that are committed under `swift/Sources/`, with `cargo xtask
//!   swift-bindings` to rewrite them and a check that they are current;
//! - [`cancel`]: the patch of UniFFI's generated Swift that makes `Task`
//!   cancellation reach the core;
//! - [`pin`]: the release binary `Package.swift` pins, checked against the
//!   committed bindings (`cargo xtask swift-pin` writes it on a release commit);
//! - [`unchecked`]: every `@unchecked Sendable` of the hand-written Swift
//!   carries its proof;
//! - [`root`]: the Debian trixie root with Swift 6 in which `swift test`
//!   runs here. The repository is bind-mounted into the root at its own
//!   absolute path, so every path (package, build directory, cdylib) means the
//!   same thing on both sides, and the root shares the host's network
//!   namespace, so a homeserver on the host's loopback is reachable.
//!
//! The package manifest is the repository's root `Package.swift`.

mod cancel;
pub mod generated;
pub mod pin;
mod root;
mod unchecked;

use crate::ctx::{self, Ctx};
use crate::synapse;
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
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
/// `MMC_HOMESERVER_URL` set to `homeserver_url` and
/// `MMC_REFRESH_HOMESERVER_URL` to `refresh_url` (a Synapse whose access
/// tokens expire, `synapse::start_refresh`).
///
/// Fails before building anything when the committed bindings are stale,
/// naming the command that regenerates them. Every bind mount made for the
/// run is undone before this returns, whether the tests pass, fail, or the
/// run errors.
pub fn test(ctx: &Ctx, cdylib: &Path, homeserver_url: &str, refresh_url: &str) -> Result<()> {
    let cdylib = cdylib
        .canonicalize()
        .with_context(|| format!("no core library at {}", cdylib.display()))?;
    let lib_dir = cdylib
        .parent()
        .context("the cdylib has no parent directory")?
        .to_path_buf();
    generated::check(&ctx.root, &generated::generate(ctx, &cdylib)?)?;
    pin::check(ctx)?;
    unchecked::check(&ctx.root)?;

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
            .env(synapse::REFRESH_URL_VAR, refresh_url)
            .env(
                synapse::REFRESH_LIFETIME_VAR,
                synapse::REFRESH_TOKEN_LIFETIME_S.to_string(),
            )
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
    let outcome = run_echoed(
        swift("test")
            .args(["--skip-build", "--disable-swift-testing"])
            .args(linker),
    );
    eprintln!(
        "swift: swift build {build_secs:.1} s, swift test {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let output = outcome?;
    // A run that passes having run nothing (or fewer tests than the sources
    // declare: a class XCTest did not discover) tests nothing.
    let expected = declared_tests(&ctx.root.join("swift").join("Tests"))?;
    match executed_tests(&output) {
        Some(n) if n >= expected && n > 0 => {
            println!("swift: {n} tests executed ({expected} declared)");
            Ok(())
        }
        executed => {
            bail!("swift: XCTest executed {executed:?} tests, the sources declare {expected}")
        }
    }
}

/// Runs `cmd`, echoing its standard output line by line; returns that
/// output, or an error when the command fails.
fn run_echoed(cmd: &mut Command) -> Result<String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {cmd:?}"))?;
    let mut output = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.context("reading the command's output")?;
            println!("{line}");
            output.push_str(&line);
            output.push('\n');
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(output)
}

/// XCTest's count of executed tests: the largest `Executed N test(s)` of
/// its summaries (the last one, for "All tests", counts them all).
fn executed_tests(output: &str) -> Option<u32> {
    output
        .lines()
        .filter_map(|line| {
            let rest = &line[line.find("Executed ")? + "Executed ".len()..];
            rest.split_whitespace().next()?.parse::<u32>().ok()
        })
        .max()
}

/// The XCTest methods the test sources declare (`func test...()`).
fn declared_tests(dir: &Path) -> Result<u32> {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            n += declared_tests(&path)?;
        } else if path.extension().is_some_and(|e| e == "swift") {
            let text = std::fs::read_to_string(&path)?;
            n += text
                .lines()
                .filter(|l| {
                    let l = l.trim_start();
                    l.starts_with("func test") && l.contains("()")
                })
                .count() as u32;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::executed_tests;

    #[test]
    fn the_executed_count_is_read_from_xctests_summaries() {
        let output = "Test Suite 'ErrorTests' passed at 2026-12-03 06:00:00.000.\n\
                      \t Executed 6 tests, with 0 failures (0 unexpected) in 1.2 (1.2) seconds\n\
                      Test Suite 'All tests' passed at 2026-12-03 06:00:09.000.\n\
                      \t Executed 31 tests, with 0 failures (0 unexpected) in 9.0 (9.0) seconds\n";
        assert_eq!(executed_tests(output), Some(31));
        let none =
            "Test Suite 'All tests' passed at 2026-12-03.\n\t Executed 0 tests, with 0 failures\n";
        assert_eq!(executed_tests(none), Some(0));
        assert_eq!(executed_tests("error: no tests found"), None);
    }
}
