//! Dropping a call's future after its Nth poll, as a foreign executor does
//! when the app cancels (Kotlin drops the coroutine, Python the task).

#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// A waker that a test thread can wait on.
#[derive(Default)]
struct Signal {
    woken: Mutex<bool>,
    cond: Condvar,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        *self.woken.lock().unwrap() = true;
        self.cond.notify_all();
    }
}

impl Signal {
    /// Waits for a wake-up; panics when none comes (a call that hangs).
    fn wait(&self, what: &str) {
        let woken = self.woken.lock().unwrap();
        let (mut woken, timeout) = self
            .cond
            .wait_timeout_while(woken, Duration::from_secs(30), |w| !*w)
            .unwrap();
        assert!(!timeout.timed_out(), "{what}: no wake-up within 30 s");
        *woken = false;
    }
}

/// Polls `future` at most `polls` times, waiting for its wake-up between
/// polls, then drops it. `Some(output)` when it completed first.
pub fn poll_then_drop<F: Future>(what: &str, future: F, polls: usize) -> Option<F::Output> {
    poll_n(what, future, polls, false)
}

/// Polls `future` at most `polls` times like [`poll_then_drop`]; if it is
/// still pending, waits for its next wake-up (its work answered, or moved
/// on) and drops it without polling again: a cancellation that arrives when
/// the answer is already there.
pub fn poll_then_drop_at_wake<F: Future>(what: &str, future: F, polls: usize) -> Option<F::Output> {
    poll_n(what, future, polls, true)
}

fn poll_n<F: Future>(what: &str, future: F, polls: usize, wait_last: bool) -> Option<F::Output> {
    let signal = Arc::new(Signal::default());
    let waker = Waker::from(signal.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    for n in 0..polls {
        if n > 0 {
            signal.wait(what);
        }
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
    }
    if wait_last && polls > 0 {
        signal.wait(what);
    }
    None
}
