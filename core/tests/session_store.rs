//! The app's `SessionStore`, against a Synapse of the test's own whose
//! access tokens expire every 5 s: each refresh is saved with no listener
//! registered, a store that fails is offered the session again, and a
//! process killed (SIGKILL) at a random moment after a save leaves tokens
//! that restore and sync, run after run.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/private_synapse.rs"]
mod private_synapse;
#[path = "support/session.rs"]
mod session;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::{
    Client, ClientState, CoreError, LogoutOptions, Session, SessionStore, SyncState,
};
use private_synapse::PrivateSynapse;
use session::{config, wait, PASSWORD};

/// Lifetime of an access token on the test's Synapse.
const TOKEN_LIFETIME_S: u64 = 5;

/// A store in memory that records each session it is given, and fails the
/// first `fail_first` saves as a full disk would.
#[derive(Default)]
struct Recording {
    saved: Mutex<Vec<Session>>,
    calls: Mutex<u32>,
    /// The threads that called `save`, by name.
    threads: Mutex<Vec<String>>,
    fail_first: u32,
}

impl SessionStore for Recording {
    fn save(&self, session: Session) -> Result<(), CoreError> {
        let thread = std::thread::current();
        self.threads
            .lock()
            .unwrap()
            .push(thread.name().unwrap_or_default().to_owned());
        let mut calls = self.calls.lock().unwrap();
        *calls += 1;
        if *calls <= self.fail_first {
            return Err(CoreError::Storage {
                detail: "disk full".into(),
            });
        }
        self.saved.lock().unwrap().push(session);
        Ok(())
    }

    fn load(&self) -> Result<Option<Session>, CoreError> {
        Ok(self.saved.lock().unwrap().last().cloned())
    }
}

fn register_on(server: &PrivateSynapse, prefix: &str) -> String {
    let name = homeserver::fresh_name(prefix);
    homeserver::register_at(&server.url, &name, PASSWORD);
    name
}

/// A client of `server` on `dir` with `store`, logged in and syncing.
fn syncing(server: &PrivateSynapse, dir: &Path, store: Arc<Recording>) -> (Arc<Client>, Session) {
    let client = block_on(Client::create(config(&server.url, dir))).unwrap();
    client.set_session_store(store).unwrap();
    let name = register_on(server, "store");
    let first = block_on(client.login(name, PASSWORD.into(), None)).unwrap();
    block_on(client.start_sync()).unwrap();
    (client, first)
}

/// Waits, at most `secs`, until `done`, sending a message every 300 ms
/// meanwhile: an idle client meets an expired token only when its sync's
/// long poll ends.
fn wait_sending(client: &Client, what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let room = block_on(client.create_room("busy".into(), vec![], false)).unwrap();
    let mut sent = 0;
    wait(what, secs, || {
        if done() {
            return true;
        }
        sent += 1;
        block_on(client.send_text(room.clone(), format!("message {sent}")))
            .unwrap_or_else(|e| panic!("send {sent}: {e}"));
        std::thread::sleep(Duration::from_millis(300));
        false
    });
}

/// No session listener is ever registered: each refresh still reaches the
/// store, which ends up holding the client's current session, and the
/// store cannot be swapped once a session is in use. A store that fails
/// (twice) is offered the session again at the next refresh.
#[test]
fn every_refresh_is_saved_without_a_listener_and_a_failed_save_is_offered_again() {
    let server = PrivateSynapse::with_token_lifetime(TOKEN_LIFETIME_S);

    let dir = tempfile::TempDir::new().unwrap();
    let store = Arc::new(Recording::default());
    let (client, first) = syncing(&server, dir.path(), store.clone());
    assert!(matches!(
        client.set_session_store(store.clone()),
        Err(CoreError::InvalidState { .. })
    ));
    wait_sending(&client, "two refreshes saved", 40, || {
        store.saved.lock().unwrap().len() >= 2
    });
    let saved = store.saved.lock().unwrap().clone();
    assert!(saved.iter().all(|s| s.access_token != first.access_token));
    assert!(saved.iter().all(|s| s.refresh_token.is_some()));
    // A core thread of its own: never the app's, never a runtime worker.
    let threads = store.threads.lock().unwrap().clone();
    assert!(threads.iter().all(|t| t == "mmc-sessions"), "{threads:?}");
    wait("the store to hold the current session", 10, || {
        store.saved.lock().unwrap().last() == client.session().as_ref()
    });
    assert_ne!(client.sync_state(), SyncState::Error);
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");

    let dir = tempfile::TempDir::new().unwrap();
    let failing = Arc::new(Recording {
        fail_first: 2,
        ..Default::default()
    });
    let (client, _) = syncing(&server, dir.path(), failing.clone());
    wait_sending(&client, "a save after two failures", 40, || {
        !failing.saved.lock().unwrap().is_empty()
    });
    assert_eq!(*failing.calls.lock().unwrap(), 3);
    wait("the store to hold the current session", 10, || {
        failing.saved.lock().unwrap().last() == client.session().as_ref()
    });
    assert_ne!(client.sync_state(), SyncState::Error);
    block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(client.state(), ClientState::Closed);
}

