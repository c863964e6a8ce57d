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
use std::path::{Path, PathBuf};
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
    // declare: a class XCTest did not discover) tests nothing; nor does a
    // test that skipped, which XCTest counts as executed.
    let summary = check_run(
        &output,
        &ctx.root.join("swift").join("Tests"),
        Platform::Linux,
    )?;
    println!("swift: {summary}");
    Ok(())
}

/// `cargo xtask xctest-check linux|macos|ios LOG`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Where the run ran: which tests may skip there.
    #[arg(value_enum)]
    platform: Platform,
    /// The run's output.
    log: PathBuf,
}

/// `cargo xtask xctest-check PLATFORM LOG`: [`check_run`] on the output
/// that an XCTest run on PLATFORM wrote to LOG (the apple workflow's
/// `swift test` and `xcodebuild test`).
pub fn check_log(ctx: &Ctx, args: CheckArgs) -> Result<()> {
    let CheckArgs { platform, log } = args;
    let output =
        std::fs::read_to_string(&log).with_context(|| format!("reading {}", log.display()))?;
    let summary = check_run(&output, &ctx.root.join("swift").join("Tests"), platform)?;
    println!("swift ({platform:?}): {summary}");
    Ok(())
}

/// Where an XCTest run ran: which tests may skip there, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    /// `cargo xtask test swift`, the trixie root.
    Linux,
    /// `swift test` on a Mac (the apple workflow).
    #[value(name = "macos")]
    MacOs,
    /// `xcodebuild test` on the iOS simulator (the apple workflow).
    Ios,
}

impl Platform {
    /// The tests (`Class.method`) that skip on this platform by design,
    /// each with the reason. Any other skip fails the run.
    fn expected_skips(self) -> Vec<(&'static str, &'static str)> {
        // The children's halves of the tests that start a child process of
        // the test bundle: they run only in that child.
        let mut skips = vec![
            (
                "ProcessExitTests.testChildExitsWithLiveClients",
                "the child's half, run in the child process",
            ),
            (
                "NotificationTests.testChildFetchesOneNotification",
                "the child's half, run in the child process",
            ),
        ];
        match self {
            Self::Linux => skips.push((
                "DiffTests.testModelsApplyEveryBatchOnTheMainActorAndFinish",
                "the Observable models are built on Apple platforms only",
            )),
            Self::MacOs | Self::Ios => skips.push((
                "TlsTests.testWithoutTheCaLoginIsANetworkErrorNamingTheCertificateAndWithItInTheConfigItLogsIn",
                "no variable replaces the keychain's roots for one client",
            )),
        }
        if self == Self::Ios {
            skips.push((
                "ProcessExitTests.testAProcessExitingWithLiveClientsExitsWithItsStatus",
                "iOS cannot start a child process",
            ));
        }
        skips
    }
}

/// What an XCTest run did, as its output says.
#[derive(Debug, PartialEq, Eq)]
pub struct RunSummary {
    /// Tests that ran and did not skip.
    pub ran: u32,
    /// Tests that skipped, by name (`Class.method`) with the reason.
    pub skipped: Vec<String>,
    /// Test methods the sources declare.
    pub declared: u32,
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} tests ran, {} skipped as expected on this platform ({} declared)",
            self.ran,
            self.skipped.len(),
            self.declared
        )?;
        for name in &self.skipped {
            write!(f, "\n  skipped: {name}")?;
        }
        Ok(())
    }
}

