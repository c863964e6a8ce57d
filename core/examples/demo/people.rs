//! The demo's people step: avatars and names, a direct message with a
//! formatted mention, a muted group room that the push gateway never hears
//! from, and the member list.

use std::sync::Arc;

use matrix_mobile_core::{
    Client, CoreError, MessageContent, OutgoingKind, OutgoingMessage, PusherConfig,
    RoomNotificationMode, TimelineItem, TimelineItemKind,
};

use crate::push_gateway::PushGateway;
use crate::screens::{wait, Screen};

/// A 64 x 64 PNG, for both avatars.
const AVATAR_PNG: &[u8] = include_bytes!("../../tests/support/avatar.png");

fn run<F: std::future::Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

/// The formatted HTML and `mentions_me` of the message whose body is `body`.
fn formatted(items: &[TimelineItem], body: &str) -> Option<(Option<String>, bool)> {
    items.iter().find_map(|i| match &i.kind {
        TimelineItemKind::Event {
            content:
                MessageContent::Text {
                    body: b,
                    formatted_html,
                },
            mentions_me,
            ..
        } if b == body => Some((formatted_html.clone(), *mentions_me)),
        _ => None,
    })
}

/// Avatars, a DM, a mute and the members, between alice and bob, who share
/// the group room `group`. `files` is a directory for the avatars.
pub fn step(
    alice: &Arc<Client>,
    bob: &Arc<Client>,
    group: &str,
    files: &std::path::Path,
) -> Result<(), CoreError> {
    let avatar = files.join("avatar.png");
    std::fs::write(&avatar, AVATAR_PNG).map_err(|e| CoreError::Storage {
        detail: e.to_string(),
    })?;
    let avatar = avatar.to_string_lossy().into_owned();
    let bob_id = bob.user_id().unwrap_or_default();
    let alice_id = alice.user_id().unwrap_or_default();
    run(alice.set_display_name("Alice".into()))?;
    run(bob.set_display_name("Bob".into()))?;
    run(alice.set_avatar(Some(avatar.clone()), None))?;
    run(bob.set_avatar(Some(avatar), None))?;
    let profile = run(alice.profile(bob_id.clone()))?;
    println!(
        "    bob's profile as alice reads it: {:?}, avatar {}",
        profile.display_name,
        profile.avatar.map(|a| a.url).unwrap_or_default()
    );

    // Bob's phone gets pushes; he mutes the group room.
    let gateway = PushGateway::start();
    let pusher = PusherConfig {
        app_id: "org.example.demo".into(),
        pushkey: "bob-demo-tablet".into(),
        gateway_url: gateway.url.clone(),
        device_name: "demo tablet".into(),
        lang: "en".into(),
        format: None,
        default_payload_json: None,
    };
    run(bob.set_pusher(pusher))?;
    run(bob.set_room_notification_mode(group.to_owned(), RoomNotificationMode::Mute))?;
    println!(
        "    bob mutes the group room: its summary reads {:?}",
        bob.room(group.to_owned())?.notification_mode
    );

    // Alice starts a DM with bob and mentions him in Markdown.
    let dm = run(alice.start_dm(bob_id.clone()))?;
    // Its state (encryption, m.direct) comes with alice's next sync.
    wait("the DM's state", || {
        alice
            .room(dm.clone())
            .is_ok_and(|r| r.is_direct && r.is_encrypted)
    })?;
    println!(
        "    alice starts a DM with bob: {dm} (direct: {}, encrypted: {}); again gives the same: {}",
        alice.room(dm.clone())?.is_direct,
        alice.room(dm.clone())?.is_encrypted,
        run(alice.start_dm(bob_id.clone()))? == dm
    );
    wait("bob's invite to the DM", || bob.room(dm.clone()).is_ok())?;
    run(bob.join_room(dm.clone()))?;
    let bob_dm = run(bob.timeline(dm.clone()))?;
    let bob_dm_screen = Screen::<TimelineItem>::new("bob's DM");
    let _sub = bob_dm.observe(bob_dm_screen.clone())?;
    let alice_dm = run(alice.timeline(dm.clone()))?;
    let body = "**Bob**, are you coming *tonight*?";
    let message = OutgoingMessage {
        body: body.into(),
        markdown: true,
        kind: OutgoingKind::Text,
        mentions: vec![bob_id.clone()],
        mention_room: false,
    };
    run(alice_dm.send_message(message, None))?;
    let in_group = run(alice.send_text(group.to_owned(), "anyone in the group?".into()))?;
    wait("bob's view of the mention", || {
        formatted(&bob_dm_screen.items(), body).is_some()
    })?;
    let (html, mentions_me) = formatted(&bob_dm_screen.items(), body).unwrap_or_default();
    println!("    bob reads it as HTML {html:?}; it mentions him: {mentions_me}");

    // The DM is pushed; the muted group room's message, sent after it, is not.
    wait("the DM's push", || {
        gateway
            .notifications()
            .iter()
            .any(|n| n["room_id"] == dm.as_str())
    })?;
    std::thread::sleep(std::time::Duration::from_secs(1));
    let group_pushed = gateway
        .notifications()
        .iter()
        .any(|n| n["event_id"] == in_group.as_str());
    println!(
        "    bob's push gateway got {} push(es): the DM's; the muted group room's: {group_pushed}",
        gateway.notifications().len()
    );

    let members = run(bob.members(group.to_owned()))?;
    println!("    bob lists the group room's members:");
    for m in members {
        let me = if m.user_id == alice_id {
            " (the creator)"
        } else {
            ""
        };
        println!(
            "      {:<10} {:?}, power {} ({:?}){me}",
            m.display_name.unwrap_or(m.user_id),
            m.membership,
            m.power_level,
            m.role
        );
    }
    Ok(())
}
