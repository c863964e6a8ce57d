//! The `Client` against the real Synapse that `cargo xtask test` starts.
//!
//! Tests run one at a time (`serial()`): they share the process's runtime,
//! and whether a logout restarts it depends on the other live clients.

#[path = "support/homeserver.rs"]
mod homeserver;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_executor::block_on;
use homeserver::{Fault, FaultProxy};
use matrix_mobile_core::ClientState;
use matrix_mobile_core::MessageListener;
use matrix_mobile_core::{
    runtime_stats, Client, ClientConfig, CoreError, LogoutOptions, Message, ServerLogout, Session,
    SyncState,
};
use matrix_mobile_core::{LifecycleListener, LifecyclePhase};
use tempfile::TempDir;

const PASSWORD: &str = "correct horse battery";

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn config(url: &str, dir: &Path) -> ClientConfig {
    ClientConfig {
        homeserver_url: url.to_owned(),
        data_dir: dir.to_string_lossy().into_owned(),
        store_passphrase: None,
        store_key: None,
        request_timeout_ms: 10_000,
        additional_root_certificates: Vec::new(),
        shared_with_other_processes: None,
    }
}

/// A fresh user, logged in on a fresh data dir.
fn logged_in(prefix: &str) -> (Arc<Client>, Session, TempDir) {
    let name = homeserver::fresh_name(prefix);
    homeserver::register(&name, PASSWORD);
    let dir = TempDir::new().unwrap();
    let client = block_on(Client::create(config(&homeserver::url(), dir.path()))).unwrap();
    let session = block_on(client.login(name, PASSWORD.into(), Some("test".into()))).unwrap();
    (client, session, dir)
}

