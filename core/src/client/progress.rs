//! Upload progress for a foreign `ProgressListener`, delivered as every
//! listener is: on a listener lane (never on a runtime worker, never under a
//! core lock), in order, coalesced to the latest value while the listener
//! is busy, so a slow listener costs no memory.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api::listeners::call_foreign;
use crate::api::ProgressListener;
use crate::supervisor::Lane;

/// Longest wait of [`ProgressFeed::flush`] for a listener that blocks.
const FLUSH_BOUND: Duration = Duration::from_secs(1);

/// One upload's progress on its way to the app's listener.
pub(crate) struct ProgressFeed {
    lane: Lane,
    /// The latest value not yet delivered; a delivery is queued while set.
    latest: Mutex<Option<(u64, u64)>>,
    listener: Arc<dyn ProgressListener>,
}

impl ProgressFeed {
    pub(crate) fn new(listener: Arc<dyn ProgressListener>) -> Arc<Self> {
        Arc::new(Self {
            lane: Lane::new(),
            latest: Mutex::new(None),
            listener,
        })
    }

    /// The function the upload calls with `(sent, total)`.
    pub(crate) fn reporter(self: &Arc<Self>) -> Box<dyn Fn(u64, u64) + Send + Sync> {
        let feed = self.clone();
        Box::new(move |sent, total| feed.report(sent, total))
    }

    fn report(self: &Arc<Self>, sent: u64, total: u64) {
        let queued = self
            .latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace((sent, total))
            .is_some();
        if queued {
            return;
        }
        let feed = self.clone();
        self.lane.post(Box::new(move || {
            let latest = feed.latest.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some((sent, total)) = latest {
                call_foreign("ProgressListener.on_progress", || {
                    feed.listener.on_progress(sent, total)
                });
            }
        }));
    }

    /// Waits until what was reported so far has been delivered (at most
    /// [`FLUSH_BOUND`] for a listener that blocks), so that the upload's
    /// call returns after its last progress. Blocks no thread.
    pub(crate) async fn flush(&self) {
        let (done, delivered) = tokio::sync::oneshot::channel::<()>();
        self.lane.post(Box::new(move || {
            let _ = done.send(());
        }));
        let _ = tokio::time::timeout(FLUSH_BOUND, delivered).await;
    }
}

impl Drop for ProgressFeed {
    fn drop(&mut self) {
        self.lane.release();
    }
}
