//! Login and restore of a [`ClientCore`].
//!
//! A login or restore that the caller cancels is aborted, and an
//! [`AuthGuard`] then reconciles the client's state with matrix-sdk's: if
//! the server's answer had already reached matrix-sdk, the session is
//! recorded (`LoggedIn`, `session()` returns it); otherwise the client stays
//! `Created`. Never in between. One login, restore, pause or resume runs at
//! a time: the others get `Busy`.

use std::sync::Arc;

use super::state::Transition;
use super::{store_dir, ClientCore};
use crate::api::{ClientState, CoreError, CoreResult, Session};
use crate::matrix;
use crate::supervisor::WhenDropped;

/// Marks one of the client's exclusive calls (login, restore, pause,
/// resume) in progress, and clears the mark when it ends in any way
/// (result, error, abort, drain).
pub(super) struct Exclusive {
    core: Arc<ClientCore>,
}

impl Exclusive {
    /// `Busy` while another exclusive call of this client runs.
    pub(super) fn begin(core: &Arc<ClientCore>, what: &'static str) -> CoreResult<Self> {
        let mut inner = core.inner();
        if let Some(running) = inner.exclusive {
            return Err(CoreError::busy(running));
        }
        if inner.paused && matches!(what, "login" | "restore") {
            return Err(CoreError::invalid_state(
                "the client is paused; call resume() first",
            ));
        }
        inner.exclusive = Some(what);
        Ok(Self { core: core.clone() })
    }
}

impl Drop for Exclusive {
    fn drop(&mut self) {
        self.core.inner().exclusive = None;
    }
}

/// A login or restore in progress; when it ends in any way, records a
/// session that matrix-sdk holds but the client does not yet.
struct AuthGuard {
    _exclusive: Exclusive,
    core: Arc<ClientCore>,
    sdk: matrix_sdk::Client,
}

impl AuthGuard {
    fn begin(
        core: &Arc<ClientCore>,
        sdk: matrix_sdk::Client,
        what: &'static str,
    ) -> CoreResult<Self> {
        Ok(Self {
            _exclusive: Exclusive::begin(core, what)?,
            core: core.clone(),
            sdk,
        })
    }
}

impl Drop for AuthGuard {
    fn drop(&mut self) {
        if self.core.state() == ClientState::Created {
            if let Some(session) = matrix::auth::session_of(&self.sdk) {
                tracing::info!("a cancelled login had reached matrix-sdk; its session is kept");
                let _ = self.core.session_started(&session);
            }
        }
    }
}

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
        let guard = AuthGuard::begin(self, sdk.clone(), "login")?;
        let core = self.clone();
        self.call("login", WhenDropped::Abort, async move {
            let _guard = guard;
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
        let guard = AuthGuard::begin(self, sdk.clone(), "restore")?;
        let core = self.clone();
        self.call("restore", WhenDropped::Abort, async move {
            let _guard = guard;
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
