//! `cargo xtask stress runtime`: the seed scenario, plain drop against the
//! supervisor's stop-collect-drop. Prints both panic counts and writes
//! `target/bench/stress-runtime.json`.

#[path = "../tests/support/seed.rs"]
mod seed;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use matrix_mobile_core::runtime;
use matrix_mobile_core::supervisor::TaskKind;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut cycles: u64 = 10_000;
    let mut plain_cycles: Option<u64> = None;
    let mut out = String::from("target/bench/stress-runtime.json");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cycles" => cycles = args.next().and_then(|v| v.parse().ok()).unwrap_or(cycles),
            // The plain drop is only the baseline; it can be run shorter.
            "--plain-cycles" => plain_cycles = args.next().and_then(|v| v.parse().ok()),
            "--out" => out = args.next().unwrap_or(out),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    seed::install_panic_counter();

    let started = Instant::now();
    let plain_cycles = plain_cycles.unwrap_or(cycles);
    for _ in 0..plain_cycles {
        seed::plain_cycle();
    }
    let plain = seed::PANICS.swap(0, Ordering::SeqCst);
    let plain_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    for _ in 0..cycles {
        let (producer, worker, progress) = seed::pair();
        runtime::spawn("producer", TaskKind::Infinite, async move {
            producer.await;
            Ok(())
        })
        .expect("spawn producer");
        runtime::spawn("worker", TaskKind::Infinite, async move {
            worker.await;
            Ok(())
        })
        .expect("spawn worker");
        seed::wait_progress(&progress, 20);
        runtime::stop_with_grace(Duration::from_secs(5), Duration::ZERO, false).expect("stop");
    }
    let supervised = seed::PANICS.swap(0, Ordering::SeqCst);
    let supervised_secs = started.elapsed().as_secs_f64();

    // Shutdown with 1,000 busy tasks that ignore cancellation, then a restart.
    let mut shutdown_ms = Vec::new();
    let mut restart_us = Vec::new();
    for _ in 0..20 {
        for i in 0..1000u64 {
            runtime::spawn("busy", TaskKind::Infinite, async move {
                loop {
                    std::hint::black_box(
                        (0..1000u64).fold(i, |a, k| a.wrapping_mul(31).wrapping_add(k)),
                    );
                    tokio::task::yield_now().await;
                }
            })
            .expect("spawn busy");
        }
        let t = Instant::now();
        let report = matrix_mobile_core::shutdown_blocking(matrix_mobile_core::ShutdownOptions {
            timeout_ms: 5000,
        })
        .expect("shutdown");
        shutdown_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(report.tasks_abandoned.is_empty());
        let t = Instant::now();
        runtime::start().expect("restart");
        restart_us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    shutdown_ms.sort_by(f64::total_cmp);
    restart_us.sort_by(f64::total_cmp);
    let (shutdown_p50, restart_p50) = (shutdown_ms[10], restart_us[10]);

    println!("seed scenario (producer/worker pair that unwraps every reply):");
    println!("  plain runtime drop:            {plain:>6} panics  ({plain_secs:.1} s, {plain_cycles} cycles)");
    println!("  supervisor stop-collect-drop:  {supervised:>6} panics  ({supervised_secs:.1} s)");
    let json = format!(
        "{{\"cycles\": {cycles}, \"plain_drop_panics\": {plain}, \"plain_cycles\": {plain_cycles}, \"supervised_panics\": {supervised}, \"shutdown_1000_tasks_ms_p50\": {shutdown_p50:.3}, \"restart_us_p50\": {restart_p50:.1}}}\n"
    );
    if let Some(dir) = std::path::Path::new(&out).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out, json).expect("write the JSON report");
    println!(
        "shutdown with 1,000 busy tasks: p50 {shutdown_p50:.2} ms, max {:.2} ms (20 runs)",
        shutdown_ms[19]
    );
    println!("runtime restart (new generation): p50 {restart_p50:.0} µs");
    println!("written to {out}");
}
