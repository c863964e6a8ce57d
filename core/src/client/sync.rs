//! Sync, pause and resume of a [`ClientCore`].
//!
//! Each of these changes the client's state, so each runs to its end once
//! started, even if the foreign caller cancels ([`WhenDropped::Finish`]); a
//! drain cancels them instead, and they then return `ClientClosed`.

use std::future::Future;
use std::sync::Arc;

use futures_util::StreamExt;
use tokio::runtime::Handle;

use super::session::Exclusive;
use super::{store_dir, ClientCore};
use crate::api::{ClientState, CoreError, CoreResult};
use crate::matrix;
use crate::supervisor::{TaskKind, WhenDropped};

/// The first and the longest wait before sync that failed (the network
/// gone, the server down) is started again; each failure in a row doubles
/// it, and a running sync resets it.
const RECOVERY_FIRST: std::time::Duration = std::time::Duration::from_secs(2);
const RECOVERY_MAX: std::time::Duration = std::time::Duration::from_secs(60);

/// Starts sync again after it failed (matrix-sdk-ui's service stops in
/// `Error` and stays there), with a growing wait, while the app wants it:
/// not paused, not stopped, not a session the server refused. Ends with the
/// client. Sleeps between tries: nothing wakes it while sync runs.
async fn recover_sync(
    core: std::sync::Weak<ClientCore>,
    mut states: impl futures_util::Stream<Item = crate::api::SyncState> + Unpin,
) -> Result<(), String> {
    use crate::api::SyncState;
    let mut wait = RECOVERY_FIRST;
    while let Some(state) = states.next().await {
        match state {
            SyncState::Running => wait = RECOVERY_FIRST,
            SyncState::Error => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RECOVERY_MAX);
                let Some(core) = core.upgrade() else {
                    return Ok(());
                };
                let wanted = {
                    let inner = core.inner();
                    inner.sync_wanted && !inner.paused && inner.state == ClientState::LoggedIn
                };
                if wanted && !core.listeners.sessions.refused() {
                    tracing::info!("sync failed; starting it again");
                    if let Err(e) = core.start_sync().await {
                        tracing::debug!(%e, "sync did not start again");
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Longest wait, after matrix-sdk closed the stores, for their files to be
/// closed too (see [`store_dir::wait_files_closed`]).
const STORES_CLOSED_BOUND: std::time::Duration = std::time::Duration::from_secs(2);

impl ClientCore {
    /// Builds the sync service once, then starts it.
    pub(crate) async fn start_sync(self: &Arc<Self>) -> CoreResult<()> {
        let sdk = self.sdk_with_stores()?;
        let core = self.clone();
        self.call("start_sync", WhenDropped::Finish, async move {
            let _serial = core.sync.lock.lock().await;
            // A pause that ran while this call waited closed the stores.
            if core.inner().paused {
                return Err(super::paused_error());
            }
            let sync = core.sync_service_locked(&sdk).await?;
            core.inner().sync_wanted = true;
            matrix::sync::start(&sync, core.request_timeout).await;
            core.listeners
                .events
                .set_sync_state(matrix::sync::current_state(&sync));
            Ok(())
        })
        .await
    }

    /// The sync service, built on first use without being started (the room
    /// list needs its `RoomListService` whether sync runs or not).
    pub(crate) async fn sync_service(
        self: &Arc<Self>,
        sdk: &matrix::Sdk,
    ) -> CoreResult<Arc<matrix::sync::Service>> {
        let _serial = self.sync.lock.lock().await;
        self.sync_service_locked(sdk).await
    }

    /// [`ClientCore::sync_service`] with the sync lock already held.
    async fn sync_service_locked(
        self: &Arc<Self>,
        sdk: &matrix::Sdk,
    ) -> CoreResult<Arc<matrix::sync::Service>> {
        if let Some(sync) = self.inner().sync.clone() {
            return Ok(sync);
        }
        let sync = Arc::new(matrix::sync::build(sdk).await?);
        self.install_sync(sdk, &sync)?;
        Ok(sync)
    }

    /// Keeps the sync service and forwards its states to the listeners.
    fn install_sync(
        self: &Arc<Self>,
        sdk: &matrix::Sdk,
        sync: &Arc<matrix::sync::Service>,
    ) -> CoreResult<()> {
        {
            let mut inner = self.inner();
            if !matches!(inner.state, ClientState::LoggedIn) {
                return Err(CoreError::ClientClosed);
            }
            inner.sync = Some(sync.clone());
        }
        let handle = Handle::current();
        let mut states = matrix::sync::states(sync);
        let events = self.listeners.events.clone();
        self.spawn(&handle, TaskKind::Finite, "sync-state", async move {
            while let Some(state) = states.next().await {
                events.set_sync_state(state);
            }
            Ok(())
        });
        let recovery = recover_sync(Arc::downgrade(self), matrix::sync::states(sync));
        self.spawn(&handle, TaskKind::Finite, "sync-recovery", recovery);
        let keep_subscribed = matrix::subscriptions::keep_rooms_subscribed(
            sdk.clone(),
            sync,
            self.sync.shown.subscribe(),
            self.sync.answers.clone(),
        );
        self.spawn(
            &handle,
            TaskKind::Infinite,
            "room-subscriptions",
            async move {
                keep_subscribed.await;
                Ok(())
            },
        );
        Ok(())
    }

    /// Stops the sync service; returns when no sync request is in flight.
    pub(crate) async fn stop_sync(self: &Arc<Self>) -> CoreResult<()> {
        self.sdk()?;
        let core = self.clone();
        self.call("stop_sync", WhenDropped::Finish, async move {
            let _serial = core.sync.lock.lock().await;
            let sync = {
                let mut inner = core.inner();
                inner.sync_wanted = false;
                inner.sync.clone()
            };
            if let Some(sync) = sync {
                matrix::sync::stop(&sync).await?;
                core.listeners
                    .events
                    .set_sync_state(matrix::sync::current_state(&sync));
            }
            Ok(())
        })
        .await
    }

    /// Stops sync and closes the stores, keeping the wish to sync for `resume`.
    pub(crate) async fn pause(self: &Arc<Self>) -> CoreResult<()> {
        let sdk = self.sdk()?;
        let exclusive = Exclusive::begin(self, "pause")?;
        let core = self.clone();
        self.call("pause", WhenDropped::Finish, async move {
            let _exclusive = exclusive;
            let _serial = core.sync.lock.lock().await;
            let sync = core.inner().sync.clone();
            let events = core.listeners.events.clone();
            let stop = async move {
                if let Some(sync) = sync {
                    matrix::sync::stop(&sync).await?;
                    events.set_sync_state(matrix::sync::current_state(&sync));
                }
                Ok(())
            };
            let close = async {
                // Paused from before the first store closes: calls that start
                // now are refused, and calls under way that lose their stores
                // say why. A failed close stays paused, so that `resume`
                // reopens whatever was closed.
                {
                    let mut inner = core.inner();
                    inner.paused = true;
                    inner.pauses += 1;
                }
                core.paused_watch.send_replace(true);
                matrix::send_queue::hold(&sdk).await;
                matrix::stores::close(&sdk).await?;
                core.let_readers_in();
                store_dir::wait_files_closed(&core.data_dir, STORES_CLOSED_BOUND).await
            };
            pause_steps(stop, close).await
        })
        .await
    }

    /// Reopens the stores and restarts sync if it was wanted before `pause`.
    pub(crate) async fn resume(self: &Arc<Self>) -> CoreResult<()> {
        let sdk = self.sdk()?;
        let exclusive = Exclusive::begin(self, "resume")?;
        let core = self.clone();
        self.call("resume", WhenDropped::Finish, async move {
            let _exclusive = exclusive;
            let _serial = core.sync.lock.lock().await;
            if !core.inner().paused {
                return Ok(());
            }
            core.keep_readers_out()?;
            matrix::stores::reopen(&sdk).await?;
            let (sync, wanted) = {
                let mut inner = core.inner();
                inner.paused = false;
                (inner.sync.clone(), inner.sync_wanted)
            };
            core.paused_watch.send_replace(false);
            matrix::send_queue::release(&sdk).await;
            if let (Some(sync), true) = (sync, wanted) {
                matrix::sync::start(&sync, core.request_timeout).await;
            }
            Ok(())
        })
        .await
    }
}

/// The two steps of `pause`: stop sync, then close the stores, whatever the
/// first step did. An app suspended with SQLite locks held is killed by iOS
/// (0xdead10cc), so the stores close even when sync did not stop in time;
/// the error of the sync stop is then returned, after the stores closed.
async fn pause_steps(
    stop_sync: impl Future<Output = CoreResult<()>>,
    close_stores: impl Future<Output = CoreResult<()>>,
) -> CoreResult<()> {
    let stopped = stop_sync.await;
    close_stores.await?;
    stopped.map_err(|e| {
        tracing::warn!(%e, "pause: sync did not stop in time; the stores were closed anyway");
        e
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Regression: `pause()` returned on a sync-stop timeout before closing
    /// the stores, the very 0xdead10cc kill it exists to prevent.
    #[test]
    fn pause_closes_the_stores_even_when_sync_does_not_stop() {
        let closed = AtomicBool::new(false);
        let result = futures_executor::block_on(pause_steps(
            async { Err(CoreError::timeout("stopping the sync service")) },
            async {
                closed.store(true, Ordering::SeqCst);
                Ok(())
            },
        ));
        assert!(closed.load(Ordering::SeqCst), "the stores were not closed");
        assert_eq!(result, Err(CoreError::timeout("stopping the sync service")));
    }
}
