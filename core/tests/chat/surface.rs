//! The rest of the chat surface, each call asserted by what the other side
//! sees: an invite and a join, the room list's filters, a room's topic,
//! direct flag and unread counts, `mark_as_read` seen as a read receipt,
//! `leave_room`; a redaction, the day divider and the read marker.

use std::sync::Arc;

use futures_executor::block_on;
use matrix_mobile_core::{
    Client, LogoutOptions, Membership, MessageContent, RoomListFilter, RoomListHandle,
    RoomListOptions, RoomSummary, TimelineItem, TimelineItemKind,
};
use serde_json::json;

use crate::mirror::Mirror;
use crate::session::{logged_in, wait};
use crate::{event_id_of, homeserver, item_id_of, serial};

/// Bob's room list under each filter the test looks at.
struct Lists(
    Vec<(
        RoomListFilter,
        Arc<Mirror<RoomSummary>>,
        Arc<RoomListHandle>,
    )>,
);

impl Lists {
    fn open(client: &Client) -> Self {
        let filters = [
            RoomListFilter::All,
            RoomListFilter::Invites,
            RoomListFilter::DirectMessages,
            RoomListFilter::Groups,
            RoomListFilter::Unread,
        ];
        Self(
            filters
                .into_iter()
                .map(|filter| {
                    let mirror = Mirror::<RoomSummary>::new();
                    let options = RoomListOptions {
                        page_size: 50,
                        filter: filter.clone(),
                    };
                    let handle = client.observe_room_list(options, mirror.clone()).unwrap();
                    (filter, mirror, handle)
                })
                .collect(),
        )
    }

    /// The rooms listed under `filter`.
    fn ids(&self, filter: &RoomListFilter) -> Vec<String> {
        let (_, mirror, _) = self.0.iter().find(|(f, ..)| f == filter).unwrap();
        mirror.items().into_iter().map(|r| r.room_id).collect()
    }

    fn has(&self, filter: &RoomListFilter, room: &str) -> bool {
        self.ids(filter).iter().any(|id| id == room)
    }
}

/// A message from `token`'s user in `room`, through the client-server API;
/// `mentions` names the users it mentions (`m.mentions`).
fn send_raw(token: &str, room: &str, body: &str, mentions: &[&str]) -> String {
    let txn = homeserver::fresh_name("txn");
    let path = format!(
        "/_matrix/client/v3/rooms/{}/send/m.room.message/{txn}",
        homeserver::escaped(room)
    );
    let content = json!({"msgtype": "m.text", "body": body, "m.mentions": {"user_ids": mentions}});
    let sent = homeserver::client_api("PUT", &path, token, &content);
    sent["event_id"].as_str().unwrap().to_owned()
}

/// An invite and a direct room reach the other user's `Invites` list; once
/// joined, the direct room is under `DirectMessages` and the group under
/// `Groups`, with its topic; messages and a mention raise the unread
/// counts and put the room under `Unread`; `mark_as_read` clears them and
/// shows as a read receipt on the sender's side; `leave_room` takes the
/// room off the list.
#[test]
fn invites_filters_unread_counts_read_receipts_and_leaving() {
    let _serial = serial();
    let (alice, alice_session, _alice_dir) = logged_in("surf-alice");
    let (bob, bob_session, _bob_dir) = logged_in("surf-bob");
    let bob_id = bob_session.user_id.clone();
    let alice_token = alice_session.access_token.clone();
    block_on(alice.start_sync()).unwrap();
    block_on(bob.start_sync()).unwrap();
    let lists = Lists::open(&bob);

    let group = block_on(alice.create_room("group".into(), vec![], false)).unwrap();
    let topic_path = format!(
        "/_matrix/client/v3/rooms/{}/state/m.room.topic/",
        homeserver::escaped(&group)
    );
    homeserver::client_api(
        "PUT",
        &topic_path,
        &alice_token,
        &json!({"topic": "what we do"}),
    );
    block_on(alice.invite(group.clone(), bob_id.clone())).unwrap();
    let created = homeserver::client_api(
        "POST",
        "/_matrix/client/v3/createRoom",
        &alice_token,
        &json!({"name": "just us", "is_direct": true, "preset": "trusted_private_chat", "invite": [bob_id]}),
    );
    let direct = created["room_id"].as_str().unwrap().to_owned();
    wait("both invites listed", 30, || {
        lists.has(&RoomListFilter::Invites, &group) && lists.has(&RoomListFilter::Invites, &direct)
    });
    assert_eq!(
        bob.room(group.clone()).unwrap().membership,
        Membership::Invited
    );

    block_on(bob.join_room(group.clone())).unwrap();
    block_on(bob.join_room(direct.clone())).unwrap();
    wait("the rooms under their filters", 30, || {
        lists.has(&RoomListFilter::Groups, &group)
            && !lists.has(&RoomListFilter::Groups, &direct)
            && lists.has(&RoomListFilter::DirectMessages, &direct)
            && !lists.has(&RoomListFilter::DirectMessages, &group)
            && !lists.has(&RoomListFilter::Invites, &group)
    });
    let summary = bob.room(direct.clone()).unwrap();
    assert!(summary.is_direct, "{summary:?}");
    wait("the topic", 30, || {
        bob.room(group.clone())
            .is_ok_and(|r| r.topic.as_deref() == Some("what we do") && !r.is_direct)
    });

    // Two messages, one of which mentions bob.
    send_raw(&alice_token, &group, "for everyone", &[]);
    let last = send_raw(&alice_token, &group, "for bob", &[&bob_id]);
    wait("the unread counts", 30, || {
        bob.room(group.clone())
            .is_ok_and(|r| r.unread_messages >= 2 && r.unread_mentions >= 1)
    });
    wait("the room under Unread", 30, || {
        lists.has(&RoomListFilter::Unread, &group)
    });

    // Bob reads: his counts clear, and alice sees his receipt.
    let alice_timeline = block_on(alice.timeline(group.clone())).unwrap();
    let alice_items = Mirror::<TimelineItem>::new();
    let _alice_sub = alice_timeline.observe(alice_items.clone()).unwrap();
    let bob_timeline = block_on(bob.timeline(group.clone())).unwrap();
    wait("bob's timeline has the mention", 30, || {
        block_on(bob.recent_messages(group.clone(), 5))
            .is_ok_and(|m| m.iter().any(|m| m.event_id == last))
    });
    block_on(bob_timeline.mark_as_read()).unwrap();
    wait("bob's counts cleared", 30, || {
        bob.room(group.clone())
            .is_ok_and(|r| r.unread_messages == 0 && r.unread_mentions == 0)
    });
    wait("the room off Unread", 30, || {
        !lists.has(&RoomListFilter::Unread, &group)
    });
    wait("bob's receipt on alice's side", 30, || {
        alice_items.items().iter().any(|i| {
            matches!(&i.kind, TimelineItemKind::Event { event_id: Some(id), read_by, .. }
                if *id == last && read_by.contains(&bob_id))
        })
    });

    block_on(bob.leave_room(group.clone())).unwrap();
    wait("the room off the list", 30, || {
        !lists.has(&RoomListFilter::All, &group)
    });
    drop((alice_timeline, bob_timeline));
    for client in [&alice, &bob] {
        let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
        assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    }
}

