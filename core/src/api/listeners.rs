//! The foreign listener traits, and [`call_foreign`], the guard around every
//! call into one of them.
//!
//! Listeners are called from the core's threads, never while the core holds a
//! lock of its own, so a listener may call any core function.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::chat::{RoomListUpdate, TimelineUpdate};
use super::lifecycle::LifecyclePhase;
use super::process::TaskFailure;
use super::records::{Message, RoomSummary, SyncState};

/// Receives sync state changes; the current state comes first.
///
/// The last call is `on_state(Terminated)`, when the client closes, logs out
/// or is shut down (not after `cancel()`).
#[uniffi::export(foreign)]
pub trait SyncStateListener: Send + Sync {
    fn on_state(&self, state: SyncState);
}

/// Receives every text message that sync delivers.
#[uniffi::export(foreign)]
pub trait MessageListener: Send + Sync {
    fn on_message(&self, message: Message);
    /// The end signal: the client closed, logged out or was shut down. It is
    /// the listener's last call; it is not sent after `cancel()`.
    fn on_closed(&self);
}

/// Receives a room list's changes; the first call is `Reset`.
#[uniffi::export(foreign)]
pub trait RoomListListener: Send + Sync {
    fn on_update(&self, updates: Vec<RoomListUpdate>);
    /// The end signal: the handle's client ended. The last call; not sent
    /// after `cancel()`.
    fn on_closed(&self);
}

/// Receives a timeline's changes; the first call is `Reset`.
#[uniffi::export(foreign)]
pub trait TimelineListener: Send + Sync {
    fn on_update(&self, updates: Vec<TimelineUpdate>);
    /// The end signal: the timeline's client ended. The last call; not sent
    /// after `cancel()`.
    fn on_closed(&self);
}

/// Receives one room's summary: the current one first, then each time its
/// name, topic, avatar, members, unread counts or flags change.
#[uniffi::export(foreign)]
pub trait RoomListener: Send + Sync {
    fn on_update(&self, summary: RoomSummary);
    /// The end signal, as for the other listeners.
    fn on_closed(&self);
}

/// Receives who is typing in a room (the app's own user left out).
#[uniffi::export(foreign)]
pub trait TypingListener: Send + Sync {
    fn on_typing(&self, user_ids: Vec<String>);
    /// The end signal, as for the other listeners.
    fn on_closed(&self);
}

/// Receives the progress of an upload, in bytes.
#[uniffi::export(foreign)]
pub trait ProgressListener: Send + Sync {
    fn on_progress(&self, sent: u64, total: u64);
}

/// Watches a logout or close. A listener that throws is logged and ignored.
#[uniffi::export(foreign)]
pub trait LifecycleListener: Send + Sync {
    /// `phase` has begun; `elapsed_ms` is the time since the call started.
    fn on_phase(&self, phase: LifecyclePhase, elapsed_ms: u64);
}

/// Receives every task failure, of the core's tasks and of matrix-sdk's.
#[uniffi::export(foreign)]
pub trait TaskFailureListener: Send + Sync {
    fn on_failure(&self, failure: TaskFailure);
}

/// Calls foreign code, containing a throw or a panic: UniFFI turns an
/// exception in a callback into a Rust panic. The failure is logged and the
/// caller carries on. Returns whether the call completed.
pub(crate) fn call_foreign(what: &str, call: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(()) => true,
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            tracing::error!(listener = what, %message, "a listener failed; the core carries on");
            false
        }
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}
