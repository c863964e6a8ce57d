//! `cargo xtask bench large [--rooms N]`: an account of N rooms (1,000 by
//! default, each with a few messages) signing in on a new device, the core
//! against matrix-sdk-ui used directly, on the same Synapse in the same run.
//!
//! The parent seeds the account once through the client-server API, then
//! runs two children, each in a process of its own (this binary with
//! `--part`): `core` and `bare` each log in on an empty data dir through a
//! byte-counting proxy, start sync with a room list (the default filter,
//! one page as large as the account), and measure the time to a list of
//! 50 rooms, the time until every room is listed, the bytes the server
//! sent until then, and the RSS then; the core also times `rooms()` on the
//! caller's thread. Writes `--out` (`target/bench/large.json`).

mod bare;
mod core_side;
#[path = "../../tests/support/homeserver.rs"]
mod homeserver;
mod seed;
#[path = "../shared/bench.rs"]
mod shared;
#[path = "../../tests/support/watch_proxy.rs"]
mod watch_proxy;

use serde_json::{json, Value};
use shared::{fail, round2, Args};

/// Rooms of the account by default.
pub const ROOMS: usize = 1_000;
/// The first room list the app shows.
pub const FIRST_PAGE: usize = 50;
/// The goal for core / bare (first list, bytes, RSS).
const RATIO_GOAL: f64 = 1.15;
/// The goal for the longest hold of the caller's thread, ms (one frame).
const FRAME_MS: f64 = 16.0;

fn main() {
    let args = Args::parse(&["--rooms", "--out", "--part", "--seed", "--samples"]);
    let rooms = args.number("--rooms", ROOMS).max(FIRST_PAGE);
    let samples = args.number("--samples", 100).max(2);
    match args.get("--part") {
        Some(part) => {
            let seed = seed::read(
                args.get("--seed")
                    .unwrap_or_else(|| fail("--seed is missing")),
            );
            let figures = match part {
                "core" => core_side::run(&seed, samples),
                "bare" => bare::run(&seed),
                other => fail(&format!("unknown part {other}; known: core bare")),
            };
            println!("{figures}");
        }
        None => parent(
            rooms,
            samples,
            args.get("--seed"),
            args.get("--out").unwrap_or("target/bench/large.json"),
        ),
    }
}

/// Seeds (or reuses the seed file `kept` of an earlier run on the same
/// Synapse), runs both children and writes the report.
fn parent(rooms: usize, samples: usize, kept: Option<&str>, out: &str) {
    let dir = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let (seed_file, seed) = shared::seed_file(dir.path(), kept, || seed::make(rooms));
    let child = |part: &str| -> Value {
        eprintln!("large: {part}");
        let args = [
            "--seed".to_owned(),
            seed_file.to_string_lossy().into_owned(),
            "--samples".to_owned(),
            samples.to_string(),
        ];
        shared::run_child(part, &args)
    };
    let (core, bare) = (child("core"), child("bare"));
    let f = |side: &Value, key: &str| side[key].as_f64().unwrap_or(f64::NAN);
    let ratio = |key: &str| round2(f(&core, key) / f(&bare, key));
    let report = json!({
        "rooms": seed["rooms"],
        "messages_per_room": seed::MESSAGES,
        "seed_seconds": seed["seed_seconds"],
        "first_page": FIRST_PAGE,
        "first_page_ms": f(&core, "first_page_ms"),
        "bare_first_page_ms": f(&bare, "first_page_ms"),
        "all_listed_ms": f(&core, "all_listed_ms"),
        "bare_all_listed_ms": f(&bare, "all_listed_ms"),
        "bytes_received": f(&core, "bytes_received"),
        "bare_bytes_received": f(&bare, "bytes_received"),
        "rss_mib": f(&core, "rss_mib"),
        "bare_rss_mib": f(&bare, "rss_mib"),
        "rooms_call_ms_p50": core["rooms_call_ms"]["p50"],
        "rooms_call_ms_p95": core["rooms_call_ms"]["p95"],
        "rooms_call_ms_max": core["rooms_call_ms"]["max"],
        "ratio_first_page": ratio("first_page_ms"),
        "ratio_all_listed": ratio("all_listed_ms"),
        "ratio_bytes_received": ratio("bytes_received"),
        "ratio_rss": ratio("rss_mib"),
        "ratio_goal": RATIO_GOAL,
        "frame_ms": FRAME_MS,
        "growth_step_ms": STEP_MS,
        "core": core,
        "bare": bare,
    });
    print_table(&report);
    shared::write_json(out, &report);
}

/// Step of the growth series, ms.
const STEP_MS: f64 = 100.0;

/// The list's length every [`STEP_MS`] from the start until `until_ms`,
/// from `points` (ms since the start, length reached then; in order).
pub fn growth(points: &[(f64, usize)], until_ms: f64) -> Vec<usize> {
    let steps = (until_ms / STEP_MS).ceil() as usize;
    (0..=steps)
        .map(|i| {
            let at = i as f64 * STEP_MS;
            points
                .iter()
                .take_while(|(ms, _)| *ms <= at)
                .map(|(_, len)| *len)
                .max()
                .unwrap_or(0)
        })
        .collect()
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
        "large, {} rooms                core       bare   core/bare",
        n("rooms")
    );
    for (what, key, unit, goal) in [
        ("first list of 50", "first_page", "_ms", true),
        ("every room listed", "all_listed", "_ms", false),
        ("bytes received", "bytes_received", "", true),
        ("RSS after, MiB", "rss", "_mib", true),
    ] {
        let core = n(&format!("{key}{unit}"));
        let bare = n(&format!("bare_{key}{unit}"));
        let ratio = n(&format!("ratio_{key}"));
        let goal = if goal {
            format!("({} ≤ {RATIO_GOAL})", verdict(ratio <= RATIO_GOAL))
        } else {
            String::new()
        };
        println!("  {what:<22} {core:>10.1} {bare:>10.1} {ratio:>11.2}  {goal}");
    }
    let max = n("rooms_call_ms_max");
    println!(
        "  rooms() on the caller's thread: p50 {:.2} ms, p95 {:.2} ms, max {max:.2} ms ({} ≤ {FRAME_MS} ms)",
        n("rooms_call_ms_p50"),
        n("rooms_call_ms_p95"),
        verdict(n("rooms_call_ms_p95") <= FRAME_MS)
    );
}
