//! The exported `Client` object. Each method only delegates.

use std::sync::Arc;

use crate::api::{
    ClientConfig, ClientState, CloseReport, CoreError, CoreResult, LifecycleListener,
    LogoutOptions, LogoutReport, Message, MessageListener, RoomSummary, Session, SyncState,
    SyncStateListener,
};
use crate::client::Subscription;
use crate::lifecycle::{self, drain::DrainKind, drain_and_report, Owner};
use crate::matrix;
use crate::supervisor::WhenDropped;

/// A Matrix client on its own stores.
///
/// When `logout` or `close` returns, sync has stopped, every task of this
/// client has ended, its stores are closed and, if it was the last live
/// client, the runtime has restarted. A client released without either is
/// closed in the background with the same drain.
#[derive(uniffi::Object)]
pub struct Client {
    pub(super) core: Owner,
}

#[uniffi::export]
impl Client {
    /// Opens (or creates) the stores in `data_dir`. Starts the runtime if needed.
    #[uniffi::constructor]
    pub async fn create(config: ClientConfig) -> CoreResult<Arc<Self>> {
        let core = lifecycle::create(config).await?;
        Ok(Arc::new(Self { core }))
    }

    /// Password login. The returned session is the app's to keep. On a
    /// `data_dir` whose stores hold a session of this user (one the server
    /// signed out softly, or whose tokens the app lost), the login asks for
    /// that device again: its keys, and so the encrypted history, stay.
    /// `InvalidState` on the stores of another user.
    pub async fn login(
        &self,
        username: String,
        password: String,
        device_name: Option<String>,
    ) -> CoreResult<Session> {
        self.core.login(username, password, device_name).await
    }

    /// Resumes a kept session on the same `data_dir`.
    pub async fn restore(&self, session: Session) -> CoreResult<()> {
        self.core.restore(session).await
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
        self.core.sync_state()
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

    /// Creates a room; returns its id. While sync runs, it returns once sync
    /// has brought the room's name and encryption (10 s at most), so that
    /// the room reads right at once.
    pub async fn create_room(
        &self,
        name: String,
        invite: Vec<String>,
        encrypted: bool,
    ) -> CoreResult<String> {
        let options = matrix::rooms::create::plain_options(&name, invite, encrypted);
        self.core.create_room_with(options).await
    }

    /// Joins a room by id or alias; returns its id.
    pub async fn join_room(&self, room_id_or_alias: String) -> CoreResult<String> {
        let sdk = self.core.sdk_with_stores()?;
        let summaries = self.core.chat.summaries.clone();
        let work = async move {
            let id = matrix::rooms::join_room(&sdk, &room_id_or_alias).await?;
            summaries.refresh(&sdk, &id);
            Ok(id)
        };
        self.core
            .store_call("join_room", WhenDropped::Abort, work)
            .await
    }

    /// The rooms the user is in or invited to, from memory (kept current
    /// by a task of the client): nothing is read or parsed on this thread.
    pub fn rooms(&self) -> CoreResult<Vec<RoomSummary>> {
        self.core
            .with_logged_in_sdk(|_| self.core.chat.summaries.current())
    }

    /// Sends a plain-text message; returns its event id.
    pub async fn send_text(&self, room_id: String, body: String) -> CoreResult<String> {
        let sdk = self.core.sdk_with_stores()?;
        let work = async move { matrix::rooms::send_text(&sdk, &room_id, &body).await };
        self.core
            .store_call("send_text", WhenDropped::Abort, work)
            .await
    }

    /// The last `limit` text messages of a room, newest last.
    pub async fn recent_messages(&self, room_id: String, limit: u32) -> CoreResult<Vec<Message>> {
        let sdk = self.core.sdk_with_stores()?;
        let work = async move { matrix::rooms::recent_messages(&sdk, &room_id, limit).await };
        self.core
            .store_call("recent_messages", WhenDropped::Abort, work)
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
        drain_and_report(&self.core, DrainKind::Logout(options), listener).await
    }

    /// Drains the client and keeps the session, so that `restore` works later.
    pub async fn close(
        &self,
        listener: Option<Arc<dyn LifecycleListener>>,
    ) -> CoreResult<CloseReport> {
        drain_and_report(&self.core, DrainKind::Close, listener)
            .await
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
