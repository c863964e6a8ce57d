//! Previews of events for room list rows and reply quotes: a
//! [`PreviewKind`] with the parts an app words in its own language, and the
//! English fallback made from it (one wording, used by every preview).

use matrix_sdk::ruma::events::room::member::MembershipChange;
use matrix_sdk::ruma::events::room::message::MessageType;
use matrix_sdk::ruma::events::{
    AnyMessageLikeEventContent, AnySyncMessageLikeEvent, AnySyncStateEvent, AnySyncTimelineEvent,
    MessageLikeEventContent, SyncStateEvent,
};
use matrix_sdk_ui::timeline::{MsgLikeKind, TimelineItemContent};

use crate::api::{MemberChange, PreviewKind};

/// The kind of a message's content.
pub(crate) fn of_msgtype(msgtype: &MessageType) -> PreviewKind {
    let caption = |c: Option<&str>| c.map(str::to_owned);
    match msgtype {
        MessageType::Text(text) => PreviewKind::Text {
            body: text.body.clone(),
        },
        MessageType::Emote(emote) => PreviewKind::Emote {
            body: emote.body.clone(),
        },
        MessageType::Notice(notice) => PreviewKind::Notice {
            body: notice.body.clone(),
        },
        MessageType::Image(image) => PreviewKind::Image {
            caption: caption(image.caption()),
        },
        MessageType::Video(video) => PreviewKind::Video {
            caption: caption(video.caption()),
        },
        MessageType::Audio(audio) => PreviewKind::Audio {
            caption: caption(audio.caption()),
        },
        MessageType::File(file) => PreviewKind::File {
            filename: file.filename().to_owned(),
            caption: caption(file.caption()),
        },
        MessageType::Location(_) => PreviewKind::Location,
        other => PreviewKind::Text {
            body: other.body().to_owned(),
        },
    }
}

/// The kind of a room's event, as sync or the store has it.
pub(crate) fn of_event(event: &AnySyncTimelineEvent) -> PreviewKind {
    match event {
        AnySyncTimelineEvent::MessageLike(_) if event.is_redacted() => PreviewKind::Deleted,
        AnySyncTimelineEvent::MessageLike(message) => of_message_like(message),
        AnySyncTimelineEvent::State(state) => of_state(state),
    }
}

/// The kind of a message this device is sending.
pub(crate) fn of_local(content: &AnyMessageLikeEventContent) -> PreviewKind {
    match content {
        AnyMessageLikeEventContent::RoomMessage(message) => of_msgtype(&message.msgtype),
        AnyMessageLikeEventContent::Sticker(_) => PreviewKind::Sticker,
        other => PreviewKind::Other {
            event_type: other.event_type().to_string(),
        },
    }
}

/// The kind of a timeline item's content (a reply's quoted message).
pub(crate) fn of_item(content: &TimelineItemContent) -> PreviewKind {
    let TimelineItemContent::MsgLike(msg_like) = content else {
        return PreviewKind::Other {
            event_type: String::new(),
        };
    };
    match &msg_like.kind {
        MsgLikeKind::Message(message) => of_msgtype(message.msgtype()),
        MsgLikeKind::Sticker(_) => PreviewKind::Sticker,
        MsgLikeKind::Poll(poll) => PreviewKind::Poll {
            question: poll.results().question,
        },
        MsgLikeKind::Redacted => PreviewKind::Deleted,
        MsgLikeKind::UnableToDecrypt(_) => PreviewKind::UnableToDecrypt,
        MsgLikeKind::Other(other) => PreviewKind::Other {
            event_type: other.event_type().to_string(),
        },
        MsgLikeKind::LiveLocation(_) => PreviewKind::Location,
    }
}

fn of_message_like(event: &AnySyncMessageLikeEvent) -> PreviewKind {
    match event {
        AnySyncMessageLikeEvent::RoomMessage(message) => match message.as_original() {
            Some(original) => of_msgtype(&original.content.msgtype),
            None => PreviewKind::Deleted,
        },
        AnySyncMessageLikeEvent::RoomEncrypted(_) => PreviewKind::UnableToDecrypt,
        AnySyncMessageLikeEvent::Sticker(_) => PreviewKind::Sticker,
        AnySyncMessageLikeEvent::PollStart(poll) => match poll.as_original() {
            Some(original) => PreviewKind::Poll {
                question: original
                    .content
                    .poll
                    .question
                    .text
                    .find_plain()
                    .unwrap_or_default()
                    .to_owned(),
            },
            None => PreviewKind::Deleted,
        },
        AnySyncMessageLikeEvent::UnstablePollStart(poll) => match poll.as_original() {
            Some(original) => PreviewKind::Poll {
                question: original.content.poll_start().question.text.clone(),
            },
            None => PreviewKind::Deleted,
        },
        other => PreviewKind::Other {
            event_type: other.event_type().to_string(),
        },
    }
}

