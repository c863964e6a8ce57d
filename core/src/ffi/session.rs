//! The session surface of the exported `Client`: its token refreshes. Each
//! method only delegates.

use std::sync::Arc;

use super::client::Client;
use crate::api::{CoreResult, SessionListener};
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
}
