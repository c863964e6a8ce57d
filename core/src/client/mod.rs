//! [`ClientCore`]: one matrix client, its task group and its state.
//!
//! The FFI `Client` delegates here. Every method resolves what it needs
//! synchronously (state check, the runtime handle, a clone of the matrix
//! client) before any work is spawned, so that a handle the app releases
//! right after the call returns cannot change what the call does.
//!
//! The client keeps its runtime's generation, never the runtime's handle, so
//! an app that holds a closed client pins no runtime's resources.

mod build;
mod events;
mod feed;
mod followed;
mod handed;
mod notification;
mod parts;
pub(crate) mod process_lock;
pub(crate) mod progress;
mod push_rules;
mod recovery;
pub(crate) mod registry;
mod room_list;
mod rooms;
mod session;
mod session_events;
mod session_store;
pub mod state;
mod store_dir;
mod subscription;
pub(crate) mod summaries;
mod sync;
mod teardown;
mod timeline;
mod verification;

pub(crate) use build::build;
pub(crate) use notification::{LiveNotification, NotificationDir, PausedHold};
pub use room_list::RoomListHandle;
pub(crate) use session_store::SessionKeeper;
pub use subscription::Subscription;
pub(crate) use teardown::{begin_wipe, mark_wipe_owed};
pub(crate) use timeline::TimelineCore;
pub(crate) use verification::{OnRequest, RequestListener, VerificationCore};

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::runtime::Handle;

use crate::api::{
    ClientState, CoreError, CoreResult, MessageListener, Session, SyncState, SyncStateListener,
};
use crate::matrix::{self, sentinel::DropWatch};
use crate::runtime::{self, ClientLease};
use crate::supervisor::{call_with, FirstPoll, TaskGroup, TaskKind, WhenDropped};
use state::{check_usable, next_state, Transition};

/// The mutable part of a client, behind one lock that is never held across
/// an await or a listener call.
pub(crate) struct Inner {
    pub(crate) state: ClientState,
    pub(crate) sdk: Option<matrix::Sdk>,
    pub(crate) sync: Option<Arc<matrix::sync::Service>>,
    pub(crate) sync_wanted: bool,
    /// Set when `pause` begins closing the stores, cleared when `resume` has
    /// reopened them.
    pub(crate) paused: bool,
    /// Counts the pauses begun: a call that saw another value at its start
    /// lost its stores under it.
    pub(crate) pauses: u64,
    /// The exclusive call in progress: login, restore, pause or resume.
    pub(crate) exclusive: Option<&'static str>,
    /// The store passphrase, registered with the log scrubber until the
    /// client is drained.
    pub(crate) secrets: Vec<crate::logging::scrub::Registered>,
    /// The session's current tokens, likewise; replaced when matrix-sdk
    /// refreshes them (the old ones are forgotten).
    pub(crate) tokens: Vec<crate::logging::scrub::Registered>,
}

/// A clone of the matrix client, if the state is `LoggedIn`.
fn check_logged_in(inner: &Inner) -> CoreResult<matrix::Sdk> {
    check_usable(inner.state)?;
    if inner.state != ClientState::LoggedIn {
        return Err(CoreError::invalid_state(
            "log in or restore a session first",
        ));
    }
    inner.sdk.clone().ok_or(CoreError::ClientClosed)
}

/// What a call that needs the stores gets while the client is paused.
pub(crate) fn paused_error() -> CoreError {
    CoreError::invalid_state("the client is paused; call resume() first")
}

