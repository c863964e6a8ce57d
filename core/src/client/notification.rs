//! `get_notification`'s ways to the app's stores: a `data_dir` claimed for a
//! short-lived client of its own (the stores, which another process, the
//! app, may have open at the same time); the live client of this process
//! that holds that `data_dir`; or, while that client is paused (its stores
//! closed), its `data_dir` lent to a short-lived client, the pause held.

use std::path::{Path, PathBuf};
use std::time::Duration;

use std::sync::Arc;

use super::session::Exclusive;
use super::{registry, store_dir, ClientCore};
use crate::api::{CoreError, CoreResult, NotificationItem, Session};
use crate::matrix::{self, notification::Target};
use crate::supervisor::WhenDropped;

/// A `data_dir` claimed in this process for one `get_notification`; the
/// claim is released on drop. While it is held, `Client.create` on the same
/// directory in this process gets `Busy`, and `runtime_stats().live_clients`
/// counts it.
pub(crate) struct NotificationDir {
    path: PathBuf,
    _claim: Option<registry::DataDirClaim>,
    _lent: Option<PausedHold>,
}

/// A paused live client kept paused (its `resume` gets `Busy`) while a
/// short-lived client reads its stores; dropping it lets the client resume.
pub(crate) struct PausedHold {
    path: PathBuf,
    _exclusive: Exclusive,
}

/// What the live client of this process makes of a notification.
pub(crate) enum LiveNotification {
    /// It fetched the event itself.
    Answered(Box<Option<NotificationItem>>),
    /// It is paused: its stores are closed and stay so; a short-lived
    /// client reads them under the hold.
    Paused(PausedHold),
}

impl NotificationDir {
    /// Claims `dir`, which must hold the stores of `session`. Changes
    /// nothing on disk: a missing directory is not created, an owed wipe is
    /// not finished (that is the app's next `Client.create`).
    ///
    /// `Busy` when a client of this process uses `dir` (that client answers
    /// instead: [`ClientCore::notification`]); `InvalidState` when `dir`
    /// holds no stores of `session`.
    pub(crate) fn claim(dir: &Path, session: &Session) -> CoreResult<Self> {
        let path = dir.canonicalize().map_err(|e| {
            CoreError::invalid_state(format!(
                "data_dir `{}` cannot be read ({e}): log in with Client.create there first",
                dir.display()
            ))
        })?;
        let claim =
            registry::claim_data_dir(&path, registry::Holder::Notification).map_err(|_| {
                CoreError::busy(format!(
                    "get_notification: a client of this process uses data_dir `{}`",
                    path.display()
                ))
            })?;
        store_dir::check_readable(&path, session)?;
        Ok(Self {
            path,
            _claim: Some(claim),
            _lent: None,
        })
    }

    /// The `data_dir` of a paused live client of this process, lent for the
    /// time of the hold (its claim stays the client's).
    pub(crate) fn lent(hold: PausedHold, session: &Session) -> CoreResult<Self> {
        store_dir::check_readable(&hold.path, session)?;
        Ok(Self {
            path: hold.path.clone(),
            _claim: None,
            _lent: Some(hold),
        })
    }

    /// Resolves once a client of this process asks for the directory; never
    /// for a lent one (its client exists already).
    pub(crate) async fn wanted(&self) {
        match &self._claim {
            Some(claim) => claim.wanted().await,
            None => std::future::pending().await,
        }
    }

    /// The canonical directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Waits, at most `bound`, until this process has no file under the
    /// directory open; the last count (`None` where the platform cannot look).
    pub(crate) async fn files_open(&self, bound: Duration) -> Option<u32> {
        store_dir::files_open_after_close(&self.path, bound).await
    }
}

impl ClientCore {
    /// `get_notification` in the process of this live client, on its
    /// `data_dir` (an Android push handler runs in the app's process): this
    /// client fetches the event, as a call of its own, within `bound`.
    ///
    /// While it is paused, it is held paused and its stores are lent
    /// instead ([`LiveNotification::Paused`]): the app's stores stay closed
    /// in the background, and the push is still shown.
    ///
    /// `InvalidState` when this client is logged in as another session;
    /// `Busy` while it is not logged in yet, is closing, or is resuming.
    pub(crate) async fn notification(
        self: &Arc<Self>,
        session: &Session,
        target: Target,
        bound: Duration,
    ) -> CoreResult<LiveNotification> {
        let busy = || {
            CoreError::busy(format!(
                "get_notification: the client of this process on data_dir `{}` is not logged in \
                 or is closing",
                self.data_dir.display()
            ))
        };
        match self.session() {
            Some(s) if s.user_id == session.user_id && s.device_id == session.device_id => {}
            Some(_) => {
                return Err(CoreError::invalid_state(format!(
                    "get_notification: the client of this process on data_dir `{}` is logged in \
                     as another session",
                    self.data_dir.display()
                )))
            }
            None => return Err(busy()),
        }
        if self.is_paused() {
            // Its own pause and resume are exclusive: once this holds the
            // mark, the client stays as it is found.
            let exclusive = Exclusive::begin(self, "get_notification")?;
            if self.is_paused() {
                return Ok(LiveNotification::Paused(PausedHold {
                    path: self.data_dir.clone(),
                    _exclusive: exclusive,
                }));
            }
        }
        let sdk = self.sdk_with_stores().map_err(|e| match e {
            CoreError::ClientClosed => busy(),
            other => other,
        })?;
        let core = self.clone();
        let work = async move {
            // Sharing the stores with no process, this client's sync service
            // and the notification's encryption sync take turns in-process.
            let sync = match core.shares_stores {
                true => None,
                false => Some(core.sync_service(&sdk).await?),
            };
            tokio::time::timeout(bound, matrix::notification::fetch(&sdk, &target, sync))
                .await
                .unwrap_or_else(|_| Err(CoreError::timeout("get_notification")))
        };
        self.store_call("get_notification", WhenDropped::Abort, work)
            .await
            .map(|item| LiveNotification::Answered(Box::new(item)))
            .map_err(|e| match e {
                CoreError::ClientClosed => busy(),
                other => other,
            })
    }
}
