//! Races and failures that cannot be caused from outside the core, made to
//! happen every time with the pause points and injected faults of
//! `matrix_mobile_core::hooks`, which only the library's own test build
//! arms (`cfg(test)`). So these tests are a module of that build
//! (`hooked_races` in `src/lib.rs`), not a test binary of their own: `cargo
//! test -p matrix-mobile-core --lib hooked_races::`. They use the core's
//! public API only, as the other integration tests do.
//!
//! Each test is the regression test of one item of issue 12 (§2): it holds
//! a thread at the exact point where the race used to go wrong, does the
//! other side of the race, then lets it go. Every wait is bounded: a hang is
//! a failure with a message, never a stuck test run.

#[path = "../support/homeserver.rs"]
mod homeserver;
#[path = "../support/mirror.rs"]
mod mirror;
#[path = "../support/private_synapse.rs"]
mod private_synapse;
#[path = "../support/session.rs"]
mod session;
#[path = "../support/watch_proxy.rs"]
mod watch_proxy;

mod chat;
mod media;
mod notification;
mod sessions;

use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::hooks;
use matrix_mobile_core::platform::open_files_under;
use matrix_mobile_core::{
    runtime_stats, shutdown_blocking, Client, ClientState, CoreError, LogoutOptions, RuntimeState,
    ServerLogout, ShutdownOptions,
};
use session::{config, devices, logged_in, user, wait, PASSWORD};
use tempfile::TempDir;

/// How long a test waits for anything before it fails.
const BOUND: Duration = Duration::from_secs(30);

/// One test at a time (the hooks and the runtime are the process's), each
/// starting with no live client.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    shutdown_blocking(ShutdownOptions { timeout_ms: 10_000 }).unwrap();
    guard
}

/// Runs `f` on a thread of its own; the receiver gets its result.
fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

/// The result of a call started with [`on_thread`], or a failure if it has
/// not returned within [`BOUND`].
fn within<T>(what: &str, rx: &mpsc::Receiver<T>) -> T {
    rx.recv_timeout(BOUND)
        .unwrap_or_else(|_| panic!("{what} did not return within {BOUND:?} (hung)"))
}

fn create(dir: &std::path::Path) -> Arc<Client> {
    block_on(Client::create(config(&homeserver::url(), dir))).unwrap()
}

/// The devices of `user`, listed by a device of its own (then logged out).
fn devices_of(user: &str) -> Vec<String> {
    let (client, session) = {
        let dir = TempDir::new().unwrap();
        let client = create(dir.path());
        let session =
            block_on(client.login(user.to_owned(), PASSWORD.into(), Some("lister".into())))
                .unwrap();
        std::mem::forget(dir);
        (client, session)
    };
    let listed = devices(&session.access_token);
    block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    listed
        .into_iter()
        .filter(|d| d != &session.device_id)
        .collect()
}