fn wait(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[derive(Default)]
struct Inbox(Mutex<Vec<Message>>);
impl MessageListener for Inbox {
    fn on_message(&self, message: Message) {
        self.0.lock().unwrap().push(message);
    }
    fn on_closed(&self) {}
}
impl Inbox {
    fn has(&self, body: &str) -> bool {
        self.0.lock().unwrap().iter().any(|m| m.body == body)
    }
}

#[derive(Default)]
struct Phases(Mutex<Vec<LifecyclePhase>>);
impl LifecycleListener for Phases {
    fn on_phase(&self, phase: LifecyclePhase, _elapsed_ms: u64) {
        self.0.lock().unwrap().push(phase);
    }
}

fn logout(client: &Client) -> matrix_mobile_core::LogoutReport {
    block_on(client.logout(LogoutOptions::default(), None)).unwrap()
}

#[test]
fn two_users_exchange_messages_then_log_out_with_a_full_report() {
    let _s = serial();
    let (alice, alice_session, alice_dir) = logged_in("alice");
    let (bob, bob_session, _bob_dir) = logged_in("bob");
    assert_eq!(alice.state(), ClientState::LoggedIn);
    assert_eq!(alice.user_id(), Some(alice_session.user_id.clone()));

    let inbox = Arc::new(Inbox::default());
    let _sub = bob.observe_messages(inbox.clone()).unwrap();
    block_on(alice.start_sync()).unwrap();
    block_on(bob.start_sync()).unwrap();
    wait("sync running", 20, || {
        alice.sync_state() == SyncState::Running && bob.sync_state() == SyncState::Running
    });

    let room = block_on(alice.create_room("chat".into(), vec![bob_session.user_id.clone()], false))
        .unwrap();
    wait("bob invited", 20, || {
        block_on(bob.join_room(room.clone())).is_ok()
    });
    let sent = block_on(alice.send_text(room.clone(), "hello bob".into())).unwrap();
    assert!(sent.starts_with('$'));
    wait("bob receives", 20, || inbox.has("hello bob"));
    let recent = block_on(bob.recent_messages(room.clone(), 10)).unwrap();
    assert_eq!(recent.last().map(|m| m.body.as_str()), Some("hello bob"));
    assert_eq!(
        recent.last().map(|m| m.sender.clone()),
        Some(alice_session.user_id.clone())
    );
    wait("room listed", 20, || {
        alice
            .rooms()
            .unwrap()
            .iter()
            .any(|r| r.room_id == room && r.joined_members == 2)
    });

    // Alice logs out while Bob lives: the runtime stays, Bob is untouched.
    let phases = Arc::new(Phases::default());
    let report = block_on(alice.logout(LogoutOptions::default(), Some(phases.clone()))).unwrap();
    assert_eq!(report.server_logout, ServerLogout::Revoked);
    assert_eq!(report.store_files_open_after, Some(0));
    assert!(report.data_wiped);
    assert!(!alice_dir.path().exists());
    assert!(!report.runtime_restarted);
    assert!(!report
        .phases
        .iter()
        .any(|p| p.phase == LifecyclePhase::RestartingRuntime));
    assert_eq!(report.client_dropped, report.tasks_left_behind == 0);
    assert_eq!(alice.state(), ClientState::Closed);
    let seen = phases.0.lock().unwrap().clone();
    assert_eq!(seen.first(), Some(&LifecyclePhase::StoppingSync));
    assert_eq!(seen.last(), Some(&LifecyclePhase::Done));
    assert!(
        seen.contains(&LifecyclePhase::ServerLogout)
            && seen.contains(&LifecyclePhase::ClosingStores)
    );
    assert!(block_on(bob.send_text(room.clone(), "still here".into())).is_ok());
    assert_eq!(bob.sync_state(), SyncState::Running);

    // Bob is the last client: the runtime restarts and the client is observed dropped.
    let generation = runtime_stats().generation;
    let report = logout(&bob);
    assert!(report.runtime_restarted);
    assert!(report.client_dropped, "{report:?}");
    assert_eq!(report.tasks_left_behind, 0);
    assert_eq!(report.store_files_open_after, Some(0));
    assert_eq!(report.runtime_generation, generation + 1);
    assert_eq!(runtime_stats().live_clients, 0);
    assert!(report
        .phases
        .iter()
        .any(|p| p.phase == LifecyclePhase::RestartingRuntime));
}

#[test]
fn close_then_restore_on_the_same_data_dir_sees_the_rooms() {
    let _s = serial();
    let (client, session, dir) = logged_in("carol");
    let room = block_on(client.create_room("kept".into(), vec![], true)).unwrap();
    block_on(client.send_text(room.clone(), "secret hello".into())).unwrap();
    let report = block_on(client.close(None)).unwrap();
    assert_eq!(report.server_logout, ServerLogout::Skipped);
    assert_eq!(report.store_files_open_after, Some(0));
    assert!(!report.data_wiped);
    assert!(dir.path().exists());
    assert_eq!(
        block_on(client.send_text(room.clone(), "x".into())),
        Err(CoreError::ClientClosed)
    );

    let again = block_on(Client::create(config(&homeserver::url(), dir.path()))).unwrap();
    block_on(again.restore(session.clone())).unwrap();
    assert_eq!(
        again.session().map(|s| s.device_id),
        Some(session.device_id.clone())
    );
    let rooms = again.rooms().unwrap();
    let kept = rooms
        .iter()
        .find(|r| r.room_id == room)
        .expect("the room survives close + restore");
    assert!(kept.is_encrypted);
    let messages = block_on(again.recent_messages(room, 5)).unwrap();
    assert!(
        messages.iter().any(|m| m.body == "secret hello"),
        "{messages:?}"
    );
    logout(&again);
}

#[test]
fn logout_twice_returns_client_closed_and_calls_after_logout_fail_cleanly() {
    let _s = serial();
    let (client, _, _dir) = logged_in("dave");
    logout(&client);
    let second = block_on(client.logout(LogoutOptions::default(), None));
    assert_eq!(second, Err(CoreError::ClientClosed));
    assert_eq!(
        block_on(client.close(None)).err(),
        Some(CoreError::ClientClosed)
    );
    assert_eq!(block_on(client.start_sync()), Err(CoreError::ClientClosed));
    assert_eq!(client.rooms(), Err(CoreError::ClientClosed));
    assert!(client.session().is_none());
}

#[test]
fn logout_with_the_server_unreachable_still_drains_locally() {
    let _s = serial();
    let proxy = FaultProxy::start();
    let name = homeserver::fresh_name("erin");
    homeserver::register(&name, PASSWORD);
    let dir = TempDir::new().unwrap();
    let client = block_on(Client::create(config(&proxy.url, dir.path()))).unwrap();
    block_on(client.login(name, PASSWORD.into(), None)).unwrap();
    proxy.set(Fault::Blackhole);
    let started = Instant::now();
    let report = block_on(client.logout(
        LogoutOptions {
            server_timeout_ms: 500,
            wipe_local_data: true,
        },
        None,
    ))
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            report.server_logout,
            ServerLogout::TimedOut | ServerLogout::Failed { .. }
        ),
        "{:?}",
        report.server_logout
    );
    assert_eq!(report.store_files_open_after, Some(0));
    assert!(report.data_wiped && report.runtime_restarted && report.client_dropped);
}

