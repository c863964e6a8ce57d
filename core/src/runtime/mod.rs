//! The one runtime the core owns.
//!
//! There is exactly one multi-thread tokio runtime per process at a time,
//! numbered by a generation. It starts on first use, and [`stop`] ends it:
//! every supervised group is stopped (signal, collect, drop), then the runtime
//! is shut down on the calling thread, which is never one of its own, and its
//! threads are joined. A restart starts generation + 1 at once.

mod config;

pub use config::{RuntimeConfig, RuntimeState};

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, Runtime};

use crate::error::{CoreError, CoreResult};
use crate::platform;
use crate::supervisor::{wait_until, TaskGroup};

/// How long a call waits for a runtime restart (not a shutdown) to finish.
const RESTART_WAIT: Duration = Duration::from_secs(10);
/// Cooperative grace inside a stop, before the gate closes.
const GRACE: Duration = Duration::from_millis(20);

struct Slot {
    state: RuntimeState,
    restarting: bool,
    generation: u64,
    config: RuntimeConfig,
    runtime: Option<Runtime>,
    handle: Option<Handle>,
    /// The process group of this generation, then every client group.
    groups: Vec<TaskGroup>,
    /// Whether a matrix client ran in this generation; its own tasks never end
    /// by themselves, so a stop does not wait for the alive count to reach 0.
    foreign_tasks: bool,
    /// Clients holding a group in this generation that have not been released.
    live_clients: u32,
    /// A process shutdown has begun: new work gets `ShuttingDown`.
    refusing: bool,
}

static SLOT: Mutex<Slot> = Mutex::new(Slot {
    state: RuntimeState::NotStarted,
    restarting: false,
    generation: 0,
    config: RuntimeConfig {
        worker_threads: 0,
        thread_name: String::new(),
    },
    runtime: None,
    handle: None,
    groups: Vec::new(),
    foreign_tasks: false,
    live_clients: 0,
    refusing: false,
});
static CHANGED: Condvar = Condvar::new();

fn slot() -> MutexGuard<'static, Slot> {
    SLOT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sets the configuration of the next runtime. `Busy` while one runs.
pub fn configure(config: RuntimeConfig) -> CoreResult<()> {
    config.validate()?;
    let mut slot = slot();
    match slot.state {
        RuntimeState::NotStarted | RuntimeState::ShutDown => {
            slot.config = config;
            Ok(())
        }
        RuntimeState::Running | RuntimeState::ShuttingDown => {
            Err(CoreError::busy("the runtime is already running"))
        }
    }
}

fn start(slot: &mut Slot) -> CoreResult<Handle> {
    if slot.config.thread_name.is_empty() {
        slot.config = RuntimeConfig::default();
    }
    let workers = slot.config.effective_workers();
    let prefix = slot.config.thread_name.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers as usize)
        .thread_name(prefix)
        .enable_all()
        .build()
        .map_err(|e| CoreError::internal(format!("could not start the runtime: {e}")))?;
    let handle = runtime.handle().clone();
    slot.generation += 1;
    slot.state = RuntimeState::Running;
    slot.restarting = false;
    slot.runtime = Some(runtime);
    slot.handle = Some(handle.clone());
    slot.foreign_tasks = false;
    slot.live_clients = 0;
    slot.groups = vec![TaskGroup::new(format!("core#{}", slot.generation), None)];
    tracing::debug!(generation = slot.generation, workers, "runtime started");
    CHANGED.notify_all();
    Ok(handle)
}

