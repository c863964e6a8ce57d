//! Sync, pause and resume of a [`ClientCore`].

use std::sync::Arc;

use matrix_sdk_ui::sync_service::SyncService;

use super::ClientCore;
use crate::error::{CoreError, CoreResult};
use crate::lifecycle::state::{next_state, ClientState, Transition};
use crate::matrix;
use crate::supervisor::TaskKind;

impl ClientCore {
    /// Whether `transition` would be accepted now; changes nothing.
    pub(crate) fn transition_check(&self, transition: Transition) -> CoreResult<()> {
        next_state(self.inner().state, transition).map(|_| ())
    }

    /// Records a successful login or restore.
    pub(crate) fn session_started(&self) -> CoreResult<()> {
        self.transition(Transition::SessionStarted).map(|_| ())
    }

    /// Builds the sync service once, then starts it.
    pub(crate) async fn start_sync(self: &Arc<Self>) -> CoreResult<()> {
        let sdk = self.logged_in_sdk()?;
        if self.inner().paused {
            return Err(CoreError::invalid_state(
                "the client is paused; call resume() first",
            ));
        }
        let core = self.clone();
        self.call("start_sync", async move {
            let _serial = core.sync_lock.lock().await;
            let existing = core.inner().sync.clone();
            let sync = match existing {
                Some(sync) => sync,
                None => {
                    let sync = Arc::new(matrix::sync::build(&sdk).await?);
                    core.install_sync(&sdk, &sync)?;
                    sync
                }
            };
            core.inner().sync_wanted = true;
            matrix::sync::start(&sync).await;
            core.sync_state
                .send_replace(matrix::sync::map_state(&sync.state().get()));
            Ok(())
        })
        .await
    }

    /// Keeps the sync service and forwards its states to `sync_state`.
    fn install_sync(&self, sdk: &matrix_sdk::Client, sync: &Arc<SyncService>) -> CoreResult<()> {
        {
            let mut inner = self.inner();
            if !matches!(inner.state, ClientState::LoggedIn) {
                return Err(CoreError::ClientClosed);
            }
            inner.sync = Some(sync.clone());
        }
        let mut states = sync.state();
        let sender = self.sync_state.clone();
        self.spawn(TaskKind::Finite, "sync-state", async move {
            sender.send_replace(matrix::sync::map_state(&states.get()));
            while let Some(state) = states.next().await {
                sender.send_replace(matrix::sync::map_state(&state));
            }
            Ok(())
        });
        let rooms = sync.room_list_service();
        let sdk = sdk.clone();
        self.spawn(TaskKind::Infinite, "room-subscriptions", async move {
            matrix::sync::keep_rooms_subscribed(&sdk, &rooms).await;
            Ok(())
        });
        Ok(())
    }

    /// Stops the sync service; returns when no sync request is in flight.
    pub(crate) async fn stop_sync(self: &Arc<Self>) -> CoreResult<()> {
        self.sdk()?;
        let core = self.clone();
        self.call("stop_sync", async move {
            let _serial = core.sync_lock.lock().await;
            let sync = {
                let mut inner = core.inner();
                inner.sync_wanted = false;
                inner.sync.clone()
            };
            if let Some(sync) = sync {
                matrix::sync::stop(&sync).await?;
                core.sync_state
                    .send_replace(matrix::sync::map_state(&sync.state().get()));
            }
            Ok(())
        })
        .await
    }

    /// Stops sync and closes the stores, keeping the wish to sync for `resume`.
    pub(crate) async fn pause(self: &Arc<Self>) -> CoreResult<()> {
        let sdk = self.sdk()?;
        let core = self.clone();
        self.call("pause", async move {
            let _serial = core.sync_lock.lock().await;
            let sync = core.inner().sync.clone();
            if let Some(sync) = sync {
                matrix::sync::stop(&sync).await?;
                core.sync_state
                    .send_replace(matrix::sync::map_state(&sync.state().get()));
            }
            sdk.pause()
                .await
                .map_err(|e| matrix::errors::from_sdk(&e))?;
            core.inner().paused = true;
            Ok(())
        })
        .await
    }

    /// Reopens the stores and restarts sync if it was wanted before `pause`.
    pub(crate) async fn resume(self: &Arc<Self>) -> CoreResult<()> {
        let sdk = self.sdk()?;
        let core = self.clone();
        self.call("resume", async move {
            let _serial = core.sync_lock.lock().await;
            if !core.inner().paused {
                return Ok(());
            }
            sdk.resume()
                .await
                .map_err(|e| matrix::errors::from_sdk(&e))?;
            let (sync, wanted) = {
                let mut inner = core.inner();
                inner.paused = false;
                (inner.sync.clone(), inner.sync_wanted)
            };
            if let (Some(sync), true) = (sync, wanted) {
                matrix::sync::start(&sync).await;
            }
            Ok(())
        })
        .await
    }
}