#[test]
fn logout_with_a_revoked_token_says_token_already_invalid() {
    let _s = serial();
    let (first, session, _d1) = logged_in("frank");
    let dir2 = TempDir::new().unwrap();
    let second = block_on(Client::create(config(&homeserver::url(), dir2.path()))).unwrap();
    block_on(second.restore(session)).unwrap();
    assert_eq!(logout(&first).server_logout, ServerLogout::Revoked);
    assert_eq!(
        logout(&second).server_logout,
        ServerLogout::TokenAlreadyInvalid
    );
}

#[test]
fn bad_input_gets_typed_errors() {
    let _s = serial();
    let url = homeserver::url();
    let dir = TempDir::new().unwrap();
    let create = |u: &str, d: &Path| block_on(Client::create(config(u, d)));
    assert!(matches!(
        create("not a url", dir.path()),
        Err(CoreError::InvalidArgument { .. })
    ));
    assert!(matches!(
        create("ftp://example.org", dir.path()),
        Err(CoreError::InvalidArgument { .. })
    ));
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(
        create(&url, &file),
        Err(CoreError::InvalidArgument { .. })
    ));
    assert!(matches!(
        create(&url, &file.join("below-a-file")),
        Err(CoreError::Storage { .. })
    ));
    assert!(matches!(
        create(&url, Path::new("relative/dir")),
        Err(CoreError::InvalidArgument { .. })
    ));

    let client = create(&url, &dir.path().join("ok")).unwrap();
    // A second client on the same data_dir is refused while the first lives.
    assert!(matches!(
        create(&url, &dir.path().join("ok")),
        Err(CoreError::Busy { .. })
    ));
    let login = |u: &str, p: &str| block_on(client.login(u.into(), p.into(), None));
    assert!(matches!(
        login("", "pw"),
        Err(CoreError::InvalidArgument { .. })
    ));
    let name = homeserver::fresh_name("gina");
    homeserver::register(&name, PASSWORD);
    assert!(
        matches!(login(&name, "wrong password"), Err(CoreError::Auth { .. })),
        "{:?}",
        login(&name, "wrong password")
    );
    assert!(matches!(
        block_on(client.create_room("x".into(), vec![], false)),
        Err(CoreError::InvalidState { .. })
    ));
    login(&name, PASSWORD).unwrap();
    assert!(matches!(
        login(&name, PASSWORD),
        Err(CoreError::InvalidState { .. })
    ));
    assert!(matches!(
        block_on(client.send_text("not-a-room".into(), "x".into())),
        Err(CoreError::InvalidArgument { .. })
    ));
    assert!(matches!(
        block_on(client.send_text("!unknown:localhost".into(), "x".into())),
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        block_on(client.join_room("#nope:localhost".into())),
        Err(CoreError::NotFound { .. } | CoreError::Server { .. })
    ));
    assert!(matches!(
        block_on(client.recent_messages("!unknown:localhost".into(), 0)),
        Err(CoreError::InvalidArgument { .. })
    ));
    assert!(matches!(
        block_on(client.create_room("x".into(), vec!["not a user".into()], false)),
        Err(CoreError::InvalidArgument { .. })
    ));
    logout(&client);

    // Unreachable homeserver at login.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let offline = create(
        &format!("http://127.0.0.1:{closed_port}"),
        &dir.path().join("offline"),
    )
    .unwrap();
    let result = block_on(offline.login("someone".into(), "pw".into(), None));
    assert!(
        matches!(
            result,
            Err(CoreError::Network { .. } | CoreError::Timeout { .. })
        ),
        "{result:?}"
    );
    block_on(offline.close(None)).unwrap();
}

#[test]
fn a_wrong_store_passphrase_is_a_storage_error() {
    let _s = serial();
    let dir = TempDir::new().unwrap();
    let url = homeserver::url();
    let mut cfg = config(&url, dir.path());
    cfg.store_passphrase = Some("first passphrase".into());
    let client = block_on(Client::create(cfg.clone())).unwrap();
    block_on(client.close(None)).unwrap();
    cfg.store_passphrase = Some("another passphrase".into());
    let reopened = block_on(Client::create(cfg));
    assert!(
        matches!(reopened, Err(CoreError::Storage { .. })),
        "{:?}",
        reopened.map(|_| ())
    );
}

