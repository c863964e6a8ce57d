//! matrix-sdk-ui's timeline items and diffs in the core's terms.

use std::sync::Arc;

use eyeball_im::VectorDiff;
use matrix_sdk::ruma::events::room::message::{FormattedBody, MessageFormat, MessageType};
use matrix_sdk::ruma::events::room::MediaSource as SdkMediaSource;
use matrix_sdk::ruma::{UInt, UserId};
use matrix_sdk_ui::timeline::{
    EventSendState, EventTimelineItem, InReplyToDetails, MembershipChange, MsgLikeKind,
    TimelineDetails, TimelineItem as SdkItem, TimelineItemContent, TimelineItemKind as SdkKind,
    VirtualTimelineItem,
};

use crate::api::{
    CoreError, CoreResult, MediaInfo, MediaKind, MediaSource, MessageContent, Reaction,
    ReplyDetails, SendState, TimelineItem, TimelineItemKind, TimelineUpdate,
};
use crate::matrix::diffs;

/// A batch of matrix-sdk-ui diffs, applied to `current` (the list as the
/// listener will see it), as the core's updates for `own` user: the diffs,
/// or one `Reset` while `lagging()` (see [`diffs::follow`]).
pub(crate) fn follow(
    batch: Vec<VectorDiff<Arc<SdkItem>>>,
    current: &mut imbl::Vector<Arc<SdkItem>>,
    lagging: impl FnOnce() -> bool,
    own: &UserId,
) -> Vec<TimelineUpdate> {
    diffs::follow(batch, current, lagging, |item| map_item(item, own))
}

/// The current items, as a first `Reset`.
pub(crate) fn reset(items: &imbl::Vector<Arc<SdkItem>>, own: &UserId) -> TimelineUpdate {
    diffs::reset(items, |item| map_item(item, own))
}

/// One item. Its id is matrix-sdk-ui's unique id, which a local echo keeps
/// when the server's copy replaces it.
pub(crate) fn map_item(item: &SdkItem, own: &UserId) -> TimelineItem {
    let kind = match item.kind() {
        SdkKind::Event(event) => map_event(event, own),
        SdkKind::Virtual(VirtualTimelineItem::DateDivider(ts)) => TimelineItemKind::DayDivider {
            timestamp_ms: ts.get().into(),
        },
        SdkKind::Virtual(VirtualTimelineItem::ReadMarker) => TimelineItemKind::ReadMarker,
        SdkKind::Virtual(VirtualTimelineItem::TimelineStart) => TimelineItemKind::TimelineStart,
    };
    TimelineItem {
        item_id: item.unique_id().0.clone(),
        kind,
    }
}

fn map_event(event: &EventTimelineItem, own: &UserId) -> TimelineItemKind {
    let content = event.content();
    let msg_like = content.as_msglike();
    let reactions = msg_like
        .map(|m| {
            m.reactions
                .iter()
                .map(|(key, senders)| Reaction {
                    key: key.clone(),
                    count: u32::try_from(senders.len()).unwrap_or(u32::MAX),
                    by_me: senders.contains_key(own),
                })
                .collect()
        })
        .unwrap_or_default();
    let (sender_name, sender_avatar) = match event.sender_profile() {
        TimelineDetails::Ready(profile) => (
            profile.display_name.clone(),
            profile
                .avatar_url
                .as_ref()
                .and_then(|u| crate::matrix::media::source_of_url(u.as_str())),
        ),
        _ => (None, None),
    };
    TimelineItemKind::Event {
        event_id: event.event_id().map(|id| id.to_string()),
        sender: event.sender().to_string(),
        sender_name,
        sender_avatar,
        is_own: event.is_own(),
        timestamp_ms: event.timestamp().get().into(),
        content: map_content(content),
        send_state: event.send_state().map(map_send_state),
        edited: content.as_message().is_some_and(|m| m.is_edited()),
        in_reply_to: msg_like
            .and_then(|m| m.in_reply_to.as_ref())
            .map(|r| r.event_id.to_string()),
        reactions,
        read_by: event
            .read_receipts()
            .keys()
            .map(|u| u.to_string())
            .collect(),
        reply: msg_like
            .and_then(|m| m.in_reply_to.as_ref())
            .and_then(reply_details),
        mentions_me: mentions_me(event, own),
    }
}

/// The message replied to, once the timeline has it.
fn reply_details(reply: &InReplyToDetails) -> Option<ReplyDetails> {
    let TimelineDetails::Ready(event) = &reply.event else {
        return None;
    };
    let sender_name = match &event.sender_profile {
        TimelineDetails::Ready(profile) => profile.display_name.clone(),
        _ => None,
    };
    let kind = crate::matrix::preview::of_item(&event.content);
    Some(ReplyDetails {
        event_id: reply.event_id.to_string(),
        sender: event.sender.to_string(),
        sender_name,
        preview: crate::matrix::preview::english(&kind),
        kind,
    })
}

/// Whether the event mentions `own`: in its intentional mentions, by
/// `@room`, or as the push rules highlight it for this user.
fn mentions_me(event: &EventTimelineItem, own: &UserId) -> bool {
    if event.is_own() {
        return false;
    }
    let mentioned = event
        .content()
        .as_message()
        .and_then(|m| m.mentions())
        .is_some_and(|m| m.room || m.user_ids.contains(own));
    mentioned || event.is_highlighted()
}

fn map_send_state(state: &EventSendState) -> SendState {
    match state {
        EventSendState::NotSentYet { .. } => SendState::Sending,
        EventSendState::Sent { event_id } => SendState::Sent {
            event_id: event_id.to_string(),
        },
        EventSendState::SendingFailed {
            error,
            is_recoverable,
        } => SendState::Failed {
            detail: error.to_string(),
            retriable: *is_recoverable,
        },
    }
}

