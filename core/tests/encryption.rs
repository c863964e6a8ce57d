//! Recovery and key backup against the real Synapse: the history of an
//! encrypted room survives a wiping logout, on a new device, through the
//! recovery key (the keys of messages sent just before the logout too); a
//! wrong key loses nothing; a backup the server cannot take is reported.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/mirror.rs"]
mod mirror;
#[path = "support/poll.rs"]
mod poll;
#[path = "support/session.rs"]
mod session;

use std::sync::{Arc, Mutex, MutexGuard};

use futures_executor::block_on;
use matrix_mobile_core::{
    Client, ClientState, CoreError, LogoutOptions, MessageContent, RecoveryState,
    RecoveryStateListener, SyncState, TimelineItem, TimelineItemKind,
};
use mirror::Mirror;
use poll::poll_then_drop;
use session::{config, wait, wait_call_ended, Proxied, PASSWORD};
use tempfile::TempDir;

const MESSAGES: usize = 5;

/// Most polls a call needs here; a call still pending after this many is a bug.
const MAX_POLLS: usize = 64;

/// One test at a time: a drain that is the process's last restarts the
/// runtime and ends matrix-sdk's own tasks, so `tasks_left_behind` is 0;
/// beside another test's live client it would be the documented estimate 1.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a recovery state listener was told.
#[derive(Default)]
struct States {
    seen: Mutex<Vec<RecoveryState>>,
    closed: Mutex<u32>,
}

impl RecoveryStateListener for States {
    fn on_state(&self, state: RecoveryState) {
        self.seen.lock().unwrap().push(state);
    }
    fn on_closed(&self) {
        *self.closed.lock().unwrap() += 1;
    }
}

fn synced(client: &Client) {
    block_on(client.start_sync()).unwrap();
    wait("sync running", 30, || {
        client.sync_state() == SyncState::Running
    });
}

fn device(name: &str, dir: &TempDir) -> Arc<Client> {
    let client = block_on(Client::create(config(&homeserver::url(), dir.path()))).unwrap();
    block_on(client.login(name.to_owned(), PASSWORD.into(), None)).unwrap();
    client
}

#[test]
fn the_history_of_an_encrypted_room_decrypts_on_a_new_device_after_recover() {
    let _s = serial();
    let name = session::user("recov");
    let first_dir = TempDir::new().unwrap();
    let alice = device(&name, &first_dir);
    synced(&alice);
    let states = Arc::new(States::default());
    let _sub = alice.observe_recovery_state(states.clone()).unwrap();
    wait("the recovery state known", 30, || {
        alice.recovery_state() != RecoveryState::Unknown
    });
    assert_eq!(alice.recovery_state(), RecoveryState::Disabled);

    let room = block_on(alice.create_room("vault".into(), vec![], true)).unwrap();
    // Sent only once the room is known to be encrypted (see the report: a
    // message sent at once may leave in the clear).
    wait("the room known encrypted", 30, || {
        alice.room(room.clone()).is_ok_and(|r| r.is_encrypted)
    });
    let bodies: Vec<String> = (0..MESSAGES)
        .map(|i| format!("secret history {i}"))
        .collect();
    for body in &bodies {
        block_on(alice.send_text(room.clone(), body.clone())).unwrap();
    }

    let key = block_on(alice.enable_recovery(None)).unwrap();
    assert!(!key.is_empty());
    assert_eq!(alice.recovery_state(), RecoveryState::Enabled);
    // The listener hears it through its lane, just after.
    wait("the listener to hear Enabled", 10, || {
        states.seen.lock().unwrap().last() == Some(&RecoveryState::Enabled)
    });
    let seen = states.seen.lock().unwrap().clone();
    assert_eq!(seen.first(), Some(&RecoveryState::Disabled), "{seen:?}");

    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.keys_backed_up, Some(true), "{report:?}");
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    assert_eq!(report.tasks_left_behind, 0, "{report:?}");
    assert_eq!(
        *states.closed.lock().unwrap(),
        1,
        "on_closed once at the drain"
    );

    // A new device: without the key, the history does not decrypt.
    let second_dir = TempDir::new().unwrap();
    let again = device(&name, &second_dir);
    synced(&again);
    wait("the room on the new device", 30, || {
        again.rooms().unwrap().iter().any(|r| r.room_id == room)
    });
    let before = block_on(again.recent_messages(room.clone(), 50)).unwrap();
    assert!(
        before.iter().all(|m| !bodies.contains(&m.body)),
        "the new device decrypted without the key: {before:?}"
    );
    // Not an empty history: the messages are there, undecryptable.
    let timeline = block_on(again.timeline(room.clone())).unwrap();
    let items = Mirror::<TimelineItem>::new();
    let _items = timeline.observe(items.clone()).unwrap();
    let undecryptable = || {
        items
            .items()
            .iter()
            .filter(|i| {
                matches!(
                    &i.kind,
                    TimelineItemKind::Event {
                        content: MessageContent::UnableToDecrypt,
                        ..
                    }
                )
            })
            .count()
    };
    for _ in 0..10 {
        if undecryptable() >= MESSAGES || block_on(timeline.paginate_backwards(20)).unwrap() {
            break;
        }
    }
    wait("the history shown as undecryptable", 30, || {
        undecryptable() >= MESSAGES
    });

    // A wrong key is the caller's mistake, and loses nothing.
    let wrong = block_on(
        again.recover("EsTj 3yST y93F SLpB jJsz eAXc 2XzA ygD3 w69H fGaN TKBj jXEd".into()),
    );
    assert!(
        matches!(wrong, Err(CoreError::InvalidArgument { .. })),
        "{wrong:?}"
    );
    assert_ne!(again.recovery_state(), RecoveryState::Enabled);

    block_on(again.recover(key.clone())).unwrap();
    wait("recovery enabled on the new device", 30, || {
        again.recovery_state() == RecoveryState::Enabled
    });
    let mut last = Vec::new();
    wait("every message of the history decrypted", 60, || {
        last = block_on(again.recent_messages(room.clone(), 50))
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect();
        bodies.iter().all(|b| last.contains(b))
    });
    let report = block_on(again.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

#[test]
fn without_a_backup_a_wiping_logout_reports_no_backup() {
    let _s = serial();
    let (client, _session, _dir) = session::logged_in("nobackup");
    synced(&client);
    let room = block_on(client.create_room("r".into(), vec![], true)).unwrap();
    block_on(client.send_text(room, "hi".into())).unwrap();
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.keys_backed_up, None, "{report:?}");
}