/// Waits out a restart; errors when the runtime is shutting down for good.
fn running(mut slot: MutexGuard<'static, Slot>) -> CoreResult<MutexGuard<'static, Slot>> {
    let deadline = Instant::now() + RESTART_WAIT;
    loop {
        if slot.refusing {
            return Err(CoreError::ShuttingDown);
        }
        match slot.state {
            RuntimeState::Running => return Ok(slot),
            RuntimeState::NotStarted | RuntimeState::ShutDown => {
                start(&mut slot)?;
                return Ok(slot);
            }
            RuntimeState::ShuttingDown if slot.restarting => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(CoreError::timeout("waiting for the runtime restart"));
                }
                slot = CHANGED
                    .wait_timeout(slot, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            RuntimeState::ShuttingDown => return Err(CoreError::ShuttingDown),
        }
    }
}

/// The runtime's handle, starting the runtime if none runs.
///
/// During a restart it waits (bounded) for the new generation; during a
/// shutdown it returns `ShuttingDown`.
pub fn handle() -> CoreResult<Handle> {
    let slot = running(slot())?;
    slot.handle
        .clone()
        .ok_or_else(|| CoreError::internal("running runtime without a handle"))
}

/// The process group of the current generation, starting the runtime if needed.
pub fn process_group() -> CoreResult<(Handle, TaskGroup)> {
    let slot = running(slot())?;
    let handle = slot
        .handle
        .clone()
        .ok_or_else(|| CoreError::internal("running runtime without a handle"))?;
    let group = slot
        .groups
        .first()
        .cloned()
        .ok_or_else(|| CoreError::internal("running runtime without a process group"))?;
    Ok((handle, group))
}

/// A new task group for one client in the current generation, with the
/// generation it belongs to.
pub fn client_group(name: &str) -> CoreResult<(Handle, TaskGroup, u64)> {
    let mut slot = running(slot())?;
    let handle = slot
        .handle
        .clone()
        .ok_or_else(|| CoreError::internal("running runtime without a handle"))?;
    let parent = slot.groups.first().map(|g| g.token().clone());
    let group = TaskGroup::new(name, parent.as_ref());
    slot.groups.retain(|g| g.is_open() || !g.is_empty());
    slot.groups.push(group.clone());
    slot.foreign_tasks = true;
    slot.live_clients += 1;
    Ok((handle, group, slot.generation))
}

/// A snapshot for `runtime_stats`.
pub struct Snapshot {
    pub generation: u64,
    pub live_clients: u32,
    pub state: RuntimeState,
    pub alive_tasks: u64,
    pub supervised_tasks: Vec<String>,
    pub worker_threads: u32,
}

/// Reads the runtime's state and tokio's metrics without starting anything.
pub fn snapshot() -> Snapshot {
    let slot = slot();
    let (alive_tasks, worker_threads) = match (&slot.handle, slot.state) {
        (Some(h), RuntimeState::Running | RuntimeState::ShuttingDown) => {
            let m = h.metrics();
            (m.num_alive_tasks() as u64, m.num_workers() as u32)
        }
        _ => (0, 0),
    };
    Snapshot {
        generation: slot.generation,
        live_clients: if slot.state == RuntimeState::ShutDown {
            0
        } else {
            slot.live_clients
        },
        state: slot.state,
        alive_tasks,
        supervised_tasks: slot.groups.iter().flat_map(|g| g.task_names()).collect(),
        worker_threads,
    }
}

/// Tasks on the runtime that the supervisor does not own (matrix-sdk's,
/// hyper's), from tokio's alive-task count. 0 when no runtime runs.
pub fn unsupervised_tasks() -> u64 {
    let s = snapshot();
    s.alive_tasks
        .saturating_sub(s.supervised_tasks.len() as u64)
}

/// The current generation (0 before the first start).
pub fn generation() -> u64 {
    slot().generation
}

/// Whether the calling thread is one of the owned runtime's threads.
pub fn on_runtime_thread() -> bool {
    Handle::try_current().is_ok()
}

/// What [`stop`] did.
#[derive(Debug, Default, Clone)]
pub struct StopOutcome {
    /// False when there was no running runtime to stop.
    pub was_running: bool,
    pub tasks_drained: u32,
    pub tasks_abandoned: Vec<String>,
    /// Runtime threads still alive after the shutdown (where the OS tells).
    pub threads_left: Option<u32>,
    /// The generation started by a restart, else the one that was stopped.
    pub generation: u64,
}

/// Stops every supervised group, shuts the runtime down on this thread and
/// joins its threads; with `restart`, starts the next generation at once.
///
/// Must be called from a thread that is not one of the runtime's
/// (`InvalidState` otherwise). `timeout` bounds the whole call.
pub fn stop(timeout: Duration, restart: bool) -> CoreResult<StopOutcome> {
    stop_if(timeout, GRACE, restart, |_| true)
}

/// [`stop`] with an explicit cooperative grace period (benchmarks and tests).
pub fn stop_with_grace(
    timeout: Duration,
    grace: Duration,
    restart: bool,
) -> CoreResult<StopOutcome> {
    stop_if(timeout, grace, restart, |_| true)
}

/// Refuses new work from now on (`ShuttingDown`), until the next [`stop`].
pub fn refuse_new_work() {
    slot().refusing = true;
}

/// Releases a client of `generation`. When it was the last live client of the
/// running generation, restarts the runtime (as [`stop`] with `restart`) and
/// returns what the stop did; otherwise `None`. `on_restart` runs once the
/// restart is decided, before it begins.
pub fn release_client(
    generation: u64,
    timeout: Duration,
    restart_if_last: bool,
    on_restart: impl FnOnce(),
) -> CoreResult<Option<StopOutcome>> {
    let mut released = false;
    let mut on_restart = Some(on_restart);
    let outcome = stop_if(timeout, GRACE, true, |slot| {
        if slot.generation == generation && !released {
            slot.live_clients = slot.live_clients.saturating_sub(1);
            released = true;
        }
        let last = restart_if_last
            && slot.generation == generation
            && slot.live_clients == 0
            && !slot.refusing
            && slot.state == RuntimeState::Running;
        if let (true, Some(f)) = (last, on_restart.take()) {
            f();
        }
        last
    })?;
    Ok(outcome.was_running.then_some(outcome))
}

fn stop_if(
    timeout: Duration,
    grace: Duration,
    restart: bool,
    mut proceed: impl FnMut(&mut Slot) -> bool,
) -> CoreResult<StopOutcome> {
    let deadline = Instant::now() + timeout;
    let (runtime, handle, groups, foreign, prefix) = {
        let mut slot = slot();
        let go = proceed(&mut slot);
        if go && slot.state == RuntimeState::Running && on_runtime_thread() {
            return Err(CoreError::invalid_state(
                "the runtime cannot be stopped from one of its own threads",
            ));
        }
        if slot.state != RuntimeState::Running || !go {
            return Ok(StopOutcome {
                generation: slot.generation,
                ..StopOutcome::default()
            });
        }
        slot.state = RuntimeState::ShuttingDown;
        slot.restarting = restart;
        let (Some(runtime), Some(handle)) = (slot.runtime.take(), slot.handle.clone()) else {
            return Err(CoreError::internal("running runtime without its parts"));
        };
        (
            runtime,
            handle,
            std::mem::take(&mut slot.groups),
            slot.foreign_tasks,
            slot.config.thread_name.clone(),
        )
    };

    let mut outcome = StopOutcome {
        was_running: true,
        ..StopOutcome::default()
    };
    // Client groups first, then the process group that may be awaiting them.
    for group in groups.iter().rev() {
        let report = group.stop(&handle, grace, deadline);
        outcome.tasks_drained += report.drained;
        outcome.tasks_abandoned.extend(report.abandoned);
    }
    // Without matrix clients every task is ours: wait for tokio to agree.
    // With them, matrix-sdk's own tasks never end by themselves; their stores
    // are closed already and the shutdown below drops them.
    let metrics = handle.metrics();
    if !foreign {
        wait_until(deadline, || metrics.num_alive_tasks() == 0);
    }
    let left_alive = metrics.num_alive_tasks();
    drop(handle);
    runtime.shutdown_timeout(deadline.saturating_duration_since(Instant::now()));
    outcome.threads_left = platform::threads_named(&prefix);
    tracing::debug!(left_alive, foreign, threads_left = ?outcome.threads_left, "runtime shut down");

    let mut slot = slot();
    slot.handle = None;
    slot.state = RuntimeState::ShutDown;
    slot.refusing = false;
    outcome.generation = slot.generation;
    if restart {
        start(&mut slot)?;
        outcome.generation = slot.generation;
    }
    CHANGED.notify_all();
    Ok(outcome)
}
