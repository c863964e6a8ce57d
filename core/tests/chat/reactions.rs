//! Reactions the user takes back: one still queued, and one whose send is
//! already in flight.

use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::{Client, LogoutOptions, TimelineItem, TimelineItemKind};

use crate::mirror::Mirror;
use crate::session::{wait, Proxied};
use crate::{event_id_of, event_of, homeserver, item_id_of, serial, session};

#[path = "../support/watch_proxy.rs"]
mod watch_proxy;

/// This user's reactions on the item whose body is `body`: (key, count, by me).
fn reactions_on(items: &[TimelineItem], body: &str) -> Vec<(String, u32, bool)> {
    match event_of(items, body) {
        Some(TimelineItemKind::Event { reactions, .. }) => reactions
            .iter()
            .map(|r| (r.key.clone(), r.count, r.by_me))
            .collect(),
        _ => Vec::new(),
    }
}

/// The annotations the server holds on `event_id` in `room_id`, as JSON.
fn annotations_on_server(client: &Client, room_id: &str, event_id: &str) -> String {
    let token = client.session().expect("a session").access_token;
    let path = format!(
        "/_matrix/client/v1/rooms/{}/relations/{}/m.annotation",
        homeserver::escaped(room_id),
        homeserver::escaped(event_id),
    );
    homeserver::client_api("GET", &path, &token, &serde_json::json!({})).to_string()
}

/// A reaction taken back while its request is on its way (its answer held
/// back by the proxy) is gone for good, on the timeline and on the server:
/// the abort of a request in flight becomes a redaction once it is answered.
/// (The abort that comes after the answer, before the timeline hears of it,
/// is pinned by a hook in `hooked_races`.)
#[test]
fn a_reaction_taken_back_while_in_flight_stays_off() {
    let _serial = serial();
    let faults = homeserver::FaultProxy::start();
    let watch = watch_proxy::WatchProxy::start(&faults.url);
    let dir = tempfile::TempDir::new().unwrap();
    let alice = block_on(Client::create(session::config(&watch.url, dir.path()))).unwrap();
    block_on(alice.login(session::user("react-alice"), session::PASSWORD.into(), None)).unwrap();
    let room_id = block_on(alice.create_room("reactions".into(), vec![], false)).unwrap();
    // No sync: the only requests from here on are the timeline's own.
    let timeline = block_on(alice.timeline(room_id.clone())).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    block_on(timeline.send_text("react to me".into(), None)).unwrap();
    wait("the message sent", 20, || {
        matches!(
            event_of(&mirror.items(), "react to me"),
            Some(TimelineItemKind::Event {
                event_id: Some(_),
                ..
            })
        )
    });
    wait("no request in flight", 20, || watch.awaiting_answer() == 0);
    let item_id = item_id_of(&mirror.items(), "react to me");
    let event_id = event_id_of(&mirror.items(), "react to me");

    // The server's answers are held back: the reaction's request leaves
    // and waits for its answer while the user takes the reaction back.
    faults.set_response_delay(Duration::from_secs(3));
    faults.set(homeserver::Fault::Delay);
    block_on(timeline.toggle_reaction(item_id.clone(), "👍".into())).unwrap();
    wait("the reaction's request in flight", 10, || {
        watch.awaiting_answer() == 1
    });
    block_on(timeline.toggle_reaction(item_id.clone(), "👍".into())).unwrap();
    faults.set(homeserver::Fault::Pass);

    wait("the reaction off", 20, || {
        reactions_on(&mirror.items(), "react to me").is_empty()
    });
    wait("the server to hold no reaction", 20, || {
        let annotations = annotations_on_server(&alice, &room_id, &event_id);
        !annotations.contains("m.reaction") && !annotations.contains("👍")
    });
    assert!(reactions_on(&mirror.items(), "react to me").is_empty());
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.unsent_messages, 0, "{report:?}");
}

/// A reaction still queued (the server unreachable) is taken back before it
/// leaves: it never reaches the server.
#[test]
fn a_queued_reaction_taken_back_never_leaves() {
    let _serial = serial();
    let Proxied {
        client: alice,
        proxy,
        dir: _dir,
        ..
    } = Proxied::login("react-bob");
    let room_id = block_on(alice.create_room("queued reactions".into(), vec![], false)).unwrap();
    let timeline = block_on(alice.timeline(room_id.clone())).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    block_on(timeline.send_text("not yet".into(), None)).unwrap();
    wait("the message sent", 20, || {
        matches!(
            event_of(&mirror.items(), "not yet"),
            Some(TimelineItemKind::Event {
                event_id: Some(_),
                ..
            })
        )
    });
    let item_id = item_id_of(&mirror.items(), "not yet");
    let event_id = event_id_of(&mirror.items(), "not yet");

    proxy.die();
    block_on(timeline.toggle_reaction(item_id.clone(), "🎉".into())).unwrap();
    wait("the reaction's echo", 10, || {
        reactions_on(&mirror.items(), "not yet") == [("🎉".to_owned(), 1, true)]
    });
    block_on(timeline.toggle_reaction(item_id, "🎉".into())).unwrap();
    wait("the echo to go", 10, || {
        reactions_on(&mirror.items(), "not yet").is_empty()
    });
    proxy.set(homeserver::Fault::Pass);
    // Something sent after it shows the queue moved on without it.
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
    let annotations = annotations_on_server(&alice, &room_id, &event_id);
    assert!(!annotations.contains("m.reaction"), "{annotations}");
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.unsent_messages, 0, "{report:?}");
}
