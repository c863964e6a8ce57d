//! `cargo xtask test [rust] [stress] [python] [kotlin] [swift] [consumers] [docs] [release]`:
//! every test suite against one local Synapse (the Kotlin and Swift suites
//! also get a second one whose access tokens expire every 5 s, for their
//! tests of sessions that refresh: `MMC_REFRESH_HOMESERVER_URL`). With no
//! names, all of them run
//! but `release`: the consumers again, on the artifacts of the release
//! profile, what is published (a fat-LTO build, 11 to 21 minutes here, so
//! neither `.ci/run` nor the default run includes it).
//! `stress` is two runs of `cargo xtask stress lifecycle` in a debug build,
//! 100 iterations with a fixed seed and 150 with a new seed; `consumers` uses the published artifacts (debug builds) as an app
//! would (the JVM app also shrunk by ProGuard with the published keep rules,
//! `shrink.rs`); `docs` builds the Kotlin and Python API docs into
//! `target/docs` and checks them (`docs.rs`). Every suite runs even when an
//! earlier one failed; the command fails if any did, and the summary repeats
//! each failure's reason.

use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Result};

use crate::ctx::{self, Ctx};
use crate::{bindings, kotlin, maven, python, release, shrink, stress, swift, synapse, wheel};

const SUITES: [&str; 8] = [
    "rust",
    "stress",
    "python",
    "kotlin",
    "swift",
    "consumers",
    "docs",
    "release",
];

/// Suites that run only when named.
const ON_REQUEST: [&str; 1] = ["release"];

/// Iterations of the lifecycle stress run on a new seed in `cargo xtask
/// test`: the run that finds what no run found before.
const STRESS_ITERATIONS: u64 = 150;

/// Iterations of the run on the fixed seed, which repeats the same calls
/// each time: enough to compare coverage between runs, for less CI time.
const STRESS_FIXED_ITERATIONS: u64 = 100;

/// The seed of the stress run that is the same in every `cargo xtask test`
/// (the other run takes a new one): a coverage that moves between runs is
/// the code's doing, not the dice's.
const STRESS_FIXED_SEED: u64 = 20_261_207;

