//! The send queue without the server: messages queued offline, taken back,
//! kept through a close; a back-pagination that cannot reach the server.

use futures_executor::block_on;
use matrix_mobile_core::{
    Client, CoreError, LogoutOptions, SendState, TimelineItem, TimelineItemKind,
};

use crate::mirror::Mirror;
use crate::session::{wait, Proxied};
use crate::{event_of, homeserver, item_id_of, serial, session};

/// Messages sent while the server is unreachable: their local echoes
/// stay, they go out once it is back; the ones still queued at a close are
/// counted in its report and sent after the next `restore`.
#[test]
fn messages_queued_offline_are_sent_when_the_server_is_back_and_kept_through_a_close() {
    let _serial = serial();
    let proxy = homeserver::FaultProxy::start();
    let name = session::user("offline-alice");
    let dir = tempfile::TempDir::new().unwrap();
    let config = session::config(&proxy.url, dir.path());
    let alice = block_on(Client::create(config.clone())).unwrap();
    let kept = block_on(alice.login(name, session::PASSWORD.into(), None)).unwrap();
    let room_id = block_on(alice.create_room("offline".into(), vec![], false)).unwrap();
    block_on(alice.start_sync()).unwrap();
    let timeline = block_on(alice.timeline(room_id.clone())).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();

    proxy.die();
    block_on(timeline.send_text("sent offline".into(), None)).unwrap();
    wait("the offline echo", 5, || {
        event_of(&mirror.items(), "sent offline").is_some()
    });
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert!(
        !matches!(
            event_of(&mirror.items(), "sent offline"),
            Some(TimelineItemKind::Event {
                send_state: Some(SendState::Sent { .. }),
                ..
            })
        ),
        "sent while the server was unreachable"
    );
    proxy.set(homeserver::Fault::Pass);
    wait(
        "the offline message sent once the server is back",
        60,
        || {
            matches!(
                event_of(&mirror.items(), "sent offline"),
                Some(TimelineItemKind::Event {
                    send_state: Some(SendState::Sent { .. }),
                    ..
                }) | Some(TimelineItemKind::Event {
                    send_state: None,
                    event_id: Some(_),
                    ..
                })
            )
        },
    );

    // Queued at the close: counted, kept, and sent after the restore.
    proxy.die();
    block_on(timeline.send_text("queued at close".into(), None)).unwrap();
    let report = block_on(alice.close(None)).unwrap();
    assert_eq!(report.unsent_messages, 1, "{report:?}");
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    assert!(matches!(
        block_on(timeline.send_text("too late".into(), None)),
        Err(CoreError::ClientClosed)
    ));
    assert_eq!(mirror.closed(), 1);
    drop((timeline, alice));

    proxy.set(homeserver::Fault::Pass);
    let alice = block_on(Client::create(config)).unwrap();
    block_on(alice.restore(kept)).unwrap();
    block_on(alice.start_sync()).unwrap();
    let timeline = block_on(alice.timeline(room_id)).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    wait("the message kept through the close sent", 60, || {
        matches!(
            event_of(&mirror.items(), "queued at close"),
            Some(TimelineItemKind::Event {
                send_state: Some(SendState::Sent { .. }),
                ..
            }) | Some(TimelineItemKind::Event {
                send_state: None,
                event_id: Some(_),
                ..
            })
        )
    });
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.unsent_messages, 0, "{report:?}");
    assert!(report.client_dropped, "{report:?}");
}

/// A message still queued (the server unreachable) is taken back with
/// `cancel_send`: its echo goes, and it never reaches the room once the
/// server is back; `cancel_send` on a sent message says `false`.
#[test]
fn a_queued_message_can_be_taken_back() {
    let _serial = serial();
    let Proxied {
        client: alice,
        proxy,
        dir: _dir,
        ..
    } = Proxied::login("takeback-alice");
    let room_id = block_on(alice.create_room("takeback".into(), vec![], false)).unwrap();
    let timeline = block_on(alice.timeline(room_id.clone())).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    block_on(timeline.send_text("kept".into(), None)).unwrap();
    wait("the first message sent", 20, || {
        matches!(
            event_of(&mirror.items(), "kept"),
            Some(TimelineItemKind::Event {
                event_id: Some(_),
                ..
            })
        )
    });

    proxy.die();
    block_on(timeline.send_text("taken back".into(), None)).unwrap();
    wait("the echo", 5, || {
        event_of(&mirror.items(), "taken back").is_some()
    });
    let echo = item_id_of(&mirror.items(), "taken back");
    assert!(block_on(timeline.cancel_send(echo)).unwrap());
    wait("the echo to go", 5, || {
        event_of(&mirror.items(), "taken back").is_none()
    });
    let kept = item_id_of(&mirror.items(), "kept");
    assert!(
        !block_on(timeline.cancel_send(kept)).unwrap(),
        "a sent message cannot be taken back"
    );
    assert!(matches!(
        block_on(timeline.retry_send(item_id_of(&mirror.items(), "kept"))),
        Err(CoreError::InvalidState { .. })
    ));

    proxy.set(homeserver::Fault::Pass);
    block_on(timeline.send_text("after".into(), None)).unwrap();
    wait("the next message sent", 60, || {
        matches!(
            event_of(&mirror.items(), "after"),
            Some(TimelineItemKind::Event {
                event_id: Some(_),
                ..
            })
        )
    });
    let bodies: Vec<String> = block_on(alice.recent_messages(room_id, 20))
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert!(!bodies.contains(&"taken back".to_owned()), "{bodies:?}");
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.unsent_messages, 0, "{report:?}");
}

