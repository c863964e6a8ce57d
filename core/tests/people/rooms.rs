//! Rooms created with options, direct messages, one room followed, its
//! name, topic and avatar, and declined invites.

use std::sync::Arc;

use matrix_mobile_core::{
    media_source_from_url, CoreError, CreateRoomOptions, LogoutOptions, Membership, RoomPreset,
    RoomVisibility,
};

use super::homeserver::fresh_name;
use super::session::{logged_in, wait};
use super::{at_once, id, is_forbidden, png_in, run, wait_membership, Heard};

/// The descriptor of an encrypted file (keys of zeros).
const ENCRYPTED_SOURCE: &str = r#"{"file":{"url":"mxc://localhost/file","key":{"kty":"oct","key_ops":["encrypt","decrypt"],"alg":"A256CTR","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ext":true},"iv":"AAAAAAAAAAAAAAAAAAAAAA","hashes":{"sha256":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"v":"v2"}}"#;

#[test]
fn a_room_created_with_options_reads_as_asked_at_once() {
    let (alice, _s, dir) = logged_in("opts-alice");
    let (bob, _b, _bdir) = logged_in("opts-bob");
    run(alice.start_sync()).unwrap();
    // An avatar already on the server: the user's own, through its profile.
    run(alice.set_avatar(Some(png_in(dir.path())), None)).unwrap();
    let avatar = run(alice.profile(id(&alice)))
        .unwrap()
        .avatar
        .expect("an avatar");
    let alias = fresh_name("opts");
    let options = CreateRoomOptions {
        name: Some("Options".into()),
        topic: Some("what the room is for".into()),
        invite: vec![id(&bob)],
        visibility: RoomVisibility::Public,
        preset: RoomPreset::PublicChat,
        alias_local_part: Some(alias.clone()),
        avatar: Some(avatar.clone()),
        encrypted: true,
        ..CreateRoomOptions::default()
    };
    let room_id = run(alice.create_room_with(options)).unwrap();
    let summary = alice.room(room_id.clone()).unwrap();
    assert_eq!(summary.name.as_deref(), Some("Options"));
    assert!(summary.is_encrypted);
    assert!(!summary.is_direct);
    wait("the topic and avatar", 30, || {
        let s = alice.room(room_id.clone()).unwrap();
        s.topic.as_deref() == Some("what the room is for")
            && s.avatar.as_ref().map(|a| &a.url) == Some(&avatar.url)
    });
    // The alias and the public preset: bob joins by the alias, uninvited
    // would do too.
    let server = id(&alice).split(':').nth(1).unwrap().to_owned();
    let joined = run(bob.join_room(format!("#{alias}:{server}"))).unwrap();
    assert_eq!(joined, room_id);

    // Bad input is refused before the server hears of it.
    for bad in ["", "has space", "with:colon", "#hash"] {
        let options = CreateRoomOptions {
            alias_local_part: Some(bad.into()),
            ..CreateRoomOptions::default()
        };
        let refused = run(alice.create_room_with(options));
        assert!(
            matches!(refused, Err(CoreError::InvalidArgument { .. })),
            "{bad}: {refused:?}"
        );
    }
    let options = CreateRoomOptions {
        invite: vec!["not a user id".into()],
        ..CreateRoomOptions::default()
    };
    let refused = run(alice.create_room_with(options));
    assert!(
        matches!(refused, Err(CoreError::InvalidArgument { .. })),
        "{refused:?}"
    );
    let mut encrypted = avatar.clone();
    encrypted.descriptor = ENCRYPTED_SOURCE.into();
    let options = CreateRoomOptions {
        avatar: Some(encrypted),
        ..CreateRoomOptions::default()
    };
    let refused = run(alice.create_room_with(options));
    assert!(
        matches!(refused, Err(CoreError::InvalidArgument { .. })),
        "{refused:?}"
    );
    // An alias already taken is the server's refusal, typed.
    let options = CreateRoomOptions {
        alias_local_part: Some(alias),
        ..CreateRoomOptions::default()
    };
    let taken = run(alice.create_room_with(options));
    assert!(
        matches!(taken, Err(CoreError::Server { status: 400, .. })),
        "{taken:?}"
    );
    run(alice.logout(LogoutOptions::default(), None)).unwrap();
    run(bob.logout(LogoutOptions::default(), None)).unwrap();
}

