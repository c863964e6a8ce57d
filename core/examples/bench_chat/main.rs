//! `cargo xtask bench chat [--cycles N]`: the chat surface against the same
//! work done with matrix-sdk-ui directly, on the same Synapse in the same
//! run, and a cycle run of the whole chat session.
//!
//! The parent registers one account with 200 rooms (130 messages of
//! history in the first) once per run, then runs three children, each in a
//! process of its own (this binary with `--part`): `core` and `bare` measure
//! the same steps, `--samples` times each (40 by default; five times that
//! for a timeline's opening, a step of about 2 ms): a timeline's opening, a
//! fresh timeline paginating 100 events back, the room list of a
//! restored session on its existing data dir, and (core) the local echo and
//! the RSS of open timelines; `cycles` runs N chat cycles (200 by default).
//! Writes `--out` (`target/bench/chat.json`). For development, `--rooms`
//! makes fewer rooms (at least 52), and `--seed FILE` keeps the seed in FILE
//! and reuses it on the next run against the same Synapse.

mod core_side;
mod cycles;
#[path = "../../tests/support/homeserver.rs"]
mod homeserver;
mod probe;
mod sdk;
mod seed;
#[path = "../shared/bench.rs"]
mod shared;

use serde_json::{json, Value};
use shared::{fail, pct, round2, Args};

/// Timelines opened at once for the RSS figure, on distinct rooms.
pub const OPEN_TIMELINES: usize = 50;
/// Timeline opens per sample of the other steps: an open takes about 2 ms,
/// and a p95 of 40 values moves with two of them.
pub const OPEN_SAMPLES_PER_SAMPLE: usize = 5;
/// The goal for core / bare at p95.
const RATIO_GOAL: f64 = 1.15;
/// The goal for the local echo at p95, ms.
const ECHO_GOAL_MS: f64 = 5.0;

fn main() {
    let args = Args::parse(&[
        "--cycles",
        "--samples",
        "--rooms",
        "--out",
        "--part",
        "--seed",
    ]);
    let cycles = args.number("--cycles", 200).max(1);
    let samples = args.number("--samples", 40).max(2);
    let rooms = args.number("--rooms", seed::ROOMS).max(OPEN_TIMELINES + 2);
    let part = args.get("--part");
    let seed = || {
        seed::read(
            args.get("--seed")
                .unwrap_or_else(|| fail("--seed is missing")),
        )
    };
    match part {
        Some("core") => println!("{}", core_side::run(&seed(), samples)),
        Some("bare") => println!("{}", sdk::run(&seed(), samples)),
        Some("cycles") => println!("{}", cycles::run(cycles)),
        Some(other) => fail(&format!("unknown part {other}; known: core bare cycles")),
        None => {
            let out = args.get("--out").unwrap_or("target/bench/chat.json");
            parent(cycles, samples, rooms, args.get("--seed"), out);
        }
    }
}

/// `samples` runs of `step`: p50, p95 and the sorted values.
pub fn latencies(samples: usize, mut step: impl FnMut() -> f64) -> Value {
    // One untimed run first: the first of anything pays for lazy setup.
    let _ = step();
    let values: Vec<f64> = (0..samples).map(|_| step()).collect();
    summary(&values)
}

/// p50, p95 and the sorted values of `values`, rounded.
pub fn summary(values: &[f64]) -> Value {
    let mut sorted: Vec<f64> = values.iter().map(|v| round2(*v)).collect();
    sorted.sort_by(|a, b| a.total_cmp(b));
    json!({ "p50": round2(pct(values, 0.5)), "p95": round2(pct(values, 0.95)), "sorted": sorted })
}

