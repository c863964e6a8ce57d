//! [`ClientCore`]: one matrix client, its task group and its state.
//!
//! The FFI `Client` delegates here. Every method resolves what it needs
//! synchronously (state check, a clone of the matrix client) before any work
//! is spawned, so that a handle the app releases right after the call returns
//! cannot change what the call does.

mod events;
pub(crate) mod registry;
mod sync;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use matrix_sdk_ui::sync_service::SyncService;
use tokio::runtime::Handle;
use tokio::sync::watch;

use crate::error::{CoreError, CoreResult};
use crate::ffi::listeners::{MessageListener, SyncStateListener};
use crate::ffi::records::{ClientConfig, Session, SyncState};
use crate::ffi::subscription::Subscription;
use crate::lifecycle::state::{check_usable, next_state, ClientState, Transition};
use crate::matrix::{self, sentinel::DropWatch};
use crate::runtime;
use crate::supervisor::{call, TaskGroup, TaskKind};

pub(crate) use events::MessageHub;

/// The mutable part of a client, behind one lock that is never held across an await.
pub(crate) struct Inner {
    pub(crate) state: ClientState,
    pub(crate) sdk: Option<matrix_sdk::Client>,
    pub(crate) sync: Option<Arc<SyncService>>,
    pub(crate) sync_wanted: bool,
    pub(crate) paused: bool,
}

/// One client: a matrix `Client`, its supervised tasks, its state.
pub(crate) struct ClientCore {
    pub(crate) handle: Handle,
    pub(crate) group: TaskGroup,
    pub(crate) generation: u64,
    pub(crate) data_dir: PathBuf,
    pub(crate) dropped: DropWatch,
    pub(crate) sync_state: watch::Sender<SyncState>,
    pub(crate) messages: Arc<MessageHub>,
    /// Unsupervised runtime tasks before this client was built.
    pub(crate) foreign_tasks_before: u64,
    /// Serialises start/stop/pause/resume of sync.
    pub(crate) sync_lock: tokio::sync::Mutex<()>,
    inner: Mutex<Inner>,
    /// Released when the drain ends, so that a new client may open the directory.
    pub(crate) claim: Mutex<Option<registry::DataDirClaim>>,
}

impl ClientCore {
    /// Checks the config, claims `data_dir`, opens the stores on the runtime.
    pub(crate) async fn create(config: ClientConfig) -> CoreResult<Arc<Self>> {
        let checked = matrix::build::check(&config)?;
        let claim = registry::claim_data_dir(&checked.data_dir)?;
        let (handle, group, generation) = runtime::client_group("client")?;
        let foreign_tasks_before = runtime::unsupervised_tasks();
        let (sentinel, dropped) = matrix::sentinel::sentinel();
        let messages = Arc::new(MessageHub::default());
        let hub = messages.clone();
        let built = call(&group, "create", CoreError::ShuttingDown, async move {
            let sdk = matrix::build::build(&checked, sentinel).await?;
            hub.attach(&sdk);
            Ok(sdk)
        })
        .await;
        let sdk = match built {
            Ok(sdk) => sdk,
            Err(e) => {
                group.token().cancel();
                let _ = runtime::release_client(
                    generation,
                    std::time::Duration::from_secs(5),
                    false,
                    || {},
                );
                return Err(e);
            }
        };
        let (sync_state, _) = watch::channel(SyncState::Idle);
        let core = Arc::new(Self {
            handle,
            group,
            generation,
            data_dir: PathBuf::from(&config.data_dir),
            dropped,
            sync_state,
            messages,
            foreign_tasks_before,
            sync_lock: tokio::sync::Mutex::new(()),
            inner: Mutex::new(Inner {
                state: ClientState::Created,
                sdk: Some(sdk.clone()),
                sync: None,
                sync_wanted: false,
                paused: false,
            }),
            claim: Mutex::new(Some(claim)),
        });
        core.spawn_background(&sdk);
        registry::add(&core);
        Ok(core)
    }

