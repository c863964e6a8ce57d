//! `cargo xtask bench compare [--cycles N]`: three teardowns side by side on
//! the same Synapse, N cycles each (200 by default):
//!
//! - `naive`: server logout, drop the matrix-sdk client, `shutdown_background`
//!   of the runtime built for it;
//! - `logout_only`: the server logout call only; runtime and stores left alone;
//! - `core`: this core's `logout()` (without the wipe, as the others keep
//!   their files too).
//!
//! Each variant runs in a child process of its own (this binary with
//! `--variant`), so that one's leaks and panics do not count for another.
//! Leaks are counted process-wide, from the end of the first cycle (which
//! warms up the runtime, TLS and SQLite) to the end of the last, each after
//! a one-second settle; the store files still open when the teardown
//! returns are counted too, per cycle. Writes `--out`
//! (`target/bench/compare.json`).

#[path = "../../tests/support/homeserver.rs"]
mod homeserver;
mod sdk;
#[path = "../shared/bench.rs"]
mod shared;

use std::process::{Command, Stdio};
use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::platform::open_files_under;
use matrix_mobile_core::LogoutOptions;
use serde_json::{json, Value};
use shared::{fail, fd_count, pct, round2, threads, Args};

const VARIANTS: [&str; 3] = ["naive", "logout_only", "core"];
const SETTLE: Duration = Duration::from_secs(1);

fn main() {
    let args = Args::parse(&["--cycles", "--out", "--variant"]);
    let cycles = args.number("--cycles", 200).max(2);
    match args.get("--variant") {
        Some(variant) => println!("{}", run_variant(variant, cycles)),
        None => {
            let out = args.get("--out").unwrap_or("target/bench/compare.json");
            compare(cycles, out);
        }
    }
}

/// Runs every variant in a child process and writes the side-by-side JSON.
fn compare(cycles: usize, out: &str) {
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(&format!("current_exe: {e}")));
    let mut all = serde_json::Map::new();
    for variant in VARIANTS {
        eprintln!("compare: {variant}, {cycles} cycles");
        let output = Command::new(&exe)
            .args(["--variant", variant, "--cycles", &cycles.to_string()])
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| fail(&format!("running the {variant} child: {e}")));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let entry = match stdout.lines().last().map(serde_json::from_str::<Value>) {
            Some(Ok(v)) if output.status.success() => v,
            _ => json!({ "failed": format!("the child ended with {}", output.status) }),
        };
        all.insert(variant.to_owned(), entry);
    }
    println!("teardown, {cycles} cycles   fds leaked  threads leaked  store fds at return  panics   ms p50   ms p95");
    for variant in VARIANTS {
        let e = &all[variant];
        let n = |k: &str| e.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
        println!(
            "  {variant:<12} {:>13} {:>15} {:>20.1} {:>7} {:>8.1} {:>8.1}",
            n("fds_leaked"),
            n("threads_leaked"),
            n("store_fds_at_return_mean"),
            n("panics"),
            n("ms_p50"),
            n("ms_p95")
        );
    }
    all.insert("cycles".into(), json!(cycles));
    shared::write_json(out, &Value::Object(all));
}

/// One variant's cycles in this process; returns its JSON entry.
fn run_variant(variant: &str, cycles: usize) -> Value {
    shared::count_panics();
    let base = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let user = shared::fresh_user("cmp");
    let shared_rt = (variant == "logout_only").then(shared::bare_runtime);
    let (mut ms, mut fds, mut thr, mut at_return) = (vec![], vec![], vec![], vec![]);
    let mut baseline = (0, 0);
    for i in 0..cycles {
        let dir = base.path().join(format!("c{i}"));
        ms.push(match (variant, &shared_rt) {
            ("naive", _) => sdk::naive_cycle(&user, &dir),
            ("logout_only", Some(rt)) => sdk::logout_only_cycle(rt, &user, &dir),
            ("core", _) => core_cycle(&user, &dir),
            _ => fail(&format!("unknown variant {variant}; known: {VARIANTS:?}")),
        });
        at_return.push(f64::from(open_files_under(&dir).unwrap_or(0)));
        fds.push(fd_count());
        thr.push(threads());
        if i == 0 {
            std::thread::sleep(SETTLE);
            baseline = (fd_count(), threads());
        }
        if (i + 1) % 20 == 0 {
            eprintln!(
                "  {variant} cycle {}: fds {} threads {}",
                i + 1,
                fds[i],
                thr[i]
            );
        }
    }
    std::thread::sleep(SETTLE);
    let (fds_end, threads_end) = (fd_count(), threads());
    json!({
        "cycles": cycles,
        "fds_leaked": fds_end as i64 - baseline.0 as i64,
        "threads_leaked": threads_end as i64 - baseline.1 as i64,
        "store_fds_open": open_files_under(base.path()).unwrap_or(0),
        "store_fds_at_return_mean": round2(at_return.iter().sum::<f64>() / cycles as f64),
        "store_fds_at_return_max": at_return.iter().copied().fold(0.0, f64::max),
        "panics": shared::panics(),
        "ms_p50": round2(pct(&ms, 0.5)),
        "ms_p95": round2(pct(&ms, 0.95)),
        "fds_series": fds,
        "threads_series": thr,
    })
}

/// `core`: this core's whole drain, without the wipe. Returns its ms.
fn core_cycle(user: &str, dir: &std::path::Path) -> f64 {
    let client = shared::core_client_syncing(user, dir);
    let options = LogoutOptions {
        wipe_local_data: false,
        ..LogoutOptions::default()
    };
    let started = std::time::Instant::now();
    block_on(client.logout(options, None)).unwrap_or_else(|e| fail(&format!("logout: {e}")));
    shared::ms_since(started)
}