/// A raw 32-byte store key: the stores open again with it, logged in, and
/// not with another key or with a passphrase; a key of another length, or
/// a key beside a passphrase, is `InvalidArgument` before anything opens.
#[test]
fn a_raw_store_key_reopens_its_stores_and_no_other_does() {
    let _s = serial();
    let dir = TempDir::new().unwrap();
    let mut cfg = config(&homeserver::url(), dir.path());
    cfg.store_key = Some(vec![7; 32]);
    let client = block_on(Client::create(cfg.clone())).unwrap();
    let name = homeserver::fresh_name("key");
    homeserver::register(&name, PASSWORD);
    let session = block_on(client.login(name, PASSWORD.into(), None)).unwrap();
    block_on(client.close(None)).unwrap();
    let again = block_on(Client::create(cfg.clone())).unwrap();
    block_on(again.restore(session)).unwrap();
    assert!(again.room("!nowhere:localhost".into()).is_err());
    block_on(again.logout(LogoutOptions::default(), None)).unwrap();

    let dir = TempDir::new().unwrap();
    let mut cfg = config(&homeserver::url(), dir.path());
    cfg.store_key = Some(vec![7; 32]);
    block_on(block_on(Client::create(cfg.clone())).unwrap().close(None)).unwrap();
    for wrong in [
        ClientConfig {
            store_key: Some(vec![8; 32]),
            ..cfg.clone()
        },
        ClientConfig {
            store_key: None,
            store_passphrase: Some("a passphrase".into()),
            ..cfg.clone()
        },
    ] {
        let reopened = block_on(Client::create(wrong));
        assert!(
            matches!(reopened, Err(CoreError::Storage { .. })),
            "{:?}",
            reopened.map(|_| ())
        );
    }
    for bad in [
        ClientConfig {
            store_key: Some(vec![7; 31]),
            ..cfg.clone()
        },
        ClientConfig {
            store_passphrase: Some("and a passphrase".into()),
            ..cfg.clone()
        },
    ] {
        let refused = block_on(Client::create(bad));
        assert!(
            matches!(refused, Err(CoreError::InvalidArgument { .. })),
            "{:?}",
            refused.map(|_| ())
        );
    }
}

#[test]
fn pause_releases_the_store_files_and_resume_syncs_again() {
    let _s = serial();
    let (client, _, dir) = logged_in("hana");
    block_on(client.start_sync()).unwrap();
    wait("sync running", 20, || {
        client.sync_state() == SyncState::Running
    });
    block_on(client.pause()).unwrap();
    assert_eq!(
        matrix_mobile_core::platform::open_files_under(dir.path()),
        Some(0)
    );
    assert_ne!(client.sync_state(), SyncState::Running);
    block_on(client.resume()).unwrap();
    wait("sync running again", 20, || {
        client.sync_state() == SyncState::Running
    });
    assert!(block_on(client.create_room("after resume".into(), vec![], false)).is_ok());
    logout(&client);
}

#[test]
fn released_client_is_closed_in_the_background_and_shutdown_waits() {
    let _s = serial();
    let (client, _, dir) = logged_in("ivan");
    drop(client);
    // The release itself closes it, before any shutdown: told apart from
    // the shutdown closing it (which would count it in `clients_closed`).
    wait("the released client to be drained", 20, || {
        runtime_stats().live_clients == 0
    });
    assert_eq!(
        matrix_mobile_core::platform::open_files_under(dir.path()),
        Some(0)
    );
    let report = matrix_mobile_core::shutdown_blocking(matrix_mobile_core::ShutdownOptions {
        timeout_ms: 5000,
    })
    .unwrap();
    assert!(report.tasks_abandoned.is_empty(), "{report:?}");
    assert_eq!(report.clients_closed, 0, "{report:?}");
    assert_eq!(
        matrix_mobile_core::platform::open_files_under(dir.path()),
        Some(0)
    );
    assert_eq!(runtime_stats().live_clients, 0);
}

