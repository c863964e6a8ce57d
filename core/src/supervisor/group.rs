//! [`TaskGroup`]: the tasks of one owner (the process, or one client), stopped
//! together by signal, collect, drop.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::runtime::Handle;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::failure::{self, panic_message, TaskFailureReason};
use super::gate::{drop_quietly, Gate, Gated, Slot};

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

struct Entry {
    name: String,
    slot: Arc<Slot>,
    abort: AbortHandle,
}

struct Inner {
    name: String,
    token: CancellationToken,
    tracker: TaskTracker,
    gate: Arc<Gate>,
    tasks: Mutex<HashMap<u64, Entry>>,
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
                tasks: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(0),
            }),
        }
    }

    fn tasks(&self) -> MutexGuard<'_, HashMap<u64, Entry>> {
        self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner())
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
        !self.inner.tracker.is_closed() && !self.inner.gate.is_closed()
    }

    /// Names of the group's tasks that have not ended.
    pub fn task_names(&self) -> Vec<String> {
        self.tasks().values().map(|e| e.name.clone()).collect()
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
    /// Returns `None` when the group is closed; the future is dropped unpolled.
    pub fn spawn<F>(
        &self,
        handle: &Handle,
        name: &str,
        kind: TaskKind,
        future: F,
    ) -> Option<AbortHandle>
    where
        F: Future<Output = Result<(), String>> + Send + 'static,
    {
        if !self.is_open() {
            return None;
        }
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let full_name = format!("{}::{}", self.inner.name, name);
        let report_name = full_name.clone();
        let group = Arc::downgrade(&self.inner);
        let token = self.inner.token.clone();
        let watched = async move {
            let outcome = AssertUnwindSafe(future).catch_unwind().await;
            match outcome {
                Err(payload) => failure::report(
                    &report_name,
                    TaskFailureReason::Panic {
                        message: panic_message(payload.as_ref()),
                    },
                ),
                Ok(Err(message)) if kind == TaskKind::Fallible => {
                    failure::report(&report_name, TaskFailureReason::Error { message })
                }
                Ok(_) if kind == TaskKind::Infinite && !token.is_cancelled() => {
                    failure::report(&report_name, TaskFailureReason::EarlyTermination)
                }
                Ok(_) => {}
            }
        };
        let slot = Slot::new(Box::pin(watched));
        let gated = Gated {
            gate: self.inner.gate.clone(),
            slot: slot.clone(),
            on_drop: Some(Box::new(move || {
                if let Some(group) = group.upgrade() {
                    group
                        .tasks
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&id);
                }
            })),
        };
        // Hold the table's lock across the spawn so that a task that ends at
        // once cannot try to remove its entry before it was inserted.
        let mut tasks = self.tasks();
        let join = self.inner.tracker.spawn_on(gated, handle);
        let abort = join.abort_handle();
        tasks.insert(
            id,
            Entry {
                name: full_name,
                slot,
                abort: abort.clone(),
            },
        );
        Some(abort)
    }

    /// Refuses new tasks and cancels the token, without waiting. For a group
    /// whose tasks have all ended (a client whose creation failed).
    pub fn close(&self) {
        self.inner.token.cancel();
        self.inner.tracker.close();
    }

    /// Stops the group: signal, collect, drop.
    ///
    /// 1. cancels the token, closes the tracker and gives cooperative tasks
    ///    `grace` to end by themselves;
    /// 2. closes the gate, so no task's code is polled again;
    /// 3. waits until no poll is in progress;
    /// 4. drops every remaining future on this thread, inside `handle`'s
    ///    context, and aborts the empty task shells;
    /// 5. waits for the tracker until `deadline`.
    ///
    /// It blocks the calling thread; call it from a thread that is not one of
    /// the runtime's workers (or from `spawn_blocking`).
    pub fn stop(&self, handle: &Handle, grace: Duration, deadline: Instant) -> StopReport {
        let before = self.len() as u32;
        self.inner.token.cancel();
        self.inner.tracker.close();
        let grace_end = (Instant::now() + grace).min(deadline);
        wait_until(grace_end, || self.is_empty());

        self.inner.gate.close();
        let idle = self.inner.gate.wait_idle(deadline);
        if !idle {
            tracing::warn!(group = %self.inner.name, "a supervised poll did not return before the deadline");
        }

        let _entered = handle.enter();
        let remaining: Vec<(Arc<Slot>, AbortHandle)> = self
            .tasks()
            .values()
            .map(|e| (e.slot.clone(), e.abort.clone()))
            .collect();
        for (slot, abort) in remaining {
            if idle {
                drop_quietly(slot.take());
            }
            abort.abort();
        }
        if idle {
            self.tasks().clear();
        }
        wait_until(deadline, || self.is_empty());
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

/// Polls `done` in short sleeps until it is true or `deadline` passes.
pub(crate) fn wait_until(deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}
