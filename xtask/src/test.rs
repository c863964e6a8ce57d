//! `cargo xtask test [rust] [stress] [python] [kotlin] [swift] [consumers] [docs] [release]`:
//! every test suite against one local Synapse (the Kotlin and Swift suites
//! also get a second one whose access tokens expire every 5 s, for their
//! tests of sessions that refresh: `MMC_REFRESH_HOMESERVER_URL`). With no
//! names, all of them run
//! but `release`: the consumers again, on the artifacts of the release
//! profile, what is published (a fat-LTO build, 11 to 21 minutes here, so
//! neither `.ci/run` nor the default run includes it).
//! `stress` is two runs of `cargo xtask stress lifecycle` in a debug build,
//! 50 iterations with a fixed seed and 150 with a new seed; `consumers` uses the published artifacts (debug builds) as an app
//! would (the JVM app also shrunk by ProGuard with the published keep rules,
//! `shrink.rs`); `docs` builds the Kotlin and Python API docs into
//! `target/docs` and checks them (`docs.rs`). Every suite runs even when an
//! earlier one failed; the command fails if any did, and the summary repeats
//! each failure's reason. The core's test binaries run several at a time,
//! and the suites of [`TOGETHER`] side by side (`parallel.rs`).

use std::process::Command;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};

use crate::ctx::{self, Ctx};
use crate::{
    bindings, kotlin, maven, parallel, python, release, shrink, stress, swift, synapse, wheel,
};

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

/// The module of the library's test binary that holds the hooked race
/// tests (`core/src/lib.rs`), and the name of their job.
const HOOKED_RACES: &str = "hooked_races";

/// Suites that run only when named.
const ON_REQUEST: [&str; 1] = ["release"];

/// Iterations of the lifecycle stress run on a new seed in `cargo xtask
/// test`: the run that finds what no run found before.
const STRESS_ITERATIONS: u64 = 150;

/// Iterations of the run on the fixed seed, which repeats the same calls
/// each time: enough to compare coverage between runs, for less CI time.
const STRESS_FIXED_ITERATIONS: u64 = 50;

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
    /// The homeserver to use instead of starting one: how a run of suites
    /// [`TOGETHER`] gives each its Synapse.
    #[arg(long, value_name = "URL", hide = true)]
    homeserver_url: Option<String>,
    /// The refresh homeserver to use instead of starting one (with
    /// `--homeserver-url`).
    #[arg(long, value_name = "URL", hide = true, requires = "homeserver_url")]
    refresh_url: Option<String>,
}

