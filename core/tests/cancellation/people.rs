//! The calls of rooms, people, composition and notification settings,
//! each cancelled after every poll count: the client stays usable, and a
//! cancelled `start_dm` that began finishes, so that the next one finds
//! its room instead of making a second.

use futures_executor::block_on;
use matrix_mobile_core::{
    CreateRoomOptions, LogoutOptions, OutgoingKind, OutgoingMessage, RoomNotificationMode,
};

use super::poll::poll_then_drop;
use super::session::{logged_in, wait_call_ended};
use super::{assert_process_clean, cancel_each_at_every_poll, for_every_poll_count, serial, Call};

#[test]
fn cancelled_calls_of_rooms_and_people_leave_a_working_client() {
    let _s = serial();
    let (client, _, dir) = logged_in("cancel-people");
    let (bob, bob_session, _bob_dir) = logged_in("cancel-people-bob");
    let bob_id = bob_session.user_id.clone();
    let own = client.user_id().unwrap();
    let room = block_on(client.create_room("r".into(), vec![bob_id.clone()], false)).unwrap();
    let png = dir.path().join("avatar.png");
    std::fs::write(&png, include_bytes!("../support/avatar.png")).unwrap();
    let png = png.to_string_lossy().into_owned();
    let timeline = block_on(client.timeline(room.clone())).unwrap();
    let message = || OutgoingMessage {
        body: "**hi**".into(),
        markdown: true,
        kind: OutgoingKind::Text,
        mentions: vec![bob_id.clone()],
        mention_room: false,
    };
    let calls: Vec<(&str, Call)> = vec![
        (
            "create_room",
            Box::new(|| {
                Box::pin(async {
                    client
                        .create_room_with(CreateRoomOptions::default())
                        .await
                        .is_ok()
                })
            }),
        ),
        (
            "set_room_name",
            Box::new(|| {
                Box::pin(async { client.set_room_name(room.clone(), "n".into()).await.is_ok() })
            }),
        ),
        (
            "set_room_topic",
            Box::new(|| {
                Box::pin(async {
                    client
                        .set_room_topic(room.clone(), "t".into())
                        .await
                        .is_ok()
                })
            }),
        ),
        (
            "set_room_avatar",
            Box::new(|| {
                Box::pin(async {
                    client
                        .set_room_avatar(room.clone(), Some(png.clone()), None)
                        .await
                        .is_ok()
                })
            }),
        ),
        (
            "members",
            Box::new(|| Box::pin(async { client.members(room.clone()).await.is_ok() })),
        ),
        (
            "profile",
            Box::new(|| Box::pin(async { client.profile(own.clone()).await.is_ok() })),
        ),
        (
            "set_display_name",
            Box::new(|| Box::pin(async { client.set_display_name("Cato".into()).await.is_ok() })),
        ),
        (
            "set_avatar",
            Box::new(|| {
                Box::pin(async { client.set_avatar(Some(png.clone()), None).await.is_ok() })
            }),
        ),
        (
            "search_users",
            Box::new(|| Box::pin(async { client.search_users("cancel".into(), 5).await.is_ok() })),
        ),
        (
            "ignore_user",
            Box::new(|| {
                Box::pin(async {
                    client
                        .ignore_user("@someone:localhost".into())
                        .await
                        .is_ok()
                })
            }),
        ),
        (
            "unignore_user",
            Box::new(|| {
                Box::pin(async {
                    client
                        .unignore_user("@someone:localhost".into())
                        .await
                        .is_ok()
                })
            }),
        ),
        (
            "ignored_users",
            Box::new(|| Box::pin(async { client.ignored_users().await.is_ok() })),
        ),
        (
            "devices",
            Box::new(|| Box::pin(async { client.devices().await.is_ok() })),
        ),
        (
            "set_room_notification_mode",
            Box::new(|| {
                Box::pin(async {
                    client
                        .set_room_notification_mode(room.clone(), RoomNotificationMode::Mute)
                        .await
                        .is_ok()
                })
            }),
        ),
        (
            "reset_room_notification_mode",
            Box::new(|| {
                Box::pin(async {
                    client
                        .reset_room_notification_mode(room.clone())
                        .await
                        .is_ok()
                })
            }),
        ),
        (
            "add_notification_keyword",
            Box::new(|| {
                Box::pin(async { client.add_notification_keyword("cato".into()).await.is_ok() })
            }),
        ),
        (
            "remove_notification_keyword",
            Box::new(|| {
                Box::pin(async {
                    client
                        .remove_notification_keyword("cato".into())
                        .await
                        .is_ok()
                })
            }),
        ),
        (
            "set_marked_unread",
            Box::new(|| {
                Box::pin(async { client.set_marked_unread(room.clone(), true).await.is_ok() })
            }),
        ),
        (
            "send_message",
            Box::new(|| Box::pin(async { timeline.send_message(message(), None).await.is_ok() })),
        ),
        (
            "mark_as_read_privately",
            Box::new(|| Box::pin(async { timeline.mark_as_read_privately().await.is_ok() })),
        ),
    ];
    cancel_each_at_every_poll(&client, &calls);

    // A start_dm cancelled at each poll count: once begun, it finishes and
    // records its room, so every later start returns that one room.
    let mut made = None;
    for_every_poll_count("start_dm", |n| {
        let outcome = poll_then_drop("start_dm", client.start_dm(bob_id.clone()), n);
        wait_call_ended("start_dm");
        let now = block_on(client.start_dm(bob_id.clone())).unwrap();
        assert_eq!(
            *made.get_or_insert_with(|| now.clone()),
            now,
            "after {n} polls"
        );
        assert_eq!(client.dm_room(bob_id.clone()).unwrap(), Some(now));
        outcome.is_some()
    });
    let direct = client
        .rooms()
        .unwrap()
        .into_iter()
        .filter(|r| r.is_direct || Some(&r.room_id) == made.as_ref())
        .count();
    assert!(direct <= 1, "{direct} direct rooms with bob");

    drop(calls);
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    block_on(bob.logout(LogoutOptions::default(), None)).unwrap();
    assert_process_clean();
}
