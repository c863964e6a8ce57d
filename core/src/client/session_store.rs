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
        let Some(store) = self.store() else {
            return Ok(());
        };
        let saved = ask(self.bound, "save", move || store.save(session));
        if let Err(e) = &saved {
            tracing::warn!(error = %e, "the refreshed session was not saved; it is offered again at the next refresh");
        }
        saved
    }

    /// The session the store keeps now, asked like [`Self::save`]; `None`
    /// without a store.
    pub(crate) fn load(&self) -> CoreResult<Option<Session>> {
        match self.store() {
            Some(store) => ask(self.bound, "load", move || store.load()),
            None => Ok(None),
        }
    }

    /// [`Self::load`] on a core thread of its own, for a caller that may not
    /// block (an exported call's first poll runs on the app's thread).
    pub(crate) async fn load_elsewhere(self: &Arc<Self>) -> CoreResult<Option<Session>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let keeper = self.clone();
        std::thread::Builder::new()
            .name("mmc-sessions".into())
            .spawn(move || {
                let _ = tx.send(keeper.load());
            })
            .map_err(|e| CoreError::storage(format!("no thread for the session store: {e}")))?;
        rx.await
            .unwrap_or_else(|_| Err(CoreError::storage("the session store's thread ended")))
    }

    fn store(&self) -> Option<Arc<dyn SessionStore>> {
        self.store.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Runs the store's `call` (named `what`) on a thread of its own and waits
/// for it at most `bound`, handing this thread's runtime work away while it
/// blocks. A throw, a panic or the bound is `Storage`.
fn ask<T: Send + 'static>(
    bound: Duration,
    what: &'static str,
    call: impl FnOnce() -> CoreResult<T> + Send + 'static,
) -> CoreResult<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("mmc-sessions".into())
        .spawn(move || {
            let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call));
            let _ = tx.send(answer.unwrap_or_else(|_| {
                Err(CoreError::storage(format!(
                    "the app's session store panicked in {what}"
                )))
            }));
        })
        .map_err(|e| CoreError::storage(format!("no thread for the session store: {e}")))?;
    let wait = move || rx.recv_timeout(bound);
    let waited = if on_multi_thread_runtime() {
        tokio::task::block_in_place(wait)
    } else {
        wait()
    };
    waited.unwrap_or_else(|_| {
        Err(CoreError::storage(format!(
            "the app's session store did not {what} within {bound:?}"
        )))
    })
}

/// Whether this thread may hand its runtime's work away while it blocks.
fn on_multi_thread_runtime() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}