/// One client: a matrix `Client`, its supervised tasks, its state. Its own
/// fields are its lifecycle (runtime lease, task group, data dir, state);
/// what sync, the chat surface, security and the listeners own are parts
/// of their own (`parts.rs`), which the drain takes apart in one order.
pub(crate) struct ClientCore {
    generation: u64,
    group: TaskGroup,
    /// The client's claim on its runtime generation; the drain gives it back.
    lease: Mutex<Option<ClientLease>>,
    /// Canonical (symlinks resolved).
    pub(crate) data_dir: PathBuf,
    /// The bound of one HTTP request, from the client's configuration.
    request_timeout: std::time::Duration,
    dropped: DropWatch,
    /// Released when the drain ends, so that a new client may open the directory.
    claim: Mutex<Option<registry::DataDirClaim>>,
    /// Whether another process of the app may open the stores meanwhile.
    shares_stores: bool,
    /// Held, by a client that shares nothing, while its stores are open.
    alone: Mutex<Option<process_lock::FileLock>>,
    /// Held by a login from before its request to the end of its session's
    /// install; a drain waits for it before it takes the client apart.
    install: Arc<tokio::sync::Mutex<()>>,
    inner: Mutex<Inner>,
    /// Whether the client is paused, for the tasks that must then be still.
    paused_watch: tokio::sync::watch::Sender<bool>,
    // What the client's parts own.
    /// Serialises sync, and the rooms it subscribes.
    sync: parts::SyncParts,
    listeners: parts::Listeners,
    pub(crate) chat: parts::Chat,
    security: parts::Security,
}

impl ClientCore {
    pub(crate) fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The bound of one HTTP request, from the client's configuration.
    pub(crate) fn request_timeout(&self) -> std::time::Duration {
        self.request_timeout
    }

    /// The handle of this client's runtime generation, for ordinary work.
    fn handle(&self) -> CoreResult<Handle> {
        runtime::handle_of(self.generation, false)
    }

    /// Spawns a supervised task of this client; dropped unpolled when it drains.
    fn spawn<F>(&self, handle: &Handle, kind: TaskKind, name: &'static str, future: F)
    where
        F: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        // Our own tasks cooperate: they end as soon as the group is cancelled.
        let token = self.group.token().clone();
        let future = async move { token.run_until_cancelled(future).await.unwrap_or(Ok(())) };
        let _ = self.group.spawn(handle, name, kind, future);
    }

    /// Forwards matrix-sdk's task failures, and keeps refreshed tokens out of
    /// the log and tells the session listeners, until the client drains.
    fn spawn_background(self: &Arc<Self>, handle: &Handle, sdk: &matrix::Sdk) {
        let changes = matrix::session_refresh::changes(sdk);
        let refreshed = sdk.clone();
        let core = Arc::downgrade(self);
        self.spawn(handle, TaskKind::Finite, "token-refreshes", async move {
            session_events::follow(changes, refreshed, core).await;
            Ok(())
        });
        // Messages queued while the server was unreachable go out once it
        // is back: matrix-sdk disables a room's queue after such a failure.
        // Nothing is retried while the client is paused.
        let queues = matrix::send_queue::keep_going(
            sdk.clone(),
            self.paused_watch.subscribe(),
            self.listeners.events.watch_sync_state(),
        );
        self.spawn(handle, TaskKind::Infinite, "send-queue-retry", async move {
            queues.await;
            Ok(())
        });
        let mut failures = matrix::task_failures(sdk);
        self.spawn(handle, TaskKind::Finite, "sdk-task-monitor", async move {
            while let Some((task, reason)) = failures.next().await {
                crate::supervisor::failure::report(&task, reason);
            }
            Ok(())
        });
    }

    /// The state, for `state()`.
    pub(crate) fn state(&self) -> ClientState {
        self.inner().state
    }

    /// A clone of the matrix client, if the state allows ordinary calls.
    pub(crate) fn sdk(&self) -> CoreResult<matrix::Sdk> {
        let inner = self.inner();
        check_usable(inner.state)?;
        inner.sdk.clone().ok_or(CoreError::ClientClosed)
    }

    /// A clone of the matrix client, if a session is active.
    pub(crate) fn logged_in_sdk(&self) -> CoreResult<matrix::Sdk> {
        check_logged_in(&self.inner())
    }