fn of_state(event: &AnySyncStateEvent) -> PreviewKind {
    match event {
        AnySyncStateEvent::RoomMember(SyncStateEvent::Original(member)) => PreviewKind::Member {
            user_id: member.state_key.to_string(),
            change: member_change(member.membership_change()),
        },
        AnySyncStateEvent::RoomCreate(_) => PreviewKind::RoomCreated,
        AnySyncStateEvent::RoomName(SyncStateEvent::Original(name)) => PreviewKind::RoomNamed {
            name: name.content.name.clone(),
        },
        AnySyncStateEvent::RoomTopic(SyncStateEvent::Original(topic)) => {
            PreviewKind::RoomTopicChanged {
                topic: topic.content.topic.clone(),
            }
        }
        AnySyncStateEvent::RoomAvatar(_) => PreviewKind::RoomAvatarChanged,
        AnySyncStateEvent::RoomEncryption(_) => PreviewKind::EncryptionEnabled,
        AnySyncStateEvent::BeaconInfo(_) => PreviewKind::Location,
        other => PreviewKind::Other {
            event_type: other.event_type().to_string(),
        },
    }
}

fn member_change(change: MembershipChange<'_>) -> MemberChange {
    match change {
        MembershipChange::Joined | MembershipChange::InvitationAccepted => MemberChange::Joined,
        MembershipChange::Left => MemberChange::Left,
        MembershipChange::Invited | MembershipChange::KnockAccepted => MemberChange::Invited,
        MembershipChange::InvitationRejected => MemberChange::InviteDeclined,
        MembershipChange::InvitationRevoked => MemberChange::InviteRevoked,
        MembershipChange::Kicked => MemberChange::Kicked,
        MembershipChange::Banned | MembershipChange::KickedAndBanned => MemberChange::Banned,
        MembershipChange::Unbanned => MemberChange::Unbanned,
        MembershipChange::Knocked => MemberChange::Knocked,
        MembershipChange::ProfileChanged {
            displayname_change: Some(name),
            ..
        } => MemberChange::DisplayNameChanged {
            display_name: name.new.map(str::to_owned),
        },
        MembershipChange::ProfileChanged {
            avatar_url_change: Some(_),
            ..
        } => MemberChange::AvatarChanged,
        _ => MemberChange::Other,
    }
}

/// The English wording of `kind`, shown after the sender's name in a row.
pub(crate) fn english(kind: &PreviewKind) -> String {
    let with = |what: &str, caption: &Option<String>| match caption {
        Some(caption) => format!("{what}: {caption}"),
        None => what.to_owned(),
    };
    match kind {
        PreviewKind::Text { body } | PreviewKind::Notice { body } => body.clone(),
        PreviewKind::Emote { body } => format!("* {body}"),
        PreviewKind::Image { caption } => with("sent an image", caption),
        PreviewKind::Video { caption } => with("sent a video", caption),
        PreviewKind::Audio { caption } => with("sent an audio file", caption),
        PreviewKind::File { filename, caption } => {
            with(&format!("sent a file ({filename})"), caption)
        }
        PreviewKind::Location => "shared a location".to_owned(),
        PreviewKind::Sticker => "sent a sticker".to_owned(),
        PreviewKind::Poll { question } => format!("started a poll: {question}"),
        PreviewKind::Deleted => "message deleted".to_owned(),
        PreviewKind::UnableToDecrypt => "unable to decrypt".to_owned(),
        PreviewKind::Invite => "invited you".to_owned(),
        PreviewKind::Member { user_id, change } => english_member(user_id, change),
        PreviewKind::RoomCreated => "created the room".to_owned(),
        PreviewKind::RoomNamed { name } => format!("named the room {name}"),
        PreviewKind::RoomTopicChanged { topic } => format!("changed the topic to {topic}"),
        PreviewKind::RoomAvatarChanged => "changed the room's picture".to_owned(),
        PreviewKind::EncryptionEnabled => "turned on encryption".to_owned(),
        PreviewKind::Other { event_type } if event_type.is_empty() => "a message".to_owned(),
        PreviewKind::Other { event_type } => event_type.clone(),
    }
}

