//! `cargo xtask bench scale [--clients N]`: many clients in one process
//! (50 by default), each its own user and `data_dir`.
//!
//! 1. *single*: `--single` cycles (20 by default) of one client alone:
//!    login, sync, logout; the logout time is the single-client figure.
//! 2. *loaded*: N clients log in and sync; once idle, the RSS they added is
//!    divided by N; then they log out one at a time while the rest sync.
//! 3. *shutdown*: N clients live and syncing again, then `shutdown()`.
//!
//! Writes `--out` (`target/bench/scale.json`).

#[path = "../tests/support/homeserver.rs"]
mod homeserver;
#[path = "shared/bench.rs"]
mod shared;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::SyncState;
use matrix_mobile_core::{runtime_stats, shutdown, Client, LogoutOptions, ShutdownOptions};
use serde_json::json;
use shared::{fail, ms_since, pct, round2, rss_mib, Args};

/// How long the loaded clients sync idle before memory is read.
const IDLE: Duration = Duration::from_secs(5);

fn main() {
    let args = Args::parse(&["--clients", "--single", "--out"]);
    let n = args.number("--clients", 50).max(1);
    let single = args.number("--single", 20).max(1);
    let out = args
        .get("--out")
        .unwrap_or("target/bench/scale.json")
        .to_owned();
    shared::count_panics();
    let base = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let started = Instant::now();

    let alone = shared::fresh_user("scale1");
    let mut single_ms = vec![];
    for i in 0..single {
        let client = shared::core_client_syncing(&alone, &base.path().join(format!("s{i}")));
        single_ms.push(timed_logout(&client));
    }
    println!(
        "single client, {single} logouts: p50 {:.1} ms, p95 {:.1} ms",
        pct(&single_ms, 0.5),
        pct(&single_ms, 0.95)
    );

    let users: Vec<String> = (0..n).map(|_| shared::fresh_user("scale")).collect();
    let rss_before = rss_mib();
    let (clients, up) = bring_up(&users, &base.path().join("loaded"));
    std::thread::sleep(IDLE);
    let not_running = clients
        .iter()
        .filter(|c| c.sync_state() != SyncState::Running)
        .count();
    let rss_loaded = rss_mib();
    let per_client = (rss_loaded - rss_before) / n as f64;
    println!(
        "{n} clients syncing after {:.1} s (login p95 {:.0} ms); {not_running} not Running after {} s idle; RSS {rss_before:.1} -> {rss_loaded:.1} MiB, {per_client:.2} MiB per client",
        up.seconds, pct(&up.login_ms, 0.95), IDLE.as_secs()
    );
    let mut loaded_ms = vec![];
    for client in &clients {
        loaded_ms.push(timed_logout(client));
    }
    drop(clients);
    println!(
        "loaded, {n} logouts one at a time: p50 {:.1} ms, p95 {:.1} ms",
        pct(&loaded_ms, 0.5),
        pct(&loaded_ms, 0.95)
    );

    let (clients, _) = bring_up(&users, &base.path().join("shutdown"));
    std::thread::sleep(IDLE);
    let live = runtime_stats().live_clients;
    let t = Instant::now();
    let report = block_on(shutdown(ShutdownOptions { timeout_ms: 60_000 }))
        .unwrap_or_else(|e| fail(&format!("shutdown: {e}")));
    let shutdown_ms = ms_since(t);
    drop(clients);
    let threads_left = report.threads_left.map_or(-1, i64::from);
    println!(
        "shutdown with {live} live clients: {shutdown_ms:.0} ms, {} closed, {} tasks abandoned, {threads_left} threads left",
        report.clients_closed,
        report.tasks_abandoned.len()
    );

    shared::write_json(
        &out,
        &json!({
            "clients": n,
            "logout_ms_p50_loaded": round2(pct(&loaded_ms, 0.5)),
            "logout_ms_p95_loaded": round2(pct(&loaded_ms, 0.95)),
            "logout_ms_p50_single": round2(pct(&single_ms, 0.5)),
            "logout_ms_p95_single": round2(pct(&single_ms, 0.95)),
            "single_cycles": single,
            "rss_per_client_mib": round2(per_client),
            "rss_before_mib": round2(rss_before),
            "rss_loaded_mib": round2(rss_loaded),
            "clients_not_running": not_running,
            "login_ms_p95": round2(pct(&up.login_ms, 0.95)),
            "all_syncing_s": round2(up.seconds),
            "shutdown_ms": round2(shutdown_ms),
            "shutdown_clients_closed": report.clients_closed,
            "shutdown_tasks_abandoned": report.tasks_abandoned.len(),
            "shutdown_threads_left": threads_left,
            "panics": shared::panics(),
            "seconds": round2(started.elapsed().as_secs_f64()),
            "series": {
                "logout_ms_loaded": loaded_ms.iter().map(|v| round2(*v)).collect::<Vec<_>>(),
                "logout_ms_single": single_ms.iter().map(|v| round2(*v)).collect::<Vec<_>>(),
            },
        }),
    );
}

/// One logout with the default options; its ms.
fn timed_logout(client: &Client) -> f64 {
    let t = Instant::now();
    block_on(client.logout(LogoutOptions::default(), None))
        .unwrap_or_else(|e| fail(&format!("logout: {e}")));
    ms_since(t)
}

/// How long bringing the clients up took.
struct BringUp {
    login_ms: Vec<f64>,
    seconds: f64,
}

/// Creates one client per user under `dir`, logs each in and starts its
/// sync, then waits until every one runs.
fn bring_up(users: &[String], dir: &Path) -> (Vec<Arc<Client>>, BringUp) {
    let started = Instant::now();
    let mut login_ms = vec![];
    let mut clients = vec![];
    for (i, user) in users.iter().enumerate() {
        let client = block_on(Client::create(shared::config(&dir.join(i.to_string()))))
            .unwrap_or_else(|e| fail(&format!("create {i}: {e}")));
        let t = Instant::now();
        block_on(client.login(user.clone(), shared::PASSWORD.into(), None))
            .unwrap_or_else(|e| fail(&format!("login {i}: {e}")));
        login_ms.push(ms_since(t));
        block_on(client.start_sync()).unwrap_or_else(|e| fail(&format!("start_sync {i}: {e}")));
        clients.push(client);
    }
    for client in &clients {
        shared::wait_running(client);
    }
    let seconds = started.elapsed().as_secs_f64();
    (clients, BringUp { login_ms, seconds })
}