/// A store in a file, as the app's keystore: written to a temporary file,
/// synced and renamed over the last one.
struct FileStore {
    path: PathBuf,
    /// The save after which the process dies, counting from 1.
    die_after: u32,
    saves: Mutex<u32>,
}

fn write_session(path: &Path, s: &Session) {
    let text = [
        s.user_id.as_str(),
        &s.device_id,
        &s.access_token,
        s.refresh_token.as_deref().unwrap_or(""),
        &s.homeserver_url,
    ]
    .join("\n");
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&tmp).unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file.sync_all().unwrap();
    }
    std::fs::rename(&tmp, path).unwrap();
}

fn read_session(path: &Path) -> Option<Session> {
    let text = std::fs::read_to_string(path).ok()?;
    let parts: Vec<&str> = text.split('\n').collect();
    Some(Session {
        user_id: parts[0].into(),
        device_id: parts[1].into(),
        access_token: parts[2].into(),
        refresh_token: Some(parts[3].to_owned()).filter(|t| !t.is_empty()),
        homeserver_url: parts[4].into(),
    })
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn getpid() -> i32;
}

impl SessionStore for FileStore {
    fn save(&self, session: Session) -> Result<(), CoreError> {
        write_session(&self.path, &session);
        let mut saves = self.saves.lock().unwrap();
        *saves += 1;
        if *saves == self.die_after {
            // At a random moment after the save returned: the client's
            // requests may already go on with the new tokens.
            let after = Duration::from_millis(u64::from(nanos() % 300));
            std::thread::spawn(move || {
                std::thread::sleep(after);
                // SAFETY: plain libc calls on this process, no memory shared.
                unsafe { kill(getpid(), 9) };
            });
        }
        Ok(())
    }

    fn load(&self) -> Result<Option<Session>, CoreError> {
        Ok(read_session(&self.path))
    }
}

fn nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

/// The child half: restores the kept session (or logs in on the first
/// run, keeping what `login` returns), syncs, and is killed after its first
/// or second save.
#[test]
#[ignore = "run by a_process_killed_after_a_save_restores_from_what_was_saved"]
fn child_syncs_until_killed_after_a_save() {
    let root = PathBuf::from(std::env::var("MMC_KILL_ROOT").unwrap());
    let url = std::env::var("MMC_KILL_URL").unwrap();
    let path = root.join("session");
    let client = block_on(Client::create(config(&url, &root.join("data")))).unwrap();
    let store = Arc::new(FileStore {
        path: path.clone(),
        die_after: 1 + nanos() % 2,
        saves: Mutex::new(0),
    });
    client.set_session_store(store).unwrap();
    match read_session(&path) {
        Some(kept) => block_on(client.restore(kept)).unwrap(),
        None => {
            let name = std::env::var("MMC_KILL_USER").unwrap();
            let session = block_on(client.login(name, PASSWORD.into(), None)).unwrap();
            write_session(&path, &session);
        }
    }
    block_on(client.start_sync()).unwrap();
    // Requests meet the expired token (a refused session fails a send, or
    // ends the sync in Error); the kill comes first.
    let room = block_on(client.create_room("busy".into(), vec![], false)).unwrap();
    for i in 0..200 {
        assert_ne!(
            client.sync_state(),
            SyncState::Error,
            "the kept session was refused"
        );
        block_on(client.send_text(room.clone(), format!("message {i}")))
            .unwrap_or_else(|e| panic!("send {i}: {e}"));
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("no refresh was saved in 60 s");
}

/// Item 1 (a) of issue 26: runs the child `MMC_KILL_RUNS` times (3 unless
/// told; 20 for the record), each restoring what the one before saved and
/// killed at a random moment after a save; then restores in this process
/// and sends a message with what the last one saved.
#[test]
fn a_process_killed_after_a_save_restores_from_what_was_saved() {
    let server = PrivateSynapse::with_token_lifetime(TOKEN_LIFETIME_S);
    let name = register_on(&server, "killed");
    let root = tempfile::TempDir::new().unwrap();
    std::fs::create_dir(root.path().join("data")).unwrap();
    let runs: u32 = std::env::var("MMC_KILL_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    for run in 0..runs {
        let output = Command::new(std::env::current_exe().unwrap())
            .args([
                "child_syncs_until_killed_after_a_save",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env("MMC_KILL_ROOT", root.path())
            .env("MMC_KILL_URL", &server.url)
            .env("MMC_KILL_USER", &name)
            .output()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            output.status.signal(),
            Some(9),
            "run {run}: the child was not killed after a save ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let kept = read_session(&root.path().join("session")).unwrap();
    let client = block_on(Client::create(config(
        &server.url,
        &root.path().join("data"),
    )))
    .unwrap();
    block_on(client.restore(kept)).unwrap();
    block_on(client.start_sync()).unwrap();
    wait("sync to run on the kept session", 30, || {
        client.sync_state() == SyncState::Running
    });
    let room = block_on(client.create_room("after the kills".into(), vec![], false)).unwrap();
    block_on(client.send_text(room, "still here".into())).unwrap();
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}
