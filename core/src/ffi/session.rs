//! The session surface of the exported `Client`: its token refreshes. Each
//! method only delegates.

use std::sync::Arc;

use super::client::Client;
use crate::api::{CoreResult, SessionListener, SessionStore};
use crate::client::Subscription;

#[uniffi::export]
impl Client {
    /// Reports the current session first (`on_session_changed(session)`, if
    /// there is one), then each token refresh (likewise: the app stores the
    /// new session, which `restore` takes) and each token the server refuses
    /// (`on_auth_error(soft_logout)`), then `on_closed()` when the client
    /// ends. A refresh is either in the first call or reported after it,
    /// never lost between the two. `ClientClosed` once the client is closing
    /// or closed.
    pub fn observe_session(
        &self,
        listener: Arc<dyn SessionListener>,
    ) -> CoreResult<Arc<Subscription>> {
        self.core.observe_session(listener)
    }

    /// Gives the app's [`SessionStore`], before `login` or `restore`
    /// (`InvalidState` after, `ClientClosed` once the client is closing).
    /// Its `save` is called after each refresh of the tokens, before the
    /// client's requests go on with them, on a core thread, bounded by
    /// `request_timeout_ms`: a process killed at any moment leaves the store
    /// holding tokens that work. Keep what `login` returns yourself, before
    /// `start_sync`. A later call replaces the store.
    pub fn set_session_store(&self, store: Arc<dyn SessionStore>) -> CoreResult<()> {
        self.core.set_session_store(store)
    }
}
