//! The `data_dir` deleted, or made read-only, under a running client.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::{Client, CoreError, LogoutOptions, ServerLogout};
use tempfile::TempDir;

use super::faults::{assert_drained, assert_wiped, bound, data_dir_in, within, Case};
use super::homeserver;
use super::session::{config, wait};
use super::{logged_in_at, syncing};

/// One call under the fault and what it returned.
type Probe = (&'static str, Result<(), CoreError>);

/// Calls that touch the stores, each within its bound. Every one returns
/// `Ok` or a typed error (checked by the callers).
fn probe(client: &Arc<Client>, room: &str) -> Vec<Probe> {
    let mut seen = Vec::new();
    let call_bound = bound(Duration::from_secs(10));
    let mut call = |name: &'static str, f: Box<dyn FnOnce() -> Result<(), CoreError> + Send>| {
        let (result, _) = within(name, call_bound, f);
        seen.push((name, result));
    };
    let (c, r) = (client.clone(), room.to_owned());
    call(
        "send_text",
        Box::new(move || block_on(c.send_text(r, "under the fault".into())).map(drop)),
    );
    let c = client.clone();
    call(
        "create_room",
        Box::new(move || block_on(c.create_room("new".into(), vec![], false)).map(drop)),
    );
    let (c, r) = (client.clone(), room.to_owned());
    call(
        "recent_messages",
        Box::new(move || block_on(c.recent_messages(r, 10)).map(drop)),
    );
    let c = client.clone();
    call("rooms", Box::new(move || c.rooms().map(drop)));
    let c = client.clone();
    call("pause", Box::new(move || block_on(c.pause())));
    let c = client.clone();
    call("resume", Box::new(move || block_on(c.resume())));
    seen
}

/// Whether `resume`, the first call that reopens the stores after the
/// fault, failed with `Storage`: the fault made visible as a typed error.
fn resume_is_a_storage_error(probes: &[Probe]) -> bool {
    probes
        .iter()
        .any(|(name, r)| *name == "resume" && matches!(r, Err(CoreError::Storage { .. })))
}

/// A call whose error gives the app no reason: `Internal` carries raw text
/// where the contract has `Storage` for an unusable `data_dir`.
fn untyped(probes: &[Probe]) -> Vec<&Probe> {
    probes
        .iter()
        .filter(|(_, r)| matches!(r, Err(CoreError::Internal { .. })))
        .collect()
}

/// A logged-in, syncing client with a room holding one message.
fn with_a_message(root: &Path, prefix: &str) -> (Arc<Client>, matrix_mobile_core::Session, String) {
    let url = homeserver::url();
    let (client, session) = logged_in_at(&url, &url, &data_dir_in(root), prefix);
    let room = block_on(client.create_room("kept".into(), vec![], false)).unwrap();
    block_on(client.send_text(room.clone(), "kept message".into())).unwrap();
    syncing(&client);
    (client, session, room)
}

/// After the fault, the session restores on `dir` and still sees its room
/// and message; a wiping logout then leaves nothing in `root`.
fn nothing_lost(
    what: &str,
    dir: &Path,
    root: &Path,
    session: matrix_mobile_core::Session,
    room: &str,
) {
    let again = block_on(Client::create(config(&homeserver::url(), dir))).unwrap();
    block_on(again.restore(session)).unwrap();
    syncing(&again);
    wait("the room after the restore", 30, || {
        again
            .rooms()
            .is_ok_and(|rooms| rooms.iter().any(|r| r.room_id == room))
    });
    let messages = block_on(again.recent_messages(room.to_owned(), 20)).unwrap();
    assert!(
        messages.iter().any(|m| m.body == "kept message"),
        "{what}: {messages:?}"
    );
    let report = block_on(again.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.server_logout, ServerLogout::Revoked, "{what}");
    assert_drained(what, report);
    assert_wiped(what, root);
}

/// The app's data_dir is deleted (a "clear data", a cleaner) while the client
/// syncs. Calls return `Ok` or typed errors (the open SQLite connections
/// keep writing to the unlinked files; `resume`, which reopens them, gets
/// `Storage`), `close` drains with no file
/// left open, and nothing is lost beyond the directory: the session restores
/// on a fresh directory and sees its room and message from the server.
#[test]
fn a_data_dir_deleted_under_a_running_client_gives_typed_errors_and_drains() {
    let case = Case::begin("data_dir deleted");
    let root = TempDir::new().unwrap();
    let (client, session, room) = with_a_message(root.path(), "del");
    let beside = root.path().join("beside.txt");
    std::fs::write(&beside, "not the client's").unwrap();
    std::fs::remove_dir_all(data_dir_in(root.path())).unwrap();

    let probes = probe(&client, &room);
    eprintln!("data_dir deleted: {probes:#?}");
    let c = client.clone();
    let (report, _) = within("close", bound(Duration::from_secs(10)), move || {
        block_on(c.close(None))
    });
    assert_drained("data_dir deleted", report.unwrap());
    assert_eq!(
        std::fs::read_to_string(&beside).unwrap(),
        "not the client's"
    );
    std::fs::remove_file(beside).unwrap();

    let fresh = root.path().join("data");
    nothing_lost("data_dir deleted", &fresh, root.path(), session, &room);
    assert!(
        untyped(&probes).is_empty(),
        "untyped errors: {:?}",
        untyped(&probes)
    );
    assert!(resume_is_a_storage_error(&probes), "{probes:?}");
    case.end();
}

