//! `notification_fetcher`: several pushes on one set of open stores, with
//! the session a `SessionStore` keeps (a JSON file here, standing in for the
//! keychain item an app shares with its extension).
//!
//! In a second process, as an iOS notification extension runs: three
//! encrypted pushes while the app is paused, one runtime generation for all
//! three (`get_notification` restarts the runtime after each), and a close
//! that reports every drain promise. Against a Synapse whose tokens expire
//! every 5 s: the fetcher refreshes through the store, saving before use,
//! and the app takes up the saved session. In-process: through the app's
//! live client, giving the directory up to a `Client.create`, bad input.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use futures_executor::block_on;
use matrix_mobile_core::{
    notification_fetcher, runtime_stats, Client, ClientConfig, CoreError, LogoutOptions, Session,
    SessionStore, SyncState,
};

use crate::private_synapse::PrivateSynapse;
use crate::session::{config, wait, PASSWORD};
use crate::{homeserver, received, serial, synced, two_in_a_room};

/// A `SessionStore` in a JSON file, replaced whole on each save.
pub struct FileStore(pub PathBuf);

impl SessionStore for FileStore {
    fn save(&self, session: Session) -> Result<(), CoreError> {
        let json = serde_json::json!({
            "user_id": session.user_id,
            "device_id": session.device_id,
            "access_token": session.access_token,
            "refresh_token": session.refresh_token,
            "homeserver_url": session.homeserver_url,
        });
        let partial = self.0.with_extension("partial");
        std::fs::write(&partial, json.to_string())
            .and_then(|()| std::fs::rename(&partial, &self.0))
            .map_err(|e| CoreError::Storage {
                detail: e.to_string(),
            })
    }

    fn load(&self) -> Result<Option<Session>, CoreError> {
        let Ok(text) = std::fs::read_to_string(&self.0) else {
            return Ok(None);
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let s = |k: &str| v[k].as_str().map(str::to_owned);
        Ok(Some(Session {
            user_id: s("user_id").unwrap(),
            device_id: s("device_id").unwrap(),
            access_token: s("access_token").unwrap(),
            refresh_token: s("refresh_token"),
            homeserver_url: s("homeserver_url").unwrap(),
        }))
    }
}

/// The child half: a fetcher on the stores and the session file named by
/// the environment reads each event, then closes; prints what it read, the
/// runtime generation after each read, the report and what is left.
#[test]
#[ignore = "run by the second-process tests"]
fn child_reads_with_a_fetcher() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is unset"));
    let dir = PathBuf::from(var("MMC_FETCH_DIR"));
    let store = Arc::new(FileStore(var("MMC_FETCH_STORE").into()));
    let started = Instant::now();
    let fetcher = block_on(notification_fetcher(
        config(&var("MMC_FETCH_URL"), &dir),
        store,
    ))
    .expect("a fetcher in the second process");
    let mut bodies = Vec::new();
    let mut generations = Vec::new();
    for event in var("MMC_FETCH_EVENTS").split(',') {
        let item = block_on(fetcher.get(var("MMC_FETCH_ROOM"), event.to_owned()))
            .unwrap_or_else(|e| panic!("get {event}: {e}"))
            .unwrap_or_else(|| panic!("{event} does not notify"));
        bodies.push(item.body);
        generations.push(runtime_stats().generation);
    }
    let report = block_on(fetcher.close()).expect("close");
    let stats = runtime_stats();
    let answer = serde_json::json!({
        "bodies": bodies,
        "generations": generations,
        "generation_after": stats.generation,
        "client_dropped": report.client_dropped,
        "store_files_open_after": report.store_files_open_after,
        "tasks_left_behind": report.tasks_left_behind,
        "runtime_restarted": report.runtime_restarted,
        "files_open": matrix_mobile_core::platform::open_files_under(&dir),
        "alive_tasks": stats.alive_tasks,
        "live_clients": stats.live_clients,
        "elapsed_ms": started.elapsed().as_millis() as u64,
    });
    println!("{}{answer}", crate::ANSWER);
}

