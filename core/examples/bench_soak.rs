//! `cargo xtask bench soak [--cycles N]`: N cycles (1,000 by default) of
//! create, login, start sync, send a message, logout, on one user and one
//! room. After every cycle it records the process's open fds, threads, RSS
//! and the runtime's `alive_tasks` (and, as `alive_tasks_live`, the tasks
//! while the client was live, just before its logout), and writes them with
//! a summary to `--out` (the xtask passes `target/bench/soak.json` and draws
//! the plot).

#[path = "../tests/support/homeserver.rs"]
mod homeserver;
#[path = "shared/bench.rs"]
mod shared;

use std::time::Instant;

use futures_executor::block_on;
use matrix_mobile_core::platform::open_files_under;
use matrix_mobile_core::{runtime_stats, LogoutOptions};
use serde_json::json;
use shared::{fail, fd_count, ms_since, pct, round2, rss_mib, threads, Args};

/// RSS growth is counted from this cycle on (1-based), once warm-up is over.
const RSS_FROM_CYCLE: usize = 50;

fn main() {
    let args = Args::parse(&["--cycles", "--out"]);
    let cycles = args.number("--cycles", 1000).max(1);
    let out = args
        .get("--out")
        .unwrap_or("target/bench/soak.json")
        .to_owned();
    shared::count_panics();
    let base = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let user = shared::fresh_user("soak");

    // The room every cycle sends to: created once, joined again after each
    // fresh login so that the new store knows it before sync has listed it.
    let room = {
        let client = shared::core_client_syncing(&user, &base.path().join("setup"));
        let room = block_on(client.create_room("soak".into(), vec![], false))
            .unwrap_or_else(|e| fail(&format!("create_room: {e}")));
        block_on(client.logout(LogoutOptions::default(), None))
            .unwrap_or_else(|e| fail(&format!("logout: {e}")));
        room
    };

    let (mut fds, mut thr, mut rss, mut tasks) = (vec![], vec![], vec![], vec![]);
    let mut tasks_live = vec![];
    let (mut cycle_ms, mut logout_ms) = (vec![], vec![]);
    let mut store_files_left = 0u64;
    let started = Instant::now();
    for i in 0..cycles {
        let dir = base.path().join(format!("c{i}"));
        let t0 = Instant::now();
        let client = shared::core_client_syncing(&user, &dir);
        block_on(client.join_room(room.clone()))
            .unwrap_or_else(|e| fail(&format!("cycle {i}: join_room: {e}")));
        block_on(client.send_text(room.clone(), format!("soak {i}")))
            .unwrap_or_else(|e| fail(&format!("cycle {i}: send_text: {e}")));
        tasks_live.push(runtime_stats().alive_tasks);
        let t1 = Instant::now();
        let report = block_on(client.logout(LogoutOptions::default(), None))
            .unwrap_or_else(|e| fail(&format!("cycle {i}: logout: {e}")));
        logout_ms.push(ms_since(t1));
        cycle_ms.push(ms_since(t0));
        drop(client);
        store_files_left += u64::from(report.store_files_open_after.unwrap_or(0))
            + u64::from(open_files_under(&dir).unwrap_or(0));
        fds.push(fd_count());
        thr.push(threads());
        rss.push(rss_mib());
        tasks.push(runtime_stats().alive_tasks);
        if (i + 1) % 50 == 0 || i + 1 == cycles {
            println!(
                "cycle {:>5}: fds {:>4}  threads {:>3}  RSS {:>7.1} MiB  alive tasks {:>3}",
                i + 1,
                fds[i],
                thr[i],
                rss[i],
                tasks[i]
            );
        }
    }

    let from = RSS_FROM_CYCLE.min(cycles);
    let growth = rss[cycles - 1] - rss[from - 1];
    let last = cycles - 1;
    println!(
        "soak, {cycles} cycles in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    println!("  fds          first {:>5}  last {:>5}", fds[0], fds[last]);
    println!("  threads      first {:>5}  last {:>5}", thr[0], thr[last]);
    println!("  RSS growth   {growth:+.1} MiB from cycle {from} to {cycles}");
    println!(
        "  alive tasks  first {:>5}  last {:>5}",
        tasks[0], tasks[last]
    );
    println!("  store files left open under the data dirs: {store_files_left}");
    println!(
        "  logout ms    p50 {:.1}  p95 {:.1}",
        pct(&logout_ms, 0.5),
        pct(&logout_ms, 0.95)
    );
    println!("  panics       {}", shared::panics());

    shared::write_json(
        &out,
        &json!({
            "cycles": cycles,
            "fds_first": fds[0],
            "fds_last": fds[last],
            "threads_first": thr[0],
            "threads_last": thr[last],
            "rss_growth_mib": round2(growth),
            "rss_from_cycle": from,
            "alive_tasks_first": tasks[0],
            "alive_tasks_last": tasks[last],
            "alive_tasks_live_first": tasks_live[0],
            "alive_tasks_live_last": tasks_live[last],
            "store_files_left": store_files_left,
            "panics": shared::panics(),
            "logout_ms_p50": round2(pct(&logout_ms, 0.5)),
            "logout_ms_p95": round2(pct(&logout_ms, 0.95)),
            "cycle_ms_p50": round2(pct(&cycle_ms, 0.5)),
            "seconds": round2(started.elapsed().as_secs_f64()),
            "series": {
                "fds": fds,
                "threads": thr,
                "rss_mib": rss.iter().map(|v| round2(*v)).collect::<Vec<_>>(),
                "alive_tasks": tasks,
                "alive_tasks_live": tasks_live,
            },
        }),
    );
}
