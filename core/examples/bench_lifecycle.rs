//! `cargo xtask bench lifecycle`: logout timings, a 200-cycle soak, and the
//! naive teardown for comparison. Writes `target/bench/lifecycle.json`.

#[path = "../tests/support/homeserver.rs"]
mod homeserver;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::platform::{open_files_under, rss_bytes, thread_count};
use matrix_mobile_core::{Client, ClientConfig, LogoutOptions, SyncState};
use matrix_mobile_core::{LifecycleListener, LifecyclePhase};

const PASSWORD: &str = "bench password 1";

/// Phase start times, in µs precision (the report itself is in ms).
#[derive(Default)]
struct Clock(Mutex<Vec<(LifecyclePhase, Instant)>>);
impl LifecycleListener for Clock {
    fn on_phase(&self, phase: LifecyclePhase, _: u64) {
        self.0.lock().unwrap().push((phase, Instant::now()));
    }
}

struct Args {
    cycles: usize,
    soak: usize,
    naive: usize,
    out: String,
}

fn args() -> Args {
    let mut a = Args {
        cycles: 50,
        soak: 200,
        naive: 20,
        out: "target/bench/lifecycle.json".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--cycles" => a.cycles = v.parse().expect("--cycles N"),
            "--soak" => a.soak = v.parse().expect("--soak N"),
            "--naive" => a.naive = v.parse().expect("--naive N"),
            "--out" => a.out = v,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn config(dir: &Path) -> ClientConfig {
    ClientConfig {
        homeserver_url: homeserver::url(),
        data_dir: dir.to_string_lossy().into_owned(),
        store_passphrase: None,
        request_timeout_ms: 30_000,
    }
}

fn wait_running(client: &Client) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.sync_state() != SyncState::Running {
        assert!(Instant::now() < deadline, "sync did not start");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Time per phase of one logout, in µs.
type PhaseTimes = Vec<(LifecyclePhase, f64)>;

/// One cycle of login, sync, (send), logout; returns (total µs, local µs, files open after, phases).
fn cycle(user: &str, dir: &Path, send: bool) -> (f64, f64, u32, PhaseTimes) {
    let client = block_on(Client::create(config(dir))).expect("create");
    block_on(client.login(user.into(), PASSWORD.into(), None)).expect("login");
    block_on(client.start_sync()).expect("sync");
    wait_running(&client);
    if send {
        let room = block_on(client.create_room(String::new(), vec![], false)).expect("room");
        block_on(client.send_text(room, "soak".into())).expect("send");
    }
    let clock = Arc::new(Clock::default());
    let started = Instant::now();
    let report =
        block_on(client.logout(LogoutOptions::default(), Some(clock.clone()))).expect("logout");
    let total = started.elapsed();
    let marks = clock.0.lock().unwrap().clone();
    let server = marks
        .windows(2)
        .find(|w| w[0].0 == LifecyclePhase::ServerLogout)
        .map(|w| w[1].1 - w[0].1)
        .unwrap_or_default();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let phases = marks
        .windows(2)
        .map(|w| (w[0].0, us(w[1].1 - w[0].1)))
        .collect();
    (
        us(total),
        us(total.saturating_sub(server)),
        report.store_files_open_after.unwrap_or(u32::MAX),
        phases,
    )
}

fn pct(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

/// The naive teardown: server logout, drop the client, `shutdown_background`.
fn naive_cycle(user: &str, dir: &Path) -> u32 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = matrix_sdk::Client::builder()
            .homeserver_url(homeserver::url())
            .sqlite_store(dir, None)
            .build()
            .await
            .unwrap();
        client
            .matrix_auth()
            .login_username(user, PASSWORD)
            .send()
            .await
            .unwrap();
        let sync = matrix_sdk_ui::sync_service::SyncService::builder(client.clone())
            .build()
            .await
            .unwrap();
        sync.start().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        sync.stop().await;
        let _ = client.matrix_auth().logout().await;
        drop(sync);
        drop(client);
    });
    rt.shutdown_background();
    open_files_under(dir).unwrap_or(0)
}

fn main() {
    let a = args();
    let base = tempfile::TempDir::new().unwrap();
    let user = homeserver::fresh_name("bench");
    homeserver::register(&user, PASSWORD);

    let mut totals = Vec::new();
    let mut locals = Vec::new();
    let mut by_phase: Vec<(LifecyclePhase, Vec<f64>)> = Vec::new();
    for i in 0..a.cycles {
        let (t, l, _, phases) = cycle(&user, &base.path().join(format!("logout-{i}")), false);
        totals.push(t / 1000.0);
        locals.push(l / 1000.0);
        for (phase, us) in phases {
            match by_phase.iter_mut().find(|(p, _)| *p == phase) {
                Some((_, v)) => v.push(us / 1000.0),
                None => by_phase.push((phase, vec![us / 1000.0])),
            }
        }
    }

    let mut fds_leaked = 0u64;
    let mut threads_base = 0i64;
    let mut rss_base = 0u64;
    for i in 0..a.soak {
        let dir = base.path().join(format!("soak-{i}"));
        let (_, _, files, _) = cycle(&user, &dir, true);
        fds_leaked += u64::from(files) + u64::from(open_files_under(&dir).unwrap_or(0));
        if i == 9.min(a.soak - 1) {
            threads_base = i64::from(thread_count().unwrap_or(0));
            rss_base = rss_bytes().unwrap_or(0);
        }
    }
    let threads_delta = i64::from(thread_count().unwrap_or(0)) - threads_base;
    let rss_growth = (rss_bytes().unwrap_or(0) as f64 - rss_base as f64) / (1024.0 * 1024.0);

    let mut naive_fds = Vec::new();
    for i in 0..a.naive {
        naive_fds.push(f64::from(naive_cycle(
            &user,
            &base.path().join(format!("naive-{i}")),
        )));
    }
    let naive_mean = naive_fds.iter().sum::<f64>() / naive_fds.len().max(1) as f64;

    println!("logout, {} cycles (ms)          p50      p95", a.cycles);
    println!(
        "  total                     {:>8.2} {:>8.2}",
        pct(&totals, 0.5),
        pct(&totals, 0.95)
    );
    println!(
        "  local (without server)    {:>8.2} {:>8.2}",
        pct(&locals, 0.5),
        pct(&locals, 0.95)
    );
    for (phase, v) in &by_phase {
        println!(
            "    {:<22}{:>8.2} {:>8.2}",
            format!("{phase:?}"),
            pct(v, 0.5),
            pct(v, 0.95)
        );
    }
    println!("soak, {} cycles of login, sync, send, logout", a.soak);
    println!("  fds left under data dirs  {fds_leaked}");
    println!("  threads vs cycle 10       {threads_delta:+}");
    println!("  RSS growth since cycle 10 {rss_growth:.1} MiB");
    println!(
        "naive teardown, {} cycles: {naive_mean:.1} SQLite fds left open per cycle",
        a.naive
    );

    let json = format!(
        "{{\n  \"logout_total_ms_p50\": {:.3},\n  \"logout_total_ms_p95\": {:.3},\n  \"logout_local_ms_p95\": {:.3},\n  \"soak_cycles\": {},\n  \"soak_fds_leaked\": {},\n  \"soak_threads_delta\": {},\n  \"soak_rss_growth_mib\": {:.2},\n  \"naive_fds_leaked_per_cycle\": {:.2}\n}}\n",
        pct(&totals, 0.5),
        pct(&totals, 0.95),
        pct(&locals, 0.95),
        a.soak,
        fds_leaked,
        threads_delta,
        rss_growth,
        naive_mean
    );
    if let Some(dir) = Path::new(&a.out).parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(&a.out, json).unwrap();
    println!("written to {}", a.out);
}
