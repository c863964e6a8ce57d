//! The gate: a switch in front of every supervised future.
//!
//! While the gate is open, a [`Gated`] future polls its inner future. Once the
//! gate is closed, a wake-up polls only the gate, which answers `Pending`, and
//! the inner future is never polled again. [`Gate::wait_idle`] then waits until
//! no poll is in progress anywhere, after which the owner may drop every inner
//! future in any order: no task's code can observe another task's data going
//! away, because no task's code runs any more.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Instant;

/// A boxed supervised future, already wrapped with panic catching.
pub(crate) type TaskFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Whether supervised futures may still be polled, and how many polls run now.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    closed: AtomicBool,
    polls_in_progress: AtomicUsize,
    /// Wakes [`Gate::wait_idle`] when the last poll ends after the gate closed.
    idle_lock: Mutex<()>,
    idle: Condvar,
}

impl Gate {
    /// Closes the gate. Polls that already passed it finish; no new one starts.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Waits, with a bound, until no poll of a gated future is in progress.
    ///
    /// Returns `false` when `deadline` passed first. Call only after
    /// [`Gate::close`]; it blocks the calling thread on a condition variable
    /// that the last poll to end signals, so it must not run on a thread
    /// whose poll it is waiting for.
    pub(crate) fn wait_idle(&self, deadline: Instant) -> bool {
        let mut guard = self.idle_lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.polls_in_progress.load(Ordering::SeqCst) == 0 {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            guard = self
                .idle
                .wait_timeout(guard, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// One poll ended; wakes a waiter when it was the last one after closing.
    fn poll_ended(&self) {
        let before = self.polls_in_progress.fetch_sub(1, Ordering::SeqCst);
        if before == 1 && self.is_closed() {
            // Taking the lock orders this wake-up after the waiter's check.
            drop(self.idle_lock.lock().unwrap_or_else(|p| p.into_inner()));
            self.idle.notify_all();
        }
    }
}

/// The slot that holds a task's inner future, shared with its group so that
/// the group can drop the future itself after the gate has closed.
#[derive(Default)]
pub(crate) struct Slot {
    future: Mutex<Option<TaskFuture>>,
}

impl Slot {
    pub(crate) fn new(future: TaskFuture) -> Arc<Self> {
        Arc::new(Self {
            future: Mutex::new(Some(future)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<TaskFuture>> {
        // A poisoned slot only means a destructor panicked; the data is an Option.
        self.future
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes the inner future out, so that the caller drops it where it chooses.
    pub(crate) fn take(&self) -> Option<TaskFuture> {
        self.lock().take()
    }
}

/// Decrements the poll counter even if the inner poll unwinds.
struct PollGuard<'a>(&'a Gate);

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.0.poll_ended();
    }
}

/// The future that tokio actually runs for a supervised task.
pub(crate) struct Gated {
    pub(crate) gate: Arc<Gate>,
    pub(crate) slot: Arc<Slot>,
    /// Runs when tokio drops the task (completed or aborted): unregisters it.
    pub(crate) on_drop: Option<Box<dyn FnOnce() + Send>>,
}

impl Future for Gated {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // Announce the poll first, then check the gate: together with `close`
        // then `wait_idle` on the other side, one of the two always sees the other.
        this.gate.polls_in_progress.fetch_add(1, Ordering::SeqCst);
        let _guard = PollGuard(&this.gate);
        if this.gate.is_closed() {
            return Poll::Pending;
        }
        let mut slot = this.slot.lock();
        let Some(future) = slot.as_mut() else {
            return Poll::Ready(());
        };
        let poll = future.as_mut().poll(cx);
        if poll.is_ready() {
            // Drop the finished future while the poll still counts as running.
            *slot = None;
        }
        poll
    }
}

impl Drop for Gated {
    fn drop(&mut self) {
        // Aborted while the gate is open: drop the inner future now, in the
        // runtime context that tokio drops the task in. After the gate closed,
        // the group drops it instead.
        if !self.gate.is_closed() {
            drop_quietly(self.slot.take());
        }
        if let Some(on_drop) = self.on_drop.take() {
            on_drop();
        }
    }
}

/// Drops a future, containing a panic of its destructor.
pub(crate) fn drop_quietly(future: Option<TaskFuture>) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(future))).is_err() {
        tracing::error!("a supervised future panicked while being dropped");
    }
}
