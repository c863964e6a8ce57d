//! Stopping the runtime: signal, collect and drop every group, then shut the
//! runtime down on the calling thread and check that its threads are gone.

use std::time::{Duration, Instant};

use tokio::runtime::{Handle, Runtime};

use super::{changed, on_runtime_thread, slot, start_locked, RuntimeState, Slot};
use crate::api::{CoreError, CoreResult};
use crate::platform;
use crate::supervisor::TaskGroup;

/// Cooperative grace inside a stop, before the gate closes.
pub(super) const GRACE: Duration = Duration::from_millis(20);

/// What [`stop`] did.
#[derive(Debug, Default, Clone)]
pub struct StopOutcome {
    /// False when there was no running runtime to stop.
    pub was_running: bool,
    pub tasks_drained: u32,
    pub tasks_abandoned: Vec<String>,
    /// Runtime threads still alive after the shutdown: 0 when every one was
    /// joined; `None` where the OS cannot tell.
    pub threads_left: Option<u32>,
    /// The generation started by a restart, else the one that was stopped.
    pub generation: u64,
}

/// What a stop takes out of the slot before it releases the lock.
pub(super) struct Parts {
    runtime: Runtime,
    handle: Handle,
    /// Client groups (newest first), then the process group.
    groups: Vec<TaskGroup>,
    foreign: bool,
    threads: super::ThreadIds,
    restart: bool,
}

/// Marks the running runtime as stopping and takes its parts; `None` when it
/// is not running. The caller holds the slot's lock.
pub(super) fn begin_locked(slot: &mut Slot, restart: bool) -> Option<Parts> {
    if slot.state != RuntimeState::Running {
        return None;
    }
    let (Some(runtime), Some(handle)) = (slot.runtime.take(), slot.handle.clone()) else {
        return None;
    };
    slot.state = RuntimeState::ShuttingDown;
    slot.restarting = restart;
    let mut groups: Vec<TaskGroup> = std::mem::take(&mut slot.clients);
    groups.reverse();
    groups.extend(slot.process.take());
    Some(Parts {
        runtime,
        handle,
        groups,
        foreign: slot.foreign_tasks,
        threads: slot.threads.clone().unwrap_or_default(),
        restart,
    })
}

/// Leaves the slot consistent (shut down, waiters woken) even if a stop
/// unwinds half way.
struct EndGuard {
    done: bool,
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        if !self.done {
            let mut slot = slot();
            slot.handle = None;
            slot.state = RuntimeState::ShutDown;
            slot.restarting = false;
            drop(slot);
            changed();
        }
    }
}

/// Stops every group, shuts the runtime down and joins its threads, then
/// (with `restart`) starts the next generation. No lock is held meanwhile.
pub(super) fn finish(parts: Parts, grace: Duration, timeout: Duration) -> CoreResult<StopOutcome> {
    let mut guard = EndGuard { done: false };
    let deadline = Instant::now() + timeout;
    let mut outcome = StopOutcome {
        was_running: true,
        ..StopOutcome::default()
    };
    for group in &parts.groups {
        let report = group.stop(&parts.handle, grace, deadline);
        outcome.tasks_drained += report.drained;
        outcome.tasks_abandoned.extend(report.abandoned);
    }
    let left_alive = parts.handle.metrics().num_alive_tasks();
    drop(parts.handle);
    parts
        .runtime
        .shutdown_timeout(deadline.saturating_duration_since(Instant::now()));
    let ids = parts
        .threads
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    outcome.threads_left = threads_after_join(&ids, deadline);
    if outcome.threads_left.is_some_and(|n| n > 0) {
        tracing::warn!(threads_left = ?outcome.threads_left, "runtime threads outlived the shutdown");
    }
    tracing::debug!(left_alive, foreign = parts.foreign, threads_left = ?outcome.threads_left, "runtime shut down");

    // The failure listener's thread goes with the generation whose tasks it
    // reported on (it ends once it has delivered what is queued).
    crate::supervisor::failure::release_lane();

    let mut slot = slot();
    slot.handle = None;
    slot.state = RuntimeState::ShutDown;
    slot.restarting = false;
    outcome.generation = slot.generation;
    let started = if parts.restart {
        start_locked(&mut slot).map(|()| slot.generation)
    } else {
        Ok(slot.generation)
    };
    guard.done = true;
    drop(slot);
    changed();
    outcome.generation = started?;
    Ok(outcome)
}

/// How long a joined thread may stay listed by the OS.
const EXIT_SETTLE: Duration = Duration::from_millis(100);

/// Runtime threads (by OS id, never by name: another thread may share the
/// name) still listed after the shutdown joined them.
///
/// Linux wakes a thread's joiner before it removes the thread from
/// `/proc/self/task`, so a thread joined a moment ago can still be listed. A
/// non-zero count is read again for up to [`EXIT_SETTLE`] before it is
/// reported, never past the stop's `deadline`; a thread that is really left
/// (not joined before the timeout) stays listed and is reported.
fn threads_after_join(ids: &[u64], deadline: Instant) -> Option<u32> {
    let settle_end = (Instant::now() + EXIT_SETTLE).min(deadline);
    loop {
        let left = platform::threads_alive(ids);
        if left.is_none_or(|n| n == 0) || Instant::now() >= settle_end {
            return left;
        }
        // This runs on the thread that stops the runtime (the drain's or the
        // shutdown's own, or a caller of `shutdown_blocking`), only while a
        // joined thread is still listed; the OS has no notification for it.
        std::thread::sleep(Duration::from_millis(1)); // allowed: see above
    }
}

/// Stops every supervised group, shuts the runtime down on this thread and
/// joins its threads; with `restart`, starts the next generation at once.
///
/// Must be called from a thread that is not one of the runtime's
/// (`InvalidState` otherwise). `timeout` bounds the whole call.
pub fn stop(timeout: Duration, restart: bool) -> CoreResult<StopOutcome> {
    stop_with_grace(timeout, GRACE, restart)
}

/// [`stop`] with an explicit cooperative grace period (benchmarks and tests).
pub fn stop_with_grace(
    timeout: Duration,
    grace: Duration,
    restart: bool,
) -> CoreResult<StopOutcome> {
    let parts = {
        let mut slot = slot();
        if slot.state == RuntimeState::Running && on_runtime_thread() {
            return Err(CoreError::invalid_state(
                "the runtime cannot be stopped from one of its own threads",
            ));
        }
        match begin_locked(&mut slot, restart) {
            Some(parts) => parts,
            None => {
                return Ok(StopOutcome {
                    generation: slot.generation,
                    ..StopOutcome::default()
                })
            }
        }
    };
    finish(parts, grace, timeout)
}

/// While held, new work gets `ShuttingDown`; dropping it (on every exit path
/// of a shutdown) lets work in again.
pub(crate) struct RefuseGuard(());

/// Refuses new work until the returned guard is dropped.
pub(crate) fn refuse_new_work() -> RefuseGuard {
    slot().refusing = true;
    changed();
    RefuseGuard(())
}

impl RefuseGuard {
    /// Whether a shutdown is refusing work right now.
    pub(crate) fn active() -> bool {
        slot().refusing
    }
}

impl Drop for RefuseGuard {
    fn drop(&mut self) {
        slot().refusing = false;
        changed();
    }
}