/// Seeds (or, in development, reuses the seed file `kept` of an earlier run
/// on the same Synapse), runs the children and writes the report.
fn parent(cycles: usize, samples: usize, rooms: usize, kept: Option<&str>, out: &str) {
    let dir = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let (seed_file, seed) = shared::seed_file(dir.path(), kept, || seed::make(rooms));
    let child = |part: &str| -> Value {
        eprintln!("chat: {part}");
        let args = [
            "--cycles".to_owned(),
            cycles.to_string(),
            "--samples".to_owned(),
            samples.to_string(),
            "--seed".to_owned(),
            seed_file.to_string_lossy().into_owned(),
        ];
        shared::run_child(part, &args)
    };
    let (core, bare, cycled) = (child("core"), child("bare"), child("cycles"));
    let p = |side: &Value, key: &str, q: &str| side[key][q].as_f64().unwrap_or(f64::NAN);
    let ratio = |key: &str| round2(p(&core, key, "p95") / p(&bare, key, "p95"));
    let report = json!({
        "samples": samples,
        "timeline_open_samples": samples * OPEN_SAMPLES_PER_SAMPLE,
        "cycles": cycles,
        "rooms": seed["rooms"].as_array().map_or(rooms, Vec::len),
        "history_messages": seed::HISTORY,
        "open_timelines": OPEN_TIMELINES,
        "seed_seconds": seed["seed_seconds"],
        "timeline_open_ms_p50": p(&core, "timeline_open_ms", "p50"),
        "timeline_open_ms_p95": p(&core, "timeline_open_ms", "p95"),
        "bare_timeline_open_ms_p95": p(&bare, "timeline_open_ms", "p95"),
        "bare_timeline_open_inline_ms_p95": p(&bare, "timeline_open_inline_ms", "p95"),
        "paginate_100_ms_p95": p(&core, "paginate_100_ms", "p95"),
        "bare_paginate_100_ms_p95": p(&bare, "paginate_100_ms", "p95"),
        "room_list_first_ms_p95": p(&core, "room_list_first_ms", "p95"),
        "bare_room_list_first_ms_p95": p(&bare, "room_list_first_ms", "p95"),
        "room_list_after_start_sync_ms_p95": p(&core, "room_list_after_start_sync_ms", "p95"),
        "echo_ms_p50": p(&core, "echo_ms", "p50"),
        "echo_ms_p95": p(&core, "echo_ms", "p95"),
        "bare_echo_ms_p95": p(&bare, "echo_ms", "p95"),
        "paginate_100_items_gained_p50": core["paginate_cold_items_gained_p50"],
        "bare_paginate_100_items_gained_p50": bare["paginate_cold_items_gained_p50"],
        "paginate_100_warm_ms_p95": p(&core, "paginate_100_warm_ms", "p95"),
        "bare_paginate_100_warm_ms_p95": p(&bare, "paginate_100_warm_ms", "p95"),
        "rss_per_open_timeline_kib": core["rss_per_open_timeline_kib"],
        "bare_rss_per_open_timeline_kib": bare["rss_per_open_timeline_kib"],
        "ratio_timeline_open_p95": ratio("timeline_open_ms"),
        "ratio_paginate_100_p95": ratio("paginate_100_ms"),
        "ratio_room_list_first_p95": ratio("room_list_first_ms"),
        "ratio_echo_p95": ratio("echo_ms"),
        "ratio_goal": RATIO_GOAL,
        "echo_goal_ms": ECHO_GOAL_MS,
        "core": core,
        "bare": bare,
        "cycle_run": cycled,
    });
    print_table(&report);
    shared::write_json(out, &report);
}

fn print_table(r: &Value) {
    let n = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    let verdict = |ok: bool| {
        if ok {
            "meets the goal"
        } else {
            "MISSES the goal"
        }
    };
    println!(
        "chat, {} samples         core p95   bare p95   core/bare",
        n("samples")
    );
    for (what, key) in [
        ("timeline open", "timeline_open"),
        ("paginate 100", "paginate_100"),
        ("room list first", "room_list_first"),
    ] {
        let core = n(&format!("{key}_ms_p95"));
        let bare = n(&format!("bare_{key}_ms_p95"));
        let ratio = n(&format!("ratio_{key}_p95"));
        println!(
            "  {what:<20} {core:>9.1} {bare:>10.1} {ratio:>11.2}  ({} ≤ {RATIO_GOAL})",
            verdict(ratio <= RATIO_GOAL)
        );
    }
    println!(
        "  (bare timeline open polled on the calling thread, which the core never does: {:.1} ms p95)",
        n("bare_timeline_open_inline_ms_p95")
    );
    // A pagination that added nothing measured no work.
    let (gained, bare_gained) = (
        n("paginate_100_items_gained_p50"),
        n("bare_paginate_100_items_gained_p50"),
    );
    if gained != bare_gained {
        println!(
            "  paginate 100 NOT COMPARABLE: items added, core {gained}, bare {bare_gained} (p50)"
        );
    }
    let echo = n("echo_ms_p95");
    println!(
        "  local echo p95 {echo:.2} ms ({} ≤ {ECHO_GOAL_MS} ms; bare {:.2} ms); RSS per open timeline {} KiB (bare {} KiB)",
        verdict(echo <= ECHO_GOAL_MS),
        n("bare_echo_ms_p95"),
        n("rss_per_open_timeline_kib"),
        n("bare_rss_per_open_timeline_kib")
    );
    let c = &r["cycle_run"];
    let m = |k: &str| c[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "  {} cycles: fds {} -> {}, threads {} -> {}, RSS {:+.1} MiB from cycle {}; store files open {}, clients not dropped {}, tasks left {}, panics {}",
        m("cycles"), m("fds_first"), m("fds_last"), m("threads_first"), m("threads_last"),
        m("rss_growth_mib"), m("rss_from_cycle"), m("store_files_open_after_total"),
        m("clients_not_dropped"), m("tasks_left_behind_total"), m("panics")
    );
}
