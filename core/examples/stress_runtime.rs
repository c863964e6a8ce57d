//! `cargo xtask stress runtime`: the seed scenario, plain drop against the
//! supervisor's stop-collect-drop. Prints both panic counts and writes
//! `target/bench/stress-runtime.json`.

#[path = "../tests/support/seed.rs"]
mod seed;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use matrix_mobile_core::runtime;
use matrix_mobile_core::supervisor::{self, TaskKind};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut cycles: u64 = 10_000;
    let mut out = String::from("target/bench/stress-runtime.json");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cycles" => cycles = args.next().and_then(|v| v.parse().ok()).unwrap_or(cycles),
            "--out" => out = args.next().unwrap_or(out),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    seed::install_panic_counter();

    let started = Instant::now();
    for _ in 0..cycles {
        seed::plain_cycle();
    }
    let plain = seed::PANICS.swap(0, Ordering::SeqCst);
    let plain_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    for _ in 0..cycles {
        let (producer, worker, progress) = seed::pair();
        supervisor::spawn("producer", TaskKind::Infinite, async move {
            producer.await;
            Ok(())
        })
        .expect("spawn producer");
        supervisor::spawn("worker", TaskKind::Infinite, async move {
            worker.await;
            Ok(())
        })
        .expect("spawn worker");
        seed::wait_progress(&progress, 20);
        runtime::stop_with_grace(Duration::from_secs(5), Duration::ZERO, false).expect("stop");
    }
    let supervised = seed::PANICS.swap(0, Ordering::SeqCst);
    let supervised_secs = started.elapsed().as_secs_f64();

    println!("seed scenario, {cycles} cycles each:");
    println!("  plain runtime drop:            {plain:>6} panics  ({plain_secs:.1} s)");
    println!("  supervisor stop-collect-drop:  {supervised:>6} panics  ({supervised_secs:.1} s)");
    let json = format!(
        "{{\"cycles\": {cycles}, \"plain_drop_panics\": {plain}, \"supervised_panics\": {supervised}}}\n"
    );
    if let Some(dir) = std::path::Path::new(&out).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out, json).expect("write the JSON report");
    println!("written to {out}");
}