/// Item 2.2 (a drain during a login): the server has answered the login
/// (its device exists) when a `close()` begins. The close waits for the
/// session's install; the app gets its `Session`, which is real: it
/// restores on the same stores. Before: the login got `ClientClosed` and
/// the device was left on the server with nobody knowing of it.
#[test]
fn a_close_during_a_login_waits_and_the_app_gets_the_session() {
    let _s = serial();
    let name = user("hka");
    let dir = TempDir::new().unwrap();
    let client = create(dir.path());
    let answered = hooks::pause_at("login.answered");
    let c = client.clone();
    let n = name.clone();
    let login = on_thread(move || block_on(c.login(n, PASSWORD.into(), Some("hooked".into()))));
    assert!(answered.wait_reached(BOUND), "the login got no answer");
    let c = client.clone();
    let closing = on_thread(move || block_on(c.close(None)));
    wait("the close to begin", 30, || {
        client.state() == ClientState::Closing
    });
    answered.release();
    let session = within("the login", &login).expect("the login's session");
    let report = within("the close", &closing).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    assert_eq!(client.state(), ClientState::Closed);
    // The device is known: the session restores on its stores.
    let again = create(dir.path());
    block_on(again.restore(session.clone())).expect("the session restores");
    assert_eq!(again.state(), ClientState::LoggedIn);
    block_on(again.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(devices_of(&name), Vec::<String>::new(), "a device was left");
}

/// Item 2.2 (a shutdown during a login): the shutdown that begins while the
/// server answers a login closes the client only after the session is
/// installed; the app gets it, and it restores after the shutdown. Before:
/// the install was not even spawned (the runtime refused new work), then
/// the drain cut the login short.
#[test]
fn a_shutdown_during_a_login_lets_the_app_get_the_session() {
    let _s = serial();
    let name = user("hks");
    let dir = TempDir::new().unwrap();
    let client = create(dir.path());
    let answered = hooks::pause_at("login.answered");
    let c = client.clone();
    let n = name.clone();
    let login = on_thread(move || block_on(c.login(n, PASSWORD.into(), Some("hooked".into()))));
    assert!(answered.wait_reached(BOUND), "the login got no answer");
    let shutting = on_thread(|| shutdown_blocking(ShutdownOptions { timeout_ms: 20_000 }));
    wait("the shutdown to close the client", 30, || {
        client.state() == ClientState::Closing
    });
    answered.release();
    let session = within("the login", &login).expect("the login's session");
    let report = within("the shutdown", &shutting).unwrap();
    assert_eq!(report.clients_closed, 1, "{report:?}");
    assert_eq!(client.state(), ClientState::Closed);
    assert_eq!(open_files_under(dir.path()), Some(0));
    let again = create(dir.path());
    block_on(again.restore(session)).expect("the session restores");
    block_on(again.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(devices_of(&name), Vec::<String>::new(), "a device was left");
}

/// Item 2.5: the OS refuses the drain's thread. The logout fails with
/// `Internal`, and the client is as it was (not `LoggingOut` forever with
/// its stores open): usable, and a second logout drains it.
#[test]
fn a_drain_thread_that_cannot_start_leaves_the_client_usable() {
    let _s = serial();
    let (client, session, dir) = logged_in("hkd");
    hooks::fail_next_thread_spawn("mmc-drain");
    let refused = block_on(client.logout(LogoutOptions::default(), None));
    assert!(
        matches!(refused, Err(CoreError::Internal { .. })),
        "{refused:?}"
    );
    assert_eq!(client.state(), ClientState::LoggedIn);
    assert_eq!(
        client.session().map(|s| s.device_id),
        Some(session.device_id)
    );
    client.rooms().expect("the client is usable");
    // The same for a close.
    hooks::fail_next_thread_spawn("mmc-drain");
    assert!(block_on(client.close(None)).is_err());
    assert_eq!(client.state(), ClientState::LoggedIn);
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    assert!(report.data_wiped, "{report:?}");
    assert_eq!(client.state(), ClientState::Closed);
    assert_eq!(open_files_under(dir.path()), Some(0));
}

/// Item 2.8: while a drain's `registry::remove` holds the registry, the app
/// releases another client and that client's background close is refused a
/// thread. The release must neither drop the client undrained (its stores
/// open, on the app's thread) nor lock the registry on the drain's thread:
/// the client is kept, listed, and the next shutdown closes it.
#[test]
fn a_client_released_while_the_registry_is_walked_does_not_deadlock_a_drain() {
    let _s = serial();
    let released_dir = TempDir::new().unwrap();
    let closed_dir = TempDir::new().unwrap();
    // First, so that `remove` looks at it first.
    let released = create(released_dir.path());
    let closed = create(closed_dir.path());
    let visiting = hooks::pause_at("registry.remove.visit");
    let c = closed.clone();
    let closing = on_thread(move || block_on(c.close(None)));
    assert!(
        visiting.wait_reached(BOUND),
        "the drain never walked the registry"
    );
    hooks::fail_next_thread_spawn("mmc-drain");
    let dropped = on_thread(move || drop(released));
    // The release waits for the walk to end, if it needs the registry.
    let _ = dropped.recv_timeout(Duration::from_secs(2));
    visiting.release();
    let report = within("the close", &closing).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    within("the release", &dropped);
    assert_eq!(
        runtime_stats().live_clients,
        1,
        "the released client is kept"
    );
    let shut = shutdown_blocking(ShutdownOptions { timeout_ms: 20_000 }).unwrap();
    assert_eq!(shut.clients_closed, 1, "{shut:?}");
    assert_eq!(runtime_stats().live_clients, 0);
    assert_eq!(open_files_under(released_dir.path()), Some(0));
}

/// Item 2.5, released: the app drops its last handle of a logged-in client
/// and the OS refuses the thread of its background close. The client is
/// not dropped undrained on the app's thread (its pools would outlive
/// their runtime): the core keeps it, and `shutdown()` closes it with its
/// stores drained.
#[test]
fn a_released_client_whose_drain_thread_cannot_start_is_closed_by_shutdown() {
    let _s = serial();
    let (client, _, dir) = logged_in("hkrel");
    let live = runtime_stats().live_clients;
    let outside = hooks::counted("matrix_client.dropped_outside_runtime");
    hooks::fail_next_thread_spawn("mmc-drain");
    drop(client);
    assert_eq!(
        runtime_stats().live_clients,
        live,
        "the client vanished undrained"
    );
    let report = shutdown_blocking(ShutdownOptions { timeout_ms: 20_000 }).unwrap();
    assert_eq!(report.clients_closed, 1, "{report:?}");
    assert_eq!(runtime_stats().live_clients, 0);
    assert_eq!(open_files_under(dir.path()), Some(0));
    assert_eq!(
        hooks::counted("matrix_client.dropped_outside_runtime"),
        outside
    );
}

/// Item 2.10: a creation has seen generation N running when a restart (the
/// last client's close) completes; it must lease N + 1, not fail with
/// `ShuttingDown`.
#[test]
fn a_create_across_a_completed_restart_leases_the_new_generation() {
    let _s = serial();
    let last_dir = TempDir::new().unwrap();
    let new_dir = TempDir::new().unwrap();
    let last = create(last_dir.path());
    let before = runtime_stats().generation;
    let ready = hooks::pause_at("create.after_ready");
    let path = new_dir.path().to_owned();
    let creating = on_thread(move || block_on(Client::create(config(&homeserver::url(), &path))));
    assert!(ready.wait_reached(BOUND), "the create never saw a runtime");
    let report = block_on(last.close(None)).unwrap();
    assert!(report.runtime_restarted, "{report:?}");
    assert_eq!(report.runtime_generation, before + 1);
    ready.release();
    let created = within("the create", &creating).expect("a client on the new generation");
    assert_eq!(created.state(), ClientState::Created);
    let stats = runtime_stats();
    assert_eq!(stats.generation, before + 1);
    assert_eq!(stats.state, RuntimeState::Running);
    assert_eq!(stats.live_clients, 1);
    block_on(created.close(None)).unwrap();
}

/// Item 2.12: a synchronous call holds its clone of the matrix client when
/// the client's drain and the runtime's restart complete. The clone is then
/// the last reference, and it must be dropped inside the runtime's context:
/// the call returns, nothing panics, and the stores stay closed.
#[test]
fn a_sync_call_holding_the_client_across_a_drain_and_restart_drops_it_cleanly() {
    let _s = serial();
    let (client, session, dir) = logged_in("hkw");
    let outside = hooks::counted("matrix_client.dropped_outside_runtime");
    let picked = hooks::pause_at("with_sdk.picked");
    let c = client.clone();
    let reading = on_thread(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| c.session())).map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default()
        })
    });
    assert!(picked.wait_reached(BOUND), "session() never took its clone");
    let report = block_on(client.close(None)).unwrap();
    assert!(report.runtime_restarted, "{report:?}");
    picked.release();
    let read = within("session()", &reading);
    assert_eq!(
        read.expect("session() panicked").map(|s| s.device_id),
        Some(session.device_id)
    );
    assert_eq!(
        hooks::counted("matrix_client.dropped_outside_runtime"),
        outside,
        "the matrix client was dropped outside any runtime"
    );
    assert_eq!(open_files_under(dir.path()), Some(0));
    assert_eq!(runtime_stats().live_clients, 0);
}