#[test]
fn a_burst_of_messages_reaches_observe_messages_in_full_and_in_order() {
    let _s = serial();
    let (alice, _, _d1) = logged_in("jane");
    let (bob, bob_session, _d2) = logged_in("kim");
    let room =
        block_on(alice.create_room("burst".into(), vec![bob_session.user_id], false)).unwrap();
    wait("bob joins", 20, || {
        block_on(bob.join_room(room.clone())).is_ok()
    });
    let inbox = Arc::new(Inbox::default());
    let _sub = bob.observe_messages(inbox.clone()).unwrap();
    block_on(bob.start_sync()).unwrap();
    wait("sync running", 20, || {
        bob.sync_state() == SyncState::Running
    });
    let bodies: Vec<String> = (0..8).map(|i| format!("burst {i}")).collect();
    for body in &bodies {
        block_on(alice.send_text(room.clone(), body.clone())).unwrap();
    }
    wait("every message of the burst", 20, || {
        bodies.iter().all(|b| inbox.has(b))
    });
    let seen: Vec<String> = inbox
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.body.clone())
        .filter(|b| b.starts_with("burst"))
        .collect();
    assert_eq!(seen, bodies);
    logout(&alice);
    logout(&bob);
}

/// Regression: matrix-sdk-ui 0.18 loses a stop sent before its room list
/// loop listens, and `stop_sync` then hung forever (about 1 in 20 cycles).
#[test]
fn stop_sync_right_after_start_sync_returns_and_sync_is_not_running() {
    let _s = serial();
    let (client, _, _dir) = logged_in("lena");
    for cycle in 0..30 {
        block_on(client.start_sync()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let c = client.clone();
        std::thread::spawn(move || {
            let _ = tx.send(block_on(c.stop_sync()));
        });
        let stopped = rx.recv_timeout(Duration::from_secs(30));
        assert!(
            matches!(stopped, Ok(Ok(()))),
            "cycle {cycle}: stop_sync did not return: {stopped:?}"
        );
        assert_ne!(client.sync_state(), SyncState::Running, "cycle {cycle}");
    }
    logout(&client);
}

/// Calls during a logout get `Busy`, and `shutdown()` during a logout waits
/// for it; afterwards every call gets `ClientClosed`.
#[test]
fn calls_during_logout_are_busy_and_shutdown_waits_for_the_logout() {
    let _s = serial();
    let proxy = FaultProxy::start();
    let name = homeserver::fresh_name("mira");
    homeserver::register(&name, PASSWORD);
    let dir = TempDir::new().unwrap();
    let client = block_on(Client::create(config(&proxy.url, dir.path()))).unwrap();
    block_on(client.login(name, PASSWORD.into(), None)).unwrap();
    // The server never answers, so the logout stays in its server phase.
    proxy.set(Fault::Blackhole);
    let c = client.clone();
    let logout = std::thread::spawn(move || {
        block_on(c.logout(
            LogoutOptions {
                server_timeout_ms: 1500,
                wipe_local_data: true,
            },
            None,
        ))
    });
    wait("logout under way", 5, || {
        client.state() == ClientState::LoggingOut
    });
    assert!(matches!(
        block_on(client.start_sync()),
        Err(CoreError::Busy { .. })
    ));
    assert!(matches!(client.rooms(), Err(CoreError::Busy { .. })));
    assert!(matches!(
        block_on(client.close(None)),
        Err(CoreError::Busy { .. })
    ));

    let report = matrix_mobile_core::shutdown_blocking(matrix_mobile_core::ShutdownOptions {
        timeout_ms: 10_000,
    })
    .unwrap();
    // shutdown returned only after the logout had drained the client.
    assert_eq!(client.state(), ClientState::Closed);
    assert!(report.tasks_abandoned.is_empty(), "{report:?}");
    let logout = logout.join().unwrap().unwrap();
    assert_eq!(logout.server_logout, ServerLogout::TimedOut);
    assert_eq!(logout.store_files_open_after, Some(0));
    assert!(logout.data_wiped);
    // The last client's drain let the shutdown stop the runtime, and then saw
    // its client dropped (it used to report `false` with a false warning).
    assert!(logout.client_dropped, "{logout:?}");
    assert_eq!(logout.tasks_left_behind, 0);
    assert!(logout.warnings.is_empty(), "{:?}", logout.warnings);
    assert_eq!(block_on(client.start_sync()), Err(CoreError::ClientClosed));
}
