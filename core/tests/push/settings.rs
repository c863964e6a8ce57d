//! Notification settings against the real Synapse and the test's own push
//! gateway: a muted room sends no push while another room does, a keyword
//! notifies in a room set to mentions and keywords, the defaults move, and
//! a room's summary shows its own mode as soon as the call returns.

use std::sync::{Arc, Mutex};

use futures_executor::block_on;
use matrix_mobile_core::{
    CoreError, LogoutOptions, RoomListener, RoomNotificationMode as Mode, RoomSummary,
};

use super::push_gateway::PushGateway;
use super::{pusher, session};

#[derive(Default, Debug)]
struct Modes(Mutex<Vec<Option<Mode>>>);

impl RoomListener for Modes {
    fn on_update(&self, summary: RoomSummary) {
        self.0.lock().unwrap().push(summary.notification_mode);
    }
    fn on_closed(&self) {}
}

/// Whether the gateway was ever sent `event_id`.
fn pushed(gateway: &PushGateway, event_id: &str) -> bool {
    gateway
        .notifications()
        .iter()
        .any(|n| n["event_id"] == event_id)
}

#[test]
fn a_muted_room_sends_no_push_and_a_keyword_notifies() {
    let gateway = PushGateway::start();
    let (alice, _s, _a) = session::logged_in("mute-alice");
    let (bob, bob_session, _b) = session::logged_in("mute-bob");
    block_on(alice.set_pusher(pusher(&gateway.url, "pushkey-mute"))).unwrap();
    block_on(alice.start_sync()).unwrap();
    let bob_id = bob_session.user_id.clone();
    let loud = block_on(alice.create_room("loud".into(), vec![bob_id.clone()], false)).unwrap();
    let quiet = block_on(alice.create_room("quiet".into(), vec![bob_id], false)).unwrap();
    block_on(bob.join_room(loud.clone())).unwrap();
    block_on(bob.join_room(quiet.clone())).unwrap();
    let modes = Arc::new(Modes::default());
    let _sub = alice.observe_room(quiet.clone(), modes.clone()).unwrap();

    let default = block_on(alice.room_notification_mode(quiet.clone())).unwrap();
    assert_eq!(default, Mode::AllMessages);
    assert_eq!(alice.room(quiet.clone()).unwrap().notification_mode, None);
    block_on(alice.set_room_notification_mode(quiet.clone(), Mode::Mute)).unwrap();
    assert_eq!(
        alice.room(quiet.clone()).unwrap().notification_mode,
        Some(Mode::Mute)
    );
    assert_eq!(
        block_on(alice.room_notification_mode(quiet.clone())).unwrap(),
        Mode::Mute
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while modes.0.lock().unwrap().last() != Some(&Some(Mode::Mute)) {
        assert!(
            std::time::Instant::now() < deadline,
            "observe_room heard {modes:?}; room() {:?}",
            alice.room(quiet.clone()).unwrap().notification_mode
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }

    // The muted room's message is never pushed: the loud room's, sent
    // after it, is.
    let hushed = block_on(bob.send_text(quiet.clone(), "shh".into())).unwrap();
    let heard = block_on(bob.send_text(loud.clone(), "hello".into())).unwrap();
    assert!(
        gateway.wait_for_event(&heard, 30).is_some(),
        "the loud room's push"
    );
    assert!(
        !pushed(&gateway, &hushed),
        "the muted room's message was pushed"
    );

    // Mentions and keywords: a keyword notifies, other messages do not.
    block_on(alice.add_notification_keyword("pineapple".into())).unwrap();
    block_on(alice.add_notification_keyword("pineapple".into())).unwrap();
    assert_eq!(
        block_on(alice.notification_keywords()).unwrap(),
        vec!["pineapple".to_owned()]
    );
    block_on(alice.set_room_notification_mode(quiet.clone(), Mode::MentionsAndKeywordsOnly))
        .unwrap();
    let plain = block_on(bob.send_text(quiet.clone(), "nothing here".into())).unwrap();
    let keyword = block_on(bob.send_text(quiet.clone(), "a pineapple!".into())).unwrap();
    assert!(
        gateway.wait_for_event(&keyword, 30).is_some(),
        "the keyword's push"
    );
    assert!(!pushed(&gateway, &plain), "a plain message was pushed");
    block_on(alice.remove_notification_keyword("pineapple".into())).unwrap();
    block_on(alice.remove_notification_keyword("pineapple".into())).unwrap();
    assert!(block_on(alice.notification_keywords()).unwrap().is_empty());

    // Back to the default: pushed again.
    block_on(alice.reset_room_notification_mode(quiet.clone())).unwrap();
    assert_eq!(alice.room(quiet.clone()).unwrap().notification_mode, None);
    let again = block_on(bob.send_text(quiet.clone(), "back".into())).unwrap();
    assert!(
        gateway.wait_for_event(&again, 30).is_some(),
        "pushed after the reset"
    );

    // Changes one after another read back at once, and stay: each returns
    // once sync has brought it back (a copy from before it would undo it).
    for _ in 0..3 {
        block_on(alice.add_notification_keyword("pineapple".into())).unwrap();
        block_on(alice.add_notification_keyword("banana".into())).unwrap();
        block_on(alice.remove_notification_keyword("pineapple".into())).unwrap();
        assert_eq!(
            block_on(alice.notification_keywords()).unwrap(),
            vec!["banana".to_owned()]
        );
        block_on(alice.remove_notification_keyword("banana".into())).unwrap();
        assert!(block_on(alice.notification_keywords()).unwrap().is_empty());
        block_on(alice.set_room_notification_mode(quiet.clone(), Mode::Mute)).unwrap();
        block_on(alice.set_room_notification_mode(quiet.clone(), Mode::MentionsAndKeywordsOnly))
            .unwrap();
        assert_eq!(
            alice.room(quiet.clone()).unwrap().notification_mode,
            Some(Mode::MentionsAndKeywordsOnly)
        );
        block_on(alice.reset_room_notification_mode(quiet.clone())).unwrap();
        assert_eq!(alice.room(quiet.clone()).unwrap().notification_mode, None);
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(alice.room(quiet.clone()).unwrap().notification_mode, None);
    assert!(block_on(alice.notification_keywords()).unwrap().is_empty());

    // The defaults.
    assert_eq!(
        block_on(alice.default_notification_mode(false)).unwrap(),
        Mode::AllMessages
    );
    block_on(alice.set_default_notification_mode(false, Mode::MentionsAndKeywordsOnly)).unwrap();
    assert_eq!(
        block_on(alice.default_notification_mode(false)).unwrap(),
        Mode::MentionsAndKeywordsOnly
    );
    assert_eq!(
        block_on(alice.default_notification_mode(true)).unwrap(),
        Mode::AllMessages
    );
    block_on(alice.set_default_notification_mode(false, Mode::AllMessages)).unwrap();

    // Bad input.
    let bad = block_on(alice.set_default_notification_mode(true, Mode::Mute));
    assert!(
        matches!(bad, Err(CoreError::InvalidArgument { .. })),
        "{bad:?}"
    );
    let bad = block_on(alice.add_notification_keyword("  ".into()));
    assert!(
        matches!(bad, Err(CoreError::InvalidArgument { .. })),
        "{bad:?}"
    );
    let bad = block_on(alice.set_room_notification_mode("!nowhere:example.org".into(), Mode::Mute));
    assert!(matches!(bad, Err(CoreError::NotFound { .. })), "{bad:?}");
    let bad = block_on(alice.room_notification_mode("nonsense".into()));
    assert!(
        matches!(bad, Err(CoreError::InvalidArgument { .. })),
        "{bad:?}"
    );

    // The settings hold the matrix client: the drain still drops it (the
    // last client's: matrix-sdk's own tasks hold one while others live).
    block_on(bob.close(None)).unwrap();
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert!(report.client_dropped, "{report:?}");
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    let closed = block_on(alice.notification_keywords());
    assert!(matches!(closed, Err(CoreError::ClientClosed)), "{closed:?}");
}