/// Runs [`child_reads_with_a_fetcher`] in a new process of this test binary.
fn in_second_process(
    url: &str,
    dir: &Path,
    store: &Path,
    room: &str,
    events: &[String],
) -> serde_json::Value {
    let (dir, store, events) = (
        dir.to_string_lossy(),
        store.to_string_lossy(),
        events.join(","),
    );
    crate::run_child(
        "fetcher::child_reads_with_a_fetcher",
        &[
            ("MMC_FETCH_URL", url),
            ("MMC_FETCH_DIR", &dir),
            ("MMC_FETCH_STORE", &store),
            ("MMC_FETCH_ROOM", room),
            ("MMC_FETCH_EVENTS", &events),
        ],
    )
}

/// Asserts what a second process's fetcher left: every drain promise, and
/// nothing of the core's alive in that process.
fn assert_left_nothing(answer: &serde_json::Value) {
    for (key, value) in [
        ("client_dropped", serde_json::json!(true)),
        ("store_files_open_after", serde_json::json!(0)),
        ("tasks_left_behind", serde_json::json!(0)),
        ("runtime_restarted", serde_json::json!(true)),
        ("files_open", serde_json::json!(0)),
        ("alive_tasks", serde_json::json!(0)),
        ("live_clients", serde_json::json!(0)),
    ] {
        assert_eq!(answer[key], value, "{key}: {answer}");
    }
}

/// The app paused (its stores closed, as in the background on iOS) when
/// three encrypted messages arrive: a second process's fetcher reads all
/// three, decrypted, on one runtime generation (one client, one set of
/// open stores; `get_notification` would restart the runtime after each),
/// and its close keeps every drain promise. The app resumes on the same
/// stores and goes on.
#[test]
fn a_fetcher_reads_three_pushes_on_one_set_of_stores_while_the_app_is_paused() {
    let _serial = serial();
    let r = two_in_a_room("fetch", true);
    let store = r.alice_dir.path().with_extension("session.json");
    FileStore(store.clone())
        .save(r.alice_session.clone())
        .unwrap();
    block_on(r.alice.pause()).unwrap();
    let events: Vec<String> = (0..3)
        .map(|i| block_on(r.bob.send_text(r.room.clone(), format!("push {i}"))).unwrap())
        .collect();

    let answer = in_second_process(
        &homeserver::url(),
        r.alice_dir.path(),
        &store,
        &r.room,
        &events,
    );
    assert_eq!(
        answer["bodies"],
        serde_json::json!(["push 0", "push 1", "push 2"]),
        "{answer}"
    );
    let first = &answer["generations"][0];
    assert_eq!(
        answer["generations"],
        serde_json::json!([first, first, first]),
        "{answer}"
    );
    assert_ne!(&answer["generation_after"], first, "{answer}");
    assert_left_nothing(&answer);

    block_on(r.alice.resume()).unwrap();
    received(&r.alice, &r.room, "push 2");
    for client in [&r.alice, &r.bob] {
        let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
        assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    }
}

