//! `cargo xtask stress runtime|lifecycle`: torture tests in an optimised build
//! (profile `bench-fast`).
//!
//! - `runtime [--cycles N]`: the seed scenario, plain drop against the supervisor.
//! - `lifecycle [--iterations N] [--seed S]`: random interleavings of client
//!   calls, cancellations and shutdowns on two or three clients, against
//!   Synapse through the fault proxy (`core/examples/stress_lifecycle/`).
//!   The workload runs in a child process, so that an abort is seen here.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::ctx::{self, Ctx};
use crate::{bench, synapse};

/// `cargo xtask stress <scenario>`.
#[derive(clap::Subcommand)]
pub enum Scenario {
    /// The runtime-shutdown seed scenario, plain drop against the supervisor;
    /// target/bench/stress-runtime.json.
    Runtime {
        /// Cycles of the supervisor's stop-collect-drop (and of the plain
        /// drop, without --plain-cycles).
        #[arg(long, value_name = "N", default_value_t = 10_000)]
        cycles: u64,
        /// Cycles of the plain drop, the baseline.
        #[arg(long, value_name = "N")]
        plain_cycles: Option<u64>,
    },
    /// Random lifecycle interleavings on two or three clients against
    /// Synapse, through the fault proxy; target/bench/stress-lifecycle.json.
    Lifecycle {
        /// Iterations.
        #[arg(long, value_name = "N", default_value_t = 1000)]
        iterations: u64,
        /// The seed of the run (a new one when absent; the verdict prints it).
        #[arg(long, value_name = "S")]
        seed: Option<u64>,
    },
}

pub fn run(ctx: &Ctx, scenario: Scenario) -> Result<()> {
    match scenario {
        Scenario::Runtime {
            cycles,
            plain_cycles,
        } => runtime(ctx, cycles, plain_cycles),
        Scenario::Lifecycle { iterations, seed } => lifecycle(ctx, iterations, seed),
    }
}

fn runtime(ctx: &Ctx, cycles: u64, plain_cycles: Option<u64>) -> Result<()> {
    let mut passed = vec!["--cycles".to_owned(), cycles.to_string()];
    if let Some(n) = plain_cycles {
        passed.extend(["--plain-cycles".to_owned(), n.to_string()]);
    }
    let out = ctx.target_dir().join("bench").join("stress-runtime.json");
    let exe = ctx.build_example(bench::FAST, "stress_runtime")?;
    ctx::run(Command::new(exe).args(&passed).arg("--out").arg(&out))
}

fn lifecycle(ctx: &Ctx, iterations: u64, seed: Option<u64>) -> Result<()> {
    let exe = ctx.build_example(bench::FAST, "stress_lifecycle")?;
    let server = synapse::start(ctx)?;
    let result = run_lifecycle(ctx, &exe, &server.url, iterations, seed);
    drop(server);
    result
}

/// Builds the lifecycle workload in the debug profile (for `cargo xtask test`).
pub fn build_lifecycle_debug(ctx: &Ctx) -> Result<std::path::PathBuf> {
    ctx.build_example("dev", "stress_lifecycle")
}

/// Copies the last lifecycle run's report to `name` beside it, so that the
/// next run does not overwrite it.
pub fn keep_report_as(ctx: &Ctx, name: &str) -> Result<()> {
    let dir = ctx.target_dir().join("bench");
    let last = dir.join("stress-lifecycle.json");
    if last.exists() {
        std::fs::copy(&last, dir.join(name))?;
    }
    Ok(())
}

