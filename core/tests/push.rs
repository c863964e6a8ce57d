//! HTTP pushers against the real Synapse: `set_pusher` makes Synapse post a
//! message of another user to the test's own push gateway, `remove_pusher`
//! stops it, and bad input is `InvalidArgument` before any request.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/push_gateway.rs"]
mod push_gateway;
#[path = "support/session.rs"]
mod session;

#[path = "push/settings.rs"]
mod settings;

use futures_executor::block_on;
use matrix_mobile_core::{CoreError, PushFormat, PusherConfig};
use push_gateway::PushGateway;

fn pusher(gateway_url: &str, pushkey: &str) -> PusherConfig {
    PusherConfig {
        app_id: "org.example.mmc.test".into(),
        pushkey: pushkey.into(),
        gateway_url: gateway_url.into(),
        device_name: "test device".into(),
        lang: "en".into(),
        format: None,
        default_payload_json: None,
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
        PusherConfig {
            default_payload_json: Some("{not json".into()),
            ..pusher(good, "k")
        },
        PusherConfig {
            default_payload_json: Some("[1, 2]".into()),
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

/// A pusher for an iOS extension: pushes carry the event's ids and no
/// content, with APNs' `mutable-content` merged in by the gateway; the
/// homeserver holds the pusher as it was set (`pushers()` reads it back).
/// Before, every push carried the message in the clear and no payload could
/// wake an extension.
#[test]
fn an_event_id_only_pusher_carries_no_content_and_reads_back() {
    let gateway = PushGateway::start();
    let (alice, _alice_session, _a) = session::logged_in("pushid");
    let (bob, bob_session, _b) = session::logged_in("pushidb");
    let config = PusherConfig {
        format: Some(PushFormat::EventIdOnly),
        default_payload_json: Some(r#"{"aps":{"mutable-content":1}}"#.into()),
        ..pusher(&gateway.url, "pushkey-ios")
    };
    block_on(alice.set_pusher(config.clone())).unwrap();
    let listed = block_on(alice.pushers()).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let read = &listed[0];
    assert_eq!(
        (
            &read.app_id,
            &read.pushkey,
            &read.gateway_url,
            &read.device_name,
            &read.lang,
            read.format
        ),
        (
            &config.app_id,
            &config.pushkey,
            &config.gateway_url,
            &config.device_name,
            &config.lang,
            config.format
        ),
    );
    let payload: serde_json::Value =
        serde_json::from_str(read.default_payload_json.as_deref().unwrap()).unwrap();
    assert_eq!(payload, serde_json::json!({"aps": {"mutable-content": 1}}));

    let room =
        block_on(alice.create_room("private".into(), vec![bob_session.user_id], false)).unwrap();
    block_on(bob.join_room(room.clone())).unwrap();
    let event_id = block_on(bob.send_text(room.clone(), "the secret plan".into())).unwrap();
    let pushed = gateway
        .wait_for_event(&event_id, 30)
        .unwrap_or_else(|| panic!("no push for {event_id}; got {:?}", gateway.notifications()));
    assert_eq!(pushed["room_id"], room.as_str());
    let text = pushed.to_string();
    assert!(
        !text.contains("the secret plan"),
        "the push carried the message: {text}"
    );
    assert!(pushed.get("content").is_none(), "{text}");
    assert_eq!(
        pushed["devices"][0]["data"]["default_payload"],
        serde_json::json!({"aps": {"mutable-content": 1}}),
        "{text}"
    );

    block_on(alice.remove_pusher("pushkey-ios".into())).unwrap();
    assert_eq!(block_on(alice.pushers()).unwrap(), vec![]);
    block_on(alice.close(None)).unwrap();
    block_on(bob.close(None)).unwrap();
}
