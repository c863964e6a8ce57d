//! Composing against the real Synapse: Markdown, emotes, notices and
//! intentional mentions as the other side reads them, a reply to a local
//! echo by its item id, a reply whose message the timeline does not hold
//! (loaded from the server), edits, private receipts and the unread mark.

use futures_executor::block_on;
use matrix_mobile_core::{
    CoreError, LogoutOptions, MessageContent, OutgoingKind, OutgoingMessage, PreviewKind,
    ReplyDetails, TimelineItem, TimelineItemKind,
};

use crate::mirror::Mirror;
use crate::session::{logged_in, wait};
use crate::{event_id_of, event_of, item_id_of, serial};

fn text(body: &str) -> OutgoingMessage {
    OutgoingMessage {
        body: body.into(),
        markdown: false,
        kind: OutgoingKind::Text,
        mentions: Vec::new(),
        mention_room: false,
    }
}

/// The content and `mentions_me` of the item whose body is `body`, any kind.
fn find(
    items: &[TimelineItem],
    body: &str,
) -> Option<(MessageContent, bool, Option<ReplyDetails>, bool)> {
    items.iter().find_map(|i| match &i.kind {
        TimelineItemKind::Event {
            content,
            mentions_me,
            reply,
            edited,
            ..
        } => {
            let b = match content {
                MessageContent::Text { body, .. }
                | MessageContent::Emote { body, .. }
                | MessageContent::Notice { body, .. } => body,
                _ => return None,
            };
            (b == body).then(|| (content.clone(), *mentions_me, reply.clone(), *edited))
        }
        _ => None,
    })
}

#[test]
fn messages_carry_markdown_mentions_kinds_and_replies_to_local_echoes() {
    let _serial = serial();
    let (alice, _a, _ad) = logged_in("compose-alice");
    let (bob, bob_session, _bd) = logged_in("compose-bob");
    let bob_id = bob_session.user_id.clone();
    block_on(alice.start_sync()).unwrap();
    block_on(bob.start_sync()).unwrap();
    let room = block_on(alice.create_room("compose".into(), vec![bob_id.clone()], false)).unwrap();
    block_on(bob.join_room(room.clone())).unwrap();
    let theirs = block_on(bob.timeline(room.clone())).unwrap();
    let bob_items = Mirror::<TimelineItem>::new();
    let _bob_sub = theirs.observe(bob_items.clone()).unwrap();
    let mine = block_on(alice.timeline(room.clone())).unwrap();
    let alice_items = Mirror::<TimelineItem>::new();
    let _alice_sub = mine.observe(alice_items.clone()).unwrap();

    let mention = OutgoingMessage {
        markdown: true,
        mentions: vec![bob_id.clone()],
        ..text("**hello** bob")
    };
    block_on(mine.send_message(mention, None)).unwrap();
    block_on(mine.send_message(text("no one in particular"), None)).unwrap();
    let emote = OutgoingMessage {
        kind: OutgoingKind::Emote,
        ..text("waves")
    };
    block_on(mine.send_message(emote, None)).unwrap();
    let notice = OutgoingMessage {
        kind: OutgoingKind::Notice,
        mention_room: true,
        ..text("the room, noticed")
    };
    block_on(mine.send_message(notice, None)).unwrap();

    // A reply to a local echo, by its item id, right after its send.
    block_on(mine.send_message(text("the original"), None)).unwrap();
    // The echo reaches the listener through its lane, just after.
    wait("the echo", 10, || {
        find(&alice_items.items(), "the original").is_some()
    });
    let echo = item_id_of(&alice_items.items(), "the original");
    block_on(mine.send_message(text("a reply to it"), Some(echo.clone()))).unwrap();

    wait("bob's view of every message", 30, || {
        [
            "**hello** bob",
            "no one in particular",
            "waves",
            "the room, noticed",
            "a reply to it",
        ]
        .iter()
        .all(|b| find(&bob_items.items(), b).is_some())
    });
    let items = bob_items.items();
    let (content, mentions_me, ..) = find(&items, "**hello** bob").unwrap();
    match content {
        MessageContent::Text {
            formatted_html: Some(html),
            ..
        } => {
            assert!(html.contains("<strong>hello</strong>"), "{html}")
        }
        other => panic!("no HTML: {other:?}"),
    }
    assert!(mentions_me, "bob is mentioned");
    let (content, mentions_me, ..) = find(&items, "no one in particular").unwrap();
    assert!(
        matches!(
            content,
            MessageContent::Text {
                formatted_html: None,
                ..
            }
        ),
        "{content:?}"
    );
    assert!(!mentions_me);
    let (content, ..) = find(&items, "waves").unwrap();
    assert!(
        matches!(content, MessageContent::Emote { .. }),
        "{content:?}"
    );
    let (content, mentions_me, ..) = find(&items, "the room, noticed").unwrap();
    assert!(
        matches!(content, MessageContent::Notice { .. }),
        "{content:?}"
    );
    assert!(mentions_me, "@room mentions everyone");
    let original = event_id_of(&items, "the original");
    match event_of(&items, "a reply to it") {
        Some(TimelineItemKind::Event { in_reply_to, .. }) => {
            assert_eq!(in_reply_to.as_deref(), Some(original.as_str()))
        }
        other => panic!("{other:?}"),
    }
    wait("the reply's details", 30, || {
        find(&bob_items.items(), "a reply to it")
            .and_then(|(_, _, reply, _)| reply)
            .is_some_and(|r| {
                r.preview == "the original"
                    && r.kind
                        == PreviewKind::Text {
                            body: "the original".into(),
                        }
                    && r.event_id == original
            })
    });

    // An edit keeps the kind, and formats.
    let edited = OutgoingMessage {
        markdown: true,
        ..text("*edited* text")
    };
    block_on(mine.edit_message(echo, edited)).unwrap();
    wait("the edit", 30, || {
        find(&bob_items.items(), "*edited* text").is_some_and(|(content, _, _, edited)| {
            edited
                && matches!(&content, MessageContent::Text { formatted_html: Some(h), .. } if h.contains("<em>edited</em>"))
        })
    });

    // Bad input: nothing is queued.
    let blank = block_on(mine.send_message(text("  "), None));
    assert!(
        matches!(blank, Err(CoreError::InvalidArgument { .. })),
        "{blank:?}"
    );
    let bad_mention = OutgoingMessage {
        mentions: vec!["bob".into()],
        ..text("hi")
    };
    let bad = block_on(mine.send_message(bad_mention, None));
    assert!(
        matches!(bad, Err(CoreError::InvalidArgument { .. })),
        "{bad:?}"
    );
    let unknown = block_on(mine.send_message(text("to nothing"), Some("no-such-item".into())));
    assert!(
        matches!(unknown, Err(CoreError::NotFound { .. })),
        "{unknown:?}"
    );
    assert!(find(&alice_items.items(), "to nothing").is_none());

    block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    block_on(bob.logout(LogoutOptions::default(), None)).unwrap();
}

