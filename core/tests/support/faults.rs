//! What every case of the fault matrix checks: no panic, every call back
//! within its bound, the stores closed, nothing left of a wiped `data_dir`,
//! and the runtime clean afterwards.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use matrix_mobile_core::{
    runtime_stats, set_task_failure_listener, CloseReport, LifecycleListener, LifecyclePhase,
    TaskFailure, TaskFailureListener, TaskFailureReason,
};

/// Listeners that panic on purpose put this in their message; the panic
/// counter counts those apart.
pub const DELIBERATE: &str = "deliberate listener panic";

static PANICS: AtomicU64 = AtomicU64::new(0);
static DELIBERATE_PANICS: AtomicU64 = AtomicU64::new(0);
static FAILURES: Mutex<Vec<TaskFailure>> = Mutex::new(Vec::new());

struct Failures;

impl TaskFailureListener for Failures {
    fn on_failure(&self, failure: TaskFailure) {
        FAILURES
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(failure);
    }
}

fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            if message.contains(DELIBERATE) {
                DELIBERATE_PANICS.fetch_add(1, Ordering::SeqCst);
            } else {
                PANICS.fetch_add(1, Ordering::SeqCst);
                default(info);
            }
        }));
        set_task_failure_listener(Some(Arc::new(Failures)));
    });
}

/// Panics on purpose, counted apart by the hook.
pub fn deliberate_panics() -> u64 {
    DELIBERATE_PANICS.load(Ordering::SeqCst)
}

/// One case of the matrix. Cases run one at a time: they share the
/// process's runtime, and [`Case::end`] checks it.
pub struct Case {
    name: &'static str,
    started: Instant,
    panics: u64,
    failures: usize,
    _serial: MutexGuard<'static, ()>,
}

impl Case {
    pub fn begin(name: &'static str) -> Self {
        static SERIAL: Mutex<()> = Mutex::new(());
        let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        install();
        Self {
            name,
            started: Instant::now(),
            panics: PANICS.load(Ordering::SeqCst),
            failures: FAILURES.lock().unwrap_or_else(|p| p.into_inner()).len(),
            _serial: serial,
        }
    }

    /// Checks that nothing panicked during the case (no panic hook call, no
    /// task reported as panicked) and that the runtime is clean.
    pub fn end(self) {
        let panics = PANICS.load(Ordering::SeqCst) - self.panics;
        let failures = FAILURES.lock().unwrap_or_else(|p| p.into_inner())[self.failures..].to_vec();
        assert_eq!(panics, 0, "{}: {panics} panics", self.name);
        let panicked: Vec<_> = failures
            .iter()
            .filter(|f| matches!(f.reason, TaskFailureReason::Panic { .. }))
            .collect();
        assert!(panicked.is_empty(), "{}: {panicked:?}", self.name);
        if !failures.is_empty() {
            eprintln!("{}: task failures reported: {failures:?}", self.name);
        }
        assert_runtime_clean(self.name);
        eprintln!(
            "{}: ok in {:.1} s",
            self.name,
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// No live client, no supervised task, and no task alive on the runtime
/// (what a fresh generation has), within 10 s.
pub fn assert_runtime_clean(what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = runtime_stats();
        if stats.live_clients == 0 && stats.supervised_tasks.is_empty() && stats.alive_tasks == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the runtime is not clean: {stats:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `call` on a thread of its own and returns its result and how long
/// it took; fails the test if it does not return within `bound` (the
/// thread is then left behind, and the test fails anyway).
pub fn within<T: Send + 'static>(
    what: &str,
    bound: Duration,
    call: impl FnOnce() -> T + Send + 'static,
) -> (T, Duration) {
    let started = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(call());
    });
    match rx.recv_timeout(bound) {
        Ok(result) => {
            let took = started.elapsed();
            eprintln!("{what}: returned in {} ms", took.as_millis());
            (result, took)
        }
        Err(_) => panic!("{what} did not return within {bound:?}"),
    }
}

/// The bound of a call whose own bound is `timeout`: the contract's
/// "`timeout` plus a bounded margin" for the local steps. 3 s: the local
/// part of a drain takes well under 100 ms in a debug build on two cores,
/// a listener's end signal holds it 1 s at most (measured worst: 1.56 s
/// for a 1.5 s server timeout, 2.1 s for 5 s), and a drain that waited a
/// local step's own 5 s bound fails it.
pub fn bound(timeout: Duration) -> Duration {
    timeout + Duration::from_secs(3)
}

/// The stores are closed, and the drain of the last live client dropped
/// its matrix client and restarted the runtime.
pub fn assert_drained(what: &str, report: impl Into<CloseReport>) {
    let report = report.into();
    assert_eq!(report.store_files_open_after, Some(0), "{what}: {report:?}");
    assert!(report.client_dropped, "{what}: {report:?}");
    assert_eq!(report.tasks_left_behind, 0, "{what}: {report:?}");
    eprintln!(
        "{what}: server_logout={:?} total_ms={} restarted={} warnings={:?}",
        report.server_logout, report.total_ms, report.runtime_restarted, report.warnings
    );
}

/// A fresh `data_dir` inside `root`, so that a wipe can be checked to leave
/// `root` empty (no directory, no tombstone).
pub fn data_dir_in(root: &Path) -> PathBuf {
    root.join("data")
}

/// Nothing is left of a wiped `data_dir` made by [`data_dir_in`].
pub fn assert_wiped(what: &str, root: &Path) {
    let left: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{what}: left after the wipe: {left:?}");
}

/// An action to run once when a phase begins.
type Trigger = (LifecyclePhase, Box<dyn FnOnce() + Send>);

/// Records the phases of a logout or close, and runs `on` once when
/// `phase` begins.
pub struct Phases {
    seen: Mutex<Vec<LifecyclePhase>>,
    trigger: Mutex<Option<Trigger>>,
}

impl Phases {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            seen: Mutex::new(Vec::new()),
            trigger: Mutex::new(None),
        })
    }

    pub fn on(phase: LifecyclePhase, action: impl FnOnce() + Send + 'static) -> Arc<Self> {
        let phases = Self::new();
        *phases.trigger.lock().unwrap() = Some((phase, Box::new(action)));
        phases
    }

    pub fn seen(&self) -> Vec<LifecyclePhase> {
        self.seen.lock().unwrap().clone()
    }
}

impl LifecycleListener for Phases {
    fn on_phase(&self, phase: LifecyclePhase, _elapsed_ms: u64) {
        self.seen.lock().unwrap().push(phase);
        let mut trigger = self.trigger.lock().unwrap();
        if trigger.as_ref().is_some_and(|(p, _)| *p == phase) {
            if let Some((_, action)) = trigger.take() {
                drop(trigger);
                action();
            }
        }
    }
}