fn english_member(user_id: &str, change: &MemberChange) -> String {
    match change {
        MemberChange::Joined => "joined the room".to_owned(),
        MemberChange::Left => "left the room".to_owned(),
        MemberChange::Invited => format!("invited {user_id}"),
        MemberChange::InviteDeclined => "declined the invite".to_owned(),
        MemberChange::InviteRevoked => format!("withdrew {user_id}'s invite"),
        MemberChange::Kicked => format!("removed {user_id}"),
        MemberChange::Banned => format!("banned {user_id}"),
        MemberChange::Unbanned => format!("unbanned {user_id}"),
        MemberChange::Knocked => "asked to join".to_owned(),
        MemberChange::DisplayNameChanged {
            display_name: Some(name),
        } => format!("changed their name to {name}"),
        MemberChange::DisplayNameChanged { display_name: None } => {
            "removed their display name".to_owned()
        }
        MemberChange::AvatarChanged => "changed their picture".to_owned(),
        MemberChange::Other => "changed their membership".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> AnySyncTimelineEvent {
        serde_json::from_value(json).expect("a sync event") // allowed: test-only
    }

    fn preview(json: serde_json::Value) -> (PreviewKind, String) {
        let kind = of_event(&event(json));
        let text = english(&kind);
        (kind, text)
    }

    fn base(kind: &str, content: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "type": kind, "content": content, "event_id": "$e", "sender": "@alice:x",
            "origin_server_ts": 1,
        })
    }

    #[test]
    fn messages_keep_their_text_and_media_their_caption() {
        let (kind, text) = preview(base(
            "m.room.message",
            serde_json::json!({"msgtype": "m.text", "body": "hello"}),
        ));
        assert_eq!(
            kind,
            PreviewKind::Text {
                body: "hello".into()
            }
        );
        assert_eq!(text, "hello");
        let (kind, text) = preview(base(
            "m.room.message",
            serde_json::json!({"msgtype": "m.image", "body": "look", "filename": "cat.png",
                "url": "mxc://x/y"}),
        ));
        assert_eq!(
            kind,
            PreviewKind::Image {
                caption: Some("look".into())
            }
        );
        assert_eq!(text, "sent an image: look");
        let (kind, _) = preview(base(
            "m.room.message",
            serde_json::json!({"msgtype": "m.file", "body": "a.pdf", "url": "mxc://x/y"}),
        ));
        assert_eq!(
            kind,
            PreviewKind::File {
                filename: "a.pdf".into(),
                caption: None
            }
        );
    }

    #[test]
    fn membership_events_say_who_did_what() {
        let mut join = base(
            "m.room.member",
            serde_json::json!({"membership": "join", "displayname": "Alice"}),
        );
        join["state_key"] = "@alice:x".into();
        let (kind, text) = preview(join);
        assert_eq!(
            kind,
            PreviewKind::Member {
                user_id: "@alice:x".into(),
                change: MemberChange::Joined
            }
        );
        assert_eq!(text, "joined the room");

        let mut rename = base(
            "m.room.member",
            serde_json::json!({"membership": "join", "displayname": "Al"}),
        );
        rename["state_key"] = "@alice:x".into();
        rename["unsigned"] =
            serde_json::json!({"prev_content": {"membership": "join", "displayname": "Alice"}});
        assert_eq!(preview(rename).1, "changed their name to Al");

        let mut kick = base("m.room.member", serde_json::json!({"membership": "leave"}));
        kick["state_key"] = "@bob:x".into();
        kick["unsigned"] = serde_json::json!({"prev_content": {"membership": "join"}});
        let (kind, text) = preview(kick);
        assert_eq!(
            kind,
            PreviewKind::Member {
                user_id: "@bob:x".into(),
                change: MemberChange::Kicked
            }
        );
        assert_eq!(text, "removed @bob:x");
    }

    #[test]
    fn room_state_and_unknown_events_have_kinds() {
        let mut name = base("m.room.name", serde_json::json!({"name": "Plans"}));
        name["state_key"] = "".into();
        assert_eq!(preview(name).1, "named the room Plans");
        let encrypted = base(
            "m.room.encrypted",
            serde_json::json!({"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "x",
                "sender_key": "k", "device_id": "D", "session_id": "s"}),
        );
        assert_eq!(preview(encrypted).0, PreviewKind::UnableToDecrypt);
        let (kind, text) = preview(base("org.example.custom", serde_json::json!({})));
        assert_eq!(
            kind,
            PreviewKind::Other {
                event_type: "org.example.custom".into()
            }
        );
        assert_eq!(text, "org.example.custom");
    }
}
