//! Avatars and the server's thumbnails: a room's avatar on its summary, a
//! sender's on his messages, `media_source_from_url` for an avatar URL from
//! elsewhere, and `download_thumbnail` (authenticated media, then kept in
//! the media store: the second call needs no server).

use futures_executor::block_on;
use matrix_mobile_core::{
    media_source_from_url, CoreError, LogoutOptions, MediaSource, MessageContent, TimelineItem,
    TimelineItemKind, UploadInfo,
};

use super::homeserver::{client_api, escaped, Fault};
use super::mirror::Mirror;
use super::serial;
use super::session::{logged_in, wait, Proxied};

/// A 64 x 64 PNG, which Synapse can scale.
const AVATAR_PNG: &[u8] = include_bytes!("../support/avatar.png");

/// The first bytes of a PNG or a JPEG file.
fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG") || bytes.starts_with(&[0xff, 0xd8, 0xff])
}

/// The sender's avatar on the message whose body is `body`, if it is there.
fn sender_avatar(items: &[TimelineItem], body: &str) -> Option<Option<MediaSource>> {
    items.iter().find_map(|i| match &i.kind {
        TimelineItemKind::Event {
            content: MessageContent::Text { body: b, .. },
            sender_avatar,
            ..
        } if b == body => Some(sender_avatar.clone()),
        _ => None,
    })
}

#[test]
fn avatars_reach_summaries_and_messages_and_their_thumbnails_download_once() {
    let _serial = serial();
    let alice = Proxied::login("avatar-alice");
    let (bob, bob_session, _bob_dir) = logged_in("avatar-bob");
    let alice_id = alice.client.user_id().unwrap();
    let room_id = block_on(alice.client.create_room("faces".into(), vec![], false)).unwrap();
    block_on(alice.client.start_sync()).unwrap();

    // An unencrypted image, uploaded through the core, gives the mxc URL.
    let timeline = block_on(alice.client.timeline(room_id.clone())).unwrap();
    let items = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(items.clone()).unwrap();
    let png = alice.dir.path().join("face.png");
    std::fs::write(&png, AVATAR_PNG).unwrap();
    let info = UploadInfo {
        width: Some(64),
        height: Some(64),
        ..Default::default()
    };
    block_on(timeline.send_media(png.to_string_lossy().into(), info, None)).unwrap();
    let mut uploaded = None;
    wait("the avatar's upload", 60, || {
        uploaded = items.items().iter().find_map(|i| match &i.kind {
            TimelineItemKind::Event {
                event_id: Some(_),
                content: MessageContent::Media { source, .. },
                ..
            } => Some(source.clone()),
            _ => None,
        });
        uploaded.is_some()
    });
    let uploaded = uploaded.unwrap();
    assert!(!uploaded.encrypted);
    let mxc = uploaded.url.clone();

    // The same URL from elsewhere (a profile, a push): the same source.
    let from_url = media_source_from_url(mxc.clone()).unwrap();
    assert_eq!(from_url.url, mxc);
    assert!(!from_url.encrypted);
    for bad in ["", "https://example.org/a.png", "mxc://", "mxc://server"] {
        assert!(
            matches!(
                media_source_from_url(bad.into()),
                Err(CoreError::InvalidArgument { .. })
            ),
            "{bad:?}"
        );
    }

    // The room's avatar, on its summary.
    let path = format!(
        "/_matrix/client/v3/rooms/{}/state/m.room.avatar",
        escaped(&room_id)
    );
    client_api(
        "PUT",
        &path,
        &alice.session.access_token,
        &serde_json::json!({ "url": mxc }),
    );
    wait("the room's avatar on its summary", 30, || {
        alice
            .client
            .room(room_id.clone())
            .is_ok_and(|r| r.avatar.as_ref().is_some_and(|a| a.url == mxc))
    });
    let avatar = alice.client.room(room_id.clone()).unwrap().avatar.unwrap();
    assert_eq!(avatar, from_url);

    // A sender's avatar, on his messages: bob's profile has one before he
    // joins, so his membership carries it.
    let bob_id = bob.user_id().unwrap();
    let path = format!("/_matrix/client/v3/profile/{}/avatar_url", escaped(&bob_id));
    client_api(
        "PUT",
        &path,
        &bob_session.access_token,
        &serde_json::json!({ "avatar_url": mxc }),
    );
    block_on(alice.client.invite(room_id.clone(), bob_id.clone())).unwrap();
    block_on(bob.start_sync()).unwrap();
    wait("bob's invite", 30, || bob.room(room_id.clone()).is_ok());
    block_on(bob.join_room(room_id.clone())).unwrap();
    let bob_timeline = block_on(bob.timeline(room_id.clone())).unwrap();
    block_on(bob_timeline.send_text("look at me".into(), None)).unwrap();
    block_on(timeline.send_text("no avatar here".into(), None)).unwrap();
    wait("bob's avatar on his message", 30, || {
        sender_avatar(&items.items(), "look at me").is_some_and(|a| a.is_some_and(|a| a.url == mxc))
    });
    assert_eq!(
        sender_avatar(&items.items(), "no avatar here"),
        Some(None),
        "{alice_id} set no avatar"
    );

    // The server's thumbnail, then the same from the media store with the
    // server gone (its open connections cut too).
    let dest = alice.dir.path().join("thumb-32");
    let size = block_on(alice.client.download_thumbnail(
        avatar.clone(),
        32,
        32,
        dest.to_string_lossy().into(),
    ))
    .unwrap();
    let bytes = std::fs::read(&dest).unwrap();
    assert_eq!(size, bytes.len() as u64);
    assert!(
        size > 0 && is_image(&bytes),
        "{:?}",
        &bytes[..bytes.len().min(8)]
    );
    alice.proxy.die();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let again = alice.dir.path().join("thumb-32-again");
    let cached = block_on(alice.client.download_thumbnail(
        avatar.clone(),
        32,
        32,
        again.to_string_lossy().into(),
    ));
    assert_eq!(cached.unwrap(), size, "the thumbnail from the media store");
    assert_eq!(std::fs::read(&again).unwrap(), bytes);
    // A size never asked for needs the server.
    let other = alice.dir.path().join("thumb-96");
    let uncached = block_on(alice.client.download_thumbnail(
        avatar.clone(),
        96,
        96,
        other.to_string_lossy().into(),
    ));
    assert!(
        matches!(uncached, Err(CoreError::Network { .. })),
        "{uncached:?}"
    );
    alice.proxy.set(Fault::Pass);

    // Bad input, typed: no size, too large a size, no such folder.
    let thumb = |w, h, dest: &str| {
        block_on(
            alice
                .client
                .download_thumbnail(avatar.clone(), w, h, dest.into()),
        )
    };
    let ok_dest = alice.dir.path().join("t").to_string_lossy().into_owned();
    for (w, h, dest) in [
        (0, 32, ok_dest.as_str()),
        (32, 4096, &ok_dest),
        (32, 32, "/no/such/dir/t"),
    ] {
        assert!(
            matches!(thumb(w, h, dest), Err(CoreError::InvalidArgument { .. })),
            "{w} x {h} to {dest}"
        );
    }

    block_on(alice.client.logout(LogoutOptions::default(), None)).unwrap();
    block_on(bob.logout(LogoutOptions::default(), None)).unwrap();
}
