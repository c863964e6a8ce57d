//! [`FileLock`]: locks across the app's processes on files in `data_dir`
//! (advisory `flock`s, which the OS releases if the process dies):
//! - [`ALONE`]: an app client whose stores no other process shares
//!   (`ClientConfig.shared_with_other_processes: false`, matrix-sdk's
//!   single-process locks) holds it exclusively while its stores are open,
//!   and a notification client holds it shared while it reads: neither opens
//!   the stores under the other;
//! - [`SESSION_REFRESH`]: a notification fetcher holds it while it renews a
//!   session (see `lifecycle::notification::reader`).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::api::{CoreError, CoreResult};

/// Held by a client that does not share its stores, against readers.
pub(crate) const ALONE: &str = "alone.lock";
/// Held by a notification fetcher while it renews a session.
pub(crate) const SESSION_REFRESH: &str = "session-refresh.lock";
/// How often a waiter tries the lock again.
const RETRY_EVERY: Duration = Duration::from_millis(20);

/// A lock held; released on drop (and by the OS at exit).
pub(crate) struct FileLock(#[allow(dead_code)] File);

/// How a lock is held.
#[derive(Clone, Copy)]
pub(crate) enum Mode {
    /// Alone.
    Exclusive,
    /// Beside other shared holders.
    Shared,
}

impl FileLock {
    /// Takes the lock `name` of `dir`, waiting at most `bound` while another
    /// holds it (another process, or another file of this one); `Timeout`
    /// after that, `Storage` when the file cannot be opened. Blocks: a
    /// caller on a runtime worker hands its work away meanwhile.
    pub(crate) fn take(dir: &Path, name: &str, mode: Mode, bound: Duration) -> CoreResult<Self> {
        let storage =
            |e: std::io::Error| CoreError::storage(format!("`{name}` in `{}`: {e}", dir.display()));
        let wait = || {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(dir.join(name))
                .map_err(storage)?;
            let deadline = Instant::now() + bound;
            loop {
                let taken = match mode {
                    Mode::Exclusive => file.try_lock(),
                    Mode::Shared => file.try_lock_shared(),
                };
                match taken {
                    Ok(()) => return Ok(Self(file)),
                    Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                        // A `flock` held by another process sends no wake-up
                        // and has no bounded wait; this runs off the app's
                        // thread, only while another holder has the lock.
                        std::thread::sleep(RETRY_EVERY) // allowed: see above
                    }
                    Err(TryLockError::WouldBlock) => {
                        return Err(CoreError::timeout(format!(
                            "`{name}` in `{}`, held by another",
                            dir.display()
                        )))
                    }
                    Err(TryLockError::Error(e)) => return Err(storage(e)),
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        }
    }
}

/// How long a client that shares nothing waits, at its creation or its
/// `resume`, for a notification client of another process to finish
/// reading: a fetch's bound and its teardown's.
const READER_WAIT: Duration = Duration::from_secs(35);

/// The [`ALONE`] lock of a client whose stores no other process shares
/// (`shared` false), taken before its stores open; `None` for one that
/// shares them. `Busy` when a reader holds it past [`READER_WAIT`].
pub(crate) fn hold_alone(dir: &Path, shared: bool) -> CoreResult<Option<FileLock>> {
    if shared {
        return Ok(None);
    }
    FileLock::take(dir, ALONE, Mode::Exclusive, READER_WAIT)
        .map(Some)
        .map_err(|e| match e {
            CoreError::Timeout { .. } => CoreError::busy(format!(
                "a notification client of another process reads data_dir `{}`",
                dir.display()
            )),
            other => other,
        })
}

/// Held by a notification client while it reads `dir`'s stores.
/// `InvalidState` at once when an app client that shares nothing has them
/// open (in its process, that client answers the push itself).
pub(crate) fn read_beside_app(dir: &Path) -> CoreResult<FileLock> {
    FileLock::take(dir, ALONE, Mode::Shared, Duration::ZERO).map_err(|e| match e {
        CoreError::Timeout { .. } => CoreError::invalid_state(format!(
            "the app's client has the stores of data_dir `{}` open and shares them with no \
             other process (ClientConfig.shared_with_other_processes is false): in the app's \
             process, get_notification asks that client",
            dir.display()
        )),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exclusive_holder_keeps_others_out_until_it_lets_go() {
        let dir = tempfile::TempDir::new().unwrap(); // allowed: a unit test's setup
        let short = Duration::from_millis(100);
        let first = FileLock::take(dir.path(), ALONE, Mode::Exclusive, short).unwrap(); // allowed: a unit test

        for mode in [Mode::Exclusive, Mode::Shared] {
            let second = FileLock::take(dir.path(), ALONE, mode, short);
            assert!(
                matches!(second, Err(CoreError::Timeout { .. })),
                "{:?}",
                second.err()
            );
        }
        drop(first);
        let readers =
            [Mode::Shared, Mode::Shared].map(|m| FileLock::take(dir.path(), ALONE, m, short));
        assert!(readers.iter().all(Result::is_ok), "shared holders share");
        let writer = FileLock::take(dir.path(), ALONE, Mode::Exclusive, short);
        assert!(
            matches!(writer, Err(CoreError::Timeout { .. })),
            "{:?}",
            writer.err()
        );
    }
}
