//! [`SessionKeeper`]: the app's [`SessionStore`], asked to save each
//! refreshed session before the client's requests go on with it.
//!
//! matrix-sdk calls the save from inside a refresh, on whatever runtime
//! worker polls it. The foreign `save` runs on a thread of its own instead
//! (never the app's, never a worker); the worker waits for it, at most the
//! client's request bound, handing its other tasks to the runtime meanwhile.

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use crate::api::{CoreError, CoreResult, Session, SessionStore};

/// The app's session store of one client, if it gave one.
pub(crate) struct SessionKeeper {
    store: Mutex<Option<Arc<dyn SessionStore>>>,
    /// How long a refresh waits for the store.
    bound: Duration,
}

impl SessionKeeper {
    pub(crate) fn new(bound: Duration) -> Arc<Self> {
        Arc::new(Self {
            store: Mutex::new(None),
            bound,
        })
    }

    /// Replaces the store (the client is not logged in yet).
    pub(crate) fn set(&self, store: Arc<dyn SessionStore>) {
        *self.store.lock().unwrap_or_else(|p| p.into_inner()) = Some(store);
    }

    /// Forgets the store, releasing the app's object (at the drain).
    pub(crate) fn clear(&self) {
        let gone = self.store.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(gone);
    }

    /// Has the store save `session`, on a thread of its own, waiting at most
    /// the bound. `Ok` without a store. A store that throws, panics or
    /// outlasts the bound is `Storage` (logged by the caller).
    pub(crate) fn save(&self, session: Session) -> CoreResult<()> {
        let Some(store) = self.store.lock().unwrap_or_else(|p| p.into_inner()).clone() else {
            return Ok(());
        };
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("mmc-sessions".into())
            .spawn(move || {
                let saved =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.save(session)));
                let _ = tx.send(saved.unwrap_or_else(|_| {
                    Err(CoreError::storage("the app's session store panicked"))
                }));
            })
            .map_err(|e| CoreError::storage(format!("no thread for the session store: {e}")))?;
        let bound = self.bound;
        let wait = move || rx.recv_timeout(bound);
        let waited = if on_multi_thread_runtime() {
            tokio::task::block_in_place(wait)
        } else {
            wait()
        };
        let saved = waited.unwrap_or_else(|_| {
            Err(CoreError::storage(format!(
                "the app's session store did not save within {bound:?}"
            )))
        });
        if let Err(e) = &saved {
            tracing::warn!(error = %e, "the refreshed session was not saved; it is offered again at the next refresh");
        }
        saved
    }
}

/// Whether this thread may hand its runtime's work away while it blocks.
fn on_multi_thread_runtime() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}
