//! [`Subscription`]: the handle of one listener registration.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

/// One registered listener. `cancel()` or dropping it stops delivery.
///
/// When `cancel` returns, the listener is not called again, and no call to it
/// is still running (unless `cancel` is called from inside that very call).
#[derive(uniffi::Object)]
pub struct Subscription {
    state: Arc<Delivery>,
}

/// Shared between a subscription and the task that delivers to it.
#[derive(Default)]
pub(crate) struct Delivery {
    cancelled: AtomicBool,
    token: CancellationToken,
    /// Held during each delivery, so that `cancel` can wait for it.
    in_call: Mutex<()>,
}

thread_local! {
    /// Whether this thread is inside a listener call right now.
    static DELIVERING: Cell<bool> = const { Cell::new(false) };
}

impl Delivery {
    /// Runs `deliver` unless cancelled; returns `false` once cancelled.
    pub(crate) fn deliver(&self, deliver: impl FnOnce()) -> bool {
        let _guard = self.in_call.lock().unwrap_or_else(|p| p.into_inner());
        if self.cancelled.load(Ordering::SeqCst) {
            return false;
        }
        DELIVERING.with(|d| d.set(true));
        deliver();
        DELIVERING.with(|d| d.set(false));
        true
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Cancelled together with the subscription, for delivery tasks to watch.
    pub(crate) fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.token.cancel();
        // Wait for a delivery in progress, unless called from inside a
        // listener, where waiting could be waiting for ourselves.
        if !DELIVERING.with(|d| d.get()) {
            drop(self.in_call.lock().unwrap_or_else(|p| p.into_inner()));
        }
    }
}

impl Subscription {
    pub(crate) fn new() -> (Arc<Self>, Arc<Delivery>) {
        let state = Arc::new(Delivery::default());
        (
            Arc::new(Self {
                state: state.clone(),
            }),
            state,
        )
    }
}

#[uniffi::export]
impl Subscription {
    /// Stops delivery. Idempotent.
    pub fn cancel(&self) {
        self.state.cancel();
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.state.cancel();
    }
}
