//! Kotlin on the JVM: the shared Kotlin tests and the FFI benchmark, run by Maven.
//!
//! Both generate the bindings from the given host cdylib into `kotlin/generated`
//! (git-ignored) and hand Maven the cdylib's directory as `jna.library.path`, so
//! the tests always run the library the bindings were generated from.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::ctx::{have_tool, Ctx};
use crate::synapse;

/// Prefix of the one line the benchmark main prints (see `FfiBench.kt`).
const BENCH_PREFIX: &str = "MMC_FFI_BENCH ";

/// Generates the bindings and runs `mvn test` in `kotlin/` against
/// `homeserver_url`, with `refresh_url` (a Synapse whose access tokens expire,
/// `synapse::start_refresh`) for the tests of sessions that refresh.
///
/// Prints `kotlin: N passed, N failed, N skipped` from Surefire's reports and
/// fails when Maven fails (a failed test, a compile error, a crashed JVM).
pub fn test(ctx: &Ctx, cdylib: &Path, homeserver_url: &str, refresh_url: &str) -> Result<()> {
    let dir = prepare(ctx, cdylib)?;
    // `clean` below also removes the reports of an earlier run.
    let reports = dir.join("target").join("surefire-reports");
    let started = Instant::now();
    let status = maven(ctx, &dir, cdylib)?
        .args(["clean", "test"])
        .env("MMC_HOMESERVER_URL", homeserver_url)
        .env(synapse::REFRESH_URL_VAR, refresh_url)
        .env(
            synapse::REFRESH_LIFETIME_VAR,
            synapse::REFRESH_TOKEN_LIFETIME_S.to_string(),
        )
        .status()
        .context("could not start mvn")?;
    let summary = surefire_summary(&reports).unwrap_or_default();
    eprintln!(
        "kotlin: mvn test took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "kotlin: {} passed, {} failed, {} skipped",
        summary.passed(),
        summary.failed(),
        summary.skipped
    );
    if !status.success() {
        // The failures' messages, so that a run whose console output is cut
        // (a CI log shows its tail) still says what failed.
        let failures = failed_cases(&reports).unwrap_or_default();
        bail!(
            "kotlin: mvn test failed with {status} (reports in {}){}",
            reports.display(),
            failures
                .iter()
                .map(|f| format!("\n  {f}"))
                .collect::<String>()
        );
    }
    if summary.tests == 0 {
        bail!("kotlin: mvn test ran no test");
    }
    Ok(())
}

/// Times the FFI from Kotlin coroutines on the JVM: the same no-op through
/// each layer of a call (`sync`, `bare`, `spawn`, `async`, `inline`), after
/// warm-up. `cdylib` must be built with the core's `diagnostics` feature: the
/// POM's profile `ffi-bench` adds the benchmark (`src/jvmBench`), which calls
/// the no-ops, to the test sources. Returns the benchmark's JSON object
/// (`<variant>_p50_us`, `<variant>_p99_us`).
pub fn bench_ffi(ctx: &Ctx, cdylib: &Path) -> Result<serde_json::Value> {
    let dir = prepare(ctx, cdylib)?;
    let output = maven(ctx, &dir, cdylib)?
        .args(["-Pffi-bench", "clean", "test-compile", "exec:java"])
        .output()
        .context("could not start mvn")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "kotlin bench failed with {}:\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    parse_bench(&stdout)
}

/// Checks the tools and writes fresh bindings into `kotlin/generated`;
/// returns `kotlin/`.
pub(crate) fn prepare(ctx: &Ctx, cdylib: &Path) -> Result<PathBuf> {
    prepare_into(ctx, cdylib, &ctx.root.join("kotlin").join("generated"))
}

/// [`prepare`] with the bindings in `generated` (the POM's
/// `mmc.generated.dir`); returns `kotlin/`.
pub(crate) fn prepare_into(ctx: &Ctx, cdylib: &Path, generated: &Path) -> Result<PathBuf> {
    for tool in ["java", "mvn"] {
        if !have_tool(tool) {
            bail!("`{tool}` is not on PATH: the Kotlin tests need a JDK (17 or later) and Maven");
        }
    }
    if !cdylib.is_file() {
        bail!("{} does not exist: build the core first", cdylib.display());
    }
    if generated.exists() {
        std::fs::remove_dir_all(generated)
            .with_context(|| format!("removing {}", generated.display()))?;
    }
    crate::bindings::generate(ctx, "kotlin", generated, cdylib)?;
    Ok(ctx.root.join("kotlin"))
}

/// `mvn -q -B` in `dir`, told the project's version (`${revision}` in the
/// POM) and where the cdylib and the bindings are.
pub(crate) fn maven(ctx: &Ctx, dir: &Path, cdylib: &Path) -> Result<Command> {
    let lib_dir = cdylib
        .parent()
        .context("the cdylib path has no directory")?
        .canonicalize()
        .context("resolving the cdylib's directory")?;
    let mut cmd = Command::new("mvn");
    cmd.current_dir(dir).args([
        "-q".to_owned(),
        "-B".to_owned(),
        "-Dstyle.color=never".to_owned(),
        format!("-Drevision={}", ctx.version()?),
        format!("-Dmmc.repository={}", ctx.repository()?),
        format!("-Dmmc.cdylib.dir={}", lib_dir.display()),
        format!("-Dmmc.generated.dir={}", dir.join("generated").display()),
    ]);
    Ok(cmd)
}

