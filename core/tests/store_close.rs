//! The store-close promise, observed: what a drain reports about open store
//! files is a look, on the path the default logout takes (a wipe that
//! renames the directory away), and a drain never wipes or restarts under
//! files that are still open. Also the `data_dir` races of a drain that
//! the app stopped awaiting, and a listener released by the core.
//!
//! Tests run one at a time (`serial()`): they share the process's runtime.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/session.rs"]
mod session;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::platform::open_files_under;
use matrix_mobile_core::{
    init_logging, Client, ClientState, CoreError, LogConfig, LogoutOptions, ServerLogout,
    SyncState, SyncStateListener,
};
use session::{config, logged_in, user, wait, PASSWORD};
use tempfile::TempDir;

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// The log folder of this test binary (trace level), set up once.
fn log_dir() -> &'static Path {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = TempDir::new().unwrap();
        init_logging(LogConfig {
            filter: "info,matrix_mobile_core=trace".into(),
            to_stdout: false,
            file_dir: Some(dir.path().to_string_lossy().into_owned()),
        })
        .unwrap();
        dir
    })
    .path()
}

/// Everything the core has logged so far.
fn logged() -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(log_dir()).unwrap().flatten() {
        text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
    }
    text
}

fn wiping() -> LogoutOptions {
    LogoutOptions {
        server_timeout_ms: 5_000,
        wipe_local_data: true,
    }
}

/// The first SQLite file under `dir`.
fn a_store_file(dir: &Path) -> PathBuf {
    fn find(dir: &Path) -> Option<PathBuf> {
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if let Some(found) = find(&path) {
                    return Some(found);
                }
            } else if path.extension().is_some_and(|e| e == "sqlite3") {
                return Some(path);
            }
        }
        None
    }
    find(dir).expect("the client's stores are under its data_dir")
}

/// A store file that something still holds open through a wiping logout is
/// reported (before the fix, the count ran over the renamed-away path and
/// said `Some(0)`), and the drain neither wipes nor restarts under it. The
/// next creation on the directory finishes the owed wipe.
#[test]
fn a_store_file_held_open_is_reported_and_nothing_is_wiped_under_it() {
    let _serial = serial();
    let (client, _session, dir) = logged_in("held");
    let held = std::fs::File::open(a_store_file(dir.path())).unwrap();

    let report = block_on(client.logout(wiping(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(1), "{report:?}");
    assert!(!report.data_wiped, "{report:?}");
    assert!(!report.runtime_restarted, "{report:?}");
    assert!(
        report.warnings.iter().any(|w| w.contains("still open")),
        "{report:?}"
    );
    assert!(dir.path().exists(), "nothing was wiped under an open file");

    drop(held);
    let again = block_on(Client::create(config(&homeserver::url(), dir.path()))).unwrap();
    let name = user("held-again");
    block_on(again.login(name, PASSWORD.into(), None)).unwrap();
    let report = block_on(again.logout(wiping(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    assert!(report.data_wiped && report.runtime_restarted, "{report:?}");
    assert!(!dir.path().exists());
}

/// A close that is not the last client's waits for the files to close (no
/// restart follows it to close them), and looks.
#[test]
fn a_close_beside_another_client_waits_until_its_files_are_closed() {
    let _serial = serial();
    let (other, _, _other_dir) = logged_in("beside");
    for _ in 0..5 {
        let (client, _session, dir) = logged_in("closing");
        let report = block_on(client.close(None)).unwrap();
        assert!(!report.runtime_restarted, "{report:?}");
        assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
        assert_eq!(open_files_under(dir.path()), Some(0));
    }
    block_on(other.logout(wiping(), None)).unwrap();
}

/// A creation on the `data_dir` of a logout still draining (the app stopped
/// awaiting it) gets `Busy` and touches nothing: before the fix it finished
/// the "owed" wipe under the drain's open stores first.
#[test]
fn a_create_on_a_directory_still_draining_gets_busy_and_touches_nothing() {
    let _serial = serial();
    log_dir();
    let (client, _session, dir) = logged_in("draining");
    let url = homeserver::url();
    let path = dir.path().to_path_buf();
    let logout = std::thread::spawn(move || block_on(client.logout(wiping(), None)));
    let mut busy = 0;
    while !logout.is_finished() {
        match block_on(Client::create(config(&url, &path))) {
            Err(CoreError::Busy { .. }) => busy += 1,
            Ok(created) => {
                // The drain has let go of the directory: a fresh client.
                assert_eq!(created.state(), ClientState::Created);
                block_on(created.close(None)).unwrap();
            }
            Err(e) => panic!("create beside the drain: {e:?}"),
        }
    }
    let report = logout.join().unwrap().unwrap();
    assert!(busy > 0, "no create ran while the logout drained");
    assert!(report.data_wiped, "{report:?}");
    assert!(
        report.warnings.iter().all(|w| !w.contains("wip")),
        "{report:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        assert!(
            !logged().contains("did not finish wiping"),
            "a create wiped the directory under the drain"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A logout that keeps the stores revokes the session for good: a password
/// login on that `data_dir` replaces the stores and works (before the fix it
/// got `InvalidState` forever, with a remedy that could not work).
#[test]
fn a_login_after_a_logout_that_kept_the_stores_works() {
    let _serial = serial();
    let name = user("kept");
    let dir = TempDir::new().unwrap();
    let url = homeserver::url();
    let client = block_on(Client::create(config(&url, dir.path()))).unwrap();
    let first = block_on(client.login(name.clone(), PASSWORD.into(), None)).unwrap();
    let report = block_on(client.logout(
        LogoutOptions {
            server_timeout_ms: 5_000,
            wipe_local_data: false,
        },
        None,
    ))
    .unwrap();
    assert_eq!(report.server_logout, ServerLogout::Revoked, "{report:?}");
    assert!(!report.data_wiped && dir.path().exists(), "{report:?}");

    let again = block_on(Client::create(config(&url, dir.path()))).unwrap();
    let second = block_on(again.login(name, PASSWORD.into(), None)).unwrap();
    assert_ne!(first.device_id, second.device_id);
    assert_eq!(again.state(), ClientState::LoggedIn);
    block_on(again.start_sync()).unwrap();
    wait("sync to run on the new stores", 30, || {
        again.sync_state() == SyncState::Running
    });
    block_on(again.logout(wiping(), None)).unwrap();
}

/// A listener whose release calls back into the core (as a Swift `deinit` or
/// a Kotlin cleaner may): its last reference must not be dropped under the
/// core's listener lock, which the callback would take again.
struct CallsBackOnRelease {
    client: Arc<Client>,
    released: Arc<AtomicBool>,
}

impl SyncStateListener for CallsBackOnRelease {
    fn on_state(&self, _state: SyncState) {}
}

impl Drop for CallsBackOnRelease {
    fn drop(&mut self) {
        let _ = self.client.sync_state();
        self.released.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_listener_released_by_the_core_may_call_the_core() {
    let _serial = serial();
    let (client, _session, _dir) = logged_in("release");
    let released = Arc::new(AtomicBool::new(false));
    let subscription = client
        .observe_sync_state(Arc::new(CallsBackOnRelease {
            client: client.clone(),
            released: released.clone(),
        }))
        .unwrap();
    subscription.cancel();
    drop(subscription);
    // The next state change sweeps the cancelled subscriber out.
    block_on(client.start_sync()).unwrap();
    wait("the cancelled listener's release", 20, || {
        released.load(Ordering::SeqCst)
    });
    let report = block_on(client.logout(wiping(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}