/// The key backup's wait and the server logout share one deadline,
/// `server_timeout_ms`: a wiping logout held at `drain.server_deadline`
/// past it finds no time left for the server and says `TimedOut`, its
/// local steps still done. Before, each had its own `server_timeout_ms`
/// (twice the bound in all), and this logout was `Revoked`.
#[test]
fn the_backup_wait_and_the_server_logout_share_one_deadline() {
    let _s = serial();
    let dir = TempDir::new().unwrap();
    let client = create(dir.path());
    block_on(client.login(user("hkd"), PASSWORD.into(), None)).unwrap();
    let deadline = hooks::pause_at("drain.server_deadline");
    let c = client.clone();
    let logout = on_thread(move || {
        block_on(c.logout(
            LogoutOptions {
                server_timeout_ms: 1000,
                wipe_local_data: true,
            },
            None,
        ))
    });
    assert!(
        deadline.wait_reached(BOUND),
        "the drain never set its deadline"
    );
    // The deadline passes while the drain is held.
    std::thread::sleep(Duration::from_millis(1500));
    deadline.release();
    let report = within("the logout", &logout).unwrap();
    assert_eq!(report.server_logout, ServerLogout::TimedOut, "{report:?}");
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    assert!(report.data_wiped, "{report:?}");
}

