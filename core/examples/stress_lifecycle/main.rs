//! `cargo xtask stress lifecycle`: a torture test of the client lifecycle.
//!
//! Per iteration, two or three threads run a seeded random burst of calls on
//! two or three clients (create, login, sync, send, upload, observe and
//! cancel, logout, close, pause, resume, release, shutdown), some of them cancelled
//! half way by dropping the future, while the fault proxy in front of Synapse
//! sometimes refuses, blackholes or delays connections. Every call has a
//! bound (a watchdog) and a set of allowed errors (`ops.rs`). At the end, after
//! a final `shutdown`, no file may be open under the data dirs, no client
//! live, no task alive, and the thread count back to its baseline; and the
//! run must have done at least a floor of successful chat calls of each kind
//! and checked drains (`coverage.rs`), which it prints with its seed.
//!
//! Writes `--out` (`{"iterations", "seed", "aborts", "hangs",
//! "unexpected_errors", "final_clean", ...}`) after every iteration and at the
//! end. Exit codes: 0 pass, 1 fail, 2 the setup failed, 3 a call never
//! returned (the watchdog wrote the report and ended the run). An abort is
//! for the parent (the xtask) to see.
//!
//! Needs `MMC_HOMESERVER_URL`: `cargo xtask stress lifecycle` or
//! `cargo xtask test stress` set it.

#[path = "../../tests/support/homeserver.rs"]
mod homeserver;

mod chat;
mod clean;
mod coverage;
mod drive;
mod endings;
mod faults;
mod homes;
mod listeners;
mod media;
mod ops;
mod reports;
mod rng;
mod tally;
mod watchdog;
mod workload;

/// The core's public API, in one place. Once the core re-exports all of it at
/// the crate root, this becomes one `pub use matrix_mobile_core::{...}`.
mod api {
    pub use matrix_mobile_core::{
        platform, runtime_stats, set_task_failure_listener, shutdown, shutdown_blocking, Client,
        ClientConfig, ClientState, CloseReport, CoreError, LifecycleListener, LifecyclePhase,
        LogoutOptions, LogoutReport, MediaSource, Message, MessageContent, MessageListener,
        OutgoingKind, OutgoingMessage, RoomListFilter, RoomListListener, RoomListOptions,
        RoomListUpdate, RoomListener, RoomNotificationMode, RoomSummary, RuntimeState, Session,
        ShutdownOptions, Subscription, SyncState, SyncStateListener, TaskFailure,
        TaskFailureListener, TaskFailureReason, Timeline, TimelineItem, TimelineItemKind,
        TimelineListener, TimelineUpdate, UploadInfo,
    };
}

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use futures_executor::block_on;
use serde_json::{json, Value};

use api::{
    platform, set_task_failure_listener, shutdown_blocking, Client, ClientConfig, LogoutOptions,
    ShutdownOptions, TaskFailure, TaskFailureListener, TaskFailureReason,
};
use tally::tally;

const PASSWORD: &str = "stress lifecycle password";