/// A message redacted by its sender shows as `Redacted` on the other side;
/// a timeline has a day divider before the day's first message; and once
/// alice has read up to a message, a newer one shows after the read marker.
#[test]
fn a_redaction_the_day_divider_and_the_read_marker_show() {
    let _serial = serial();
    let (alice, _alice_session, _alice_dir) = logged_in("mark-alice");
    let (bob, bob_session, _bob_dir) = logged_in("mark-bob");
    let room =
        block_on(alice.create_room("marks".into(), vec![bob_session.user_id.clone()], false))
            .unwrap();
    block_on(bob.start_sync()).unwrap();
    wait("bob's invite", 30, || bob.room(room.clone()).is_ok());
    block_on(bob.join_room(room.clone())).unwrap();
    block_on(alice.start_sync()).unwrap();

    let bob_timeline = block_on(bob.timeline(room.clone())).unwrap();
    let bob_items = Mirror::<TimelineItem>::new();
    let _bob_sub = bob_timeline.observe(bob_items.clone()).unwrap();
    let alice_timeline = block_on(alice.timeline(room.clone())).unwrap();
    let alice_items = Mirror::<TimelineItem>::new();
    let _alice_sub = alice_timeline.observe(alice_items.clone()).unwrap();

    block_on(bob_timeline.send_text("take me back".into(), None)).unwrap();
    block_on(bob_timeline.send_text("read up to here".into(), None)).unwrap();
    wait("both on alice's side", 30, || {
        crate::event_of(&alice_items.items(), "read up to here").is_some()
            && crate::event_of(&alice_items.items(), "take me back").is_some()
    });
    let redacted_event = event_id_of(&alice_items.items(), "take me back");
    assert!(
        alice_items.items().iter().any(
            |i| matches!(i.kind, TimelineItemKind::DayDivider { timestamp_ms } if timestamp_ms > 0)
        ),
        "no day divider: {:?}",
        alice_items.items()
    );

    let item = item_id_of(&bob_items.items(), "take me back");
    block_on(bob_timeline.redact(item, Some("typo".into()))).unwrap();
    wait("the redaction on alice's side", 30, || {
        alice_items.items().iter().any(|i| {
            matches!(&i.kind, TimelineItemKind::Event { event_id: Some(id), content: MessageContent::Redacted, .. }
                if *id == redacted_event)
        })
    });

    block_on(alice_timeline.mark_as_read()).unwrap();
    block_on(bob_timeline.send_text("after the marker".into(), None)).unwrap();
    wait("the read marker before the new message", 30, || {
        let items = alice_items.items();
        let marker = items
            .iter()
            .position(|i| i.kind == TimelineItemKind::ReadMarker);
        let new = items.iter().position(|i| {
            matches!(&i.kind, TimelineItemKind::Event { content: MessageContent::Text { body, .. }, .. }
                if body == "after the marker")
        });
        matches!((marker, new), (Some(m), Some(n)) if m < n)
    });
    drop((alice_timeline, bob_timeline));
    for client in [&alice, &bob] {
        let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
        assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    }
}
