//! The listeners the workload registers. Each one checks the subscription
//! guarantee (nothing is delivered once `cancel()` has returned) and, when
//! asked to, calls back into the core from inside the callback.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use serde_json::json;

use crate::api::{
    runtime_stats, Client, LifecycleListener, LifecyclePhase, Message, MessageListener,
    Subscription, SyncState, SyncStateListener,
};
use crate::tally::tally;

/// A message or sync-state listener.
pub struct Probe {
    /// Weak, as an app's listener would be: a strong one would keep the client alive.
    client: Weak<Client>,
    subscription: OnceLock<Weak<Subscription>>,
    /// Calls `runtime_stats()`, `state()`, `sync_state()` and `rooms()` from the callback.
    reentrant: bool,
    /// Calls `cancel()` on its own subscription from the callback.
    cancel_inside: bool,
    /// Set once a `cancel()` (or the drop of the subscription) has returned.
    cancelled: AtomicBool,
    iteration: u64,
}

impl Probe {
    pub fn new(
        client: &Arc<Client>,
        reentrant: bool,
        cancel_inside: bool,
        iteration: u64,
    ) -> Arc<Self> {
        Arc::new(Self {
            client: Arc::downgrade(client),
            subscription: OnceLock::new(),
            reentrant,
            cancel_inside,
            cancelled: AtomicBool::new(false),
            iteration,
        })
    }

    pub fn attach(&self, subscription: &Arc<Subscription>) {
        let _ = self.subscription.set(Arc::downgrade(subscription));
    }

    /// To be called once `cancel()` or the subscription's drop has returned.
    pub fn cancel_returned(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    fn delivered(&self, what: &str) {
        if self.cancelled.load(Ordering::SeqCst) {
            tally().unexpected(
                "delivery_after_cancel",
                json!({"iteration": self.iteration, "op": "listener", "error": format!("{what} after cancel() returned")}),
            );
        }
        tally().listener_deliveries += 1;
        if self.reentrant {
            let _ = runtime_stats();
            if let Some(client) = self.client.upgrade() {
                let _ = client.state();
                let _ = client.sync_state();
                let _ = client.rooms();
            }
        }
        if self.cancel_inside {
            if let Some(sub) = self.subscription.get().and_then(Weak::upgrade) {
                sub.cancel();
                self.cancel_returned();
            }
        }
    }
}

impl MessageListener for Probe {
    fn on_message(&self, _message: Message) {
        self.delivered("on_message");
    }

    fn on_closed(&self) {
        self.delivered("on_closed");
    }
}

impl SyncStateListener for Probe {
    fn on_state(&self, _state: SyncState) {
        self.delivered("on_state");
    }
}

/// Watches a logout or close, and reads the process state from inside.
pub struct PhaseProbe;

impl LifecycleListener for PhaseProbe {
    fn on_phase(&self, _phase: LifecyclePhase, _elapsed_ms: u64) {
        let _ = runtime_stats();
    }
}