/// A back-pagination that cannot reach the server is `Network` (it was
/// `Storage`: the event cache's pagination error was taken for a store's;
/// the stress run met it as an undocumented error).
#[test]
fn a_pagination_without_the_server_is_a_network_error() {
    let _serial = serial();
    let Proxied {
        client: alice,
        proxy,
        dir: _dir,
        ..
    } = Proxied::login("pag-net");
    let room_id = block_on(alice.create_room("offline history".into(), vec![], false)).unwrap();
    for i in 0..30 {
        block_on(alice.send_text(room_id.clone(), format!("old {i}"))).unwrap();
    }
    block_on(alice.start_sync()).unwrap();
    let timeline = block_on(alice.timeline(room_id)).unwrap();
    proxy.die();
    let mut outcome = None;
    for _ in 0..10 {
        match block_on(timeline.paginate_backwards(20)) {
            Ok(false) => continue,
            other => {
                outcome = Some(other);
                break;
            }
        }
    }
    assert!(
        matches!(
            outcome,
            Some(Err(CoreError::Network { .. } | CoreError::Timeout { .. }))
        ),
        "{outcome:?}"
    );
    proxy.set(homeserver::Fault::Pass);
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

/// Sets the room's `events_default` power level, as its creator `token`.
fn set_events_default(room_id: &str, token: &str, level: u32) {
    let path = format!(
        "/_matrix/client/v3/rooms/{}/state/m.room.power_levels/",
        homeserver::escaped(room_id)
    );
    let mut levels = homeserver::client_api("GET", &path, token, &serde_json::Value::Null);
    levels["events_default"] = level.into();
    homeserver::client_api("PUT", &path, token, &levels);
}

/// A message the server refuses (bob may not speak in the room: 403) fails
/// and stays failed; once the room lets him speak, `retry_send` sends it,
/// and alice reads it.
///
/// Sent means the local echo reads `Sent`, or has already given way to the
/// remote event (matrix-sdk puts a sent event in the event cache at once, so
/// the `Sent` echo may be replaced before a look sees it).
#[test]
fn a_refused_message_is_sent_by_retry_send_once_the_room_allows_it() {
    let _serial = serial();
    let (alice, alice_session, _alice_dir) = session::logged_in("retry-alice");
    let (bob, _, _bob_dir) = session::logged_in("retry-bob");
    let room_id =
        block_on(alice.create_room("retry".into(), vec![bob.user_id().unwrap()], false)).unwrap();
    block_on(bob.start_sync()).unwrap();
    wait("bob's invite", 30, || bob.room(room_id.clone()).is_ok());
    block_on(bob.join_room(room_id.clone())).unwrap();
    set_events_default(&room_id, &alice_session.access_token, 50);
    let timeline = block_on(bob.timeline(room_id.clone())).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    let state = || match event_of(&mirror.items(), "let me speak") {
        Some(TimelineItemKind::Event { send_state, .. }) => send_state.clone(),
        _ => None,
    };

    block_on(timeline.send_text("let me speak".into(), None)).unwrap();
    // The refusal itself: under load a rate limit (429, which the queue
    // retries on its own) may come first.
    let refused = || {
        matches!(
            state(),
            Some(SendState::Failed {
                retriable: false,
                ..
            })
        )
    };
    wait("the refusal", 60, refused);
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert!(
        refused(),
        "a refused message is not sent on its own: {:?}",
        state()
    );
    set_events_default(&room_id, &alice_session.access_token, 0);
    let item = item_id_of(&mirror.items(), "let me speak");
    if let Err(e) = block_on(timeline.retry_send(item.clone())) {
        let met: Vec<_> = mirror
            .items()
            .into_iter()
            .filter(|i| format!("{i:?}").contains("let me speak"))
            .collect();
        panic!("retry_send({item}): {e:?}; the items met: {met:#?}");
    }
    let sent = || match event_of(&mirror.items(), "let me speak") {
        Some(TimelineItemKind::Event { send_state, .. }) => {
            matches!(send_state, None | Some(SendState::Sent { .. }))
        }
        _ => false,
    };
    wait("the retried message sent", 30, sent);
    wait("alice reads it", 30, || {
        block_on(alice.recent_messages(room_id.clone(), 10))
            .unwrap()
            .iter()
            .any(|m| m.body == "let me speak")
    });
    for client in [&alice, &bob] {
        block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    }
}

/// Sync that failed while the server was unreachable starts again by
/// itself once it is back (matrix-sdk-ui's service stays in `Error`); a
/// stopped sync stays stopped.
#[test]
fn sync_that_failed_offline_runs_again_when_the_server_is_back() {
    use matrix_mobile_core::SyncState;
    let _serial = serial();
    let alice = Proxied::login("recover-alice");
    block_on(alice.client.start_sync()).unwrap();
    wait("sync running", 30, || {
        alice.client.sync_state() == SyncState::Running
    });
    alice.proxy.die();
    wait("sync failed", 60, || {
        alice.client.sync_state() == SyncState::Error
    });
    alice.proxy.set(homeserver::Fault::Pass);
    wait("sync running again, by itself", 30, || {
        alice.client.sync_state() == SyncState::Running
    });
    // And it works: a room made elsewhere reaches this client.
    let room = block_on(alice.client.create_room("after".into(), vec![], false)).unwrap();
    wait("the room through sync", 30, || {
        alice.client.room(room.clone()).is_ok()
    });
    // A sync the app stopped is not started again.
    block_on(alice.client.stop_sync()).unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(alice.client.sync_state(), SyncState::Idle);
    block_on(alice.client.logout(LogoutOptions::default(), None)).unwrap();
}
