//! [`RefreshLock`]: the lock a notification fetcher holds while it refreshes
//! a session, across the processes of the app: an advisory file lock on
//! `<data_dir>/session-refresh.lock`, which the OS releases if the process
//! dies holding it.
//!
//! Under it, the fetcher asks the app's `SessionStore` first and takes up a
//! session that another process refreshed, instead of spending a refresh
//! token that may already be spent. matrix-sdk 0.18 refreshes the app's own
//! client inside its requests with no hook before the refresh, so the app's
//! client does not take this lock (see the README's "Sessions").

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::api::{CoreError, CoreResult};

/// The lock file's name in `data_dir`.
const LOCK_FILE: &str = "session-refresh.lock";
/// How often a waiting fetcher tries the lock again.
const RETRY_EVERY: Duration = Duration::from_millis(20);

/// Held while a refresh runs; released on drop (and by the OS at exit).
pub(crate) struct RefreshLock(#[allow(dead_code)] File);

impl RefreshLock {
    /// Takes the lock of `dir`, waiting at most `bound` for another process
    /// that holds it; `Timeout` after that, `Storage` when the file cannot
    /// be opened. Blocks: the caller hands its runtime work away meanwhile.
    pub(crate) fn acquire(dir: &Path, bound: Duration) -> CoreResult<Self> {
        let storage = |e: std::io::Error| {
            CoreError::storage(format!(
                "the session's refresh lock in `{}`: {e}",
                dir.display()
            ))
        };
        tokio::task::block_in_place(|| {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(dir.join(LOCK_FILE))
                .map_err(storage)?;
            let deadline = Instant::now() + bound;
            loop {
                match file.try_lock() {
                    Ok(()) => return Ok(Self(file)),
                    Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                        std::thread::sleep(RETRY_EVERY)
                    }
                    Err(TryLockError::WouldBlock) => {
                        return Err(CoreError::timeout(
                            "waiting for another process's session refresh",
                        ))
                    }
                    Err(TryLockError::Error(e)) => return Err(storage(e)),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_second_holder_waits_for_the_first_and_times_out() {
        let dir = tempfile::TempDir::new().unwrap();
        let first = RefreshLock::acquire(dir.path(), Duration::from_secs(1)).unwrap();
        let second = RefreshLock::acquire(dir.path(), Duration::from_millis(100));
        assert!(
            matches!(second, Err(CoreError::Timeout { .. })),
            "{:?}",
            second.err()
        );
        drop(first);
        RefreshLock::acquire(dir.path(), Duration::from_millis(100)).unwrap();
    }
}