/// The data_dir becomes read-only while the client syncs (a full or
/// remounted disk). Calls return `Ok` or typed errors (the open connections
/// keep their write access; `resume`, which reopens them, gets `Storage`),
/// `close` drains with
/// no file left open while it is still read-only, and once it is writable
/// again the session restores on it with its room and message.
#[test]
fn a_data_dir_made_read_only_under_a_running_client_gives_typed_errors_and_loses_nothing() {
    let case = Case::begin("data_dir read-only");
    let root = TempDir::new().unwrap();
    let dir = data_dir_in(root.path());
    let (client, session, room) = with_a_message(root.path(), "ro");
    // Never skipped: a case that passes without running tests nothing.
    let read_only = ReadOnly::make(&dir).unwrap_or_else(|| {
        panic!("data_dir read-only: this process could not make a directory read-only")
    });

    let probes = probe(&client, &room);
    eprintln!("data_dir read-only ({:?}): {probes:#?}", read_only.how);
    // The files themselves refuse a reopen for writing, except under `Immutable`.
    let reopen_refused = !matches!(read_only.how, How::Immutable);
    let c = client.clone();
    let (report, _) = within("close", bound(Duration::from_secs(10)), move || {
        block_on(c.close(None))
    });
    assert_drained("data_dir read-only", report.unwrap());
    drop(read_only);

    nothing_lost("data_dir read-only", &dir, root.path(), session, &room);
    assert!(
        untyped(&probes).is_empty(),
        "untyped errors: {:?}",
        untyped(&probes)
    );
    if reopen_refused {
        assert!(resume_is_a_storage_error(&probes), "{probes:?}");
    }
    case.end();
}

/// How a directory was made read-only.
#[derive(Debug)]
enum How {
    /// Mode bits: enough for a process without `CAP_DAC_OVERRIDE`.
    Chmod,
    /// A read-only bind mount over itself: for root, which mode bits do not stop.
    BindMount,
    /// The immutable attribute on the directory alone (`chattr +i`): for a
    /// root that may not mount (a container). No file can be created or
    /// removed in it; its files stay writable, so a reopen works. (On the
    /// files too, SQLite's mapped `-shm` file ends the process with SIGBUS:
    /// no app can do that to its own files.)
    Immutable,
}

/// A directory made read-only; dropping it makes it writable again.
struct ReadOnly {
    dir: PathBuf,
    how: How,
}

impl ReadOnly {
    /// `None` when this process cannot make `dir` read-only. As root, a bind
    /// mount, else the immutable attribute (`MMC_READ_ONLY_HOW=immutable`
    /// picks it, to test that path where mounts work).
    fn make(dir: &Path) -> Option<Self> {
        let immutable_wanted = std::env::var("MMC_READ_ONLY_HOW").as_deref() == Ok("immutable");
        let attempt = if effective_uid() == Some(0) {
            // The running client may open a file for writing through the
            // new mount between the bind and the remount, and a mount with a
            // file open for writing refuses to become read-only (EBUSY): a
            // few tries, each mount taken away (lazily: it may be busy) when
            // it did not become read-only, so that none is left behind.
            let read_only = !immutable_wanted
                && (0..5).any(|_| {
                    if !run("mount", &["--bind", &s(dir), &s(dir)]) {
                        return false;
                    }
                    if run("mount", &["-o", "remount,bind,ro", &s(dir)]) {
                        return true;
                    }
                    run("umount", &["-l", &s(dir)]);
                    std::thread::sleep(Duration::from_millis(50));
                    false
                });
            if read_only {
                Some(How::BindMount)
            } else {
                run("chattr", &["+i", &s(dir)]).then_some(How::Immutable)
            }
        } else {
            run("chmod", &["-R", "a-w", &s(dir)]).then_some(How::Chmod)
        };
        let this = Self {
            dir: dir.to_owned(),
            how: attempt?,
        };
        // It must refuse a new file, or the case tests nothing.
        let probe = dir.join(".probe");
        if std::fs::write(&probe, b"").is_ok() {
            let _ = std::fs::remove_file(probe);
            return None;
        }
        Some(this)
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        match self.how {
            How::Chmod => run("chmod", &["-R", "u+w", &s(&self.dir)]),
            How::BindMount => {
                run("umount", &[&s(&self.dir)]) || run("umount", &["-l", &s(&self.dir)])
            }
            How::Immutable => run("chattr", &["-i", &s(&self.dir)]),
        };
    }
}

fn s(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn run(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The effective uid, from `/proc/self/status`.
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}
