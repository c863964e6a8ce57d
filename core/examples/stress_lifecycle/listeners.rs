//! The listeners the workload registers. Each one checks the subscription
//! guarantee (nothing is delivered once `cancel()` has returned) and, when
//! asked to, calls back into the core from inside the callback, blocks in
//! its calls (a hop to a busy main thread), or panics in them (what UniFFI
//! makes of a Kotlin or Swift callback that throws).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use serde_json::json;

use crate::api::{
    runtime_stats, Client, LifecycleListener, LifecyclePhase, Message, MessageListener,
    RoomListListener, RoomListUpdate, RoomListener, RoomSummary, Subscription, SyncState,
    SyncStateListener, TimelineListener, TimelineUpdate,
};
use crate::tally::tally;

/// A message, sync-state, timeline or room list listener.
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
    /// Milliseconds each call blocks (0: none).
    block_ms: AtomicU64,
    /// Panics at the end of each call.
    panics: AtomicBool,
}

/// In the message of every panic a listener raises on purpose; the panic
/// hook leaves those out of the run's panics.
pub const DELIBERATE: &str = "deliberate listener panic";

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
            block_ms: AtomicU64::new(0),
            panics: AtomicBool::new(false),
        })
    }

    /// Makes every call block for `block` before it returns.
    pub fn block_for(&self, block: Duration) {
        self.block_ms
            .store(block.as_millis() as u64, Ordering::SeqCst);
    }

    /// Makes every call panic before it returns.
    pub fn panic_in_calls(&self) {
        self.panics.store(true, Ordering::SeqCst);
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
        misbehave(
            self.block_ms.load(Ordering::SeqCst),
            self.panics.load(Ordering::SeqCst),
            what,
        );
    }
}

fn misbehave(block_ms: u64, panics: bool, what: &str) {
    if block_ms > 0 {
        std::thread::sleep(Duration::from_millis(block_ms));
    }
    if panics {
        panic!("{DELIBERATE} in {what}");
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

impl TimelineListener for Probe {
    fn on_update(&self, _updates: Vec<TimelineUpdate>) {
        self.delivered("timeline on_update");
    }

    fn on_closed(&self) {
        self.delivered("timeline on_closed");
    }
}

impl RoomListListener for Probe {
    fn on_update(&self, _updates: Vec<RoomListUpdate>) {
        self.delivered("room list on_update");
    }

    fn on_closed(&self) {
        self.delivered("room list on_closed");
    }
}

impl RoomListener for Probe {
    fn on_update(&self, _summary: RoomSummary) {
        self.delivered("room on_update");
    }

    fn on_closed(&self) {
        self.delivered("room on_closed");
    }
}

/// Watches a logout or close, and reads the process state from inside;
/// it may block (300 ms) or panic in every call.
pub struct PhaseProbe {
    blocks: bool,
    panics: bool,
}

impl PhaseProbe {
    pub fn new(blocks: bool, panics: bool) -> Self {
        Self { blocks, panics }
    }
}

impl LifecycleListener for PhaseProbe {
    fn on_phase(&self, _phase: LifecyclePhase, _elapsed_ms: u64) {
        let _ = runtime_stats();
        misbehave(if self.blocks { 300 } else { 0 }, self.panics, "on_phase");
    }
}
