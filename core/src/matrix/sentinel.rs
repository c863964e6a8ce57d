//! [`DropSentinel`]: observes that a matrix `Client`'s inner state was dropped.
//!
//! matrix-sdk 0.18 keeps `WeakClient` private. The sentinel is registered as
//! an event-handler context, which the client's inner state owns; the core
//! keeps only a weak reference. When that weak reference can no longer be
//! upgraded, nothing holds the client any more.

use std::sync::{Arc, Weak};

/// The value stored inside the client.
#[derive(Clone)]
pub(crate) struct DropSentinel(#[allow(dead_code)] Arc<Marker>);

/// Dropped with the client's inner state. In the crate's test build it
/// counts a drop outside any runtime's context (`crate::hooks`), which no
/// path of the core may do: the stores' pools spawn work when they drop.
pub(crate) struct Marker;

impl Drop for Marker {
    fn drop(&mut self) {
        crate::hooks::count_if("matrix_client.dropped_outside_runtime", || {
            tokio::runtime::Handle::try_current().is_err()
        });
    }
}

/// The core's side: a weak reference to the sentinel.
#[derive(Clone)]
pub(crate) struct DropWatch(Weak<Marker>);

/// A sentinel and its watch.
pub(crate) fn sentinel() -> (DropSentinel, DropWatch) {
    let strong = Arc::new(Marker);
    let weak = Arc::downgrade(&strong);
    (DropSentinel(strong), DropWatch(weak))
}

impl DropWatch {
    /// Whether the client's inner state has been dropped.
    pub(crate) fn dropped(&self) -> bool {
        self.0.strong_count() == 0
    }
}
