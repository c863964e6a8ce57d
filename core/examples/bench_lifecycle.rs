//! `cargo xtask bench lifecycle [--cycles N]`: where a logout's time goes.
//!
//! N cycles (200 by default) of create, login, sync, logout with a wipe, one
//! client alone (so each logout also restarts the runtime). Each phase's
//! time is the gap between its start and the next phase's start, as the
//! phase listener sees them; the *local* part is the whole logout less the
//! server round trip.
//!
//! Writes `--out` (`target/bench/lifecycle.json`): the total and local p50
//! and p95, and each phase's p50 and p95, in ms. The soak and the side by
//! side teardowns have benches of their own (`bench_soak`, `bench_compare`).

#[path = "../tests/support/homeserver.rs"]
mod homeserver;
#[path = "shared/bench.rs"]
mod shared;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::{LifecycleListener, LifecyclePhase, LogoutOptions};
use serde_json::json;
use shared::{fail, pct, round2, Args};

/// Phase start times, as the listener receives them.
#[derive(Default)]
struct Clock(Mutex<Vec<(LifecyclePhase, Instant)>>);

impl LifecycleListener for Clock {
    fn on_phase(&self, phase: LifecyclePhase, _: u64) {
        if let Ok(mut marks) = self.0.lock() {
            marks.push((phase, Instant::now()));
        }
    }
}

/// One logout: its total and local ms, and each phase's ms.
struct Logout {
    total_ms: f64,
    local_ms: f64,
    phases: Vec<(LifecyclePhase, f64)>,
}

fn cycle(user: &str, dir: &std::path::Path) -> Logout {
    let client = shared::core_client_syncing(user, dir);
    let clock = Arc::new(Clock::default());
    let started = Instant::now();
    let report = block_on(client.logout(LogoutOptions::default(), Some(clock.clone())))
        .unwrap_or_else(|e| fail(&format!("logout: {e}")));
    let total = started.elapsed();
    if report.store_files_open_after != Some(0) {
        fail(&format!("store files left open: {report:?}"));
    }
    let marks = clock.0.lock().map(|m| m.clone()).unwrap_or_default();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let phases: Vec<(LifecyclePhase, f64)> = marks
        .windows(2)
        .map(|w| (w[0].0, ms(w[1].1 - w[0].1)))
        .collect();
    let server = phases
        .iter()
        .find(|(p, _)| *p == LifecyclePhase::ServerLogout)
        .map_or(0.0, |(_, ms)| *ms);
    Logout {
        total_ms: ms(total),
        local_ms: ms(total) - server,
        phases,
    }
}

fn main() {
    let args = Args::parse(&["--cycles", "--out"]);
    let cycles = args.number("--cycles", 200).max(1);
    let out = args
        .get("--out")
        .unwrap_or("target/bench/lifecycle.json")
        .to_owned();
    let base = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let user = shared::fresh_user("lifecycle");

    let mut totals = Vec::new();
    let mut locals = Vec::new();
    let mut by_phase: Vec<(LifecyclePhase, Vec<f64>)> = Vec::new();
    for i in 0..cycles {
        let logout = cycle(&user, &base.path().join(i.to_string()));
        totals.push(logout.total_ms);
        locals.push(logout.local_ms);
        for (phase, ms) in logout.phases {
            match by_phase.iter_mut().find(|(p, _)| *p == phase) {
                Some((_, v)) => v.push(ms),
                None => by_phase.push((phase, vec![ms])),
            }
        }
    }

    println!("logout, {cycles} cycles (ms)          p50      p95");
    let row = |name: &str, v: &[f64]| {
        println!("  {name:<28}{:>8.2} {:>8.2}", pct(v, 0.5), pct(v, 0.95));
    };
    row("total", &totals);
    row("local (without the server)", &locals);
    for (phase, v) in &by_phase {
        row(&format!("  {phase:?}"), v);
    }

    let mut report = json!({
        "cycles": cycles,
        "logout_total_ms_p50": round2(pct(&totals, 0.5)),
        "logout_total_ms_p95": round2(pct(&totals, 0.95)),
        "logout_local_ms_p50": round2(pct(&locals, 0.5)),
        "logout_local_ms_p95": round2(pct(&locals, 0.95)),
    });
    for (phase, v) in &by_phase {
        let name = format!("{phase:?}");
        report[format!("{name}_ms_p50")] = json!(round2(pct(v, 0.5)));
        report[format!("{name}_ms_p95")] = json!(round2(pct(v, 0.95)));
    }
    shared::write_json(&out, &report);
}