    /// [`ClientCore::logged_in_sdk`] for work that needs the stores:
    /// `InvalidState` while the client is paused.
    pub(crate) fn sdk_with_stores(&self) -> CoreResult<matrix::Sdk> {
        let sdk = self.logged_in_sdk()?;
        if self.inner().paused {
            return Err(paused_error());
        }
        Ok(sdk)
    }

    /// Applies a transition, or returns why it is refused.
    pub(crate) fn transition(&self, transition: Transition) -> CoreResult<ClientState> {
        let mut inner = self.inner();
        let next = next_state(inner.state, transition)?;
        inner.state = next;
        Ok(next)
    }

    /// Applies a transition and returns the state it left.
    pub(crate) fn transition_returning_previous(
        &self,
        transition: Transition,
    ) -> CoreResult<ClientState> {
        let mut inner = self.inner();
        let before = inner.state;
        inner.state = next_state(before, transition)?;
        Ok(before)
    }

    /// Puts the state back to `before` after a drain that could not start
    /// (its thread was refused); only from the state that drain moved to.
    pub(crate) fn undo_transition(&self, before: ClientState) {
        let mut inner = self.inner();
        if matches!(inner.state, ClientState::LoggingOut | ClientState::Closing) {
            inner.state = before;
        }
    }

    /// Whether `transition` would be accepted now; changes nothing.
    pub(crate) fn transition_check(&self, transition: Transition) -> CoreResult<()> {
        next_state(self.inner().state, transition).map(|_| ())
    }

    /// Runs `work` as a supervised call of this client, every poll on a
    /// runtime worker. The handle is resolved now, before anything is spawned.
    pub(crate) async fn call<T, F>(
        &self,
        name: &'static str,
        when_dropped: WhenDropped,
        work: F,
    ) -> CoreResult<T>
    where
        T: Send + 'static,
        F: std::future::Future<Output = CoreResult<T>> + Send + 'static,
    {
        let handle = self.handle()?;
        call_with(
            &handle,
            &self.group,
            name,
            (when_dropped, FirstPoll::Worker),
            CoreError::ClientClosed,
            work,
        )
        .await
    }

