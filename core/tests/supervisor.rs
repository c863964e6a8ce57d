//! The lifecycle engine without a homeserver: supervisor, runtime, shutdown.
//!
//! Every test touches the one process-wide runtime, so they run one at a time
//! (`serial()`).

#[path = "support/seed.rs"]
mod seed;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use matrix_mobile_core::supervisor::TaskKind;
use matrix_mobile_core::{
    runtime, runtime_stats, set_task_failure_listener, shutdown, shutdown_blocking, CoreError,
    RuntimeState, ShutdownOptions, TaskFailure, TaskFailureListener, TaskFailureReason,
};

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct Failures(Mutex<Vec<TaskFailure>>);

impl TaskFailureListener for Failures {
    fn on_failure(&self, failure: TaskFailure) {
        self.0.lock().unwrap().push(failure);
    }
}

impl Failures {
    fn wait_for(&self, task: &str) -> TaskFailure {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(f) = self
                .0
                .lock()
                .unwrap()
                .iter()
                .find(|f| f.task_name.ends_with(task))
            {
                return f.clone();
            }
            assert!(Instant::now() < deadline, "no failure reported for {task}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn opts(ms: u32) -> ShutdownOptions {
    ShutdownOptions { timeout_ms: ms }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}

fn wait(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn panicking_task_is_reported_and_the_process_lives() {
    let _s = serial();
    let failures = Arc::new(Failures::default());
    set_task_failure_listener(Some(failures.clone()));
    runtime::spawn("boom", TaskKind::Finite, async { panic!("kaboom") }).unwrap();
    let failure = failures.wait_for("boom");
    assert_eq!(
        failure.reason,
        TaskFailureReason::Panic {
            message: "kaboom".into()
        }
    );
    // The runtime still serves calls.
    assert_eq!(block_on(runtime::run("after", async { Ok(7) })), Ok(7));
    set_task_failure_listener(None);
}

#[test]
fn infinite_task_that_ends_is_reported_as_early_termination() {
    let _s = serial();
    let failures = Arc::new(Failures::default());
    set_task_failure_listener(Some(failures.clone()));
    runtime::spawn("short-lived", TaskKind::Infinite, async { Ok(()) }).unwrap();
    runtime::spawn("fails", TaskKind::Fallible, async {
        Err("disk full".to_owned())
    })
    .unwrap();
    assert_eq!(
        failures.wait_for("short-lived").reason,
        TaskFailureReason::EarlyTermination
    );
    assert_eq!(
        failures.wait_for("fails").reason,
        TaskFailureReason::Error {
            message: "disk full".into()
        }
    );
    set_task_failure_listener(None);
}

/// A failure listener that throws (a panic, as UniFFI makes of a foreign
/// exception) is seen to run, and the core carries on: it still serves
/// calls and still calls the listener for the next failure.
#[test]
fn throwing_failure_listener_does_not_stop_the_core() {
    let _s = serial();
    #[derive(Default)]
    struct Throws(AtomicU64);
    impl TaskFailureListener for Throws {
        fn on_failure(&self, _: TaskFailure) {
            self.0.fetch_add(1, Ordering::SeqCst);
            panic!("listener threw");
        }
    }
    let throws = Arc::new(Throws::default());
    set_task_failure_listener(Some(throws.clone()));
    runtime::spawn("boom-again", TaskKind::Finite, async { panic!("x") }).unwrap();
    wait("the throwing listener to run", || {
        throws.0.load(Ordering::SeqCst) == 1
    });
    assert_eq!(
        block_on(runtime::run("still-alive", async { Ok(1) })),
        Ok(1)
    );
    runtime::spawn("boom-thrice", TaskKind::Finite, async { panic!("y") }).unwrap();
    wait("the throwing listener to run again", || {
        throws.0.load(Ordering::SeqCst) == 2
    });
    set_task_failure_listener(None);
}

#[test]
fn dropped_call_aborts_its_task() {
    let _s = serial();
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicBool::new(false));
    let (d, s) = (dropped.clone(), started.clone());
    let call = runtime::run("never-ends", async move {
        let _flag = Flag(d);
        s.store(true, Ordering::SeqCst);
        std::future::pending::<()>().await;
        Ok(())
    });
    let mut call = Box::pin(call);
    // Poll once so the task is spawned, then drop the call like a cancelled coroutine.
    let waker = futures_util::task::noop_waker();
    let _ = call
        .as_mut()
        .poll(&mut std::task::Context::from_waker(&waker));
    wait("task start", || started.load(Ordering::SeqCst));
    drop(call);
    wait("task drop", || dropped.load(Ordering::SeqCst));
    wait("task gone", || {
        !runtime_stats()
            .supervised_tasks
            .iter()
            .any(|n| n.ends_with("never-ends"))
    });
}

#[test]
fn shutdown_with_1000_busy_tasks_leaves_no_task_and_no_thread() {
    let _s = serial();
    runtime::start().unwrap();
    let ignoring = Arc::new(AtomicU64::new(0));
    for i in 0..1000 {
        let ignoring = ignoring.clone();
        runtime::spawn(format!("busy-{i}"), TaskKind::Infinite, async move {
            // Ignores cancellation; yields now and then, burning CPU in between.
            loop {
                let mut x = 0u64;
                for k in 0..10_000u64 {
                    x = x.wrapping_add(k * (i as u64 | 1));
                }
                ignoring.fetch_add(x & 1, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        })
        .unwrap();
    }
    assert!(runtime_stats().alive_tasks >= 1000);
    let report = shutdown_blocking(opts(5000)).unwrap();
    assert!(
        report.tasks_abandoned.is_empty(),
        "abandoned: {:?}",
        report.tasks_abandoned
    );
    assert_eq!(report.tasks_drained, 1000);
    assert!(!report.already_shut_down);
    let stats = runtime_stats();
    assert_eq!(stats.state, RuntimeState::ShutDown);
    assert_eq!(stats.alive_tasks, 0);
    assert!(stats.supervised_tasks.is_empty());
    assert_eq!(
        matrix_mobile_core::platform::threads_named("matrix-core"),
        Some(0)
    );
}

#[test]
fn restart_gives_next_generation_and_a_working_runtime() {
    let _s = serial();
    runtime::start().unwrap();
    let before = runtime_stats().generation;
    let report = shutdown_blocking(opts(2000)).unwrap();
    assert_eq!(report.runtime_generation, before);
    let again = shutdown_blocking(opts(2000)).unwrap();
    assert!(again.already_shut_down);
    assert_eq!(block_on(runtime::run("next", async { Ok(42) })), Ok(42));
    let stats = runtime_stats();
    assert_eq!(stats.generation, before + 1);
    assert_eq!(stats.state, RuntimeState::Running);
    assert!(stats.worker_threads >= 1);
}

#[test]
fn concurrent_shutdowns_share_one_report() {
    let _s = serial();
    runtime::start().unwrap();
    for i in 0..50 {
        runtime::spawn(
            format!("idle-{i}"),
            TaskKind::Infinite,
            std::future::pending(),
        )
        .unwrap();
    }
    let callers: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| block_on(shutdown(opts(3000)))))
        .collect();
    let reports: Vec<_> = callers
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .collect();
    assert!(reports.iter().all(|r| r == &reports[0]), "{reports:?}");
    assert!(!reports[0].already_shut_down);
    assert_eq!(reports[0].tasks_drained, 50);
}

#[test]
fn shutdown_blocking_on_a_runtime_thread_is_invalid_state() {
    let _s = serial();
    let result = block_on(runtime::run("inside", async {
        Ok(shutdown_blocking(opts(100)))
    }))
    .unwrap();
    assert!(
        matches!(result, Err(CoreError::InvalidState { .. })),
        "{result:?}"
    );
}

#[test]
fn configure_runtime_while_running_is_busy_and_bad_config_is_rejected() {
    let _s = serial();
    use matrix_mobile_core::{configure_runtime, RuntimeConfig};
    runtime::start().unwrap();
    let busy = configure_runtime(RuntimeConfig {
        worker_threads: 2,
        thread_name: "x".into(),
    });
    assert!(matches!(busy, Err(CoreError::Busy { .. })));
    shutdown_blocking(opts(2000)).unwrap();
    let bad = configure_runtime(RuntimeConfig {
        worker_threads: 1000,
        thread_name: "x".into(),
    });
    assert!(matches!(bad, Err(CoreError::InvalidArgument { .. })));
    configure_runtime(RuntimeConfig {
        worker_threads: 3,
        thread_name: "matrix-core".into(),
    })
    .unwrap();
    runtime::start().unwrap();
    assert_eq!(runtime_stats().worker_threads, 3);
    shutdown_blocking(opts(2000)).unwrap();
    configure_runtime(RuntimeConfig::default()).unwrap();
}

/// Regression for the seed crash: a supervised producer/worker pair, ended by
/// the stop-collect-drop shutdown, never panics (the plain drop does).
#[test]
fn supervised_seed_pair_never_panics_at_shutdown() {
    let _s = serial();
    seed::install_panic_counter();
    let before = seed::PANICS.load(Ordering::SeqCst);
    for _ in 0..200 {
        let (producer, worker, progress) = seed::pair();
        runtime::spawn("producer", TaskKind::Infinite, async move {
            producer.await;
            Ok(())
        })
        .unwrap();
        runtime::spawn("worker", TaskKind::Infinite, async move {
            worker.await;
            Ok(())
        })
        .unwrap();
        seed::wait_progress(&progress, 20);
        // The pair is mid-exchange when the runtime stops (else nothing is tested).
        let exchanged = progress.load(Ordering::Relaxed);
        assert!(
            exchanged >= 20,
            "the pair exchanged only {exchanged} messages"
        );
        runtime::stop_with_grace(Duration::from_secs(5), Duration::ZERO, false).unwrap();
    }
    assert_eq!(seed::PANICS.load(Ordering::SeqCst) - before, 0);
}