/// A short password given to `bootstrap_cross_signing` is scrubbed from the
/// log while the call runs (before, only secrets of 6 bytes or more were:
/// a 4-byte password could reach a log line).
#[test]
fn a_short_bootstrap_password_is_scrubbed_while_in_use() {
    let _s = serial();
    const SHORT: &str = "p4wd";
    let name = homeserver::fresh_name("hks");
    homeserver::register(&name, SHORT);
    let dir = TempDir::new().unwrap();
    let client = create(dir.path());
    block_on(client.login(name, SHORT.into(), None)).unwrap();
    assert!(
        !hooks::is_scrubbed(SHORT),
        "the login's registration outlived it"
    );
    let begun = hooks::pause_at("bootstrap.begun");
    let c = client.clone();
    let bootstrap = on_thread(move || block_on(c.bootstrap_cross_signing(Some(SHORT.into()))));
    assert!(begun.wait_reached(BOUND), "the bootstrap never began");
    let scrubbed = hooks::is_scrubbed(SHORT);
    begun.release();
    within("the bootstrap", &bootstrap).unwrap();
    assert!(
        scrubbed,
        "the short password was not scrubbed during the call"
    );
    assert!(!hooks::is_scrubbed(SHORT), "the password outlived the call");
    block_on(client.logout(LogoutOptions::default(), None)).unwrap();
}

/// A wrong recovery key is scrubbed while it is tried, then forgotten: an
/// app that lets its user retry does not grow the scrubber's list (before,
/// every key tried stayed registered until the client ended).
#[test]
fn a_wrong_recovery_key_is_forgotten_once_tried() {
    let _s = serial();
    const WRONG: &str = "EsTj 3yST y93F SLpB jJsz eAXc 2XzA ygD3 w69H fGaN TKBj jXEd";
    let dir = TempDir::new().unwrap();
    let client = create(dir.path());
    block_on(client.login(user("hkr"), PASSWORD.into(), None)).unwrap();
    let tried = hooks::pause_at("recover.done");
    let c = client.clone();
    let recover = on_thread(move || block_on(c.recover(WRONG.into())));
    assert!(tried.wait_reached(BOUND), "the key was never tried");
    let scrubbed = hooks::is_scrubbed(WRONG);
    tried.release();
    let result = within("recover", &recover);
    assert!(result.is_err(), "a wrong key was taken: {result:?}");
    assert!(scrubbed, "the key was not scrubbed while it was tried");
    assert!(
        !hooks::is_scrubbed(WRONG),
        "the wrong key stayed registered"
    );
    block_on(client.logout(LogoutOptions::default(), None)).unwrap();
}