    /// [`ClientCore::store_call`] of the work that `work` makes of a clone
    /// of the matrix client, taken on the caller's thread (`ClientClosed`,
    /// or `InvalidState` while paused, before anything runs); the work is
    /// aborted if the caller drops the call.
    pub(crate) async fn sdk_call<T, F, Fut>(&self, name: &'static str, work: F) -> CoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(matrix::Sdk) -> Fut,
        Fut: std::future::Future<Output = CoreResult<T>> + Send + 'static,
    {
        let sdk = self.sdk_with_stores()?;
        self.store_call(name, WhenDropped::Abort, work(sdk)).await
    }

    /// [`ClientCore::call`] for work that uses the stores (room calls): a
    /// call that loses its stores to a `pause` that began under it gets
    /// `InvalidState` ("call resume() first"), not matrix-sdk's "the store
    /// is closed".
    ///
    /// Every poll happens on a runtime worker, the first included: the
    /// caller's thread is the app's, and a room call's first poll may read
    /// a file, encrypt, or read a store before its first wait (a store read
    /// encrypts its keys on the polling thread).
    pub(crate) async fn store_call<T, F>(
        &self,
        name: &'static str,
        when_dropped: WhenDropped,
        work: F,
    ) -> CoreResult<T>
    where
        T: Send + 'static,
        F: std::future::Future<Output = CoreResult<T>> + Send + 'static,
    {
        let pauses = self.inner().pauses;
        match self.call(name, when_dropped, work).await {
            Err(CoreError::Storage { .. }) if self.paused_since(pauses) => Err(paused_error()),
            other => other,
        }
    }

    /// Whether a pause has begun since the pause count was `pauses`, or the
    /// client is paused now.
    fn paused_since(&self, pauses: u64) -> bool {
        let inner = self.inner();
        inner.paused || inner.pauses != pauses
    }

    /// The current session.
    pub(crate) fn session(&self) -> Option<Session> {
        self.with_sdk(
            |inner| inner.sdk.clone().ok_or(CoreError::ClientClosed),
            matrix::auth::session_of,
        )
        .ok()
        .flatten()
    }

    /// Runs `f` on the app's thread with the clone of the matrix client that
    /// `pick` takes from the state (`ClientClosed` once the client's runtime
    /// generation has ended), inside the runtime's context, and drops the
    /// clone there: if a drain and a restart finish meanwhile, this clone is
    /// the client's last reference, and its stores' pools must not be
    /// dropped outside a runtime.
    pub(crate) fn with_sdk<T>(
        &self,
        pick: impl FnOnce(&Inner) -> CoreResult<matrix::Sdk>,
        f: impl FnOnce(&matrix::Sdk) -> T,
    ) -> CoreResult<T> {
        let handle = self.handle()?;
        let _entered = handle.enter();
        let sdk = pick(&self.inner())?;
        crate::hooks::pause_point("with_sdk.picked");
        let out = f(&sdk);
        drop(sdk);
        Ok(out)
    }

    /// [`ClientCore::with_sdk`] for calls that need a session.
    pub(crate) fn with_logged_in_sdk<T>(&self, f: impl FnOnce(&matrix::Sdk) -> T) -> CoreResult<T> {
        self.with_sdk(check_logged_in, f)
    }

    /// The sync service's state.
    pub(crate) fn sync_state(&self) -> SyncState {
        self.listeners.events.sync_state()
    }

    /// Registers a sync state listener; the current state is delivered first.
    /// `ClientClosed` once the client is closing or closed.
    pub(crate) fn observe_sync_state(
        &self,
        listener: Arc<dyn SyncStateListener>,
    ) -> CoreResult<Arc<Subscription>> {
        check_usable(self.state()).map_err(|_| CoreError::ClientClosed)?;
        self.listeners.events.observe_sync_state(listener)
    }

    /// Registers a session listener: each token refresh and each refused
    /// token, then `on_closed()`. `ClientClosed` once the client is closing
    /// or closed.
    pub(crate) fn observe_session(
        &self,
        listener: Arc<dyn crate::api::SessionListener>,
    ) -> CoreResult<Arc<Subscription>> {
        check_usable(self.state()).map_err(|_| CoreError::ClientClosed)?;
        self.listeners
            .sessions
            .observe(&self.listeners.events, listener, || self.session())
    }

    /// Whether the client is paused (its stores closed).
    pub(crate) fn is_paused(&self) -> bool {
        self.inner().paused
    }

    /// Gives the app's session store, before `login` or `restore`
    /// (`InvalidState` after; `ClientClosed` once the client is closing or
    /// closed). A later call replaces it.
    pub(crate) fn set_session_store(
        &self,
        store: Arc<dyn crate::api::SessionStore>,
    ) -> CoreResult<()> {
        let inner = self.inner();
        check_usable(inner.state).map_err(|_| CoreError::ClientClosed)?;
        if inner.state != ClientState::Created || inner.exclusive.is_some() {
            return Err(CoreError::invalid_state(
                "set the session store before login or restore",
            ));
        }
        self.listeners.session_store.set(store);
        Ok(())
    }

    /// Registers a message listener. `ClientClosed` once the client is
    /// closing or closed. Sync subscribes every joined room of this client
    /// while it does (a burst reaches the listener in full).
    pub(crate) fn observe_messages(
        &self,
        listener: Arc<dyn MessageListener>,
    ) -> CoreResult<Arc<Subscription>> {
        check_usable(self.state()).map_err(|_| CoreError::ClientClosed)?;
        let subscription = self.listeners.events.observe_messages(listener)?;
        // Every message of every joined room: each one subscribed, from now
        // on for this client's life.
        self.sync
            .shown
            .send_if_modified(|shown| !std::mem::replace(&mut shown.every_joined_room, true));
        Ok(subscription)
    }
}
