//! `cargo xtask bench lifecycle|ffi|soak|compare|scale|chat|large|notification|idle|memory|report`: benchmarks in
//! the optimised `bench-fast` profile (not `release`, whose fat LTO takes
//! over 20 minutes to build on two cores). Each writes
//! `target/bench/<name>.json`, stamped with the command, date and machine,
//! and prints a table; `report` turns the JSON into `docs/BENCHMARKS.md`.

mod memory;
mod plot;
mod report;
pub mod size;
mod stamp;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::ctx::{self, Ctx};
use crate::{bindings, kotlin, python, synapse};

/// `cargo xtask bench [--profile P] <bench>`.
#[derive(clap::Args)]
#[command(subcommand_value_name = "BENCH", subcommand_help_heading = "Benches")]
pub struct Args {
    /// The cargo profile to build (bench-small has the release opt-level).
    #[arg(long, value_name = "P", default_value = FAST)]
    profile: String,
    #[command(subcommand)]
    bench: Bench,
}

/// The benchmarks; a size left out is the bench's own default.
#[derive(clap::Subcommand)]
enum Bench {
    /// Where a logout's time goes, phase by phase.
    Lifecycle {
        /// Logout cycles.
        #[arg(long, value_name = "N", value_parser = size())]
        cycles: Option<u32>,
    },
    /// FFI round trip of a no-op from Kotlin (JVM) and Python.
    Ffi,
    /// A soak: cycles of create, login, sync, send, logout on one user.
    Soak {
        /// Soak cycles.
        #[arg(long, value_name = "N", value_parser = size())]
        cycles: Option<u32>,
    },
    /// Three teardowns side by side: naive, logout only, this core.
    Compare {
        /// Cycles of each teardown.
        #[arg(long, value_name = "N", value_parser = size())]
        cycles: Option<u32>,
    },
    /// Many clients in one process.
    Scale {
        /// Clients.
        #[arg(long, value_name = "N", value_parser = size())]
        clients: Option<u32>,
    },
    /// The chat surface against matrix-sdk-ui used directly, and chat
    /// session cycles.
    Chat {
        /// Chat cycles.
        #[arg(long, value_name = "N", value_parser = size())]
        cycles: Option<u32>,
    },
    /// An account of many rooms signed in on a new device.
    Large {
        /// Rooms of the account.
        #[arg(long, value_name = "N", value_parser = size())]
        rooms: Option<u32>,
    },
    /// `get_notification` in fresh processes, as a notification extension
    /// runs it.
    Notification {
        /// Runs.
        #[arg(long, value_name = "N", value_parser = size())]
        runs: Option<u32>,
    },
    /// An idle syncing client and a paused one.
    Idle {
        /// Seconds of the syncing client's measure.
        #[arg(long, value_name = "N", value_parser = size())]
        secs: Option<u32>,
    },
    /// What the heap keeps per soak cycle (heaptrack).
    Memory {
        /// Soak cycles.
        #[arg(long, value_name = "N", default_value_t = memory::DEFAULT_CYCLES,
              value_parser = clap::value_parser!(u32).range(5..))]
        cycles: u32,
    },
    /// The plots and figures of docs/BENCHMARKS.md from target/bench/.
    Report,
}

/// A bench's size: a positive number.
fn size() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(1..)
}

/// The profile this run builds, when `--profile` names another than [`FAST`].
static PROFILE: OnceLock<String> = OnceLock::new();

/// The cargo profile of this bench run.
pub(crate) fn profile() -> &'static str {
    PROFILE.get().map_or(FAST, String::as_str)
}

pub fn run(ctx: &Ctx, args: Args) -> Result<()> {
    if args.profile != FAST {
        let _ = PROFILE.set(args.profile);
    }
    match args.bench {
        Bench::Lifecycle { cycles } => example(ctx, "lifecycle", "--cycles", cycles),
        Bench::Ffi => ffi(ctx),
        Bench::Soak { cycles } => example(ctx, "soak", "--cycles", cycles),
        Bench::Compare { cycles } => example(ctx, "compare", "--cycles", cycles),
        Bench::Scale { clients } => example(ctx, "scale", "--clients", clients),
        Bench::Chat { cycles } => example(ctx, "chat", "--cycles", cycles),
        Bench::Large { rooms } => example(ctx, "large", "--rooms", rooms),
        Bench::Notification { runs } => example(ctx, "notification", "--runs", runs),
        Bench::Idle { secs } => example(ctx, "idle", "--secs", secs),
        Bench::Memory { cycles } => memory::run(ctx, cycles),
        Bench::Report => report::run(ctx),
    }
}

