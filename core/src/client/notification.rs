//! A `data_dir` read by `get_notification`: the app's stores, which another
//! process (the app) may have open at the same time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{registry, store_dir};
use crate::api::{CoreError, CoreResult, Session};

/// A `data_dir` claimed in this process for one `get_notification`; the
/// claim is released on drop. While it is held, `Client.create` on the same
/// directory in this process gets `Busy`, and `runtime_stats().live_clients`
/// counts it.
pub(crate) struct NotificationDir {
    path: PathBuf,
    _claim: registry::DataDirClaim,
}

impl NotificationDir {
    /// Claims `dir`, which must hold the stores of `session`. Changes
    /// nothing on disk: a missing directory is not created, an owed wipe is
    /// not finished (that is the app's next `Client.create`).
    ///
    /// `Busy` when a client of this process uses `dir` (read the event
    /// through that client instead); `InvalidState` when `dir` holds no
    /// stores of `session`.
    pub(crate) fn claim(dir: &Path, session: &Session) -> CoreResult<Self> {
        let path = dir.canonicalize().map_err(|e| {
            CoreError::invalid_state(format!(
                "data_dir `{}` cannot be read ({e}): log in with Client.create there first",
                dir.display()
            ))
        })?;
        let claim = registry::claim_data_dir(&path).map_err(|_| {
            CoreError::busy(format!(
                "get_notification: a client of this process uses data_dir `{}`",
                path.display()
            ))
        })?;
        store_dir::check_readable(&path, session)?;
        Ok(Self {
            path,
            _claim: claim,
        })
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