/// `cargo xtask test [SUITE...]`.
#[derive(clap::Args)]
pub struct Args {
    /// The suites to run; none: all of them but `release`.
    #[arg(value_name = "SUITE", value_parser = clap::builder::PossibleValuesParser::new(SUITES))]
    suites: Vec<String>,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let named = &args.suites;
    let wanted =
        |s: &str| named.iter().any(|a| a == s) || (named.is_empty() && !ON_REQUEST.contains(&s));
    let cdylib = ctx.build_core_debug()?;
    let server = synapse::start(ctx)?;
    println!("xtask: Synapse at {}", server.url);
    let url = server.url.clone();
    // The Kotlin and Swift tests of sessions that refresh need a second
    // Synapse whose access tokens expire (the Rust and Python tests start
    // their own).
    let refresh = if wanted("kotlin") || wanted("swift") {
        Some(synapse::start_refresh(ctx)?)
    } else {
        None
    };
    let refresh_url = refresh.as_ref().map(|s| s.url.clone()).unwrap_or_default();

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
        // The fault matrix starts Synapses of its own (to kill and pause
        // them) with the harness's Python.
        let harness_python = python::ensure_venv(ctx)?;
        // The core's tests, then xtask's own, each in its own invocation so
        // that neither changes the other's dependency features
        // (`uniffi-bindgen` is a `main` that calls UniFFI; it has no tests).
        let core = ctx::run(
            Command::new(ctx::cargo())
                .current_dir(&ctx.root)
                .arg("test")
                .args(ctx::CORE_PACKAGES)
                .arg("--no-fail-fast")
                .env("MMC_HOMESERVER_URL", &url)
                .env("MMC_HARNESS_PYTHON", harness_python),
        );
        // The race tests that need the core's pause points and injected
        // faults (`test-hooks`, `core/src/hooks.rs`): an invocation of their
        // own, since their feature changes the library. It also rewrites the
        // debug cdylib, so the plain one is rebuilt after it: the foreign
        // suites must never load a library with hooks.
        let hooked = ctx::run(
            Command::new(ctx::cargo())
                .current_dir(&ctx.root)
                .arg("test")
                .args(ctx::CORE_PACKAGES)
                .args(["--features", "test-hooks", "--test", "hooked_races"])
                .env("MMC_HOMESERVER_URL", &url),
        );
        let plain = ctx.build_core_debug().map(drop);
        let xtask = ctx::run(Command::new(ctx::cargo()).current_dir(&ctx.root).args([
            "test",
            "-p",
            "xtask",
            "--no-fail-fast",
        ]));
        core.and(hooked).and(plain).and(xtask)
    });
    suite("stress", &|| {
        let exe = stress::build_lifecycle_debug(ctx)?;
        let fixed = stress::run_lifecycle(
            ctx,
            &exe,
            &url,
            STRESS_FIXED_ITERATIONS,
            Some(STRESS_FIXED_SEED),
        );
        stress::keep_report_as(ctx, "stress-lifecycle-fixed-seed.json")?;
        let fresh = stress::run_lifecycle(ctx, &exe, &url, STRESS_ITERATIONS, None);
        fixed.and(fresh)
    });
    suite("python", &|| {
        let out = bindings::default_out(ctx, "python");
        std::fs::create_dir_all(&out)?;
        bindings::generate(ctx, "python", &out, &cdylib)?;
        let package =
            python::stage_package(ctx, "test", &out.join("matrix_mobile_core.py"), &cdylib)?;
        python::pytest(
            ctx,
            &[package],
            &[("MMC_HOMESERVER_URL".into(), url.clone())],
            &[],
        )
    });
    suite("kotlin", &|| kotlin::test(ctx, &cdylib, &url, &refresh_url));
    suite("swift", &|| swift::test(ctx, &cdylib, &url, &refresh_url));
    // The published artifacts as a new user takes them: by coordinates from a
    // Maven repository, and as a wheel in a fresh venv, both written by
    // `release-local` (from a debug build, stripped as a release is).
    suite("consumers", &|| consumers(ctx, "dev", &url));
    suite("docs", &|| {
        crate::docs::build(ctx, &cdylib, &ctx.target_dir().join("docs"))
    });
    suite("release", &|| consumers(ctx, "release", &url));
    drop(refresh);
    drop(server);

    println!("\n==== summary ====");
    let mut failed = Vec::new();
    for (name, result, secs) in &results {
        let verdict = if result.is_ok() { "ok" } else { "FAILED" };
        println!("{name:<9} {verdict:<7} {secs:>6.1} s");
        if let Err(e) = result {
            // The reason again, so that the tail of a long log says why.
            println!(
                "          {}",
                format!("{e:#}").replace('\n', "\n          ")
            );
            failed.push(*name);
        }
    }
    if !failed.is_empty() {
        bail!("failed suites: {}", failed.join(", "));
    }
    Ok(())
}

/// Writes the artifacts of cargo `profile` with `release-local` and runs the
/// consumer apps on them: the JVM app by coordinates (then shrunk by ProGuard
/// with the published keep rules) and the wheel in a fresh venv.
fn consumers(ctx: &Ctx, profile: &str, url: &str) -> Result<()> {
    let dir = ctx.target_dir().join(format!("release-local-{profile}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let artifacts = release::build(ctx, &dir, profile)?;
    let jvm = maven::consumer_test(ctx, &artifacts.maven, url)
        .and_then(|build| shrink::shrunk_consumer_test(ctx, &build, url));
    let python = wheel::consumer_test(ctx, &artifacts.wheel, url);
    jvm.and(python)
}