struct Args {
    iterations: u64,
    seed: u64,
    out: PathBuf,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        iterations: 1000,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
        out: PathBuf::from("target/bench/stress-lifecycle.json"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--iterations" => args.iterations = value.parse().map_err(|_| "--iterations N")?,
            "--seed" => args.seed = value.parse().map_err(|_| "--seed S")?,
            "--out" => args.out = PathBuf::from(value),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// What the report needs from anywhere, the watchdog's thread included.
struct Meta {
    iterations: u64,
    seed: u64,
    out: PathBuf,
    started: Instant,
    done: AtomicU64,
}

static META: OnceLock<Meta> = OnceLock::new();

/// Writes the report; returns whether the run passed. `complete` is false for
/// the progress snapshots written during the run.
fn write_report(complete: bool, final_state: Option<(bool, Value)>, stuck: Vec<Value>) -> bool {
    let Some(meta) = META.get() else {
        return false;
    };
    let t = tally();
    let hangs = t.hangs + stuck.len() as u64;
    let final_clean = final_state.as_ref().is_some_and(|(clean, _)| *clean);
    let coverage = coverage::of(&t, meta.done.load(Ordering::SeqCst));
    let pass = complete
        && coverage.met
        && hangs == 0
        && t.unexpected == 0
        && t.panics == 0
        && t.dirty_shutdowns == 0
        && t.task_failures.is_empty()
        && final_clean;
    let report = json!({
        "iterations": meta.done.load(Ordering::SeqCst),
        "iterations_requested": meta.iterations,
        "seed": meta.seed,
        "build": if cfg!(debug_assertions) { "debug" } else { "optimised" },
        "aborts": 0,
        "hangs": hangs,
        "unexpected_errors": t.unexpected,
        "final_clean": final_clean,
        "pass": pass,
        "complete": complete,
        "elapsed_s": (meta.started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        "coverage": coverage.json,
        "pass_criteria": "at least the coverage floor of successful chat calls and checked drains; no abort; no call past its bound; every error documented for its call (ops.rs); every logout and close report true of the process when it returns (reports.rs); no panic on any thread but the listeners' deliberate ones; no task failure of any kind; nothing delivered after cancel(); clean after every shutdown and at the end",
        "final": final_state.map(|(_, state)| state),
        "stuck_calls": stuck,
        "ops": t.ops_json(),
        "errors": t.errors,
        "unexpected_kinds": t.unexpected_kinds,
        "unexpected_examples": t.unexpected_examples,
        "hang_examples": t.hang_examples,
        "panics": t.panics,
        "panic_examples": t.panic_examples,
        "dirty_shutdowns": t.dirty_shutdowns,
        "shutdowns_checked": t.shutdowns_checked,
        "drains_checked": t.drains_checked,
        "deliberate_panics": t.deliberate_panics,
        "dirty_shutdown_examples": t.dirty_shutdown_examples,
        "task_failures": t.task_failures,
        "known_task_failures": t.known_task_failures,
        "task_failure_examples": t.task_failure_examples,
        "faults": t.faults,
        "listener_deliveries": t.listener_deliveries,
        "iteration_ms": t.iteration_json(),
    });
    drop(t);
    if let Some(dir) = meta.out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let text = serde_json::to_string_pretty(&report).unwrap_or_default() + "\n";
    if let Err(e) = std::fs::write(&meta.out, text) {
        eprintln!("stress: could not write {}: {e}", meta.out.display());
    }
    pass
}

/// Counts every panic, on any thread, then lets the default hook print it.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.to_string().contains(listeners::DELIBERATE) {
            tally().deliberate_panics += 1;
            return;
        }
        let thread = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_owned();
        tally().panic(json!({"thread": thread, "panic": info.to_string()}));
        default(info);
    }));
}

struct FailureCounter;

/// The one task failure a run may see: matrix-sdk 0.18's "infinite"
/// `event_cache::thread_subscriber` returns at once when the server has no
/// thread subscriptions (this Synapse) or cannot say so (a fault), and its
/// task monitor reports that as an early termination. Every other task
/// failure, of any kind, fails the run.
const KNOWN_FAILURE: &str = "matrix-sdk::event_cache::thread_subscriber";

impl TaskFailureListener for FailureCounter {
    fn on_failure(&self, failure: TaskFailure) {
        if failure.task_name == KNOWN_FAILURE
            && failure.reason == TaskFailureReason::EarlyTermination
        {
            tally().known_task_failures += 1;
            return;
        }
        let kind = match &failure.reason {
            TaskFailureReason::Panic { .. } => "panic",
            TaskFailureReason::Error { .. } => "error",
            TaskFailureReason::EarlyTermination => "early_termination",
        };
        tally().task_failure(
            kind,
            json!({"task": failure.task_name, "reason": format!("{:?}", failure.reason)}),
        );
    }
}

