//! The one runtime the core owns.
//!
//! There is exactly one multi-thread tokio runtime per process at a time,
//! numbered by a generation. It starts on first use, and [`stop`] ends it:
//! every supervised group is stopped (signal, collect, drop), then the runtime
//! is shut down on the calling thread, which is never one of its own, and its
//! threads are joined. A restart starts generation + 1 at once.
//!
//! No function here blocks a foreign thread: while a restart runs, async
//! callers await its end ([`ready`]) and sync callers get a typed error.

mod config;
mod lease;
mod stop;

pub(crate) use lease::{lease_client, ClientLease, Release};
pub(crate) use stop::{refuse_new_work, RefuseGuard};
pub use stop::{stop, stop_with_grace, StopOutcome};

use std::future::Future;
use std::sync::{LazyLock, Mutex, MutexGuard};

use tokio::runtime::{Handle, Runtime};
use tokio::sync::watch;

use crate::api::{CoreError, CoreResult, RuntimeConfig, RuntimeState};
use crate::supervisor::{call_with, FirstPoll, TaskGroup, TaskKind, TaskName, WhenDropped};

struct Slot {
    state: RuntimeState,
    /// A stop under way will start the next generation when it ends.
    restarting: bool,
    generation: u64,
    config: RuntimeConfig,
    runtime: Option<Runtime>,
    handle: Option<Handle>,
    /// The process group of this generation.
    process: Option<TaskGroup>,
    /// One group per client of this generation.
    clients: Vec<TaskGroup>,
    /// Whether a matrix client ran in this generation (its own tasks never
    /// end by themselves; the shutdown drops them).
    foreign_tasks: bool,
    /// Leases of this generation that have not been released.
    live_clients: u32,
    /// A process shutdown has begun: new work gets `ShuttingDown`.
    refusing: bool,
    /// The OS ids of the threads of the current (or last) generation, as each
    /// registered itself when it started: what a stop counts after the join.
    threads: Option<ThreadIds>,
}

/// The OS ids of one generation's threads.
type ThreadIds = std::sync::Arc<Mutex<Vec<u64>>>;

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
    process: None,
    clients: Vec::new(),
    foreign_tasks: false,
    live_clients: 0,
    refusing: false,
    threads: None,
});

/// Bumped on every change of state, so that async callers can await a restart.
static CHANGES: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

fn slot() -> MutexGuard<'static, Slot> {
    SLOT.lock().unwrap_or_else(|p| p.into_inner())
}

fn changed() {
    CHANGES.send_modify(|n| *n = n.wrapping_add(1));
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

fn start_locked(slot: &mut Slot) -> CoreResult<()> {
    if slot.config.thread_name.is_empty() {
        slot.config = RuntimeConfig::default();
    }
    let workers = slot.config.effective_workers();
    let threads = ThreadIds::default();
    let register = threads.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers as usize)
        .thread_name(slot.config.thread_name.clone())
        .on_thread_start(move || {
            if let Some(id) = crate::platform::current_thread_id() {
                register.lock().unwrap_or_else(|p| p.into_inner()).push(id);
            }
        })
        .enable_all()
        .build()
        .map_err(|e| CoreError::internal(format!("could not start the runtime: {e}")))?;
    slot.generation += 1;
    slot.state = RuntimeState::Running;
    slot.restarting = false;
    slot.handle = Some(runtime.handle().clone());
    slot.runtime = Some(runtime);
    slot.foreign_tasks = false;
    slot.live_clients = 0;
    slot.threads = Some(threads);
    slot.process = Some(TaskGroup::new(format!("core#{}", slot.generation), None));
    slot.clients.clear();
    tracing::debug!(generation = slot.generation, workers, "runtime started");
    Ok(())
}

/// What a caller needs to run work on the current generation.
#[derive(Clone)]
pub(crate) struct Ready {
    pub(crate) handle: Handle,
    pub(crate) process: TaskGroup,
    pub(crate) generation: u64,
}

/// The running generation, starting one if none runs. `None` while a restart
/// is under way; `ShuttingDown` during a process shutdown.
fn try_ready() -> CoreResult<Option<Ready>> {
    let mut slot = slot();
    if slot.refusing {
        return Err(CoreError::ShuttingDown);
    }
    match slot.state {
        RuntimeState::Running => {}
        RuntimeState::NotStarted | RuntimeState::ShutDown => {
            start_locked(&mut slot)?;
            drop(slot);
            changed();
            return try_ready();
        }
        RuntimeState::ShuttingDown if slot.restarting => return Ok(None),
        RuntimeState::ShuttingDown => return Err(CoreError::ShuttingDown),
    }
    match (&slot.handle, &slot.process) {
        (Some(handle), Some(process)) => Ok(Some(Ready {
            handle: handle.clone(),
            process: process.clone(),
            generation: slot.generation,
        })),
        _ => Err(CoreError::internal("running runtime without its parts")),
    }
}