fn map_content(content: &TimelineItemContent) -> MessageContent {
    let other = || MessageContent::Other {
        event_type: content
            .event_type_str()
            .unwrap_or_else(|| "unknown".to_owned()),
    };
    match content {
        TimelineItemContent::MsgLike(msg_like) => match &msg_like.kind {
            MsgLikeKind::Message(message) => map_msgtype(message.msgtype()).unwrap_or_else(other),
            MsgLikeKind::Redacted => MessageContent::Redacted,
            MsgLikeKind::UnableToDecrypt(_) => MessageContent::UnableToDecrypt,
            _ => other(),
        },
        TimelineItemContent::MembershipChange(change) => MessageContent::Membership {
            user_id: change.user_id().to_string(),
            change: change
                .change()
                .map(membership_word)
                .unwrap_or("changed")
                .to_owned(),
        },
        TimelineItemContent::ProfileChange(change) => MessageContent::Membership {
            user_id: change.user_id().to_string(),
            change: "profile".to_owned(),
        },
        _ => other(),
    }
}

fn membership_word(change: MembershipChange) -> &'static str {
    match change {
        MembershipChange::None | MembershipChange::NotImplemented => "none",
        MembershipChange::Error => "error",
        MembershipChange::Joined => "joined",
        MembershipChange::Left => "left",
        MembershipChange::Banned => "banned",
        MembershipChange::Unbanned => "unbanned",
        MembershipChange::Kicked => "kicked",
        MembershipChange::Invited => "invited",
        MembershipChange::KickedAndBanned => "kicked_and_banned",
        MembershipChange::InvitationAccepted => "invitation_accepted",
        MembershipChange::InvitationRejected => "invitation_rejected",
        MembershipChange::InvitationRevoked => "invitation_revoked",
        MembershipChange::Knocked => "knocked",
        MembershipChange::KnockAccepted => "knock_accepted",
        MembershipChange::KnockRetracted => "knock_retracted",
        MembershipChange::KnockDenied => "knock_denied",
    }
}

fn html(formatted: Option<&FormattedBody>) -> Option<String> {
    formatted
        .filter(|f| f.format == MessageFormat::Html)
        .map(|f| f.body.clone())
}

/// A media message's content: its kind `$kind`, the message `$c`, and the
/// `MediaInfo` fields its type has, each read from the message's `info`
/// (the others `None`, the file name as [`described`] says).
macro_rules! media {
    ($kind:expr, $c:expr, |$i:ident| { $($field:ident: $value:expr),* $(,)? }) => {{
        let info = $c.info.as_deref();
        MessageContent::Media {
            kind: $kind,
            body: $c.body.clone(),
            source: crate::matrix::media::source_record(&$c.source),
            mimetype: info.and_then(|i| i.mimetype.clone()),
            size: info.and_then(|i| i.size).map(u64::from),
            info: MediaInfo {
                $($field: info.and_then(|$i| $value),)*
                ..described($c.filename.as_deref(), &$c.body)
            },
        }
    }};
}

/// A message's content; `None` for message types the core does not show.
fn map_msgtype(msgtype: &MessageType) -> Option<MessageContent> {
    Some(match msgtype {
        MessageType::Text(t) => MessageContent::Text {
            body: t.body.clone(),
            formatted_html: html(t.formatted.as_ref()),
        },
        MessageType::Emote(t) => MessageContent::Emote {
            body: t.body.clone(),
            formatted_html: html(t.formatted.as_ref()),
        },
        MessageType::Notice(t) => MessageContent::Notice {
            body: t.body.clone(),
            formatted_html: html(t.formatted.as_ref()),
        },
        MessageType::Image(c) => media!(MediaKind::Image, c, |i| {
            width: i.width.map(pixels),
            height: i.height.map(pixels),
            blurhash: i.blurhash.clone(),
            thumbnail: thumbnail(i.thumbnail_source.as_ref()),
        }),
        MessageType::Video(c) => media!(MediaKind::Video, c, |i| {
            width: i.width.map(pixels),
            height: i.height.map(pixels),
            duration_ms: i.duration.map(millis),
            blurhash: i.blurhash.clone(),
            thumbnail: thumbnail(i.thumbnail_source.as_ref()),
        }),
        MessageType::Audio(c) => media!(MediaKind::Audio, c, |i| {
            duration_ms: i.duration.map(millis),
        }),
        MessageType::File(c) => media!(MediaKind::File, c, |i| {
            thumbnail: thumbnail(i.thumbnail_source.as_ref()),
        }),
        _ => return None,
    })
}

/// A `MediaInfo` with nothing but the file name, when the message has a
/// caption besides it (the body is then the caption).
fn described(filename: Option<&str>, body: &str) -> MediaInfo {
    MediaInfo {
        width: None,
        height: None,
        duration_ms: None,
        blurhash: None,
        thumbnail: None,
        filename: filename.filter(|f| *f != body).map(str::to_owned),
    }
}

fn pixels(n: UInt) -> u32 {
    u32::try_from(u64::from(n)).unwrap_or(u32::MAX)
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn thumbnail(source: Option<&SdkMediaSource>) -> Option<MediaSource> {
    source.map(crate::matrix::media::source_record)
}

/// matrix-sdk's media source back out of the core's record.
pub(crate) fn sdk_media_source(source: &MediaSource) -> CoreResult<SdkMediaSource> {
    serde_json::from_str(&source.descriptor).map_err(|e| {
        CoreError::invalid_argument(format!(
            "media source: its descriptor is not one the core wrote: {e}"
        ))
    })
}
