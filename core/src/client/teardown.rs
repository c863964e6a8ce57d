//! The narrow interface through which a drain (`lifecycle`) takes a client
//! apart. The drain decides the order; these steps only do their part.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

use super::state::Transition;
use super::{process_lock, registry, ClientCore};
use crate::api::CoreResult;
use crate::runtime::{self, ClientLease};

/// What a drain takes out of a client.
pub(crate) struct DrainParts {
    pub(crate) sdk: Option<crate::matrix::Sdk>,
    pub(crate) sync: Option<Arc<crate::matrix::sync::Service>>,
}

impl ClientCore {
    /// The handle a drain works with, even during a process shutdown.
    pub(crate) fn drain_handle(&self) -> CoreResult<Handle> {
        runtime::handle_of(self.generation, true)
    }

    /// Waits up to `bound` for a login in flight (request and install) to end, ends the
    /// client's calls in flight (they get `ClientClosed`), waits up to
    /// `bound` for a sync call to let go of the sync lock, and takes the
    /// matrix client and the sync service out. After this no call of the
    /// client can start sync again.
    pub(crate) fn take_for_drain(&self, handle: &Handle, bound: Duration) -> DrainParts {
        // A login in flight ends first, its session installed: the app gets
        // it, and no device is left on the server that nobody knows of.
        // The calls are cancelled while the permit is held, so no login
        // starts a request after this.
        let install =
            handle.block_on(async { tokio::time::timeout(bound, self.install.lock()).await });
        if install.is_err() {
            tracing::warn!(
                "a login (its request and its session's install) took longer than the drain's \
                 bound; its request is abandoned"
            );
        }
        self.group.token().cancel();
        drop(install);
        let serial =
            handle.block_on(async { tokio::time::timeout(bound, self.sync.lock.lock()).await });
        if serial.is_err() {
            tracing::warn!("a sync call held the sync lock past the drain's bound");
        }
        let mut inner = self.inner();
        inner.sync_wanted = false;
        DrainParts {
            sdk: inner.sdk.take(),
            sync: inner.sync.take(),
        }
    }

    /// Takes every timeline's matrix-sdk-ui object away, for the drain to
    /// drop inside the runtime.
    pub(crate) fn take_timelines(&self) -> Vec<Arc<crate::matrix::timeline::Timeline>> {
        self.chat.timelines.open.take_all()
    }

    /// The rooms whose history a timeline of this client paginated.
    pub(crate) fn take_paginated_rooms(&self) -> Vec<String> {
        self.chat.timelines.take_paginated()
    }

    /// Takes the notification settings away (they hold the matrix
    /// client), likewise.
    pub(crate) fn take_push_rules(&self) -> Option<crate::matrix::notification_settings::Settings> {
        self.chat.push_rules.take()
    }

    /// Takes every verification's matrix-sdk request away, likewise.
    pub(crate) fn take_verifications(&self) -> Vec<crate::matrix::verification::Request> {
        self.security.verifications.take_all()
    }

    /// The client's task group, for the drain to stop (signal, collect,
    /// drop).
    pub(crate) fn task_group(&self) -> &crate::supervisor::TaskGroup {
        &self.group
    }

    /// Sends every listener its end signal and stops the listener thread,
    /// waiting for it until `deadline`. Returns whether it finished in time.
    pub(crate) fn end_listeners(&self, deadline: Instant) -> bool {
        let finished = self.listeners.events.end(deadline);
        self.listeners.sessions.clear();
        finished
    }

    /// Moves the client to `Closed`, forgets it as a live client and gives
    /// back its tokens' registrations with the log scrubber.
    pub(crate) fn mark_drained(&self) {
        let _ = self.transition(Transition::Drained);
        registry::remove(self);
        // The matrix client is gone: no refresh can ask the store again.
        self.listeners.session_store.clear();
        let secrets = {
            let mut inner = self.inner();
            (
                std::mem::take(&mut inner.secrets),
                std::mem::take(&mut inner.tokens),
            )
        };
        drop(secrets);
    }

    /// The client's lease on its runtime generation, once.
    pub(crate) fn take_lease(&self) -> Option<ClientLease> {
        self.lease.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Observed: nothing holds the matrix client's inner state any more.
    pub(crate) fn client_dropped(&self) -> bool {
        self.dropped.dropped()
    }

    /// The client's supervised tasks that have not ended.
    pub(crate) fn tasks_alive(&self) -> u32 {
        self.group.len() as u32
    }

    /// Lets a notification client of another process read the stores (a
    /// client that shares nothing, once its stores are closed).
    pub(crate) fn let_readers_in(&self) {
        self.alone.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Keeps notification clients of other processes out again before the
    /// stores reopen, waiting for one that reads (bounded); see
    /// [`process_lock::hold_alone`].
    pub(crate) fn keep_readers_out(&self) -> CoreResult<()> {
        let held = process_lock::hold_alone(&self.data_dir, self.shares_stores)?;
        *self.alone.lock().unwrap_or_else(|p| p.into_inner()) = held;
        Ok(())
    }

    /// Lets another client open this `data_dir`.
    pub(crate) fn release_data_dir(&self) {
        self.let_readers_in();
        self.claim.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// Waits, at most `bound`, until no file under `data_dir` is open, and
    /// returns the last count (`None` where the platform cannot look).
    /// matrix-sdk's close returns once the stores refuse new work; blocking
    /// threads close the SQLite connections a moment later.
    pub(crate) async fn store_files_open(&self, bound: Duration) -> Option<u32> {
        super::store_dir::files_open_after_close(&self.data_dir, bound).await
    }

    /// Records that the session of this client's stores has ended on the
    /// server, after a logout that keeps the stores: the next creation on
    /// `data_dir` replaces them (no `restore` can use them again).
    pub(crate) fn mark_session_revoked(&self) -> std::io::Result<()> {
        super::store_dir::record_session_revoked(&self.data_dir)
    }

    /// The canonical `data_dir`, for the drain's wipe and measurements.
    pub(crate) fn store_dir(&self) -> &Path {
        &self.data_dir
    }
}

pub(crate) use super::store_dir::{begin_wipe, mark_wipe_owed};