/// Runs `call(n)` (the call dropped after its `n`th poll) for n = 0, 1, 2, …
/// until it completes; after each drop the call's task has ended and the
/// client is still logged in. Gives the completed call's output.
fn every_poll_count<T>(client: &Client, name: &str, call: impl Fn(usize) -> Option<T>) -> T {
    for n in 0..MAX_POLLS {
        let outcome = call(n);
        wait_call_ended(name);
        assert_eq!(
            client.state(),
            ClientState::LoggedIn,
            "{name} after {n} polls"
        );
        if let Some(output) = outcome {
            eprintln!("{name} completed at poll count {n}");
            return output;
        }
    }
    panic!("{name} did not complete within {MAX_POLLS} polls");
}

/// `enable_recovery` and `recover`, each dropped after every poll count (an
/// app cancelling them): the call that completes does all its work, a
/// cancelled one leaves a client that works, and the drains still end
/// every task with the stores closed.
#[test]
fn cancelled_recovery_calls_leave_a_working_client() {
    let _s = serial();
    let name = session::user("rcancel");
    let first_dir = TempDir::new().unwrap();
    let alice = device(&name, &first_dir);
    synced(&alice);
    wait("the recovery state known", 30, || {
        alice.recovery_state() != RecoveryState::Unknown
    });
    let key = every_poll_count(&alice, "enable_recovery", |n| {
        poll_then_drop("enable_recovery", alice.enable_recovery(None), n)
    })
    .expect("enable_recovery, after cancelled attempts");
    assert_eq!(alice.recovery_state(), RecoveryState::Enabled);
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    assert_eq!(report.tasks_left_behind, 0, "{report:?}");

    let second_dir = TempDir::new().unwrap();
    let again = device(&name, &second_dir);
    synced(&again);
    every_poll_count(&again, "recover", |n| {
        poll_then_drop("recover", again.recover(key.clone()), n)
    })
    .expect("recover, after cancelled attempts");
    wait("recovery enabled on the new device", 30, || {
        again.recovery_state() == RecoveryState::Enabled
    });
    let report = block_on(again.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    assert_eq!(report.tasks_left_behind, 0, "{report:?}");
}

/// What an app does after `on_auth_error(soft_logout: true)`, or when it
/// lost its tokens: close the client (its stores are kept), then log in
/// again as the same user on the same `data_dir`. The login asks for the
/// stores' own device, so its keys, and the encrypted history, stay. Before,
/// the login was refused (`InvalidState`) and only a wipe (losing the keys)
/// let the user back in.
#[test]
fn a_login_on_the_same_data_dir_keeps_the_device_and_its_encrypted_history() {
    let _s = serial();
    let name = session::user("relog");
    let dir = TempDir::new().unwrap();
    let alice = block_on(Client::create(config(&homeserver::url(), dir.path()))).unwrap();
    let first = block_on(alice.login(name.clone(), PASSWORD.into(), None)).unwrap();
    synced(&alice);
    let room = block_on(alice.create_room("kept".into(), vec![], true)).unwrap();
    wait("the room encrypted", 30, || {
        alice.room(room.clone()).is_ok_and(|r| r.is_encrypted)
    });
    let sent: Vec<String> = (0..3).map(|i| format!("kept {i}")).collect();
    for body in &sent {
        block_on(alice.send_text(room.clone(), body.clone())).unwrap();
    }
    let report = block_on(alice.close(None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");

    let again = block_on(Client::create(config(&homeserver::url(), dir.path()))).unwrap();
    let second = block_on(again.login(name, PASSWORD.into(), None))
        .expect("a login on the stores of this user");
    assert_eq!(second.device_id, first.device_id, "a new device");
    assert_ne!(second.access_token, first.access_token);
    synced(&again);
    let bodies: Vec<String> = block_on(again.recent_messages(room.clone(), 20))
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .filter(|b| b.starts_with("kept "))
        .collect();
    assert_eq!(bodies, sent, "the history did not decrypt");
    block_on(again.send_text(room, "after".into())).unwrap();
    let report = block_on(again.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

/// The wiping logout's own wait for the key backup: messages sent after
/// `enable_recovery` (whose room key is new, and which `enable_recovery`'s
/// own wait never saw), then a logout at once. Every one of them decrypts
/// on a new device after `recover`: the logout waited for their key to
/// reach the backup before it wiped the only other copy.
#[test]
fn keys_of_messages_sent_just_before_a_wiping_logout_reach_the_backup() {
    let _s = serial();
    let name = session::user("pending");
    let first_dir = TempDir::new().unwrap();
    let alice = device(&name, &first_dir);
    synced(&alice);
    let room = block_on(alice.create_room("pending keys".into(), vec![], true)).unwrap();
    wait("the room known encrypted", 30, || {
        alice.room(room.clone()).is_ok_and(|r| r.is_encrypted)
    });
    let key = block_on(alice.enable_recovery(None)).unwrap();
    let bodies: Vec<String> = (0..MESSAGES).map(|i| format!("just sent {i}")).collect();
    for body in &bodies {
        block_on(alice.send_text(room.clone(), body.clone())).unwrap();
    }
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.keys_backed_up, Some(true), "{report:?}");
    assert!(report.data_wiped, "{report:?}");

    let second_dir = TempDir::new().unwrap();
    let again = device(&name, &second_dir);
    synced(&again);
    wait("the room on the new device", 30, || {
        again.rooms().unwrap().iter().any(|r| r.room_id == room)
    });
    block_on(again.recover(key)).unwrap();
    let mut last = Vec::new();
    wait("every message sent before the logout decrypted", 60, || {
        last = block_on(again.recent_messages(room.clone(), 50))
            .unwrap()
            .into_iter()
            .map(|m| m.body)
            .collect();
        bodies.iter().all(|b| last.contains(b))
    });
    let report = block_on(again.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

/// A server that stops answering during the logout's wait for the key
/// backup: the wait ends at the deadline and the report says the keys were
/// not all backed up (`Some(false)`), in about `server_timeout_ms`.
///
/// matrix-sdk uploads a new room key to the backup in the background right
/// after the message goes out, so now and then the upload is done before
/// the server stops answering, and the report rightly says `Some(true)`:
/// then the case is tried again with a new user, up to three times.
#[test]
fn a_backup_wait_without_the_server_reports_keys_not_backed_up() {
    let _s = serial();
    for attempt in 1..=3 {
        let Proxied {
            client: alice,
            proxy,
            dir: _dir,
            ..
        } = Proxied::login("unbacked");
        synced(&alice);
        let room = block_on(alice.create_room("unbacked".into(), vec![], true)).unwrap();
        wait("the room known encrypted", 30, || {
            alice.room(room.clone()).is_ok_and(|r| r.is_encrypted)
        });
        block_on(alice.enable_recovery(None)).unwrap();
        block_on(alice.send_text(room, "its key is not backed up yet".into())).unwrap();
        proxy.set(homeserver::Fault::Blackhole);
        let options = LogoutOptions {
            server_timeout_ms: 2_000,
            wipe_local_data: true,
        };
        let report = block_on(alice.logout(options, None)).unwrap();
        proxy.set(homeserver::Fault::Pass);
        assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
        if report.keys_backed_up == Some(true) && attempt < 3 {
            // The upload won the race: nothing was left to wait for.
            assert!(report.warnings.is_empty(), "{report:?}");
            continue;
        }
        assert_eq!(report.keys_backed_up, Some(false), "{report:?}");
        assert!(
            report.warnings.iter().any(|w| w.contains("key backup")),
            "{report:?}"
        );
        return;
    }
}
