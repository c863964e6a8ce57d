//! `cargo xtask test [rust] [stress] [python] [kotlin] [swift]`: every test
//! suite against one local Synapse. With no names, all of them run. `stress`
//! is 200 iterations of `cargo xtask stress lifecycle` in a debug build. Every suite runs
//! even when an earlier one failed; the command fails if any did.

use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Result};

use crate::ctx::{self, Ctx};
use crate::{bindings, kotlin, python, stress, swift, synapse};

const SUITES: [&str; 5] = ["rust", "stress", "python", "kotlin", "swift"];

/// Iterations of the lifecycle stress test in `cargo xtask test`.
const STRESS_ITERATIONS: u64 = 200;

pub fn run(ctx: &Ctx, args: &[String]) -> Result<()> {
    for a in args {
        if !SUITES.contains(&a.as_str()) {
            bail!("unknown suite `{a}`; choose among {SUITES:?}");
        }
    }
    let wanted = |s: &str| args.is_empty() || args.iter().any(|a| a == s);
    let cdylib = ctx.build_core_debug()?;
    let server = synapse::start(ctx)?;
    println!("xtask: Synapse at {}", server.url);
    let url = server.url.clone();

    let mut results: Vec<(&str, Result<()>, f64)> = Vec::new();
    let mut suite = |name: &'static str, f: &dyn Fn() -> Result<()>| {
        if wanted(name) {
            let started = Instant::now();
            println!("\n==== {name} ====");
            let result = f();
            if let Err(e) = &result {
                eprintln!("xtask: {name} failed: {e:#}");
            }
            results.push((name, result, started.elapsed().as_secs_f64()));
        }
    };
    suite("rust", &|| {
        ctx::run(
            Command::new(ctx::cargo())
                .current_dir(&ctx.root)
                .args(["test", "--workspace"])
                .env("MMC_HOMESERVER_URL", &url),
        )
    });
    suite("stress", &|| {
        let exe = stress::build_lifecycle_debug(ctx)?;
        stress::run_lifecycle(ctx, &exe, &url, STRESS_ITERATIONS, None)
    });
    suite("python", &|| {
        let out = bindings::default_out(ctx, "python");
        std::fs::create_dir_all(&out)?;
        bindings::generate(ctx, "python", &out, &cdylib)?;
        let package = python::stage_package(ctx, &out.join("matrix_mobile_core.py"), &cdylib)?;
        python::pytest(
            ctx,
            &[package],
            &[("MMC_HOMESERVER_URL".into(), url.clone())],
            &[],
        )
    });
    suite("kotlin", &|| kotlin::test(ctx, &cdylib, &url));
    suite("swift", &|| swift::test(ctx, &cdylib, &url));
    drop(server);

    println!("\n==== summary ====");
    let mut failed = Vec::new();
    for (name, result, secs) in &results {
        let verdict = if result.is_ok() { "ok" } else { "FAILED" };
        println!("{name:<8} {verdict:<7} {secs:>6.1} s");
        if result.is_err() {
            failed.push(*name);
        }
    }
    if !failed.is_empty() {
        bail!("failed suites: {}", failed.join(", "));
    }
    Ok(())
}
