//! `cargo xtask bench lifecycle|ffi`: benchmarks in the optimised `bench-fast`
//! profile. Each writes `target/bench/<name>.json` and prints a table.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::ctx::{self, Ctx};
use crate::{bindings, kotlin, python, synapse};

pub fn run(ctx: &Ctx, args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("lifecycle") => lifecycle(ctx, &args[1..]),
        Some("ffi") => ffi(ctx),
        _ => bail!("usage: cargo xtask bench lifecycle [--cycles N] [--soak N] | ffi"),
    }
}

fn bench_dir(ctx: &Ctx) -> Result<PathBuf> {
    let dir = ctx.target_dir().join("bench");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

pub(crate) fn build_fast(ctx: &Ctx, what: &[&str]) -> Result<()> {
    ctx::run(
        Command::new(ctx::cargo())
            .current_dir(&ctx.root)
            .args([
                "build",
                "--profile",
                "bench-fast",
                "-p",
                "matrix-mobile-core",
            ])
            .args(what),
    )
}

fn lifecycle(ctx: &Ctx, args: &[String]) -> Result<()> {
    build_fast(ctx, &["--example", "bench_lifecycle"])?;
    let server = synapse::start(ctx)?;
    let out = bench_dir(ctx)?.join("lifecycle.json");
    let exe = ctx
        .target_dir()
        .join("bench-fast")
        .join("examples")
        .join("bench_lifecycle");
    let result = ctx::run(
        Command::new(exe)
            .args(args)
            .arg("--out")
            .arg(&out)
            .env("MMC_HOMESERVER_URL", &server.url),
    );
    drop(server);
    result
}

fn ffi(ctx: &Ctx) -> Result<()> {
    build_fast(ctx, &["--lib"])?;
    let cdylib = ctx.cdylib("bench-fast");
    let (k50, k99, ksync) = kotlin::bench_ffi(ctx, &cdylib)?;
    let (p50, p99, psync) = python_bench(ctx, &cdylib)?;
    let report = json!({
        "kotlin_async_noop_us_p50": k50,
        "kotlin_async_noop_us_p99": k99,
        "kotlin_sync_noop_us_p50": ksync,
        "python_async_noop_us_p50": p50,
        "python_async_noop_us_p99": p99,
        "python_sync_noop_us_p50": psync,
    });
    println!("FFI round trip of a no-op (µs)   p50      p99");
    println!("  Kotlin async (suspend)      {k50:>7.1}  {k99:>7.1}");
    println!("  Kotlin sync                 {ksync:>7.1}");
    println!("  Python async (asyncio)      {p50:>7.1}  {p99:>7.1}");
    println!("  Python sync                 {psync:>7.1}");
    let out = bench_dir(ctx)?.join("ffi.json");
    std::fs::write(&out, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("written to {}", out.display());
    Ok(())
}

fn python_bench(ctx: &Ctx, cdylib: &Path) -> Result<(f64, f64, f64)> {
    let interpreter = python::ensure_venv(ctx)?;
    let out = bindings::default_out(ctx, "python-bench");
    std::fs::create_dir_all(&out)?;
    bindings::generate(ctx, "python", &out, cdylib)?;
    let package = python::stage_package(ctx, &out.join("matrix_mobile_core.py"), cdylib)?;
    let output = Command::new(interpreter)
        .arg(ctx.root.join("python/bench/ffi_bench.py"))
        .env("PYTHONPATH", package)
        .output()
        .context("running the Python benchmark")?;
    if !output.status.success() {
        bail!(
            "python bench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .last()
        .context("no output from the Python benchmark")?;
    let v: serde_json::Value = serde_json::from_str(line)?;
    let f = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_f64)
            .context("missing field")
    };
    Ok((f("async_p50_us")?, f("async_p99_us")?, f("sync_p50_us")?))
}