    pub(crate) fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forwards matrix-sdk's task failures and delivers messages, until the client drains.
    fn spawn_background(&self, sdk: &matrix_sdk::Client) {
        let mut failures = sdk.task_monitor().subscribe();
        self.spawn(TaskKind::Finite, "sdk-task-monitor", async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match failures.recv().await {
                    Ok(failure) => crate::supervisor::failure::report(
                        &format!("matrix-sdk::{}", failure.task.name),
                        matrix::map_task_failure(failure.reason),
                    ),
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(n, "missed matrix-sdk task failure reports")
                    }
                    Err(RecvError::Closed) => return Ok(()),
                }
            }
        });
        let hub = self.messages.clone();
        self.spawn(TaskKind::Infinite, "message-delivery", async move {
            hub.run().await;
            Ok(())
        });
    }

    /// Spawns a supervised task of this client; dropped unpolled when it drains.
    pub(crate) fn spawn<F>(&self, kind: TaskKind, name: &str, future: F)
    where
        F: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        // Our own tasks cooperate: they end as soon as the group is cancelled.
        let token = self.group.token().clone();
        let future = async move { token.run_until_cancelled(future).await.unwrap_or(Ok(())) };
        let _ = self.group.spawn(&self.handle, name, kind, future);
    }

    /// The state, for `state()`.
    pub(crate) fn state(&self) -> ClientState {
        self.inner().state
    }

    /// A clone of the matrix client, if the state allows ordinary calls.
    pub(crate) fn sdk(&self) -> CoreResult<matrix_sdk::Client> {
        let inner = self.inner();
        check_usable(inner.state)?;
        inner.sdk.clone().ok_or(CoreError::ClientClosed)
    }

    /// A clone of the matrix client, if a session is active.
    pub(crate) fn logged_in_sdk(&self) -> CoreResult<matrix_sdk::Client> {
        let inner = self.inner();
        check_usable(inner.state)?;
        if inner.state != ClientState::LoggedIn {
            return Err(CoreError::invalid_state(
                "log in or restore a session first",
            ));
        }
        inner.sdk.clone().ok_or(CoreError::ClientClosed)
    }

    /// Applies a transition, or returns why it is refused.
    pub(crate) fn transition(&self, transition: Transition) -> CoreResult<ClientState> {
        let mut inner = self.inner();
        let next = next_state(inner.state, transition)?;
        inner.state = next;
        Ok(next)
    }

    /// Runs `work` as a supervised call of this client.
    pub(crate) async fn call<T, F>(&self, name: &str, work: F) -> CoreResult<T>
    where
        T: Send + 'static,
        F: std::future::Future<Output = CoreResult<T>> + Send + 'static,
    {
        call(&self.group, name, CoreError::ClientClosed, work).await
    }

    /// The current session.
    pub(crate) fn session(&self) -> Option<Session> {
        let sdk = self.inner().sdk.clone()?;
        matrix::auth::session_of(&sdk)
    }

    /// Registers a sync state listener; the current state is delivered first.
    pub(crate) fn observe_sync_state(
        &self,
        listener: Arc<dyn SyncStateListener>,
    ) -> CoreResult<Arc<Subscription>> {
        check_usable(self.state()).map_err(|_| CoreError::ClientClosed)?;
        let (subscription, delivery) = Subscription::new();
        let mut states = self.sync_state.subscribe();
        let stop = delivery.token();
        self.spawn(TaskKind::Finite, "sync-state-listener", async move {
            loop {
                let state = *states.borrow_and_update();
                let delivered = delivery.deliver(|| {
                    crate::ffi::listeners::guard_listener("SyncStateListener.on_state", || {
                        listener.on_state(state)
                    });
                });
                if !delivered {
                    return Ok(());
                }
                tokio::select! {
                    _ = stop.cancelled() => return Ok(()),
                    changed = states.changed() => if changed.is_err() { return Ok(()) },
                }
            }
        });
        Ok(subscription)
    }

    /// Registers a message listener.
    pub(crate) fn observe_messages(
        &self,
        listener: Arc<dyn MessageListener>,
    ) -> CoreResult<Arc<Subscription>> {
        check_usable(self.state()).map_err(|_| CoreError::ClientClosed)?;
        let (subscription, delivery) = Subscription::new();
        self.messages.add(delivery, listener);
        Ok(subscription)
    }
}
