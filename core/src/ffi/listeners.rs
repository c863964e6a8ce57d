//! Foreign listener traits of the client, and the guard around every call
//! into foreign code.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::ffi::records::{Message, SyncState};

/// Receives sync state changes; the current state comes first.
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

/// Calls foreign code, containing a throw or panic: UniFFI turns an exception
/// in a callback into a Rust panic. The failure is logged and the caller
/// carries on. Returns whether the call completed.
pub(crate) fn guard_listener(what: &str, call: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(()) => true,
        Err(payload) => {
            let message = crate::supervisor::failure::panic_message(payload.as_ref());
            tracing::error!(listener = what, %message, "a listener failed; the core carries on");
            false
        }
    }
}
