//! A client's `data_dir`: prepared before any store opens, the marker of the
//! session its stores belong to, and the crash-consistent wipe.
//!
//! A wipe is crash-consistent: a wiping logout first writes a "wipe owed"
//! marker, and the wipe itself renames the directory away (atomic) before
//! deleting it. If the process dies anywhere in between, the next
//! [`prepare`] on that directory finishes the wipe before any store opens.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::api::{CoreError, CoreResult, Session};

/// The user and device that the stores of a directory belong to (no secret).
const SESSION_MARKER: &str = ".mmc-session";
/// Written when a wiping logout begins; removed with the directory.
const WIPE_OWED: &str = ".mmc-wipe-owed";
/// Infix of the sibling name a directory is renamed to while it is deleted.
const TOMBSTONE: &str = ".mmc-wiped-";

/// How often [`wait_files_closed`] looks at the open files.
const CLOSED_CHECK_EVERY: Duration = Duration::from_millis(5);

/// Waits until no file under `dir` is open, at most `bound`; `Timeout` with
/// the count if some still are. Where the platform cannot count open files,
/// returns at once.
///
/// matrix-sdk's `close_stores` returns once the stores refuse new work, but
/// the SQLite connections are closed by blocking-pool threads a moment
/// later: a pause is only done when the files really are closed.
pub(crate) async fn wait_files_closed(dir: &Path, bound: Duration) -> CoreResult<()> {
    match files_open_after_close(dir, bound).await {
        None | Some(0) => Ok(()),
        Some(open) => Err(CoreError::timeout(format!(
            "closing the stores ({open} files under data_dir still open)"
        ))),
    }
}

/// Waits until no file under `dir` is open, at most `bound`, and returns the
/// last count: `Some(0)` once closed, `Some(n)` when `n` were still open at
/// the bound, `None` where the platform cannot count (at once).
pub(crate) async fn files_open_after_close(dir: &Path, bound: Duration) -> Option<u32> {
    let deadline = Instant::now() + bound;
    loop {
        match crate::platform::open_files_under(dir) {
            Some(open) if open > 0 && Instant::now() < deadline => {
                tokio::time::sleep(CLOSED_CHECK_EVERY).await
            }
            other => return other,
        }
    }
}

fn storage(dir: &Path, what: &str, e: io::Error) -> CoreError {
    CoreError::storage(format!("data_dir `{}`: {what}: {e}", dir.display()))
}

/// Creates `dir` if missing and returns its canonical path (symlinks
/// resolved, so that open files can be matched against it, and so that two
/// names of one directory claim the same thing). Touches nothing inside:
/// [`prepare`] does, once the directory is claimed.
pub(crate) fn canonical(dir: &Path) -> CoreResult<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| storage(dir, "cannot create it", e))?;
    dir.canonicalize()
        .map_err(|e| storage(dir, "cannot resolve it", e))
}