/// The running generation, starting the runtime if none runs. During a
/// restart it awaits the new generation (a restart always ends: every step of
/// a stop is bounded), without blocking the polling thread.
pub(crate) async fn ready() -> CoreResult<Ready> {
    loop {
        let mut changes = CHANGES.subscribe();
        if let Some(ready) = try_ready()? {
            return Ok(ready);
        }
        if changes.changed().await.is_err() {
            return Err(CoreError::internal("the runtime's change signal is gone"));
        }
    }
}

/// Starts the runtime if none runs, without waiting: `Busy` during a restart.
pub fn start() -> CoreResult<u64> {
    match try_ready()? {
        Some(ready) => Ok(ready.generation),
        None => Err(CoreError::busy("the runtime is restarting")),
    }
}

/// The handle of `generation`, for work of a client of that generation.
///
/// `ShuttingDown` during a process shutdown (unless `for_drain`, which must
/// finish its work), `ClientClosed` when that generation has ended.
pub(crate) fn handle_of(generation: u64, for_drain: bool) -> CoreResult<Handle> {
    let slot = slot();
    if slot.refusing && !for_drain {
        return Err(CoreError::ShuttingDown);
    }
    match (&slot.handle, slot.generation == generation) {
        (Some(handle), true) if slot.state != RuntimeState::ShutDown => Ok(handle.clone()),
        _ => Err(CoreError::ClientClosed),
    }
}

/// Runs `work` as a supervised call in the process group, awaiting a restart
/// if one runs; dropping the returned future aborts the work.
pub async fn run<T, F>(name: &'static str, work: F) -> CoreResult<T>
where
    T: Send + 'static,
    F: Future<Output = CoreResult<T>> + Send + 'static,
{
    run_with(name, FirstPoll::Worker, work).await
}

/// [`run`] with the choice of where the work's first poll happens.
pub async fn run_with<T, F>(name: &'static str, first_poll: FirstPoll, work: F) -> CoreResult<T>
where
    T: Send + 'static,
    F: Future<Output = CoreResult<T>> + Send + 'static,
{
    let ready = ready().await?;
    call_with(
        &ready.handle,
        &ready.process,
        name,
        (WhenDropped::Abort, first_poll),
        CoreError::ShuttingDown,
        work,
    )
    .await
}

/// Spawns a named task in the process group of the current generation,
/// starting the runtime if needed; `Busy` during a restart.
pub fn spawn<F>(
    name: impl Into<TaskName>,
    kind: TaskKind,
    future: F,
) -> CoreResult<tokio::task::AbortHandle>
where
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    let ready = try_ready()?.ok_or_else(|| CoreError::busy("the runtime is restarting"))?;
    ready
        .process
        .spawn(&ready.handle, name, kind, future)
        .map(|join| join.abort_handle())
        .ok_or(CoreError::ShuttingDown)
}

/// A snapshot for `runtime_stats`.
pub struct Snapshot {
    pub generation: u64,
    /// Leases of the running generation not yet released (what a restart
    /// decision counts); 0 once shut down. Not the live clients: those are
    /// counted from the clients (`runtime_stats().live_clients`).
    pub leased_clients: u32,
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
        leased_clients: if slot.state == RuntimeState::ShutDown {
            0
        } else {
            slot.live_clients
        },
        state: slot.state,
        alive_tasks,
        supervised_tasks: slot
            .process
            .iter()
            .chain(slot.clients.iter())
            .flat_map(|g| g.task_names())
            .collect(),
        worker_threads,
    }
}

/// Resolves once a process shutdown refuses new work.
pub(crate) async fn refusing() {
    let mut changes = CHANGES.subscribe();
    while !slot().refusing {
        if changes.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Threads of the current or last generation that the OS still lists (0
/// before the first start); `None` where the platform cannot tell.
pub(crate) fn threads_alive() -> Option<u32> {
    let ids = match slot().threads.clone() {
        Some(threads) => threads.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        None => Vec::new(),
    };
    crate::platform::threads_alive(&ids)
}

/// The current generation (0 before the first start).
pub fn generation() -> u64 {
    slot().generation
}

/// Whether the calling thread is one of a tokio runtime's threads.
pub fn on_runtime_thread() -> bool {
    Handle::try_current().is_ok()
}
