//! Login and restore of a [`ClientCore`].
//!
//! A login has two halves. The server's (the request) is aborted when the
//! caller cancels: the client stays `Created`. Once the server has answered,
//! the client's half (installing the session, local only) runs to its end
//! even if the caller has gone: the client is `LoggedIn` and `session()`
//! returns the session. Never in between. A drain (logout, close, a release,
//! a shutdown) that begins during a login waits, bounded, for both halves:
//! a device the server creates is always installed. A restore is only the client's
//! half. One login, restore, pause or resume runs at a time: the others get
//! `Busy`.

use std::sync::Arc;

use super::state::Transition;
use super::{store_dir, ClientCore};
use crate::api::{CoreError, CoreResult, Session};
use crate::matrix;
use crate::supervisor::{TaskKind, WhenDropped};

/// Marks one of the client's exclusive calls (login, restore, pause,
/// resume) in progress, and clears the mark when it ends in any way
/// (result, error, abort, drain).
pub(crate) struct Exclusive {
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
            return Err(super::paused_error());
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
        let exclusive = Exclusive::begin(self, "login")?;
        // Held from before the request to the end of the install: a drain
        // that begins meanwhile waits for it (bounded) before it cancels
        // anything, so a device the server creates is always installed.
        let permit = self.begin_login()?;
        let core = self.clone();
        let installed = self
            .call("login", WhenDropped::Abort, async move {
                // Before any request: the server must not create a device that
                // these stores would then refuse; on stores of this user, the
                // login asks for their device again.
                let device = store_dir::login_device(&core.data_dir, &username)?;
                let answer = matrix::auth::login_request(
                    &sdk,
                    &username,
                    &password,
                    device_name.as_deref(),
                    device.as_deref(),
                );
                let (session, token) = answer.await?;
                crate::hooks::pause_point("login.answered");
                // The server created the device: install it whatever the caller,
                // a drain or a shutdown does from here on.
                let installer = core.clone();
                let install = async move {
                    let _permit = permit;
                    let _exclusive = exclusive;
                    let _token = token;
                    let session = matrix::auth::install_session(&sdk, session).await?;
                    installer.session_started(&session)?;
                    Ok(session)
                };
                // The receiver is the call's result, handed over in the poll
                // that spawned the install: a drain cancels the client's calls
                // only once the install has ended, and by then the caller holds
                // the receiver (awaiting it inside the call lost that race: the
                // cancellation could win over the result, and the app got
                // `ClientClosed` for a session that was installed).
                core.spawn_uncancelled("login-session", install)
            })
            .await?;
        installed.await.unwrap_or(Err(CoreError::ClientClosed))
    }

    /// Takes the login permit, unless a drain has begun (`ClientClosed`).
    ///
    /// A drain takes the permit itself (waiting, bounded, for a login that
    /// holds it) and cancels the client's calls before it lets go of it. So
    /// either the login holds the permit first, and the drain waits for its
    /// request and its install (the app gets its `Session`; a logout then
    /// revokes it on the server, a close keeps it for `restore`), or the
    /// login finds the client's calls cancelled and sends no request. Only a
    /// login request that outlasts the drain's bound is abandoned.
    fn begin_login(&self) -> CoreResult<tokio::sync::OwnedMutexGuard<()>> {
        let inner = self.inner();
        super::state::check_usable(inner.state).map_err(|_| CoreError::ClientClosed)?;
        // Only a drain holds it otherwise (`Exclusive` admits one login).
        self.install
            .clone()
            .try_lock_owned()
            .map_err(|_| CoreError::ClientClosed)
    }

    /// Spawns `work` in the client's group, beyond the reach of its
    /// cancellation token (a drain waits for it instead, see
    /// [`ClientCore::begin_login`]), on the client's runtime even during a
    /// process shutdown. The receiver gets its result.
    fn spawn_uncancelled<T, F>(
        &self,
        name: &'static str,
        work: F,
    ) -> CoreResult<tokio::sync::oneshot::Receiver<CoreResult<T>>>
    where
        T: Send + 'static,
        F: std::future::Future<Output = CoreResult<T>> + Send + 'static,
    {
        let handle = self.drain_handle()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = async move {
            let _ = tx.send(work.await);
            Ok(())
        };
        self.group
            .spawn(&handle, name, TaskKind::Finite, task)
            .ok_or(CoreError::ClientClosed)?;
        Ok(rx)
    }

    /// Resumes a kept session on the stores it belongs to.
    pub(crate) async fn restore(self: &Arc<Self>, session: Session) -> CoreResult<()> {
        let sdk = self.sdk()?;
        self.transition_check(Transition::SessionStarted)?;
        let exclusive = Exclusive::begin(self, "restore")?;
        let core = self.clone();
        self.call("restore", WhenDropped::Finish, async move {
            let _exclusive = exclusive;
            store_dir::check_restore_allowed(&core.data_dir, &session)?;
            matrix::auth::restore(&sdk, &session).await?;
            core.session_started(&session)
        })
        .await
    }

    /// Records whose stores these are, keeps the session's tokens out of the
    /// log while the client lives, then moves to `LoggedIn`.
    fn session_started(&self, session: &Session) -> CoreResult<()> {
        if let Err(e) = store_dir::record_session_owner(&self.data_dir, session) {
            tracing::warn!(%e, "could not record the session's owner in data_dir");
        }
        self.inner().tokens = matrix::auth::token_guards(session);
        if let Ok(sdk) = self.sdk() {
            self.follow_summaries(&sdk);
            self.follow_push_rules(&sdk);
            self.follow_own_verification(&sdk);
        }
        match self.transition(Transition::SessionStarted) {
            // A drain that began meanwhile waited for this install: the
            // session is in the stores (a logout revokes it, a close keeps
            // it for `restore`), and the app must get it.
            Err(CoreError::Busy { .. }) => Ok(()),
            other => other.map(|_| ()),
        }
    }
}