#[test]
fn start_dm_makes_one_encrypted_direct_room_and_finds_it_again() {
    let (alice, _s, _d) = logged_in("dm-alice");
    let (bob, _b, _bd) = logged_in("dm-bob");
    run(alice.start_sync()).unwrap();
    run(bob.start_sync()).unwrap();
    let bob_id = id(&bob);
    assert_eq!(alice.dm_room(bob_id.clone()).unwrap(), None);

    // Two taps at once: one room.
    let ids = at_once(&alice, 3, {
        let bob_id = bob_id.clone();
        move |c| futures_executor::block_on(c.start_dm(bob_id.clone()))
    });
    let room_id = ids[0].clone().unwrap();
    assert!(ids.iter().all(|r| r.as_ref() == Ok(&room_id)), "{ids:?}");
    let summary = alice.room(room_id.clone()).unwrap();
    assert!(summary.is_direct && summary.is_encrypted, "{summary:?}");
    assert_eq!(
        alice.dm_room(bob_id.clone()).unwrap(),
        Some(room_id.clone())
    );
    assert_eq!(run(alice.start_dm(bob_id.clone())).unwrap(), room_id);

    // Bob is invited to a direct room, and joins it.
    wait_membership(&bob, &room_id, Membership::Invited);
    run(bob.join_room(room_id.clone())).unwrap();
    wait("bob's side reads direct", 30, || {
        bob.room(room_id.clone()).is_ok_and(|s| s.is_direct)
    });

    // Bad input.
    let unknown = format!(
        "@{}:{}",
        fresh_name("nobody"),
        bob_id.split(':').nth(1).unwrap()
    );
    assert!(matches!(
        run(alice.start_dm(unknown)),
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        run(alice.start_dm(id(&alice))),
        Err(CoreError::InvalidArgument { .. })
    ));
    assert!(matches!(
        run(alice.start_dm("bob".into())),
        Err(CoreError::InvalidArgument { .. })
    ));
    assert!(matches!(
        alice.dm_room("bob".into()),
        Err(CoreError::InvalidArgument { .. })
    ));
    run(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert!(matches!(
        alice.dm_room(bob_id),
        Err(CoreError::ClientClosed)
    ));
    run(bob.logout(LogoutOptions::default(), None)).unwrap();
}

#[test]
fn observe_room_hears_each_change_and_ends_at_logout() {
    let (alice, _s, dir) = logged_in("watch-alice");
    let (bob, _b, _bd) = logged_in("watch-bob");
    run(alice.start_sync()).unwrap();
    run(bob.start_sync()).unwrap();
    let room_id = run(alice.create_room("before".into(), vec![id(&bob)], false)).unwrap();
    let heard = Arc::new(Heard::default());
    let _sub = alice.observe_room(room_id.clone(), heard.clone()).unwrap();
    wait("the current summary first", 10, || heard.count() >= 1);
    assert_eq!(heard.last().unwrap().name.as_deref(), Some("before"));

    run(alice.set_room_name(room_id.clone(), "after".into())).unwrap();
    wait("the new name", 30, || {
        heard.last().unwrap().name.as_deref() == Some("after")
    });
    run(alice.set_room_topic(room_id.clone(), "a topic".into())).unwrap();
    wait("the topic", 30, || {
        heard.last().unwrap().topic.as_deref() == Some("a topic")
    });
    run(alice.set_room_avatar(room_id.clone(), Some(png_in(dir.path())), None)).unwrap();
    wait("the avatar", 30, || heard.last().unwrap().avatar.is_some());
    let avatar = heard.last().unwrap().avatar.unwrap();
    assert_eq!(media_source_from_url(avatar.url.clone()).unwrap(), avatar);
    // A member joins: the count moves.
    wait_membership(&bob, &room_id, Membership::Invited);
    run(bob.join_room(room_id.clone())).unwrap();
    wait("bob counted", 30, || {
        heard.last().unwrap().joined_members == 2
    });
    run(alice.set_room_avatar(room_id.clone(), None, None)).unwrap();
    wait("the avatar removed", 30, || {
        heard.last().unwrap().avatar.is_none()
    });
    // No update repeats the one before it.
    let updates = heard.updates.lock().unwrap().clone();
    assert!(updates.windows(2).all(|w| w[0] != w[1]), "{updates:#?}");

    // Bob has no power to change the room: the server's 403, typed.
    wait_membership(&bob, &room_id, Membership::Joined);
    let refused = run(bob.set_room_name(room_id.clone(), "bob's".into())).unwrap_err();
    assert!(is_forbidden(&refused), "{refused:?}");
    let refused = run(bob.set_room_topic(room_id.clone(), "bob's".into())).unwrap_err();
    assert!(is_forbidden(&refused), "{refused:?}");
    // Not an image, and no such file: refused before any upload.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let path = text.to_string_lossy().into_owned();
    let refused = run(alice.set_room_avatar(room_id.clone(), Some(path), None));
    assert!(
        matches!(refused, Err(CoreError::InvalidArgument { .. })),
        "{refused:?}"
    );
    let missing = Some(dir.path().join("nope.png").to_string_lossy().into_owned());
    let refused = run(alice.set_room_avatar(room_id.clone(), missing, None));
    assert!(
        matches!(refused, Err(CoreError::InvalidArgument { .. })),
        "{refused:?}"
    );
    // Unknown rooms.
    let unknown = "!nowhere:example.org".to_owned();
    assert!(matches!(
        alice.observe_room(unknown.clone(), heard.clone()),
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        run(alice.set_room_name(unknown, "x".into())),
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        alice.observe_room("bad".into(), heard.clone()),
        Err(CoreError::InvalidArgument { .. })
    ));

    assert_eq!(heard.closed(), 0);
    run(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(
        heard.closed(),
        1,
        "the end signal, once, by the time logout returns"
    );
    run(bob.logout(LogoutOptions::default(), None)).unwrap();
}

#[test]
fn an_invite_is_declined_and_a_joined_room_is_not() {
    let (alice, _s, _d) = logged_in("decline-alice");
    let (bob, _b, _bd) = logged_in("decline-bob");
    run(bob.start_sync()).unwrap();
    let room_id = run(alice.create_room("invite".into(), vec![id(&bob)], false)).unwrap();
    wait_membership(&bob, &room_id, Membership::Invited);
    run(bob.decline_invite(room_id.clone())).unwrap();
    // matrix-sdk forgets a declined invite; sync's leave, when it comes
    // after the forget, brings the room back as left.
    let gone = |bob: &matrix_mobile_core::Client| match bob.room(room_id.clone()) {
        Err(CoreError::NotFound { .. }) => true,
        Ok(summary) => summary.membership == Membership::Left,
        Err(_) => false,
    };
    wait("the invite gone", 30, || gone(&bob));
    let again = run(bob.decline_invite(room_id.clone()));
    assert!(
        matches!(
            again,
            Err(CoreError::NotFound { .. } | CoreError::InvalidState { .. })
        ),
        "{again:?}"
    );
    let joined = run(alice.decline_invite(room_id.clone()));
    assert!(
        matches!(joined, Err(CoreError::InvalidState { .. })),
        "{joined:?}"
    );
    run(alice.logout(LogoutOptions::default(), None)).unwrap();
    run(bob.logout(LogoutOptions::default(), None)).unwrap();
}
