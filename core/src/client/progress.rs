//! Upload progress for a foreign `ProgressListener`, fed as every listener
//! is (a [`Delivery`]: its lane, never a runtime worker, never under a core
//! lock), each report superseding the one not yet delivered, so a slow
//! listener costs no memory and hears the latest value.

use std::sync::Arc;
use std::time::Duration;

use super::subscription::Delivery;
use crate::api::ProgressListener;

/// Longest wait of [`ProgressFeed::flush`] for a listener that blocks.
const FLUSH_BOUND: Duration = Duration::from_secs(1);

const WHAT: &str = "ProgressListener.on_progress";

/// One upload's progress on its way to the app's listener.
pub(crate) struct ProgressFeed {
    delivery: Arc<Delivery>,
}

impl ProgressFeed {
    pub(crate) fn new(listener: Arc<dyn ProgressListener>) -> Arc<Self> {
        Arc::new(Self {
            delivery: Delivery::detached(listener),
        })
    }

    /// The function the upload calls with `(sent, total)`.
    pub(crate) fn reporter(self: &Arc<Self>) -> crate::matrix::media::upload::Report {
        let feed = self.clone();
        Box::new(move |sent, total| {
            feed.delivery
                .post_call_superseding::<dyn ProgressListener>(WHAT, move |l| {
                    l.on_progress(sent, total)
                });
        })
    }

    /// Waits until what was reported so far has been delivered (at most
    /// [`FLUSH_BOUND`] for a listener that blocks), so that the upload's
    /// call returns after its last progress. Blocks no thread.
    pub(crate) async fn flush(&self) {
        let (done, delivered) = tokio::sync::oneshot::channel::<()>();
        self.delivery
            .post_call::<dyn ProgressListener>(WHAT, move |_| {
                let _ = done.send(());
            });
        let _ = tokio::time::timeout(FLUSH_BOUND, delivered).await;
    }
}

impl Drop for ProgressFeed {
    fn drop(&mut self) {
        self.delivery.release();
    }
}
