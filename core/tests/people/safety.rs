//! Ignoring and reporting, and the account's devices.

use futures_executor::block_on;
use matrix_mobile_core::{
    Client, CoreError, LogoutOptions, Membership, MessageContent, TimelineItem, TimelineItemKind,
};

use super::homeserver;
use super::mirror::Mirror;
use super::session::{config, logged_in, wait, PASSWORD};
use super::{id, run, wait_membership};

fn bodies_from(items: &[TimelineItem], sender: &str) -> Vec<String> {
    items
        .iter()
        .filter_map(|i| match &i.kind {
            TimelineItemKind::Event {
                sender: s,
                content: MessageContent::Text { body, .. },
                ..
            } if s == sender => Some(body.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn an_ignored_user_leaves_the_timeline_and_reports_reach_the_server() {
    let (alice, _s, _d) = logged_in("ign-alice");
    let (bob, _b, _bd) = logged_in("ign-bob");
    run(alice.start_sync()).unwrap();
    let (alice_id, bob_id) = (id(&alice), id(&bob));
    let room_id = run(alice.create_room("ignore".into(), vec![bob_id.clone()], false)).unwrap();
    run(bob.join_room(room_id.clone())).unwrap();
    let timeline = run(alice.timeline(room_id.clone())).unwrap();
    let items = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(items.clone()).unwrap();
    let event_id = run(bob.send_text(room_id.clone(), "from bob".into())).unwrap();
    wait("bob's message", 30, || {
        !bodies_from(&items.items(), &bob_id).is_empty()
    });

    run(alice.report_event(room_id.clone(), event_id.clone(), Some("spam".into()))).unwrap();
    run(alice.report_event(room_id.clone(), event_id, None)).unwrap();
    run(alice.report_room(room_id.clone(), "a room of spam".into())).unwrap();

    assert_eq!(run(alice.ignored_users()).unwrap(), Vec::<String>::new());
    run(alice.ignore_user(bob_id.clone())).unwrap();
    assert_eq!(run(alice.ignored_users()).unwrap(), vec![bob_id.clone()]);
    // Changes one after the other, before sync brings any back: none is
    // lost (matrix-sdk's own starts from the store's copy).
    let server = bob_id.split(':').nth(1).unwrap();
    let carol = format!("@ign-carol:{server}");
    run(alice.ignore_user(carol.clone())).unwrap();
    let mut both = vec![bob_id.clone(), carol.clone()];
    both.sort();
    assert_eq!(run(alice.ignored_users()).unwrap(), both);
    run(alice.unignore_user(carol)).unwrap();
    assert_eq!(run(alice.ignored_users()).unwrap(), vec![bob_id.clone()]);
    wait("bob's message gone from alice's timeline", 30, || {
        bodies_from(&items.items(), &bob_id).is_empty()
    });
    run(alice.unignore_user(bob_id.clone())).unwrap();
    run(alice.unignore_user(bob_id.clone())).unwrap();
    assert_eq!(run(alice.ignored_users()).unwrap(), Vec::<String>::new());

    // Bad input.
    let bad = run(alice.ignore_user(alice_id));
    assert!(
        matches!(bad, Err(CoreError::InvalidArgument { .. })),
        "{bad:?}"
    );
    let bad = run(alice.ignore_user("bob".into()));
    assert!(
        matches!(bad, Err(CoreError::InvalidArgument { .. })),
        "{bad:?}"
    );
    let bad = run(alice.report_event(room_id.clone(), "not-an-event".into(), None));
    assert!(
        matches!(bad, Err(CoreError::InvalidArgument { .. })),
        "{bad:?}"
    );
    let bad = run(alice.report_room(room_id.clone(), " ".into()));
    assert!(
        matches!(bad, Err(CoreError::InvalidArgument { .. })),
        "{bad:?}"
    );
    let bad = run(alice.report_event("!nowhere:example.org".into(), "$e".into(), None));
    assert!(matches!(bad, Err(CoreError::NotFound { .. })), "{bad:?}");
    wait_membership(&alice, &room_id, Membership::Joined);
    drop(timeline);
    run(alice.logout(LogoutOptions::default(), None)).unwrap();
    run(bob.logout(LogoutOptions::default(), None)).unwrap();
}

#[test]
fn devices_are_listed_and_another_is_signed_out_with_the_password() {
    let (alice, alice_session, _d) = logged_in("dev-alice");
    let own = alice_session.device_id.clone();
    let name = alice.user_id().unwrap();
    let local = name
        .trim_start_matches('@')
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    let other_dir = tempfile::TempDir::new().unwrap();
    let other = block_on(Client::create(config(&homeserver::url(), other_dir.path()))).unwrap();
    let other_session = run(other.login(local, PASSWORD.into(), Some("phone".into()))).unwrap();

    let devices = run(alice.devices()).unwrap();
    assert_eq!(devices.len(), 2, "{devices:?}");
    let current: Vec<_> = devices.iter().filter(|d| d.is_current).collect();
    assert_eq!(current.len(), 1, "{devices:?}");
    assert_eq!(current[0].device_id, own);
    let phone = devices
        .iter()
        .find(|d| d.device_id == other_session.device_id)
        .expect("the other device");
    assert_eq!(phone.display_name.as_deref(), Some("phone"));
    assert!(!phone.is_current);

    // This device is logout's; a password is asked for, and checked.
    let bad = run(alice.delete_device(own, Some(PASSWORD.into())));
    assert!(
        matches!(bad, Err(CoreError::InvalidArgument { .. })),
        "{bad:?}"
    );
    let bad = run(alice.delete_device(phone.device_id.clone(), None));
    assert!(matches!(bad, Err(CoreError::Auth { .. })), "{bad:?}");
    let bad = run(alice.delete_device(phone.device_id.clone(), Some("wrong".into())));
    assert!(matches!(bad, Err(CoreError::Auth { .. })), "{bad:?}");
    assert_eq!(
        run(alice.devices()).unwrap().len(),
        2,
        "nothing signed out yet"
    );
    run(alice.delete_device(phone.device_id.clone(), Some(PASSWORD.into()))).unwrap();
    let left = run(alice.devices()).unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].is_current);
    let bad = run(alice.delete_device(" ".into(), None));
    assert!(
        matches!(bad, Err(CoreError::InvalidArgument { .. })),
        "{bad:?}"
    );
    let _ = run(other.close(None));
    run(alice.logout(LogoutOptions::default(), None)).unwrap();
}
