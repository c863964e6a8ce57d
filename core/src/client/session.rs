//! Login and restore of a [`ClientCore`].
//!
//! Both run to their end once started, even if the foreign caller cancels:
//! a session that the server created is then recorded (`session()` returns
//! it, the state is `LoggedIn`), never half there.

use std::sync::Arc;

use super::state::Transition;
use super::{store_dir, ClientCore};
use crate::api::{CoreResult, Session};
use crate::matrix;
use crate::supervisor::WhenDropped;

impl ClientCore {
    /// Password login on stores that hold no other device's session.
    pub(crate) async fn login(
        self: &Arc<Self>,
        username: String,
        password: String,
        device_name: Option<String>,
    ) -> CoreResult<Session> {
        let sdk = self.sdk()?;
        self.transition_check(Transition::SessionStarted)?;
        let core = self.clone();
        self.call("login", WhenDropped::Finish, async move {
            // Before any request: the server must not create a device that
            // these stores would then refuse.
            store_dir::check_login_allowed(&core.data_dir)?;
            let session =
                matrix::auth::login(&sdk, &username, &password, device_name.as_deref()).await?;
            core.session_started(&session)?;
            Ok(session)
        })
        .await
    }

    /// Resumes a kept session on the stores it belongs to.
    pub(crate) async fn restore(self: &Arc<Self>, session: Session) -> CoreResult<()> {
        let sdk = self.sdk()?;
        self.transition_check(Transition::SessionStarted)?;
        let core = self.clone();
        self.call("restore", WhenDropped::Finish, async move {
            store_dir::check_restore_allowed(&core.data_dir, &session)?;
            matrix::auth::restore(&sdk, &session).await?;
            core.session_started(&session)
        })
        .await
    }

    /// Records whose stores these are, then moves to `LoggedIn`.
    fn session_started(&self, session: &Session) -> CoreResult<()> {
        if let Err(e) = store_dir::record_session_owner(&self.data_dir, session) {
            tracing::warn!(%e, "could not record the session's owner in data_dir");
        }
        self.transition(Transition::SessionStarted).map(|_| ())
    }
}