/// How many times the refresh test pauses the app and reads with a fetcher
/// in a second process: 2 in CI; `MMC_FETCHER_RUNS=20` for the 20.
fn refresh_runs() -> usize {
    std::env::var("MMC_FETCHER_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2)
}

/// A user of `server`, registered now.
fn registered(server: &PrivateSynapse, prefix: &str) -> String {
    let name = homeserver::fresh_name(prefix);
    homeserver::register_at(&server.url, &name, PASSWORD);
    name
}

/// Tokens expire every 5 s. The app (saving every refresh to the file)
/// pauses; once its access token has expired, a second process's fetcher
/// reads two encrypted pushes: it refreshes under the lock, and the file
/// then holds the session it refreshed, saved before use. The app's own
/// refresh token is spent: the app takes up the saved session (closes,
/// restores from the store) and syncs. Run after run, neither side is
/// refused.
#[test]
fn a_fetcher_refreshes_through_the_store_and_the_app_takes_the_session_up() {
    let _serial = serial();
    let server = PrivateSynapse::with_token_lifetime(5);
    let (alice_dir, bob_dir) = (
        tempfile::TempDir::new().unwrap(),
        tempfile::TempDir::new().unwrap(),
    );
    let store_path = alice_dir.path().with_extension("session.json");
    let store = Arc::new(FileStore(store_path.clone()));
    let alice = block_on(Client::create(config(&server.url, alice_dir.path()))).unwrap();
    alice.set_session_store(store.clone()).unwrap();
    let login = block_on(alice.login(registered(&server, "fa"), PASSWORD.into(), None)).unwrap();
    store.save(login.clone()).unwrap();
    let bob = block_on(Client::create(config(&server.url, bob_dir.path()))).unwrap();
    block_on(bob.login(registered(&server, "fb"), PASSWORD.into(), None)).unwrap();
    let room = crate::room_of_two(&alice, &bob, "refreshed", true);
    let mut alice = alice;
    for run in 0..refresh_runs() {
        block_on(alice.pause()).unwrap();
        let paused_with = store.load().unwrap().unwrap();
        // Past the access token's lifetime.
        std::thread::sleep(std::time::Duration::from_secs(6));
        let events: Vec<String> = (0..2)
            .map(|i| block_on(bob.send_text(room.clone(), format!("later {run}.{i}"))).unwrap())
            .collect();

        let answer = in_second_process(&server.url, alice_dir.path(), &store_path, &room, &events);
        let read = [format!("later {run}.0"), format!("later {run}.1")];
        assert_eq!(
            answer["bodies"],
            serde_json::json!(read),
            "run {run}: {answer}"
        );
        assert_left_nothing(&answer);
        let saved = store.load().unwrap().unwrap();
        assert_ne!(
            saved.access_token, paused_with.access_token,
            "run {run}: no refresh"
        );
        assert_ne!(
            saved.refresh_token, paused_with.refresh_token,
            "run {run}: not saved"
        );

        // The app's refresh token was spent by the fetcher: the app takes up
        // what the store keeps, on the same stores.
        block_on(alice.resume()).unwrap();
        let report = block_on(alice.close(None)).unwrap();
        assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
        alice = block_on(Client::create(config(&server.url, alice_dir.path()))).unwrap();
        alice.set_session_store(store.clone()).unwrap();
        block_on(alice.restore(store.load().unwrap().unwrap())).unwrap();
        synced(&alice);
        received(&alice, &room, &read[1]);
        let after = format!("still here {run}");
        block_on(bob.send_text(room.clone(), after.clone())).unwrap();
        received(&alice, &room, &after);
        assert_ne!(alice.sync_state(), SyncState::Error, "run {run}");
    }
    for client in [&alice, &bob] {
        block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    }
}

/// A config of the suite's homeserver on `dir`.
fn here(dir: &Path) -> ClientConfig {
    config(&homeserver::url(), dir)
}

/// In the app's process: a fetcher on the directory of a live client reads
/// through it and holds nothing; a fetcher on a closed client's stores
/// holds them until a `Client.create` there asks, then gives them up after
/// the push under way, and its later pushes are the new client's to answer.
#[test]
fn in_process_a_fetcher_reads_through_the_live_client_and_gives_its_stores_up() {
    let _serial = serial();
    let r = two_in_a_room("fetch-here", false);
    let store = Arc::new(FileStore(r.alice_dir.path().with_extension("session.json")));
    store.save(r.alice_session.clone()).unwrap();
    let first = block_on(r.bob.send_text(r.room.clone(), "one".into())).unwrap();

    let through = block_on(notification_fetcher(
        here(r.alice_dir.path()),
        store.clone(),
    ))
    .unwrap();
    let item = block_on(through.get(r.room.clone(), first.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(item.body.as_deref(), Some("one"));
    let report = block_on(through.close()).unwrap();
    assert_eq!(report.phases, vec![], "it held nothing: {report:?}");
    assert!(matches!(
        block_on(through.close()),
        Err(CoreError::ClientClosed)
    ));
    assert!(matches!(
        block_on(through.get(r.room.clone(), first.clone())),
        Err(CoreError::ClientClosed)
    ));

    received(&r.alice, &r.room, "one");
    block_on(r.alice.close(None)).unwrap();
    let own = block_on(notification_fetcher(
        here(r.alice_dir.path()),
        store.clone(),
    ))
    .unwrap();
    let item = block_on(own.get(r.room.clone(), first.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(item.body.as_deref(), Some("one"));
    assert!(matches!(
        block_on(own.get("not a room".into(), first.clone())),
        Err(CoreError::InvalidArgument { .. })
    ));
    // The user opens the app: its client gets the directory, not `Busy`.
    let started = Instant::now();
    let app = block_on(Client::create(here(r.alice_dir.path()))).unwrap();
    assert!(
        started.elapsed().as_secs() < 20,
        "the fetcher gave the stores up late"
    );
    block_on(app.restore(r.alice_session.clone())).unwrap();
    let second = block_on(r.bob.send_text(r.room.clone(), "two".into())).unwrap();
    let item = block_on(own.get(r.room.clone(), second)).unwrap().unwrap();
    assert_eq!(item.body.as_deref(), Some("two"));
    let report = block_on(own.close()).unwrap();
    assert!(report.client_dropped, "{report:?}");
    assert_eq!(
        report.store_files_open_after,
        Some(0),
        "counted before the hand-over: {report:?}"
    );
    assert_eq!(report.tasks_left_behind, 0, "{report:?}");
    for client in [&app, &r.bob] {
        block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    }
}

/// A fetcher the app lets go of without `close` (garbage collected, a Swift
/// `deinit`): it closes in the background, and its stores' files close.
#[test]
fn a_released_fetcher_closes_in_the_background() {
    let _serial = serial();
    let (client, session, dir) = crate::session::logged_in("fetch-drop");
    block_on(client.close(None)).unwrap();
    let store = Arc::new(FileStore(dir.path().with_extension("session.json")));
    store.save(session).unwrap();
    let fetcher = block_on(notification_fetcher(here(dir.path()), store)).unwrap();
    let open = matrix_mobile_core::platform::open_files_under(dir.path());
    assert!(open.is_some_and(|n| n > 0), "its stores are open: {open:?}");
    drop(fetcher);
    wait("the released fetcher's stores closed", 20, || {
        matrix_mobile_core::platform::open_files_under(dir.path()) == Some(0)
    });
    // The directory is free again: a client opens it at once.
    let again = block_on(Client::create(here(dir.path()))).unwrap();
    block_on(again.close(None)).unwrap();
}

/// A store with nothing, or one that throws; a bad config; bad ids.
struct Throwing;

impl SessionStore for Throwing {
    fn save(&self, _: Session) -> Result<(), CoreError> {
        Err(CoreError::Storage {
            detail: "locked".into(),
        })
    }

    fn load(&self) -> Result<Option<Session>, CoreError> {
        Err(CoreError::Storage {
            detail: "locked".into(),
        })
    }
}

/// Bad input gets a typed error and opens nothing: no session kept, a
/// store that throws, a bad config, bad ids on an open fetcher.
#[test]
fn bad_input_to_a_fetcher_is_a_typed_error() {
    let dir = tempfile::TempDir::new().unwrap();
    let empty = Arc::new(FileStore(dir.path().join("none.json")));
    let open =
        |store: Arc<dyn SessionStore>, config| block_on(notification_fetcher(config, store)).err();
    assert!(matches!(
        open(empty.clone(), here(dir.path())),
        Some(CoreError::InvalidState { .. })
    ));
    assert!(matches!(
        open(Arc::new(Throwing), here(dir.path())),
        Some(CoreError::Storage { .. })
    ));
    let bad_url = ClientConfig {
        homeserver_url: "ftp://nowhere".into(),
        ..here(dir.path())
    };
    assert!(matches!(
        open(empty, bad_url),
        Some(CoreError::InvalidArgument { .. })
    ));
    // A session whose stores are not in the directory.
    let stranger = Arc::new(FileStore(dir.path().join("stranger.json")));
    stranger
        .save(Session {
            user_id: "@nobody:localhost".into(),
            device_id: "NODEVICE".into(),
            access_token: "token".into(),
            refresh_token: None,
            homeserver_url: homeserver::url(),
        })
        .unwrap();
    assert!(matches!(
        open(stranger, here(dir.path())),
        Some(CoreError::InvalidState { .. })
    ));
}