/// Makes the claimed, canonical `dir` ready for its stores: finishes a wipe
/// that an interrupted logout owed, replaces the stores of a session that
/// was logged out without a wipe (no `restore` can use them again), deletes
/// the leftovers of interrupted wipes, and checks that it is writable.
///
/// Only for a directory this process has claimed: a drain that still owns it
/// (a logout the app stopped awaiting) must not lose its files under it.
pub(crate) fn prepare(canonical: &Path) -> CoreResult<()> {
    let dir = canonical;
    if canonical.join(WIPE_OWED).exists() {
        tracing::warn!(
            data_dir = %canonical.display(),
            "an earlier logout did not finish wiping this data_dir; finishing it now"
        );
        wipe(canonical).map_err(|e| storage(dir, "cannot finish the owed wipe", e))?;
        std::fs::create_dir_all(canonical).map_err(|e| storage(dir, "cannot create it", e))?;
    } else if session_revoked(canonical) {
        tracing::warn!(
            data_dir = %canonical.display(),
            "this data_dir holds the stores of a session that was logged out without a wipe; \
             no restore can use them again, so they are replaced"
        );
        wipe(canonical).map_err(|e| storage(dir, "cannot replace the revoked stores", e))?;
        std::fs::create_dir_all(canonical).map_err(|e| storage(dir, "cannot create it", e))?;
    }
    sweep_tombstones(canonical);
    let probe = canonical.join(".write-test");
    std::fs::write(&probe, b"").map_err(|e| storage(dir, "it is not writable", e))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Records durably that `dir` must be wiped, before the wipe's first step.
pub(crate) fn mark_wipe_owed(dir: &Path) -> io::Result<()> {
    let marker = std::fs::File::create(dir.join(WIPE_OWED))?;
    marker.sync_all()?;
    std::fs::File::open(dir)?.sync_all()
}

/// Deletes `dir`: renames it to a hidden sibling (atomic), then deletes that.
/// A missing directory counts as wiped.
pub(crate) fn wipe(dir: &Path) -> io::Result<()> {
    begin_wipe(dir)?.finish()
}

/// A wipe whose directory is already gone (renamed away) while its contents
/// are deleted on a thread of their own; [`Wiping::finish`] waits for that.
pub(crate) struct Wiping {
    deleting: Option<std::thread::JoinHandle<io::Result<()>>>,
    /// The name the directory was renamed to, if it was.
    tombstone: Option<PathBuf>,
}

impl Wiping {
    /// The name the directory was renamed to while it is deleted: a file
    /// still open in the stores now has its path there.
    pub(crate) fn tombstone(&self) -> Option<&Path> {
        self.tombstone.as_deref()
    }

    /// Waits until the contents are deleted.
    pub(crate) fn finish(self) -> io::Result<()> {
        match self.deleting.map(std::thread::JoinHandle::join) {
            None => Ok(()),
            Some(Ok(deleted)) => deleted,
            Some(Err(_)) => Err(io::Error::other("the deleting thread panicked")),
        }
    }
}

/// Begins wiping `dir`: renames it to a hidden sibling, after which `dir` is
/// gone, and deletes the sibling on a thread of its own, so that the caller
/// can go on meanwhile (the drain restarts the runtime). A crash before the
/// deletion ends leaves the sibling to the next [`prepare`] of `dir`.
/// Without a sibling to rename to, or a thread, deletes in place first.
pub(crate) fn begin_wipe(dir: &Path) -> io::Result<Wiping> {
    let done = |tombstone| Wiping {
        deleting: None,
        tombstone,
    };
    if !dir.exists() {
        return Ok(done(None));
    }
    match tombstone_for(dir) {
        Some(tombstone) if std::fs::rename(dir, &tombstone).is_ok() => {
            let deleting = std::thread::Builder::new().name("mmc-wipe".into()).spawn({
                let tombstone = tombstone.clone();
                move || std::fs::remove_dir_all(tombstone)
            });
            match deleting {
                Ok(thread) => Ok(Wiping {
                    deleting: Some(thread),
                    tombstone: Some(tombstone),
                }),
                Err(_) => std::fs::remove_dir_all(&tombstone).map(|()| done(Some(tombstone))),
            }
        }
        // No sibling to rename to: delete the contents, the marker last.
        _ => {
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.file_name().is_some_and(|n| n == WIPE_OWED) {
                    continue;
                }
                if path.is_dir() {
                    std::fs::remove_dir_all(&path)?;
                } else {
                    std::fs::remove_file(&path)?;
                }
            }
            std::fs::remove_dir_all(dir).map(|()| done(None))
        }
    }
}

fn tombstone_for(dir: &Path) -> Option<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let parent = dir.parent()?;
    let name = dir.file_name()?.to_string_lossy();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Some(parent.join(format!(".{name}{TOMBSTONE}{}-{n}", std::process::id())))
}

