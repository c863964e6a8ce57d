//! HTTP pushers against the real Synapse: `set_pusher` makes Synapse post a
//! message of another user to the test's own push gateway, `remove_pusher`
//! stops it, and bad input is `InvalidArgument` before any request.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/push_gateway.rs"]
mod push_gateway;
#[path = "support/session.rs"]
mod session;

use futures_executor::block_on;
use matrix_mobile_core::{CoreError, PusherConfig};
use push_gateway::PushGateway;

fn pusher(gateway_url: &str, pushkey: &str) -> PusherConfig {
    PusherConfig {
        app_id: "org.example.mmc.test".into(),
        pushkey: pushkey.into(),
        gateway_url: gateway_url.into(),
        device_name: "test device".into(),
        lang: "en".into(),
    }
}

#[test]
fn a_pusher_gets_another_users_message_until_it_is_removed() {
    let gateway = PushGateway::start();
    let (alice, alice_session, _a) = session::logged_in("pusha");
    let (bob, bob_session, _b) = session::logged_in("pushb");
    block_on(alice.set_pusher(pusher(&gateway.url, "pushkey-alice-1"))).unwrap();
    let room =
        block_on(alice.create_room("push".into(), vec![bob_session.user_id], false)).unwrap();
    block_on(bob.join_room(room.clone())).unwrap();

    let event_id = block_on(bob.send_text(room.clone(), "wake up".into())).unwrap();
    let pushed = gateway
        .wait_for_event(&event_id, 30)
        .unwrap_or_else(|| panic!("no push for {event_id}; got {:?}", gateway.notifications()));
    assert_eq!(pushed["room_id"], room.as_str());
    assert_eq!(pushed["sender"], bob.user_id().unwrap().as_str());
    assert_eq!(pushed["devices"][0]["pushkey"], "pushkey-alice-1");
    assert_eq!(pushed["devices"][0]["app_id"], "org.example.mmc.test");

    block_on(alice.remove_pusher("pushkey-alice-1".into())).unwrap();
    // Removing it again is not an error.
    block_on(alice.remove_pusher("pushkey-alice-1".into())).unwrap();
    let after = block_on(bob.send_text(room.clone(), "no push for this".into())).unwrap();
    // A later message that Synapse does push proves the absence is not a
    // delay: a second pusher, set after the removal, gets the next message
    // and never the one sent in between.
    block_on(alice.set_pusher(pusher(&gateway.url, "pushkey-alice-2"))).unwrap();
    let last = block_on(bob.send_text(room, "push again".into())).unwrap();
    let pushed = gateway
        .wait_for_event(&last, 30)
        .expect("the second pusher gets the last message");
    assert_eq!(pushed["devices"][0]["pushkey"], "pushkey-alice-2");
    assert!(
        gateway
            .notifications()
            .iter()
            .all(|n| n["event_id"] != after.as_str()),
        "the message sent after remove_pusher was pushed"
    );
    drop(alice_session);
    block_on(alice.close(None)).unwrap();
    block_on(bob.close(None)).unwrap();
}

#[test]
fn bad_pusher_input_is_invalid_argument() {
    let (client, _session, _dir) = session::logged_in("pushbad");
    let good = "http://127.0.0.1:9/_matrix/push/v1/notify";
    let cases = [
        pusher("ftp://127.0.0.1/_matrix/push/v1/notify", "k"),
        pusher("not a url", "k"),
        pusher("http://127.0.0.1:9/elsewhere", "k"),
        pusher(good, ""),
        pusher(good, &"k".repeat(513)),
        PusherConfig {
            app_id: String::new(),
            ..pusher(good, "k")
        },
    ];
    for case in cases {
        let what = format!("{case:?}");
        match block_on(client.set_pusher(case)) {
            Err(CoreError::InvalidArgument { .. }) => {}
            other => panic!("{what}: expected InvalidArgument, got {other:?}"),
        }
    }
    match block_on(client.remove_pusher(String::new())) {
        Err(CoreError::InvalidArgument { .. }) => {}
        other => panic!("remove_pusher(\"\"): expected InvalidArgument, got {other:?}"),
    }
    block_on(client.close(None)).unwrap();
}
