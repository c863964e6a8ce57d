//! The core's test executables, several at a time (the suite `rust` of
//! `cargo xtask test`).
//!
//! `cargo test` runs a package's test binaries one after the other, and most
//! of their time is spent waiting: on Synapse, and on the timeouts that the
//! tests provoke. So the binaries are built with `cargo test --no-run` and
//! run here, [`JOBS`] at a time (`MMC_TEST_JOBS` overrides it), each as
//! `cargo test` runs it: same working directory (the package's), no
//! arguments, its own process. Inside a binary nothing changes (the tests
//! that share the process's runtime still take turns). A binary's output is
//! captured and printed whole when it ends, so that the logs of binaries
//! that ran together do not interleave; every binary runs even when another
//! failed (`--no-fail-fast`), and the failures are listed at the end.
//!
//! Each binary's process-wide figures (CPU time, peak RSS, wake-ups, open
//! files, live clients, threads) are its own process's, so binaries that
//! run together cannot skew them; a binary that had to run with nothing
//! beside it would go in [`ALONE`].

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::ctx;

/// Binaries run at a time by default. On two cores, three keep both busy
/// while most of them wait on Synapse or on a timeout; one is what
/// `cargo test` does.
pub const JOBS: usize = 3;

/// Binaries (by name) that run with no other beside them. None needs it
/// today: see the module's documentation.
const ALONE: [&str; 0] = [];

/// The slowest binaries, started first so that none of them is left to run
/// alone at the end (the longest-first order; the rest follow in cargo's
/// order). Only the order depends on this list.
const SLOWEST_FIRST: [&str; 8] = [
    "chat",
    "notification",
    "hooked_races",
    "sessions",
    "fault_matrix",
    "session_store",
    "client",
    "phone",
];

/// A command of the pool: a test binary or a cargo invocation.
pub struct Job {
    /// How the logs and the summary name it (`tests/chat`, `lib`, ...).
    pub name: String,
    pub command: Command,
}

/// Builds the test binaries of `cargo test ARGS --no-run` and returns a job
/// for each, in the directory cargo would run it in.
pub fn test_binaries(root: &Path, args: &[&str]) -> Result<Vec<Job>> {
    let mut command = Command::new(ctx::cargo());
    command
        .current_dir(root)
        .arg("test")
        .args(args)
        .args(["--no-run", "--message-format=json-render-diagnostics"])
        .stdout(Stdio::piped());
    let output = command
        .spawn()
        .with_context(|| format!("could not start {command:?}"))?
        .wait_with_output()?;
    if !output.status.success() {
        bail!("{command:?} failed with {}", output.status);
    }
    let mut jobs = Vec::new();
    for message in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(message) else {
            continue;
        };
        let Some((name, exe, dir)) = test_executable(&message) else {
            continue;
        };
        let mut command = Command::new(exe);
        command.current_dir(&dir).env("CARGO_MANIFEST_DIR", &dir);
        jobs.push(Job { name, command });
    }
    if jobs.is_empty() {
        bail!("{command:?} built no test binary");
    }
    Ok(jobs)
}

/// `jobs` with the job `name` run as two: the tests of its module `module`
/// (a job named `module`) and the rest (still `name`), as if they were two
/// test binaries. Each is its own process, with the same directory and
/// environment; libtest's filter and `--skip` pick the tests by path.
pub fn split_job(jobs: Vec<Job>, name: &str, module: &str) -> Vec<Job> {
    let prefix = format!("{module}::");
    let mut out = Vec::with_capacity(jobs.len() + 1);
    for job in jobs {
        if job.name != name {
            out.push(job);
            continue;
        }
        let like = |args: &[&str], job_name: &str| {
            let mut command = Command::new(job.command.get_program());
            if let Some(dir) = job.command.get_current_dir() {
                command.current_dir(dir);
            }
            for (key, value) in job.command.get_envs() {
                match value {
                    Some(value) => command.env(key, value),
                    None => command.env_remove(key),
                };
            }
            command.args(args);
            Job {
                name: job_name.into(),
                command,
            }
        };
        out.push(like(&["--skip", &prefix], name));
        out.push(like(&[&prefix], module));
    }
    out
}