/// Runs `core/examples/bench_<name>` against a fresh Synapse with the one
/// size flag it takes (`size_flag`, when `size` is given), stamps its
/// `target/bench/<name>.json` and, for the soak, compare, scale, chat and
/// large benches, draws `target/bench/<name>.png`.
fn example(ctx: &Ctx, name: &str, size_flag: &str, size: Option<u32>) -> Result<()> {
    let passed: Vec<String> = size
        .map(|n| vec![size_flag.to_owned(), n.to_string()])
        .unwrap_or_default();
    let exe = ctx.build_example(profile(), &format!("bench_{name}"))?;
    let out = bench_dir(ctx)?.join(format!("{name}.json"));
    let machine = stamp::machine();
    let server = synapse::start(ctx)?;
    let result = ctx::run(
        Command::new(exe)
            .args(&passed)
            .arg("--out")
            .arg(&out)
            .env("MMC_HOMESERVER_URL", &server.url),
    );
    drop(server);
    result?;
    let command = ["cargo xtask bench", name]
        .into_iter()
        .chain(passed.iter().map(String::as_str));
    stamp::stamp(&out, &command.collect::<Vec<_>>().join(" "), machine)?;
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out)?)?;
    let png = out.with_extension("png");
    let drawn = match name {
        "soak" => plot::soak(&report, &png),
        "compare" => plot::compare(&report, &png),
        "scale" => plot::scale(&report, &png),
        "chat" => plot::chat(&report, &png),
        "large" => plot::large(&report, &png),
        _ => return Ok(()),
    };
    match drawn {
        Ok(()) => println!("plot: {}", png.display()),
        Err(e) => eprintln!("bench: no plot ({e:#}); the JSON is complete"),
    }
    Ok(())
}

pub(crate) fn bench_dir(ctx: &Ctx) -> Result<PathBuf> {
    let dir = ctx.target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The profile of every bench and stress run.
pub(crate) const FAST: &str = "bench-fast";

/// The layers of an exported async call, each measured with the same no-op
/// (see `core/src/ffi/diagnostics.rs`): the key in the benchmarks' JSON and
/// what the step from the previous layer adds.
const FFI_LAYERS: [(&str, &str); 5] = [
    ("sync", "the FFI call itself (noop_sync)"),
    (
        "bare",
        "+ UniFFI's future, ready at first poll (noop_async_bare)",
    ),
    (
        "spawn",
        "+ a plain spawn on the runtime and the foreign wake-up (noop_async_spawn)",
    ),
    (
        "async",
        "+ the supervisor, first poll on a worker: login, sync, pause (noop_async)",
    ),
    (
        "inline",
        "the supervised call, first poll on the caller's thread: room calls (noop_async_inline)",
    ),
];

fn ffi(ctx: &Ctx) -> Result<()> {
    // The no-ops exist only in a library built with `diagnostics`.
    let cdylib = ctx.build_core_with(profile(), &["diagnostics"])?;
    let machine = stamp::machine();
    let kotlin = kotlin::bench_ffi(ctx, &cdylib)?;
    let python = python_bench(ctx, &cdylib)?;
    let mut report = serde_json::Map::new();
    println!("FFI round trip of a no-op, µs     Kotlin p50 (p99)    Python p50 (p99)");
    for (layer, what) in FFI_LAYERS {
        let mut cells = Vec::new();
        for (language, json) in [("kotlin", &kotlin), ("python", &python)] {
            let p50 = figure(json, &format!("{layer}_p50_us"))?;
            let p99 = figure(json, &format!("{layer}_p99_us"))?;
            report.insert(format!("{language}_{layer}_noop_us_p50"), json!(p50));
            report.insert(format!("{language}_{layer}_noop_us_p99"), json!(p99));
            cells.push(format!("{p50:>8.1} ({p99:>6.1})"));
        }
        println!("  {layer:<6} {:<24} {}   {}", "", cells[0], cells[1]);
        println!("         {what}");
    }
    let out = bench_dir(ctx)?.join("ffi.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report)? + "\n")?;
    stamp::stamp(&out, "cargo xtask bench ffi", machine)?;
    println!("written to {}", out.display());
    Ok(())
}

fn figure(json: &serde_json::Value, key: &str) -> Result<f64> {
    json.get(key)
        .and_then(serde_json::Value::as_f64)
        .with_context(|| format!("`{key}` missing from the benchmark's output: {json}"))
}

fn python_bench(ctx: &Ctx, cdylib: &Path) -> Result<serde_json::Value> {
    let interpreter = python::ensure_venv(ctx)?;
    let out = bindings::default_out(ctx, "python-bench");
    std::fs::create_dir_all(&out)?;
    bindings::generate(ctx, "python", &out, cdylib)?;
    let package = python::stage_package(ctx, "bench", &out.join("matrix_mobile_core.py"), cdylib)?;
    let output = Command::new(interpreter)
        .arg(ctx.root.join("python/bench/ffi_bench.py"))
        .env("PYTHONPATH", package)
        .output()
        .context("running the Python benchmark")?;
    if !output.status.success() {
        bail!(
            "python bench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .last()
        .context("no output from the Python benchmark")?;
    serde_json::from_str(line).context("parsing the Python benchmark's JSON")
}
