//! A client that shares its stores with no other process
//! (`shared_with_other_processes: Some(false)`, Android's default): it takes
//! matrix-sdk's single-process locks, so an idle one rewrites no lock lease
//! in its stores; it answers pushes in its own process; and a notification
//! client of another process reads its stores only while it is paused (or
//! gone), never beside it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures_executor::block_on;
use matrix_mobile_core::{get_notification, Client, ClientConfig, LogoutOptions, SyncState};

use crate::session::{config, user, PASSWORD};
use crate::{homeserver, in_second_process, received, serial, synced};

/// A config of the suite's homeserver on `dir`, sharing the stores or not.
fn sharing(dir: &Path, shared: bool) -> ClientConfig {
    ClientConfig {
        shared_with_other_processes: Some(shared),
        ..config(&homeserver::url(), dir)
    }
}

/// A fresh user logged in on `dir` with `config`.
fn logged_in_with(
    prefix: &str,
    config: ClientConfig,
) -> (Arc<Client>, matrix_mobile_core::Session) {
    let client = block_on(Client::create(config)).unwrap();
    let session = block_on(client.login(user(prefix), PASSWORD.into(), None)).unwrap();
    (client, session)
}

/// The app (sharing nothing) gets an encrypted message: in its own process
/// it answers the push, through its own sync service. A second process is
/// kept out while it has its stores open (`InvalidState`, nothing left
/// open there), and reads once it is paused; it then resumes and syncs on.
#[test]
fn a_client_that_shares_nothing_answers_in_its_process_and_lets_another_in_once_paused() {
    let _serial = serial();
    let (alice_dir, bob_dir) = (
        tempfile::TempDir::new().unwrap(),
        tempfile::TempDir::new().unwrap(),
    );
    let (alice, alice_session) = logged_in_with("alone-a", sharing(alice_dir.path(), false));
    let (bob, _) = logged_in_with("alone-b", config(&homeserver::url(), bob_dir.path()));
    let room = crate::room_of_two(&alice, &bob, "alone", true);

    let event = block_on(bob.send_text(room.clone(), "just us".into())).unwrap();
    received(&alice, &room, "just us");
    let item = block_on(get_notification(
        sharing(alice_dir.path(), false),
        alice_session.clone(),
        room.clone(),
        event.clone(),
    ))
    .unwrap()
    .expect("bob's message notifies");
    assert_eq!(item.body.as_deref(), Some("just us"), "{item:?}");
    assert!(item.is_encrypted);

    let kept_out = in_second_process(alice_dir.path(), &alice_session, &room, &event);
    let error = kept_out["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("InvalidState"), "{kept_out}");
    assert_eq!(kept_out["files_open"], 0, "{kept_out}");

    block_on(alice.pause()).unwrap();
    let read = in_second_process(alice_dir.path(), &alice_session, &room, &event);
    assert_eq!(read["body"], "just us", "{read}");
    assert_eq!(read["files_open"], 0, "{read}");
    block_on(alice.resume()).unwrap();
    block_on(bob.send_text(room.clone(), "after the pause".into())).unwrap();
    received(&alice, &room, "after the pause");
    assert_eq!(alice.sync_state(), SyncState::Running);
    for client in [&alice, &bob] {
        let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
        assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    }
}

/// How many times the stores' write-ahead logs changed over `span`, looked
/// at every 5 ms: each SQLite commit writes one.
fn wal_changes(dir: &Path, span: Duration) -> u32 {
    let look = || -> Vec<(u64, Option<SystemTime>)> {
        let mut wals: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with("-wal"))
            .filter_map(|e| e.metadata().ok())
            .map(|m| (m.len(), m.modified().ok()))
            .collect();
        wals.sort();
        wals
    };
    let (end, mut last, mut changes) = (Instant::now() + span, look(), 0);
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
        let now = look();
        changes += u32::from(now != last);
        last = now;
    }
    changes
}

/// Idle: logged in, syncing, a room's timeline observed, no traffic. A
/// client that shares its stores writes to them all the time (matrix-sdk
/// 0.18 renews its cross-process lock leases every 50 ms); one that shares
/// nothing writes nothing while it waits (a long poll's answer may write
/// once or twice).
#[test]
fn an_idle_client_that_shares_nothing_writes_nothing() {
    let _serial = serial();
    let mut seen = Vec::new();
    for shared in [false, true] {
        let dir = tempfile::TempDir::new().unwrap();
        let (client, _) = logged_in_with("idle", sharing(dir.path(), shared));
        let room = block_on(client.create_room("idle".into(), vec![], true)).unwrap();
        synced(&client);
        block_on(client.send_text(room.clone(), "hello".into())).unwrap();
        let timeline = block_on(client.timeline(room)).unwrap();
        std::thread::sleep(Duration::from_secs(3));
        seen.push((shared, wal_changes(dir.path(), Duration::from_secs(4))));
        drop(timeline);
        block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    }
    let [(false, alone), (true, shared)] = seen[..] else {
        unreachable!()
    };
    assert!(
        alone <= 4,
        "a client that shares nothing wrote {alone} times in 4 s"
    );
    assert!(
        shared >= 20,
        "the measure sees the leases of a shared client: {shared}"
    );
}