fn parse_bench(stdout: &str) -> Result<serde_json::Value> {
    let line = stdout
        .lines()
        .find_map(|l| l.find(BENCH_PREFIX).map(|at| &l[at + BENCH_PREFIX.len()..]))
        .with_context(|| {
            format!("no `{BENCH_PREFIX}` line in the benchmark's output:\n{stdout}")
        })?;
    serde_json::from_str(line).context("parsing the benchmark's JSON")
}

/// Counts from Surefire's `TEST-*.xml` reports.
#[derive(Debug, Default, PartialEq)]
struct Summary {
    tests: u32,
    failures: u32,
    errors: u32,
    skipped: u32,
}

impl Summary {
    fn failed(&self) -> u32 {
        self.failures + self.errors
    }

    fn passed(&self) -> u32 {
        self.tests.saturating_sub(self.failed() + self.skipped)
    }
}

fn surefire_summary(reports: &Path) -> Result<Summary> {
    let mut total = Summary::default();
    for (path, text) in surefire_reports(reports)? {
        let suite =
            suite_counts(&text).with_context(|| format!("no <testsuite> in {}", path.display()))?;
        total.tests += suite.tests;
        total.failures += suite.failures;
        total.errors += suite.errors;
        total.skipped += suite.skipped;
    }
    Ok(total)
}

/// Each Surefire report (`TEST-*.xml`) in `reports`, with its text.
fn surefire_reports(reports: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut found = Vec::new();
    for entry in
        std::fs::read_dir(reports).with_context(|| format!("reading {}", reports.display()))?
    {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("TEST-") && name.ends_with(".xml") {
            let text = std::fs::read_to_string(&path)?;
            found.push((path, text));
        }
    }
    Ok(found)
}

/// `Class.test: message` for each failed or broken test case in the
/// reports, the message cut to 600 characters.
fn failed_cases(reports: &Path) -> Result<Vec<String>> {
    Ok(surefire_reports(reports)?
        .iter()
        .flat_map(|(_, text)| failures_in(text))
        .collect())
}

/// The value of the attribute `name` in the XML start tag `tag`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let rest = &tag[tag.find(&key)? + key.len()..];
    Some(&rest[..rest.find('"')?])
}

/// The failed test cases of one report (see [`failed_cases`]).
fn failures_in(xml: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<testcase ") {
        let case = &rest[start..];
        let tag_end = case.find('>').map_or(case.len(), |i| i + 1);
        let tag = &case[..tag_end];
        // A case with no body (`<testcase .../>`) passed.
        let end = if tag.ends_with("/>") {
            tag_end
        } else {
            case.find("</testcase>").unwrap_or(case.len())
        };
        let body = &case[tag_end..end];
        for kind in ["<failure", "<error"] {
            if let Some(at) = body.find(kind) {
                let failure = &body[at..];
                let failure = &failure[..failure.find('>').unwrap_or(failure.len())];
                let class = attr(tag, "classname").unwrap_or_default();
                let class = class.rsplit('.').next().unwrap_or_default();
                let message: String = unescape(attr(failure, "message").unwrap_or_default())
                    .chars()
                    .take(600)
                    .collect();
                let name = attr(tag, "name").unwrap_or_default();
                found.push(format!("{class}.{name}: {message}"));
                break;
            }
        }
        rest = &case[end..];
    }
    found
}

/// XML's five escapes and numeric newlines, as Surefire writes them.
fn unescape(text: &str) -> String {
    text.replace("&#10;", "\n")
        .replace("&#13;", "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The counts on the first `<testsuite ...>` element of one report.
fn suite_counts(xml: &str) -> Option<Summary> {
    let start = xml.find("<testsuite ")?;
    let tag = &xml[start..start + xml[start..].find('>')?];
    let count = |name: &str| -> u32 { attr(tag, name).and_then(|v| v.parse().ok()).unwrap_or(0) };
    Some(Summary {
        tests: count("tests"),
        failures: count("failures"),
        errors: count("errors"),
        skipped: count("skipped"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_counts_reads_the_testsuite_attributes() {
        let xml = r#"<?xml version="1.0"?><testsuite xmlns:xsi="x" name="dev.X" time="1.2" tests="7" errors="1" skipped="2" failures="1"><testcase/></testsuite>"#;
        let s = suite_counts(xml).unwrap();
        assert_eq!(
            s,
            Summary {
                tests: 7,
                failures: 1,
                errors: 1,
                skipped: 2
            }
        );
        assert_eq!((s.passed(), s.failed()), (3, 2));
    }

    #[test]
    fn failures_in_names_each_failed_case_with_its_message() {
        let xml = r#"<testsuite tests="3"><testcase name="a" classname="dev.m.SecurityTest" time="1"/><testcase name="b" classname="dev.m.SecurityTest" time="2"><failure message="expected: &lt;true&gt; but was: &lt;false&gt;&#10;next" type="org.opentest4j.AssertionFailedError">stack</failure></testcase><testcase name="c" classname="dev.m.X"><error message="boom &amp; more" type="E"/></testcase></testsuite>"#;
        assert_eq!(
            failures_in(xml),
            vec![
                "SecurityTest.b: expected: <true> but was: <false>\nnext".to_owned(),
                "X.c: boom & more".to_owned()
            ]
        );
    }

    #[test]
    fn parse_bench_finds_the_prefixed_line_among_others() {
        let out = "noise\n\u{1b}[0mMMC_FFI_BENCH {\"async_p50_us\":12.5,\"async_p99_us\":40.0,\"sync_p50_us\":1.5}\n";
        let json = parse_bench(out).unwrap();
        assert_eq!(json["async_p50_us"].as_f64(), Some(12.5));
        assert_eq!(json["sync_p50_us"].as_f64(), Some(1.5));
        assert!(parse_bench("nothing here").is_err());
    }
}