/// Registers one user per slot and a room they have all joined, with the
/// run's image in it; then shuts the core down again.
fn setup(root: &Path) -> Result<(Vec<String>, String, api::MediaSource), String> {
    let url = homeserver::url();
    let users: Vec<String> = (0..workload::SLOTS)
        .map(|i| homeserver::fresh_name(&format!("stress{i}u")))
        .collect();
    let mut clients = Vec::new();
    let mut ids = Vec::new();
    for (i, user) in users.iter().enumerate() {
        homeserver::register(user, PASSWORD);
        let config = ClientConfig {
            homeserver_url: url.clone(),
            data_dir: root
                .join(format!("setup{i}"))
                .to_string_lossy()
                .into_owned(),
            store_passphrase: None,
            store_key: None,
            request_timeout_ms: 10_000,
            additional_root_certificates: Vec::new(),
            shared_with_other_processes: None,
        };
        let client = block_on(Client::create(config)).map_err(|e| format!("create: {e}"))?;
        let session = block_on(client.login(user.clone(), PASSWORD.into(), None))
            .map_err(|e| format!("login {user}: {e}"))?;
        ids.push(session.user_id);
        clients.push(client);
    }
    let room = block_on(clients[0].create_room("stress".into(), ids[1..].to_vec(), false))
        .map_err(|e| format!("create_room: {e}"))?;
    for client in &clients[1..] {
        block_on(client.join_room(room.clone())).map_err(|e| format!("join_room: {e}"))?;
    }
    let image = media::send_image(&clients[0], &room, root)?;
    for client in clients {
        block_on(client.logout(LogoutOptions::default(), None))
            .map_err(|e| format!("setup logout: {e}"))?;
    }
    shutdown_blocking(ShutdownOptions { timeout_ms: 10_000 })
        .map_err(|e| format!("setup shutdown: {e}"))?;
    Ok((users, room, image))
}

fn main() {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "stress: {e}\nusage: stress_lifecycle [--iterations N] [--seed S] [--out FILE]"
            );
            std::process::exit(2);
        }
    };
    println!(
        "stress lifecycle: seed {} ({} iterations); replay with --seed {}",
        args.seed, args.iterations, args.seed
    );
    let baseline_threads = platform::thread_count();
    let _ = META.set(Meta {
        iterations: args.iterations,
        seed: args.seed,
        out: args.out.clone(),
        started: Instant::now(),
        done: AtomicU64::new(0),
    });
    install_panic_hook();
    set_task_failure_listener(Some(Arc::new(FailureCounter)));

    let root = match tempfile::Builder::new().prefix("mmc-stress-").tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("stress: no temporary directory: {e}");
            std::process::exit(2);
        }
    };
    let (users, room_id, image) = match setup(root.path()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("stress: setup failed: {e}");
            std::process::exit(2);
        }
    };

    let dog = watchdog::Watchdog::new();
    let dog_thread = dog.spawn(|stuck| {
        eprintln!("stress: calls stuck far past their bound; ending the run: {stuck:?}");
        write_report(false, None, stuck);
        std::process::exit(3);
    });
    let mut run = workload::Run::new(
        args.seed,
        users,
        PASSWORD.into(),
        room_id,
        homeserver::FaultProxy::start(),
        root.path().to_path_buf(),
        dog.clone(),
        baseline_threads,
    );
    run.image = Some(image);

    let meta = META.get().expect("set above");
    for it in 0..args.iterations {
        let started = Instant::now();
        let what = workload::iteration(&run, it, it + 1 == args.iterations);
        let took = started.elapsed();
        tally().iteration_ms.push(took.as_millis() as u32);
        if took.as_secs() >= 3 {
            println!("iteration {it} took {:.1} s: {what}", took.as_secs_f64());
        }
        meta.done.store(it + 1, Ordering::SeqCst);
        write_report(false, None, Vec::new());
        if (it + 1) % 10 == 0 || it + 1 == args.iterations {
            let t = tally();
            println!(
                "iteration {:>5}/{}: {:>6} calls, {} hangs, {} unexpected, {} panics, {} dirty shutdowns ({:.0} s)",
                it + 1,
                args.iterations,
                t.ops.values().map(|c| c.calls).sum::<u64>(),
                t.hangs,
                t.unexpected,
                t.panics,
                t.dirty_shutdowns,
                meta.started.elapsed().as_secs_f64()
            );
        }
    }

    let final_state = endings::finish(&run, args.iterations);
    dog.stop();
    let _ = dog_thread.join();
    let pass = write_report(true, Some(final_state.clone()), dog.stuck());
    tally().print_table();
    let done = META.get().map_or(0, |m| m.done.load(Ordering::SeqCst));
    println!("{}", coverage::line(&coverage::of(&tally(), done).json));
    println!("final state: {}", final_state.1);
    println!(
        "stress lifecycle: seed {}: {} -> {}",
        args.seed,
        if pass { "PASS" } else { "FAIL" },
        args.out.display()
    );
    drop(run);
    drop(root);
    std::process::exit(if pass { 0 } else { 1 });
}