/// Suites that run at the same time when all of them are asked for, each in
/// a process of its own (`parallel::suites`) on this run's Synapses, its
/// output printed whole when it ends; each group runs when its first suite
/// comes. Python's tests mostly wait on Synapse while the Kotlin suite
/// mostly compiles. The stress runs keep a third of the two cores busy and
/// Swift's tests half (measured with `vmstat` over a whole run), so the two
/// fit side by side. The suites of a group write to different folders.
const TOGETHER: [&[&str]; 2] = [&["python", "kotlin"], &["stress", "swift"]];

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let named = &args.suites;
    let wanted =
        |s: &str| named.iter().any(|a| a == s) || (named.is_empty() && !ON_REQUEST.contains(&s));
    let cdylib = ctx.build_core_debug()?;
    // A run of suites started by a run of suites together (`TOGETHER`) uses
    // the Synapses of the run that started it.
    let child = args.homeserver_url.is_some();
    let server = match &args.homeserver_url {
        Some(_) => None,
        None => Some(synapse::start(ctx)?),
    };
    let url = match (&server, &args.homeserver_url) {
        (Some(server), _) => server.url.clone(),
        (None, url) => url.clone().unwrap_or_default(),
    };
    println!("xtask: Synapse at {url}");
    // The Kotlin and Swift tests of sessions that refresh need a second
    // Synapse whose access tokens expire (the Rust and Python tests start
    // their own).
    let refresh = if !child && (wanted("kotlin") || wanted("swift")) {
        Some(synapse::start_refresh(ctx)?)
    } else {
        None
    };
    let refresh_url = match (&refresh, &args.refresh_url) {
        (Some(refresh), _) => refresh.url.clone(),
        (None, url) => url.clone().unwrap_or_default(),
    };

    let mut results: Vec<(String, Result<()>, f64)> = Vec::new();
    let mut suite = |name: &'static str, f: &dyn Fn() -> Result<()>| {
        let group = TOGETHER
            .iter()
            .find(|g| g.contains(&name) && g.iter().all(|s| wanted(s)));
        if let (Some(group), false) = (group, child) {
            // The group runs when its first suite comes; the others ran with it.
            if group[0] == name {
                println!("\n==== {} (together) ====", group.join(", "));
                let log_dir = ctx.target_dir().join("test-logs");
                results.extend(parallel::suites(group, &url, &refresh_url, &log_dir));
            }
        } else if wanted(name) {
            let started = Instant::now();
            println!("\n==== {name} ====");
            let result = f();
            if let Err(e) = &result {
                eprintln!("xtask: {name} failed: {e:#}");
            }
            results.push((name.into(), result, started.elapsed().as_secs_f64()));
        }
    };
    suite("rust", &|| {
        // The fault matrix starts Synapses of its own (to kill and pause
        // them) with the harness's Python.
        let harness_python = python::ensure_venv(ctx)?;
        // The core's test binaries, built by `cargo test --no-run` and run
        // several at a time (`parallel.rs`). The library's own test binary
        // also holds the race tests that arm the core's hooks
        // (`core/tests/hooked/`, the one build with them armed): it runs as
        // two jobs, those and the unit tests, as two test binaries would.
        let core_args = [ctx::CORE_PACKAGES.as_slice(), &["--no-fail-fast"]].concat();
        let (mut jobs, built) = match parallel::test_binaries(&ctx.root, &core_args) {
            Ok(jobs) => {
                let jobs = parallel::split_job(jobs, "lib", HOOKED_RACES);
                // A module renamed away would leave a job that runs nothing.
                let hooked = match jobs.iter().find(|j| j.name == HOOKED_RACES) {
                    Some(job) => parallel::count_tests(job),
                    None => Ok(0),
                };
                let built = match hooked {
                    Ok(0) => Err(anyhow!(
                        "the library's test binary has no test under {HOOKED_RACES}::"
                    )),
                    other => other.map(drop),
                };
                (jobs, built)
            }
            Err(e) => (Vec::new(), Err(e)),
        };
        for job in &mut jobs {
            job.command
                .env("MMC_HOMESERVER_URL", &url)
                .env("MMC_HARNESS_PYTHON", &harness_python);
        }
        // The doc tests, which `--no-run` does not build, and xtask's own
        // tests, each in its own cargo invocation so that neither changes
        // the other's dependency features.
        let cargo_job = |name: &str, args: &[&str]| {
            let mut command = Command::new(ctx::cargo());
            command.current_dir(&ctx.root).arg("test").args(args);
            parallel::Job {
                name: name.into(),
                command,
            }
        };
        jobs.push(cargo_job("doc", &[&core_args[..], &["--doc"]].concat()));
        jobs.push(cargo_job("xtask", &["-p", "xtask", "--no-fail-fast"]));
        let ran = parallel::run(jobs, parallel::width(), &ctx.target_dir().join("test-logs"));
        built.and(ran)
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
    results.sort_by_key(|(name, ..)| SUITES.iter().position(|s| s == name));
    let mut failed = Vec::new();
    for (name, result, secs) in &results {
        let verdict = if result.is_ok() { "ok" } else { "FAILED" };
        // A suite that ran beside others: its seconds overlap theirs.
        let beside: Vec<&str> = TOGETHER
            .iter()
            .filter(|g| !child && g.contains(&name.as_str()) && g.iter().all(|s| wanted(s)))
            .flat_map(|g| g.iter().copied().filter(|s| s != name))
            .collect();
        if beside.is_empty() {
            println!("{name:<9} {verdict:<7} {secs:>6.1} s");
        } else {
            println!(
                "{name:<9} {verdict:<7} {secs:>6.1} s  (beside {})",
                beside.join(", ")
            );
        }
        if let Err(e) = result {
            // The reason again, so that the tail of a long log says why.
            println!(
                "          {}",
                format!("{e:#}").replace('\n', "\n          ")
            );
            failed.push(name.as_str());
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
