//! The exported `Client` object. Each method only delegates.

use std::sync::Arc;

use crate::client::ClientCore;
use crate::error::{CoreError, CoreResult};
use crate::ffi::listeners::{MessageListener, SyncStateListener};
use crate::ffi::records::{
    ClientConfig, CloseReport, LogoutOptions, LogoutReport, Message, RoomSummary, Session,
    SyncState,
};
use crate::ffi::subscription::Subscription;
use crate::lifecycle::phases::LifecycleListener;
use crate::lifecycle::state::{ClientState, Transition};
use crate::lifecycle::{begin_drain, teardown::DrainKind};
use crate::matrix;

/// A Matrix client on its own stores.
///
/// When `logout` or `close` returns, sync has stopped, every task of this
/// client has ended, its stores are closed and, if it was the last live
/// client, the runtime has restarted. A client released without either is
/// closed in the background with the same drain.
#[derive(uniffi::Object)]
pub struct Client {
    core: Arc<ClientCore>,
}

#[uniffi::export]
impl Client {
    /// Opens (or creates) the stores in `data_dir`. Starts the runtime if needed.
    #[uniffi::constructor]
    pub async fn create(config: ClientConfig) -> CoreResult<Arc<Self>> {
        let core = ClientCore::create(config).await?;
        Ok(Arc::new(Self { core }))
    }

    /// Password login. The returned session is the app's to keep.
    pub async fn login(
        &self,
        username: String,
        password: String,
        device_name: Option<String>,
    ) -> CoreResult<Session> {
        let sdk = self.core.sdk()?;
        self.core.transition_check(Transition::SessionStarted)?;
        let session = self
            .core
            .call("login", async move {
                matrix::auth::login(&sdk, &username, &password, device_name.as_deref()).await
            })
            .await?;
        self.core.session_started()?;
        Ok(session)
    }

    /// Resumes a kept session on the same `data_dir`.
    pub async fn restore(&self, session: Session) -> CoreResult<()> {
        let sdk = self.core.sdk()?;
        self.core.transition_check(Transition::SessionStarted)?;
        self.core
            .call("restore", async move {
                matrix::auth::restore(&sdk, &session).await
            })
            .await?;
        self.core.session_started()
    }

    /// The current session, if logged in.
    pub fn session(&self) -> Option<Session> {
        self.core.session()
    }

    /// The current user id, if logged in.
    pub fn user_id(&self) -> Option<String> {
        self.core.session().map(|s| s.user_id)
    }

    /// Where the client is in its life.
    pub fn state(&self) -> ClientState {
        self.core.state()
    }

    /// Starts the sync service. Idempotent.
    pub async fn start_sync(&self) -> CoreResult<()> {
        self.core.start_sync().await
    }

    /// Stops the sync service; returns when no sync request is in flight.
    pub async fn stop_sync(&self) -> CoreResult<()> {
        self.core.stop_sync().await
    }

    /// The sync service's state.
    pub fn sync_state(&self) -> SyncState {
        *self.core.sync_state.borrow()
    }

    /// Calls `listener` with the current state, then on every change.
    /// `ClientClosed` once the client is closing or closed. The last call is
    /// `on_state(Terminated)` when the client ends.
    pub fn observe_sync_state(
        &self,
        listener: Arc<dyn SyncStateListener>,
    ) -> CoreResult<Arc<Subscription>> {
        self.core.observe_sync_state(listener)
    }

    /// Creates a room; returns its id.
    pub async fn create_room(
        &self,
        name: String,
        invite: Vec<String>,
        encrypted: bool,
    ) -> CoreResult<String> {
        let sdk = self.core.logged_in_sdk()?;
        self.core
            .call("create_room", async move {
                matrix::rooms::create_room(&sdk, &name, &invite, encrypted).await
            })
            .await
    }

    /// Joins a room by id or alias; returns its id.
    pub async fn join_room(&self, room_id_or_alias: String) -> CoreResult<String> {
        let sdk = self.core.logged_in_sdk()?;
        self.core
            .call("join_room", async move {
                matrix::rooms::join_room(&sdk, &room_id_or_alias).await
            })
            .await
    }

    /// Joined rooms, from the local store.
    pub fn rooms(&self) -> CoreResult<Vec<RoomSummary>> {
        let sdk = self.core.logged_in_sdk()?;
        Ok(matrix::rooms::rooms(&sdk))
    }

    /// Sends a plain-text message; returns its event id.
    pub async fn send_text(&self, room_id: String, body: String) -> CoreResult<String> {
        let sdk = self.core.logged_in_sdk()?;
        self.core
            .call("send_text", async move {
                matrix::rooms::send_text(&sdk, &room_id, &body).await
            })
            .await
    }

    /// The last `limit` text messages of a room, newest last.
    pub async fn recent_messages(&self, room_id: String, limit: u32) -> CoreResult<Vec<Message>> {
        let sdk = self.core.logged_in_sdk()?;
        self.core
            .call("recent_messages", async move {
                matrix::rooms::recent_messages(&sdk, &room_id, limit).await
            })
            .await
    }

    /// Calls `listener` for every text message that sync delivers.
    /// `ClientClosed` once the client is closing or closed. The last call is
    /// `on_closed()` when the client ends.
    pub fn observe_messages(
        &self,
        listener: Arc<dyn MessageListener>,
    ) -> CoreResult<Arc<Subscription>> {
        self.core.observe_messages(listener)
    }

    /// Ends the session on the server and drains the client (see the type's guarantee).
    pub async fn logout(
        &self,
        options: LogoutOptions,
        listener: Option<Arc<dyn LifecycleListener>>,
    ) -> CoreResult<LogoutReport> {
        if self.core.state() == ClientState::Created {
            return Err(CoreError::invalid_state(
                "there is no session to log out; use close()",
            ));
        }
        let report = begin_drain(&self.core, DrainKind::Logout(options), listener, true)?;
        report
            .await
            .map_err(|_| CoreError::internal("the drain ended without a report"))?
    }

    /// Drains the client and keeps the session, so that `restore` works later.
    pub async fn close(
        &self,
        listener: Option<Arc<dyn LifecycleListener>>,
    ) -> CoreResult<CloseReport> {
        let report = begin_drain(&self.core, DrainKind::Close, listener, true)?;
        report
            .await
            .map_err(|_| CoreError::internal("the drain ended without a report"))?
            .map(CloseReport::from)
    }

    /// Stops sync and releases database connections and file locks (going to the background).
    pub async fn pause(&self) -> CoreResult<()> {
        self.core.pause().await
    }

    /// Undoes `pause`: reopens the stores and restarts sync if it ran.
    pub async fn resume(&self) -> CoreResult<()> {
        self.core.resume().await
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // Released by the app without close() or logout(): close in the
        // background. Never blocks: this may run on a runtime thread.
        if matches!(
            self.core.state(),
            ClientState::Created | ClientState::LoggedIn
        ) {
            if let Err(e) = begin_drain(&self.core, DrainKind::Close, None, true) {
                tracing::debug!(%e, "released client was already draining");
            }
        }
    }
}
