//! Upload progress for a foreign `ProgressListener`, delivered as every
//! listener is: on a listener lane (never on a runtime worker, never under a
//! core lock), in order, coalesced to the latest value while the listener
//! is busy, so a slow listener costs no memory.

use std::sync::{Arc, Mutex};

use crate::api::listeners::call_foreign;
use crate::api::ProgressListener;
use crate::supervisor::Lane;

/// A progress report: `(sent, total)` in bytes.
pub(crate) type Report = Box<dyn Fn(u64, u64) + Send + Sync>;

struct Feed {
    lane: Lane,
    /// The latest value not yet delivered; a delivery is queued while set.
    latest: Mutex<Option<(u64, u64)>>,
    listener: Arc<dyn ProgressListener>,
}

impl Feed {
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
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.lane.release();
    }
}

/// The report function of an upload whose progress `listener` hears.
pub(crate) fn feed(listener: Arc<dyn ProgressListener>) -> Report {
    let feed = Arc::new(Feed {
        lane: Lane::new(),
        latest: Mutex::new(None),
        listener,
    });
    Box::new(move |sent, total| feed.report(sent, total))
}