#[test]
fn a_reply_to_history_is_loaded_and_read_state_is_private_or_marked() {
    let _serial = serial();
    let (alice, _a, _ad) = logged_in("history-alice");
    let (bob, bob_session, _bd) = logged_in("history-bob");
    block_on(bob.start_sync()).unwrap();
    let room =
        block_on(alice.create_room("history".into(), vec![bob_session.user_id], false)).unwrap();
    block_on(bob.join_room(room.clone())).unwrap();
    let old = block_on(alice.send_text(room.clone(), "long ago".into())).unwrap();
    for i in 0..30 {
        block_on(alice.send_text(room.clone(), format!("filler {i}"))).unwrap();
    }
    // A reply whose message is 30 events back: bob's new timeline does not
    // hold it, so the core asks the server for it.
    block_on(alice.start_sync()).unwrap();
    let mine = block_on(alice.timeline(room.clone())).unwrap();
    let alice_items = Mirror::<TimelineItem>::new();
    let _alice_sub = mine.observe(alice_items.clone()).unwrap();
    // Alice goes back far enough to see the old message, and replies.
    for _ in 0..10 {
        if find(&alice_items.items(), "long ago").is_some() {
            break;
        }
        block_on(mine.paginate_backwards(20)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    wait("the old message", 30, || {
        find(&alice_items.items(), "long ago").is_some()
    });
    let long_ago = item_id_of(&alice_items.items(), "long ago");
    block_on(mine.send_message(text("remember this?"), Some(long_ago))).unwrap();
    let theirs = block_on(bob.timeline(room.clone())).unwrap();
    let bob_items = Mirror::<TimelineItem>::new();
    let _bob_sub = theirs.observe(bob_items.clone()).unwrap();
    wait("the reply, with its details", 30, || {
        find(&bob_items.items(), "remember this?")
            .and_then(|(_, _, reply, _)| reply)
            .is_some()
    });
    let reply = find(&bob_items.items(), "remember this?").and_then(|(_, _, reply, _)| reply);
    assert!(
        reply
            .as_ref()
            .is_some_and(|r| r.preview == "long ago" && r.event_id == old),
        "{reply:?}, the old message {old}"
    );
    assert!(
        find(&bob_items.items(), "long ago").is_none(),
        "bob's timeline holds the old message: the reply's details were not loaded for it"
    );

    // The unread mark comes back with sync before the call returns.
    block_on(bob.set_marked_unread(room.clone(), true)).unwrap();
    assert!(bob.room(room.clone()).unwrap().is_marked_unread);
    block_on(bob.set_marked_unread(room.clone(), false)).unwrap();
    assert!(!bob.room(room.clone()).unwrap().is_marked_unread);
    // A private receipt clears bob's unread count.
    wait("bob's unread count", 30, || {
        bob.room(room.clone()).unwrap().unread_messages > 0
    });
    block_on(theirs.mark_as_read_privately()).unwrap();
    wait("read, privately", 30, || {
        bob.room(room.clone()).unwrap().unread_messages == 0
    });
    let bad = block_on(bob.set_marked_unread("!nowhere:example.org".into(), true));
    assert!(matches!(bad, Err(CoreError::NotFound { .. })), "{bad:?}");

    block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    block_on(bob.logout(LogoutOptions::default(), None)).unwrap();
}
