//! [`TaskGroup`]: the tasks of one owner (the process, or one client), stopped
//! together by signal, collect, drop.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::runtime::Handle;
use tokio::task::AbortHandle;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::task_tracker::TrackedFuture;
use tokio_util::task::TaskTracker;

use super::failure;
use super::gate::{drop_quietly, Gate, Gated, Slot};
use crate::api::listeners::panic_message;
use crate::api::TaskFailureReason;

/// What a task is expected to do, as in matrix-sdk's task monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// Runs until cancelled; ending on its own is reported as early termination.
    Infinite,
    /// Runs to completion; only a panic is reported.
    Finite,
    /// Runs to completion; a panic or an `Err` is reported.
    Fallible,
}

/// A task's name within its group: a literal costs no allocation.
pub type TaskName = Cow<'static, str>;

struct Entry {
    name: TaskName,
    slot: Arc<Slot>,
    /// Set once the task is on the runtime; `None` while `spawn` hands it over.
    abort: Option<AbortHandle>,
}

/// The group's task table. `open` lives under the same lock as the entries,
/// so that a spawn and a stop never miss each other.
struct Table {
    open: bool,
    entries: HashMap<u64, Entry>,
}

struct Inner {
    name: String,
    token: CancellationToken,
    tracker: TaskTracker,
    gate: Arc<Gate>,
    table: Mutex<Table>,
    next_id: AtomicU64,
}

/// What stopping a group did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StopReport {
    /// Tasks that had not ended when the stop began and have ended now.
    pub drained: u32,
    /// Names of tasks still alive at the deadline.
    pub abandoned: Vec<String>,
}

/// A named set of supervised tasks with one cancellation token and one gate.
///
/// When [`TaskGroup::stop`] returns with an empty `abandoned` list, every task
/// of the group has ended and every one of its futures has been dropped.
#[derive(Clone)]
pub struct TaskGroup {
    inner: Arc<Inner>,
}