/// Runs the lifecycle workload `exe` in a child process against the
/// homeserver at `url`, and judges it: an abnormal exit is an abort, a child
/// that outlives a generous overall bound is killed and counts as a hang.
/// `target/bench/stress-lifecycle.json` holds the verdict either way.
pub fn run_lifecycle(
    ctx: &Ctx,
    exe: &Path,
    url: &str,
    iterations: u64,
    seed: Option<u64>,
) -> Result<()> {
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let dir = ctx.target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    let out = dir.join("stress-lifecycle.json");
    let _ = std::fs::remove_file(&out);
    println!("xtask: stress lifecycle, {iterations} iterations, seed {seed}");

    let mut child = Command::new(exe)
        .args(["--iterations", &iterations.to_string()])
        .args(["--seed", &seed.to_string()])
        .arg("--out")
        .arg(&out)
        .env("MMC_HOMESERVER_URL", url)
        .spawn()
        .with_context(|| format!("could not start {}", exe.display()))?;
    // Last resort only: the child's own watchdog ends a wedged run sooner.
    let limit = Duration::from_secs(120 + 30 * iterations);
    let started = Instant::now();
    let status = ctx::wait_or_kill(&mut child, limit)?;

    let mut report: Value = std::fs::read_to_string(&out)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| json!({"iterations": 0, "hangs": 0, "unexpected_errors": 0}));
    report["seed"] = json!(seed);
    let verdict = match status.map(|s| (s, s.code())) {
        None => {
            let hangs = report["hangs"].as_u64().unwrap_or(0);
            report["hangs"] = json!(hangs + 1);
            report["killed_after_s"] = json!(started.elapsed().as_secs());
            Err(format!(
                "the run outlived {} s and was killed",
                limit.as_secs()
            ))
        }
        Some((_, Some(0))) => Ok(()),
        Some((_, Some(1))) => Err(format!(
            "the run failed its criteria: {}",
            failed_criteria(&report)
        )),
        Some((_, Some(2))) => Err("the run's setup failed (see above)".to_owned()),
        Some((_, Some(3))) => Err("a call never returned; the watchdog ended the run".to_owned()),
        Some((status, _)) => {
            report["aborts"] = json!(1);
            report["abort"] = json!(status.to_string());
            Err(format!("the workload process aborted: {status}"))
        }
    };
    if verdict.is_err() {
        report["final_clean"] = json!(report["final_clean"].as_bool().unwrap_or(false));
        report["pass"] = json!(false);
        if report.get("aborts").is_none() {
            report["aborts"] = json!(0);
        }
    }
    std::fs::write(&out, serde_json::to_string_pretty(&report)? + "\n")?;
    println!(
        "xtask: stress lifecycle seed {seed}: iterations {}, aborts {}, hangs {}, unexpected errors {}, final clean {}, coverage met {}; {}",
        report["iterations"], report["aborts"], report["hangs"], report["unexpected_errors"],
        report["final_clean"], report["coverage"]["met"], out.display()
    );
    verdict.map_err(|e| anyhow::anyhow!("{e} (replay with --seed {seed})"))
}

/// What a failed lifecycle report failed, in one line with the first example
/// of each failure, so that the end of a CI log says it without the report.
fn failed_criteria(report: &Value) -> String {
    let count = |key: &str| report[key].as_u64().unwrap_or(0);
    let first = |key: &str| {
        report[key]
            .as_array()
            .and_then(|examples| examples.first())
            .map_or(String::new(), |e| format!(" (first: {e})"))
    };
    let mut failed = Vec::new();
    if report["complete"].as_bool() == Some(false) {
        failed.push("the run did not complete".to_owned());
    }
    let counted = [
        ("hangs", "call(s) past their bound", "hang_examples"),
        ("panics", "panic(s)", "panic_examples"),
        (
            "dirty_shutdowns",
            "unclean shutdown(s)",
            "dirty_shutdown_examples",
        ),
    ];
    for (key, what, examples) in counted {
        if count(key) > 0 {
            failed.push(format!("{} {what}{}", count(key), first(examples)));
        }
    }
    if count("unexpected_errors") > 0 {
        failed.push(format!(
            "{} unexpected result(s) {}{}",
            count("unexpected_errors"),
            report["unexpected_kinds"],
            first("unexpected_examples")
        ));
    }
    if report["task_failures"]
        .as_object()
        .is_some_and(|m| !m.is_empty())
    {
        failed.push(format!(
            "task failures {}{}",
            report["task_failures"],
            first("task_failure_examples")
        ));
    }
    if report["coverage"]["met"].as_bool() == Some(false) {
        let short: Vec<String> = report["coverage"]["kinds"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| v["done"].as_u64() < v["floor"].as_u64())
            .map(|(kind, v)| format!("{kind} {}/{}", v["done"], v["floor"]))
            .collect();
        failed.push(format!("coverage under the floor: {}", short.join(", ")));
    }
    if report["final_clean"].as_bool() == Some(false) {
        failed.push(format!("not clean at the end: {}", report["final"]));
    }
    if failed.is_empty() {
        "see the report".to_owned()
    } else {
        failed.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_report_names_each_failure_with_its_first_example() {
        let report = json!({
            "complete": true,
            "hangs": 1,
            "hang_examples": [{"op": "members", "elapsed_ms": 15000}],
            "unexpected_errors": 0,
            "panics": 0,
            "dirty_shutdowns": 0,
            "task_failures": {},
            "coverage": {"met": false, "kinds": {
                "members": {"done": 0, "floor": 1},
                "timeline": {"done": 9, "floor": 5},
            }},
            "final_clean": true,
        });
        let line = failed_criteria(&report);
        assert!(line.contains("1 call(s) past their bound"), "{line}");
        assert!(line.contains("\"op\":\"members\""), "{line}");
        assert!(
            line.contains("coverage under the floor: members 0/1"),
            "{line}"
        );
        assert!(!line.contains("timeline"), "{line}");
        assert!(!line.contains("unexpected"), "{line}");
        assert!(!line.contains("not clean"), "{line}");
    }

    #[test]
    fn a_report_without_a_named_failure_points_to_itself() {
        let report = json!({"complete": true, "final_clean": true, "coverage": {"met": true}});
        assert_eq!(failed_criteria(&report), "see the report");
    }
}
