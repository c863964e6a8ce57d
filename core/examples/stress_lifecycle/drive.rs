//! Driving one future by hand: a real waker, a bound, and an optional
//! cancellation half way (the future is dropped after a few polls), the way a
//! Kotlin coroutine or a Python task is cancelled.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// Parks the driving thread until the future's waker fires.
#[derive(Default)]
struct Parker {
    woken: Mutex<bool>,
    signal: Condvar,
}

impl Wake for Parker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        *self.woken.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.signal.notify_one();
    }
}

impl Parker {
    /// Waits for a wake-up or `timeout`, whichever comes first.
    fn park(&self, timeout: Duration) {
        let woken = self.woken.lock().unwrap_or_else(|p| p.into_inner());
        let (mut woken, _) = self
            .signal
            .wait_timeout_while(woken, timeout, |w| !*w)
            .unwrap_or_else(|p| p.into_inner());
        *woken = false;
    }
}

/// When to give up on a future on purpose.
#[derive(Clone, Copy, Debug)]
pub struct CancelPlan {
    /// Drop it after this many polls that returned `Pending`...
    pub after_polls: u32,
    /// ...or once this much time has passed, whichever comes first.
    pub after: Duration,
}

/// How a driven call ended.
pub enum Outcome<T> {
    Done(T),
    /// Dropped on purpose while pending.
    Cancelled,
    /// Still pending at its bound; it was dropped.
    OverBound,
    /// A poll (or the drop) panicked.
    Panicked(String),
}

/// Polls `fut` on this thread until it is ready, its bound passes, or the
/// cancel plan says to drop it.
///
/// A poll that blocks (a deadlock inside the core) is not seen here: the
/// watchdog catches that.
pub fn drive<F: Future>(fut: F, bound: Duration, cancel: Option<CancelPlan>) -> Outcome<F::Output> {
    let started = Instant::now();
    let parker = Arc::new(Parker::default());
    let waker = Waker::from(parker.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = Box::pin(fut);
    let mut polls = 0u32;
    loop {
        let polled = catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx)));
        polls += 1;
        match polled {
            Ok(Poll::Ready(value)) => return Outcome::Done(value),
            Ok(Poll::Pending) => {}
            Err(payload) => {
                // The future is in an unknown state; dropping it may panic again.
                let _ = catch_unwind(AssertUnwindSafe(|| drop(fut)));
                return Outcome::Panicked(panic_text(payload.as_ref()));
            }
        }
        let elapsed = started.elapsed();
        if let Some(plan) = cancel {
            if polls >= plan.after_polls || elapsed >= plan.after {
                return dropped(fut, Outcome::Cancelled);
            }
        }
        if elapsed >= bound {
            return dropped(fut, Outcome::OverBound);
        }
        let mut wait = bound - elapsed;
        if let Some(plan) = cancel {
            wait = wait.min(plan.after.saturating_sub(elapsed));
        }
        parker.park(wait.max(Duration::from_micros(50)));
    }
}

/// Drops a pending future, turning a panic in its `Drop` into an outcome.
fn dropped<F: Future>(
    fut: std::pin::Pin<Box<F>>,
    outcome: Outcome<F::Output>,
) -> Outcome<F::Output> {
    match catch_unwind(AssertUnwindSafe(|| drop(fut))) {
        Ok(()) => outcome,
        Err(payload) => Outcome::Panicked(format!(
            "while dropping the future: {}",
            panic_text(payload.as_ref())
        )),
    }
}

/// Runs a synchronous call, turning a panic into an outcome.
pub fn run_sync<T>(call: impl FnOnce() -> T) -> Outcome<T> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(value) => Outcome::Done(value),
        Err(payload) => Outcome::Panicked(panic_text(payload.as_ref())),
    }
}

/// The text of a panic payload, when it has one.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