impl TaskGroup {
    /// A new, open group. `parent` cancels this group's token when it is cancelled.
    pub fn new(name: impl Into<String>, parent: Option<&CancellationToken>) -> Self {
        let token = parent.map_or_else(CancellationToken::new, |p| p.child_token());
        Self {
            inner: Arc::new(Inner {
                name: name.into(),
                token,
                tracker: TaskTracker::new(),
                gate: Arc::new(Gate::default()),
                table: Mutex::new(Table {
                    open: true,
                    entries: HashMap::new(),
                }),
                next_id: AtomicU64::new(0),
            }),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.inner.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The group's name, used as a prefix in task names.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The token that cooperative tasks may watch.
    pub fn token(&self) -> &CancellationToken {
        &self.inner.token
    }

    /// Whether the group still accepts tasks.
    pub fn is_open(&self) -> bool {
        self.table().open
    }

    /// Names of the group's tasks that have not ended.
    pub fn task_names(&self) -> Vec<String> {
        self.table()
            .entries
            .values()
            .map(|e| format!("{}::{}", self.inner.name, e.name))
            .collect()
    }

    /// Number of the group's tasks that have not ended.
    pub fn len(&self) -> usize {
        self.inner.tracker.len()
    }

    /// Whether every task of the group has ended.
    pub fn is_empty(&self) -> bool {
        self.inner.tracker.is_empty()
    }

    /// Spawns a named task onto `handle`, wrapped in the gate and a panic catcher.
    ///
    /// Returns `None` when the group is closed; the future is then dropped
    /// unpolled, on the calling thread. A task spawned while [`TaskGroup::stop`]
    /// runs is either seen by the stop or aborted here: it never outlives it
    /// unnoticed. No lock is held while tokio takes the task, so a runtime
    /// that is gone (which drops the task at once) cannot deadlock the spawn.
    pub fn spawn<F>(
        &self,
        handle: &Handle,
        name: impl Into<TaskName>,
        kind: TaskKind,
        future: F,
    ) -> Option<JoinHandle<()>>
    where
        F: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.prepare(name, kind, future)
            .map(|task| task.spawn(handle))
    }

    /// Registers a named task without running it: the group counts it from
    /// here on (a stop waits for it or drops it), and it must then be polled
    /// in place ([`Prepared::poll_inline`]) and/or handed to the runtime
    /// ([`Prepared::spawn`]). `None` when the group is closed; the future is
    /// then dropped unpolled.
    pub(crate) fn prepare<F>(
        &self,
        name: impl Into<TaskName>,
        kind: TaskKind,
        future: F,
    ) -> Option<Prepared>
    where
        F: Future<Output = Result<(), String>> + Send + 'static,
    {
        let name = name.into();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Slot::new(Box::pin(watch(
            self.inner.clone(),
            name.clone(),
            kind,
            future,
        )));
        let group = Arc::downgrade(&self.inner);
        let gated = Gated {
            gate: self.inner.gate.clone(),
            slot: slot.clone(),
            on_drop: Some(Box::new(move || {
                if let Some(group) = group.upgrade() {
                    let mut table = group.table.lock().unwrap_or_else(|p| p.into_inner());
                    table.entries.remove(&id);
                }
            })),
        };
        let mut table = self.table();
        if !table.open {
            drop(table);
            drop(gated);
            drop_quietly(slot.take());
            return None;
        }
        table.entries.insert(
            id,
            Entry {
                name,
                slot,
                abort: None,
            },
        );
        // The tracker counts the task from here on, so a stop's wait sees it.
        let tracked = self.inner.tracker.track_future(gated);
        drop(table);
        Some(Prepared {
            group: self.clone(),
            id,
            tracked,
        })
    }

    /// Refuses new tasks and cancels the token, without waiting. For a group
    /// whose tasks have all ended (a client whose creation failed).
    pub fn close(&self) {
        self.table().open = false;
        self.inner.token.cancel();
        self.inner.tracker.close();
    }

    /// Stops the group: signal, collect, drop.
    ///
    /// 1. refuses new tasks, cancels the token, closes the tracker and gives
    ///    cooperative tasks `grace` to end by themselves;
    /// 2. closes the gate, so no task's code is polled again;
    /// 3. waits until no poll is in progress;
    /// 4. drops every remaining future on this thread, inside `handle`'s
    ///    context, and aborts the empty task shells;
    /// 5. waits for the tracker until `deadline`.
    ///
    /// Every wait is a notification (the tracker's, the gate's), never a
    /// sleep loop. It blocks the calling thread; call it from a thread that is
    /// not one of the runtime's, while the runtime still runs.
    pub fn stop(&self, handle: &Handle, grace: Duration, deadline: Instant) -> StopReport {
        let before = self.len() as u32;
        self.close();
        let grace_end = (Instant::now() + grace).min(deadline);
        wait_tracker(handle, &self.inner.tracker, grace_end);

        self.inner.gate.close();
        let idle = self.inner.gate.wait_idle(deadline);
        if !idle {
            tracing::warn!(group = %self.inner.name, "a supervised poll did not return before the deadline");
        }

        let _entered = handle.enter();
        let remaining: Vec<(Arc<Slot>, Option<AbortHandle>)> = self
            .table()
            .entries
            .values()
            .map(|e| (e.slot.clone(), e.abort.clone()))
            .collect();
        for (slot, abort) in remaining {
            if idle {
                drop_quietly(slot.take());
            }
            if let Some(abort) = abort {
                abort.abort();
            }
        }
        wait_tracker(handle, &self.inner.tracker, deadline);
        let abandoned = if self.is_empty() {
            Vec::new()
        } else {
            self.task_names()
        };
        StopReport {
            drained: before.saturating_sub(abandoned.len() as u32),
            abandoned,
        }
    }
}

/// A registered task that has not been handed to the runtime yet
/// ([`TaskGroup::prepare`]). Dropping it drops the task like an abort.
pub(crate) struct Prepared {
    group: TaskGroup,
    id: u64,
    tracked: TrackedFuture<Gated>,
}

impl Prepared {
    /// Polls the task once on the calling thread, inside `handle`'s context and
    /// through the gate, as a worker would. `Ready` means the task has ended
    /// (its future is dropped, in that context); `Pending` means it waits for
    /// something and must be [spawned](Prepared::spawn), which polls it again
    /// with the runtime's waker.
    ///
    /// Only for work whose first poll does nothing that blocks: the caller's
    /// thread may be a foreign one (an app's main thread).
    pub(crate) fn poll_inline(&mut self, handle: &Handle, cx: &mut Context<'_>) -> Poll<()> {
        let _entered = handle.enter();
        Pin::new(&mut self.tracked).poll(cx)
    }

    /// Hands the task to `handle`'s workers.
    pub(crate) fn spawn(self, handle: &Handle) -> JoinHandle<()> {
        let Self { group, id, tracked } = self;
        let join = handle.spawn(tracked);
        let abort = join.abort_handle();
        let mut table = group.table();
        let stopping = !table.open;
        if let Some(entry) = table.entries.get_mut(&id) {
            entry.abort = Some(abort.clone());
        }
        drop(table);
        if stopping {
            abort.abort();
        }
        join
    }
}

/// Waits for `tracker` (closed) to empty, or until `deadline`, from a thread
/// that is not one of the runtime's.
fn wait_tracker(handle: &Handle, tracker: &TaskTracker, deadline: Instant) -> bool {
    if tracker.is_empty() {
        return true;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    handle.block_on(async { tokio::time::timeout(left, tracker.wait()).await.is_ok() })
}

/// Wraps a task's future: catches its panic and reports failures by kind.
/// The task's full name (`group::task`) is only built when there is
/// something to report.
async fn watch<F>(group: Arc<Inner>, name: TaskName, kind: TaskKind, future: F)
where
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    let outcome = AssertUnwindSafe(future).catch_unwind().await;
    let full_name = || format!("{}::{}", group.name, name);
    match outcome {
        Err(payload) => failure::report(
            &full_name(),
            TaskFailureReason::Panic {
                message: panic_message(payload.as_ref()),
            },
        ),
        Ok(Err(message)) if kind == TaskKind::Fallible => {
            failure::report(&full_name(), TaskFailureReason::Error { message })
        }
        Ok(_) if kind == TaskKind::Infinite && !group.token.is_cancelled() => {
            failure::report(&full_name(), TaskFailureReason::EarlyTermination)
        }
        Ok(_) => {}
    }
}