/// Deletes the renamed leftovers of wipes that a crash interrupted.
fn sweep_tombstones(dir: &Path) {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return;
    };
    let prefix = format!(".{}{TOMBSTONE}", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            tracing::warn!(path = %entry.path().display(), "deleting the rest of an interrupted wipe");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The user and device whose session the stores of `dir` hold, if any.
pub(crate) fn session_owner(dir: &Path) -> Option<(String, String)> {
    let value = read_marker(dir)?;
    Some((
        value.get("user_id")?.as_str()?.to_owned(),
        value.get("device_id")?.as_str()?.to_owned(),
    ))
}

/// Whether the session of `dir`'s stores was ended on the server by a
/// logout that kept the stores.
fn session_revoked(dir: &Path) -> bool {
    read_marker(dir)
        .and_then(|v| v.get("revoked")?.as_bool())
        .unwrap_or(false)
}

fn read_marker(dir: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join(SESSION_MARKER)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Records whose session the stores of `dir` hold (ids only, no token).
pub(crate) fn record_session_owner(dir: &Path, session: &Session) -> io::Result<()> {
    write_marker(
        dir,
        serde_json::json!({
            "user_id": session.user_id,
            "device_id": session.device_id,
        }),
    )
}

/// Records that the session of `dir`'s stores has ended on the server: the
/// next creation on `dir` replaces the stores (see [`prepare`]).
pub(crate) fn record_session_revoked(dir: &Path) -> io::Result<()> {
    let Some(mut value) = read_marker(dir) else {
        return Ok(());
    };
    value["revoked"] = serde_json::Value::Bool(true);
    write_marker(dir, value)
}

fn write_marker(dir: &Path, value: serde_json::Value) -> io::Result<()> {
    let tmp = dir.join(format!("{SESSION_MARKER}.tmp"));
    std::fs::write(&tmp, value.to_string())?;
    std::fs::rename(tmp, dir.join(SESSION_MARKER))
}

/// The device a password login as `username` must ask for on `dir`: none
/// for empty stores, the stores' own device when they hold a session of
/// that user (signed out softly: the device and its keys live on, and the
/// history stays readable). `InvalidState` when they hold another user's:
/// a login there would create a device that the stores then refuse.
pub(crate) fn login_device(dir: &Path, username: &str) -> CoreResult<Option<String>> {
    match session_owner(dir) {
        None => Ok(None),
        Some((user, device)) if same_user(&user, username) => Ok(Some(device)),
        Some((user, device)) => Err(CoreError::invalid_state(format!(
            "data_dir holds the stores of {user} (device {device}): log in as that user (the \
             device is kept), call restore() with its session, log it out with \
             wipe_local_data, or use another data_dir"
        ))),
    }
}

/// Whether `username` (a user id, or its localpart) names `user_id`.
fn same_user(user_id: &str, username: &str) -> bool {
    let username = username.trim();
    match username.starts_with('@') {
        true => username == user_id,
        false => user_id
            .strip_prefix('@')
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(localpart, _)| localpart == username),
    }
}

/// `InvalidState` when the stores of `dir` belong to another session than `session`.
pub(crate) fn check_restore_allowed(dir: &Path, session: &Session) -> CoreResult<()> {
    match session_owner(dir) {
        Some((user, device)) if user != session.user_id || device != session.device_id => {
            Err(CoreError::invalid_state(format!(
                "data_dir holds the stores of {user} (device {device}), not of this session: \
                 restore that session, or use another data_dir"
            )))
        }
        _ => Ok(()),
    }
}

/// `InvalidState` unless the stores of `dir` hold `session`, live: the
/// check of a reader that opens another process's stores and must change
/// nothing on disk (no wipe finished, no store created).
pub(crate) fn check_readable(dir: &Path, session: &Session) -> CoreResult<()> {
    if dir.join(WIPE_OWED).exists() || session_revoked(dir) {
        return Err(CoreError::invalid_state(format!(
            "the session of data_dir `{}` was logged out",
            dir.display()
        )));
    }
    match session_owner(dir) {
        Some((user, device)) if user == session.user_id && device == session.device_id => Ok(()),
        Some((user, device)) => Err(CoreError::invalid_state(format!(
            "data_dir holds the stores of {user} (device {device}), not of this session"
        ))),
        None => Err(CoreError::invalid_state(format!(
            "data_dir `{}` holds no logged-in session: log in with Client.create there first",
            dir.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn an_owed_wipe_is_finished_before_the_directory_is_used() -> TestResult {
        let root = tempfile::TempDir::new()?;
        let dir = root.path().join("store");
        std::fs::create_dir_all(dir.join("sub"))?;
        std::fs::write(dir.join("sub/matrix-sdk-state.sqlite3"), b"old")?;
        std::fs::write(
            dir.join(SESSION_MARKER),
            r#"{"user_id":"@a:x","device_id":"D"}"#,
        )?;
        mark_wipe_owed(&dir)?;
        let prepared = canonical(&dir)?;
        prepare(&prepared)?;
        assert!(prepared.is_dir());
        assert_eq!(std::fs::read_dir(&prepared)?.count(), 0);
        assert_eq!(login_device(&prepared, "a")?, None);
        Ok(())
    }

    #[test]
    fn an_interrupted_wipe_leaves_no_tombstone_after_the_next_prepare() -> TestResult {
        let root = tempfile::TempDir::new()?;
        let dir = root.path().join("store");
        std::fs::create_dir_all(&dir)?;
        let tombstone = tombstone_for(&dir).ok_or("no parent")?;
        std::fs::create_dir_all(tombstone.join("deep"))?;
        prepare(&canonical(&dir)?)?;
        assert!(!tombstone.exists());
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn prepare_resolves_a_symlinked_directory() -> TestResult {
        let root = tempfile::TempDir::new()?;
        let real = root.path().join("real");
        std::fs::create_dir_all(&real)?;
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&real, &link)?;
        assert_eq!(canonical(&link)?, real.canonicalize()?);
        Ok(())
    }

    fn alices_session() -> Session {
        Session {
            user_id: "@alice:x".into(),
            device_id: "DEV1".into(),
            access_token: "t".into(),
            refresh_token: None,
            homeserver_url: "http://x".into(),
        }
    }

    #[test]
    fn the_stores_of_a_revoked_session_are_replaced_and_no_others() -> TestResult {
        let root = tempfile::TempDir::new()?;
        let dir = canonical(&root.path().join("store"))?;
        let session = alices_session();
        record_session_owner(&dir, &session)?;
        std::fs::write(dir.join("matrix-sdk-state.sqlite3"), b"old")?;
        prepare(&dir)?;
        assert!(
            dir.join("matrix-sdk-state.sqlite3").exists(),
            "a live session's stores stay"
        );
        assert!(login_device(&dir, "@bob:x").is_err());
        record_session_revoked(&dir)?;
        prepare(&dir)?;
        assert_eq!(std::fs::read_dir(&dir)?.count(), 0);
        assert_eq!(login_device(&dir, "@bob:x")?, None);
        Ok(())
    }

    #[test]
    fn a_login_keeps_the_stores_device_and_another_user_is_refused() -> TestResult {
        let root = tempfile::TempDir::new()?;
        let session = alices_session();
        record_session_owner(root.path(), &session)?;
        for alice in ["alice", "@alice:x", " alice "] {
            assert_eq!(login_device(root.path(), alice)?.as_deref(), Some("DEV1"));
        }
        for other in ["bob", "@alice:y", "@alicex:x", "alic"] {
            assert!(
                matches!(
                    login_device(root.path(), other),
                    Err(CoreError::InvalidState { .. })
                ),
                "{other}"
            );
        }
        assert!(check_restore_allowed(root.path(), &session).is_ok());
        let other = Session {
            device_id: "DEV2".into(),
            ..session
        };
        assert!(check_restore_allowed(root.path(), &other).is_err());
        Ok(())
    }
}