/// Checks an XCTest run's output against the tests declared under `tests`:
/// every declared test ran, or skipped where `platform` expects it to. A
/// skipped test does not count as run, and an unexpected skip fails, named.
pub fn check_run(output: &str, tests: &Path, platform: Platform) -> Result<RunSummary> {
    let declared = declared_tests(tests)?;
    let Some((executed, skipped_count)) = executed_tests(output) else {
        bail!("swift: no XCTest summary (`Executed N tests`) in the output; the sources declare {declared}");
    };
    let skipped = skipped_tests(output);
    // The summary's count and the named skips must agree, so that no skip
    // goes unnamed (a line format this parser does not know).
    if skipped_count as usize != skipped.len() {
        bail!(
            "swift: XCTest reports {skipped_count} skipped tests but the output names {}: {skipped:?}",
            skipped.len()
        );
    }
    let expected = platform.expected_skips();
    let unexpected: Vec<&String> = skipped
        .iter()
        .filter(|name| !expected.iter().any(|(e, _)| e == name))
        .collect();
    if !unexpected.is_empty() {
        bail!("swift: tests skipped that must run on {platform:?}: {unexpected:?}");
    }
    // Each skip with the reason this platform has for it.
    let skipped: Vec<String> = skipped
        .into_iter()
        .map(|name| {
            let why = expected
                .iter()
                .find(|(e, _)| *e == name)
                .map_or("", |(_, why)| *why);
            format!("{name} ({why})")
        })
        .collect();
    let ran = executed.saturating_sub(skipped_count);
    if ran == 0 || ran + skipped_count < declared {
        bail!(
            "swift: XCTest ran {ran} tests and skipped {skipped_count} (expected on {platform:?}), \
             the sources declare {declared}"
        );
    }
    Ok(RunSummary {
        ran,
        skipped,
        declared,
    })
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

/// XCTest's counts of executed and skipped tests, from the largest
/// `Executed N test(s), with K test(s) skipped and F failures` of its
/// summaries (the last one, for "All tests", counts them all; without a
/// skip, XCTest leaves the `with K ... skipped and` out).
fn executed_tests(output: &str) -> Option<(u32, u32)> {
    output
        .lines()
        .filter_map(|line| {
            let rest = &line[line.find("Executed ")? + "Executed ".len()..];
            let mut words = rest.split_whitespace();
            let executed = words.next()?.parse::<u32>().ok()?;
            let skipped = match rest.find(", with ") {
                Some(i) => {
                    let mut after = rest[i + ", with ".len()..].split_whitespace();
                    let n = after.next().and_then(|w| w.parse::<u32>().ok());
                    let _test = after.next();
                    match (n, after.next()) {
                        (Some(n), Some(word)) if word.starts_with("skipped") => n,
                        _ => 0,
                    }
                }
                None => 0,
            };
            Some((executed, skipped))
        })
        .max()
}

/// The tests that skipped, as `Class.method`, from XCTest's `Test Case
/// '...' skipped` lines: `Module.Class.method` (Linux) or
/// `-[Module.Class method]` (Apple).
fn skipped_tests(output: &str) -> Vec<String> {
    let mut names: Vec<String> = output
        .lines()
        .filter_map(|line| {
            // "Test case" in Xcode's parallel runs, "Test Case" elsewhere.
            let at = line
                .find("Test Case '")
                .or_else(|| line.find("Test case '"))?;
            let rest = &line[at + "Test Case '".len()..];
            let end = rest.find('\'')?;
            if !rest[end..]
                .trim_start_matches('\'')
                .trim_start()
                .starts_with("skipped")
            {
                return None;
            }
            let name = rest[..end].trim_start_matches("-[").trim_end_matches(']');
            let name = name.replace(' ', ".");
            // Drop the module: the last two parts are the class and the method.
            let parts: Vec<&str> = name.split('.').collect();
            (parts.len() >= 2).then(|| parts[parts.len() - 2..].join("."))
        })
        .collect();
    names.sort();
    names.dedup();
    names
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
    use super::{check_run, executed_tests, skipped_tests, Platform};

    #[test]
    fn the_executed_count_is_read_from_xctests_summaries() {
        let output = "Test Suite 'ErrorTests' passed at 2026-12-03 06:00:00.000.\n\
                      \t Executed 6 tests, with 0 failures (0 unexpected) in 1.2 (1.2) seconds\n\
                      Test Suite 'All tests' passed at 2026-12-03 06:00:09.000.\n\
                      \t Executed 31 tests, with 0 failures (0 unexpected) in 9.0 (9.0) seconds\n";
        assert_eq!(executed_tests(output), Some((31, 0)));
        let none =
            "Test Suite 'All tests' passed at 2026-12-03.\n\t Executed 0 tests, with 0 failures\n";
        assert_eq!(executed_tests(none), Some((0, 0)));
        assert_eq!(executed_tests("error: no tests found"), None);
        let skips = "\t Executed 1 test, with 1 test skipped and 0 failures (0 unexpected) in 0.0 (0.0) seconds\n\
                     \t Executed 40 tests, with 3 tests skipped and 0 failures (0 unexpected) in 9.0 (9.0) seconds\n";
        assert_eq!(executed_tests(skips), Some((40, 3)));
    }

    #[test]
    fn skipped_tests_are_named_on_linux_and_apple() {
        let output = "Test Case 'DiffTests.testA' started at 2026-12-03 06:00:00.000\n\
                      /x/DiffTests.swift:62: DiffTests.testA : Test skipped - why\n\
                      Test Case 'DiffTests.testA' skipped (0.001 seconds)\n\
                      Test Case 'ErrorTests.testB' passed (0.002 seconds)\n\
                      Test Case '-[MatrixMobileCoreTests.TlsTests testC]' skipped (0.000 seconds).\n\
                      Test Case 'MatrixMobileCoreTests.ProcessExitTests.testD' skipped (0.000 seconds)\n";
        assert_eq!(
            skipped_tests(output),
            [
                "DiffTests.testA",
                "ProcessExitTests.testD",
                "TlsTests.testC"
            ]
        );
    }

    #[test]
    fn a_skipped_test_does_not_count_as_run() {
        let dir = std::env::temp_dir().join(format!("xtask-xctest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("T.swift"),
            "final class T: XCTestCase {\n    func testA() {}\n    func testB() {}\n    func testChildExitsWithLiveClients() {}\n}\n",
        )
        .unwrap();
        let summary = |executed: u32, skipped: &[&str]| {
            let mut out: String = skipped
                .iter()
                .map(|s| format!("Test Case '{s}' skipped (0.001 seconds)\n"))
                .collect();
            out += &format!(
                "\t Executed {executed} tests, with {} tests skipped and 0 failures (0 unexpected) in 1.0 (1.0) seconds\n",
                skipped.len()
            );
            out
        };
        // Every test ran but the expected child's half: passes.
        let ok = summary(3, &["ProcessExitTests.testChildExitsWithLiveClients"]);
        let run = check_run(&ok, &dir, Platform::Linux).unwrap();
        assert_eq!((run.ran, run.skipped.len(), run.declared), (2, 1, 3));
        // A test that skipped where it must run fails, although XCTest
        // counts it as executed.
        let bad = summary(3, &["T.testA"]);
        let err = check_run(&bad, &dir, Platform::Linux).unwrap_err();
        assert!(format!("{err:#}").contains("T.testA"), "{err:#}");
        // An expected skip does not make up for a test that never ran.
        let short = summary(2, &["ProcessExitTests.testChildExitsWithLiveClients"]);
        assert!(check_run(&short, &dir, Platform::Linux).is_err());
        // A skip XCTest counts but no line names.
        let unnamed = "\t Executed 3 tests, with 1 test skipped and 0 failures\n";
        assert!(check_run(unnamed, &dir, Platform::Linux).is_err());
        // iOS may skip the parent test too; Linux may not.
        let parent = "ProcessExitTests.testAProcessExitingWithLiveClientsExitsWithItsStatus";
        let ios = summary(3, &[parent]);
        assert!(check_run(&ios, &dir, Platform::Ios).is_ok());
        assert!(check_run(&ios, &dir, Platform::Linux).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