/// A `Client.create` on a `data_dir` that `get_notification` is reading
/// (the user taps the app while its push handler runs) waits for it, then
/// gets the app's client. Before, it failed at once with `Busy`.
#[test]
fn a_create_while_a_notification_reads_the_data_dir_waits_for_it() {
    let _s = serial();
    let dir = TempDir::new().unwrap();
    let client = create(dir.path());
    let session = block_on(client.login(user("hkn"), PASSWORD.into(), None)).unwrap();
    block_on(client.close(None)).unwrap();

    let claimed = hooks::pause_at("notification.claimed");
    let (path, kept) = (dir.path().to_path_buf(), session.clone());
    let push = on_thread(move || {
        block_on(matrix_mobile_core::get_notification(
            config(&homeserver::url(), &path),
            kept,
            "!nowhere:localhost".into(),
            "$nothing:localhost".into(),
        ))
    });
    assert!(
        claimed.wait_reached(BOUND),
        "the notification never claimed the data_dir"
    );
    let path = dir.path().to_path_buf();
    let created = on_thread(move || block_on(Client::create(config(&homeserver::url(), &path))));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        created.try_recv().is_err(),
        "create returned while the notification held the data_dir"
    );
    claimed.release();
    let _ = within("get_notification", &push);
    let again = within("create", &created).expect("create after the notification");
    block_on(again.restore(session)).unwrap();
    let report = block_on(again.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

/// A cancelled `enable_recovery` loses no key: the app stops awaiting it
/// once the server holds the new secret store (held at
/// `recovery.enabled`), the set-up finishes on its own, and the next call
/// returns its key, which opens the secret store on a new device. Before,
/// the cancelled call's key was gone and the next call was refused
/// (a backup already exists on the server).
#[test]
fn a_cancelled_enable_recovery_hands_its_key_to_the_next_call() {
    let _s = serial();
    let name = user("hkc");
    let dir = TempDir::new().unwrap();
    let client = create(dir.path());
    let session = block_on(client.login(name.clone(), PASSWORD.into(), None)).unwrap();
    block_on(client.start_sync()).unwrap();
    let enabled = hooks::pause_at("recovery.enabled");
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let c = client.clone();
    let first = on_thread(move || {
        let call = Box::pin(c.enable_recovery(None));
        // Whichever ends first; the call is dropped with the other.
        match block_on(futures_util::future::select(call, cancelled)) {
            futures_util::future::Either::Left((key, _)) => Some(key),
            futures_util::future::Either::Right(_) => None,
        }
    });
    assert!(enabled.wait_reached(BOUND), "the set-up never finished");
    // The secret store the server holds now, under the key the call made.
    let made = default_key_id(&session);
    cancel.send(()).unwrap();
    assert!(
        within("the cancelled call", &first).is_none(),
        "the call returned before it was cancelled"
    );
    enabled.release();
    let key = block_on(client.enable_recovery(None)).expect("the cancelled call's key");
    assert!(!key.trim().is_empty());
    // That key, not a new set-up's (which replaced the secret store's key,
    // leaving the one the server had held unseen by anybody).
    assert_eq!(default_key_id(&session), made, "a second set-up ran");

    // The key is the one the server holds: it opens recovery elsewhere.
    let other = TempDir::new().unwrap();
    let again = create(other.path());
    block_on(again.login(name, PASSWORD.into(), None)).unwrap();
    block_on(again.start_sync()).unwrap();
    block_on(again.recover(key)).expect("the key opens the secret store");
    block_on(again.logout(LogoutOptions::default(), None)).unwrap();
    block_on(client.logout(LogoutOptions::default(), None)).unwrap();
}

/// The id of the account's default secret-storage key, from the server.
fn default_key_id(session: &matrix_mobile_core::Session) -> String {
    let base = homeserver::url();
    let host = homeserver::host_port(&base);
    let request = format!(
        "GET /_matrix/client/v3/user/{}/account_data/m.secret_storage.default_key HTTP/1.0\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\r\n",
        session.user_id, session.access_token
    );
    let response = homeserver::exchange(&base, &request);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    json["key"]
        .as_str()
        .unwrap_or_else(|| panic!("no default secret-storage key: {response}"))
        .to_owned()
}