/// How many tests the test binary of `job` runs with its arguments (libtest's
/// `--list`): a filter that matches nothing passes, so a job that must run
/// tests checks it has some.
pub fn count_tests(job: &Job) -> Result<usize> {
    let mut command = Command::new(job.command.get_program());
    if let Some(dir) = job.command.get_current_dir() {
        command.current_dir(dir);
    }
    let output = command
        .args(job.command.get_args())
        .args(["--list", "--format", "terse"])
        .output()
        .with_context(|| format!("could not list the tests of {}", job.name))?;
    if !output.status.success() {
        bail!(
            "listing the tests of {} failed with {}",
            job.name,
            output.status
        );
    }
    let listed = String::from_utf8_lossy(&output.stdout);
    Ok(listed.lines().filter(|l| l.ends_with(": test")).count())
}

/// The name, executable and package directory of a `compiler-artifact`
/// message of a test binary.
fn test_executable(message: &Value) -> Option<(String, PathBuf, PathBuf)> {
    if message["reason"] != "compiler-artifact" || message["profile"]["test"] != true {
        return None;
    }
    let exe = PathBuf::from(message["executable"].as_str()?);
    let dir = Path::new(message["manifest_path"].as_str()?)
        .parent()?
        .to_path_buf();
    let target = &message["target"];
    let kinds: Vec<&str> = target["kind"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let name = match kinds.first() {
        Some(&"test") => format!("tests/{}", target["name"].as_str()?),
        Some(kind) => kind.to_string(),
        None => return None,
    };
    Some((name, exe, dir))
}

/// The outcome of one job: its name, whether it passed, its seconds.
pub struct Outcome {
    pub name: String,
    pub passed: bool,
    pub secs: f64,
}

/// Runs `jobs`, `width` at a time (those in [`ALONE`] with nothing beside
/// them, first), the slowest known first; prints each one's output whole
/// when it ends, then a line per job. Fails, naming them, when any failed.
pub fn run(jobs: Vec<Job>, width: usize, log_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(log_dir)?;
    let (alone, mut shared): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .partition(|j| ALONE.contains(&short_name(&j.name)));
    shared.sort_by_key(|j| {
        SLOWEST_FIRST
            .iter()
            .position(|s| *s == short_name(&j.name))
            .unwrap_or(SLOWEST_FIRST.len())
    });
    let started = Instant::now();
    let mut outcomes = pool(alone, 1, log_dir);
    outcomes.extend(pool(shared, width.max(1), log_dir));
    println!(
        "\nxtask: {} test binaries, {width} at a time, in {:.1} s",
        outcomes.len(),
        started.elapsed().as_secs_f64()
    );
    for o in &outcomes {
        let verdict = if o.passed { "ok" } else { "FAILED" };
        println!("  {:<28} {verdict:<7} {:>6.1} s", o.name, o.secs);
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.passed)
        .map(|o| o.name.as_str())
        .collect();
    if !failed.is_empty() {
        bail!("failed test binaries: {}", failed.join(", "));
    }
    Ok(())
}

/// `tests/chat` -> `chat`.
fn short_name(name: &str) -> &str {
    name.strip_prefix("tests/").unwrap_or(name)
}

/// Runs `jobs` on `width` threads, each job's output into a file of
/// `log_dir` that is printed when the job ends; returns the outcomes in the
/// order the jobs ended.
pub fn pool(jobs: Vec<Job>, width: usize, log_dir: &Path) -> Vec<Outcome> {
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (0..width)
        .map(|_| {
            let queue = Arc::clone(&queue);
            let tx = tx.clone();
            let log_dir = log_dir.to_path_buf();
            std::thread::spawn(move || loop {
                let Some(job) = queue.lock().unwrap().pop_front() else {
                    break;
                };
                let _ = tx.send(run_one(job, &log_dir));
            })
        })
        .collect();
    drop(tx);
    let mut outcomes = Vec::new();
    for (outcome, log) in rx {
        let verdict = if outcome.passed { "ok" } else { "FAILED" };
        println!(
            "\n---- {}: {verdict} in {:.1} s ----\n{}",
            outcome.name,
            outcome.secs,
            log.trim_end()
        );
        outcomes.push(outcome);
    }
    for worker in workers {
        let _ = worker.join();
    }
    outcomes
}

/// Runs one job with its stdout and stderr into one file; returns the
/// outcome and what it wrote (with the reason when it could not run).
fn run_one(mut job: Job, log_dir: &Path) -> (Outcome, String) {
    let started = Instant::now();
    let log_path = log_dir.join(format!("{}.log", job.name.replace('/', "-")));
    let result = (|| -> Result<bool> {
        let log = std::fs::File::create(&log_path)?;
        let status = job
            .command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .status()
            .with_context(|| format!("could not start {:?}", job.command))?;
        Ok(status.success())
    })();
    let mut log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let passed = match result {
        Ok(passed) => passed,
        Err(e) => {
            log.push_str(&format!("\nxtask: {e:#}"));
            false
        }
    };
    let outcome = Outcome {
        name: job.name,
        passed,
        secs: started.elapsed().as_secs_f64(),
    };
    (outcome, log)
}

/// Runs the suites `names` of `cargo xtask test` at the same time, each in a
/// process of its own (this command again, told the homeserver at `url` and
/// the refresh one at `refresh_url` instead of starting its own), and prints
/// each one's output whole when it ends. Returns each suite's verdict, with
/// the reason its process gave when it failed, and its seconds.
pub fn suites(
    names: &[&str],
    url: &str,
    refresh_url: &str,
    log_dir: &Path,
) -> Vec<(String, Result<()>, f64)> {
    let exe = std::env::current_exe().unwrap_or_else(|_| "cargo-xtask".into());
    let jobs = names
        .iter()
        .map(|name| {
            let mut command = Command::new(&exe);
            command.args(["test", name, "--homeserver-url", url]);
            if !refresh_url.is_empty() {
                command.args(["--refresh-url", refresh_url]);
            }
            Job {
                name: format!("suite-{name}"),
                command,
            }
        })
        .collect();
    let _ = std::fs::create_dir_all(log_dir);
    pool(jobs, names.len(), log_dir)
        .into_iter()
        .map(|o| {
            let log_path = log_dir.join(format!("{}.log", o.name));
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
            let name = o.name.trim_start_matches("suite-").to_owned();
            let result = if o.passed {
                Ok(())
            } else {
                Err(anyhow::anyhow!("{}", child_reason(&log)))
            };
            (name, result, o.secs)
        })
        .collect()
}

/// The reason a child `cargo xtask test` gave for its failure: what its
/// summary says, else the end of its output.
fn child_reason(log: &str) -> String {
    let summary = match log.rfind("==== summary ====") {
        Some(at) => &log[at..],
        None => {
            let start = log.len().saturating_sub(2000);
            let start = (start..log.len())
                .find(|i| log.is_char_boundary(*i))
                .unwrap_or(log.len());
            &log[start..]
        }
    };
    let reason: Vec<&str> = summary
        .lines()
        .filter(|l| l.starts_with("          ") || l.starts_with("Error"))
        .map(str::trim)
        .collect();
    if reason.is_empty() {
        summary.trim().to_owned()
    } else {
        reason.join("\n")
    }
}

/// The number of jobs at a time: `MMC_TEST_JOBS`, else [`JOBS`].
pub fn width() -> usize {
    std::env::var("MMC_TEST_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(JOBS)
}

#[cfg(test)]
mod tests {
    use super::{child_reason, pool, test_executable, Job};
    use serde_json::json;
    use std::process::Command;

    #[test]
    fn reads_test_binaries_from_cargo_messages() {
        let message = json!({
            "reason": "compiler-artifact",
            "manifest_path": "/r/core/Cargo.toml",
            "target": {"name": "chat", "kind": ["test"]},
            "profile": {"test": true},
            "executable": "/r/target/debug/deps/chat-1234",
        });
        let (name, exe, dir) = test_executable(&message).unwrap();
        assert_eq!(name, "tests/chat");
        assert_eq!(exe.to_str(), Some("/r/target/debug/deps/chat-1234"));
        assert_eq!(dir.to_str(), Some("/r/core"));
        let lib = json!({
            "reason": "compiler-artifact",
            "manifest_path": "/r/core/Cargo.toml",
            "target": {"name": "matrix_mobile_core", "kind": ["lib", "cdylib"]},
            "profile": {"test": true},
            "executable": "/r/target/debug/deps/matrix_mobile_core-99",
        });
        assert_eq!(test_executable(&lib).unwrap().0, "lib");
        // An example or the library itself is not a test binary.
        let example = json!({
            "reason": "compiler-artifact",
            "manifest_path": "/r/core/Cargo.toml",
            "target": {"name": "demo", "kind": ["example"]},
            "profile": {"test": false},
            "executable": "/r/target/debug/examples/demo",
        });
        assert!(test_executable(&example).is_none());
        assert!(test_executable(&json!({"reason": "build-finished"})).is_none());
    }

    #[test]
    fn a_split_job_runs_its_module_and_the_rest_apart() {
        let mut lib = Command::new("/t/lib-1");
        lib.current_dir("/r/core").env("K", "v");
        let jobs = vec![
            Job {
                name: "tests/chat".into(),
                command: Command::new("/t/chat-1"),
            },
            Job {
                name: "lib".into(),
                command: lib,
            },
        ];
        let jobs = super::split_job(jobs, "lib", "hooked");
        let seen: Vec<(String, Vec<String>)> = jobs
            .iter()
            .map(|j| {
                let args = j.command.get_args();
                let args = args.map(|a| a.to_string_lossy().into_owned()).collect();
                (j.name.clone(), args)
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("tests/chat".to_owned(), vec![]),
                (
                    "lib".to_owned(),
                    vec!["--skip".to_owned(), "hooked::".to_owned()]
                ),
                ("hooked".to_owned(), vec!["hooked::".to_owned()]),
            ]
        );
        for job in &jobs[1..] {
            assert_eq!(job.command.get_program(), "/t/lib-1");
            assert_eq!(
                job.command.get_current_dir().unwrap().to_str(),
                Some("/r/core")
            );
            assert_eq!(job.command.get_envs().count(), 1);
        }
    }

    #[test]
    fn every_job_runs_and_a_failure_is_reported() {
        let dir = std::env::temp_dir().join(format!("xtask-pool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sh = |name: &str, script: &str| {
            let mut command = Command::new("sh");
            command.args(["-c", script]);
            Job {
                name: name.into(),
                command,
            }
        };
        let jobs = vec![
            sh("a", "echo out-a; echo err-a >&2"),
            sh("b", "exit 3"),
            sh("c", "sleep 0.2; echo out-c"),
        ];
        let mut outcomes = pool(jobs, 2, &dir);
        outcomes.sort_by(|x, y| x.name.cmp(&y.name));
        let verdicts: Vec<_> = outcomes.iter().map(|o| (&*o.name, o.passed)).collect();
        assert_eq!(verdicts, [("a", true), ("b", false), ("c", true)]);
        let log = std::fs::read_to_string(dir.join("a.log")).unwrap();
        assert!(log.contains("out-a") && log.contains("err-a"), "{log}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_suite_gives_the_reason_of_its_summary() {
        let log = "==== python ====\nnoise\n\n==== summary ====\npython    FAILED   12.0 s\n          pytest failed (exit status: 1)\nError: failed suites: python\n";
        assert_eq!(
            child_reason(log),
            "pytest failed (exit status: 1)\nError: failed suites: python"
        );
        // No summary (the process died): the end of its output.
        assert_eq!(child_reason("é killed\n"), "é killed");
    }
}
