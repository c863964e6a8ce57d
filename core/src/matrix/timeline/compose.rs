//! Composing: messages with Markdown, emotes, notices and intentional
//! mentions, replies by item id (a local echo included), edits, the
//! private read receipt, and the replied-to messages a timeline must load.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use eyeball_im::VectorDiff;
use futures_util::StreamExt;
use matrix_sdk::room::edit::EditedContent;
use matrix_sdk::ruma::events::room::message::{
    MessageType, RoomMessageEventContentWithoutRelation,
};
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::OwnedEventId;
use matrix_sdk_ui::timeline::{TimelineDetails, TimelineItem as SdkItem};

use super::{event_item, from_timeline, identifier, Timeline};
use crate::api::{CoreError, CoreResult, OutgoingKind, OutgoingMessage};
use crate::matrix::errors;
use crate::matrix::rooms::parse_user_id;

/// How long a reply to a local echo waits for the echo to reach the server.
pub(crate) const ECHO_WAIT: Duration = Duration::from_secs(30);

/// The content of `message`, checked: a blank body or a mention that is no
/// user id is `InvalidArgument`.
pub(crate) fn content_of(
    message: &OutgoingMessage,
) -> CoreResult<RoomMessageEventContentWithoutRelation> {
    if message.body.trim().is_empty() {
        return Err(CoreError::invalid_argument("body is empty"));
    }
    let body = message.body.as_str();
    let msgtype = match (message.kind, message.markdown) {
        (OutgoingKind::Text, false) => MessageType::text_plain(body),
        (OutgoingKind::Text, true) => MessageType::text_markdown(body),
        (OutgoingKind::Emote, false) => MessageType::emote_plain(body),
        (OutgoingKind::Emote, true) => MessageType::emote_markdown(body),
        (OutgoingKind::Notice, false) => MessageType::notice_plain(body),
        (OutgoingKind::Notice, true) => MessageType::notice_markdown(body),
    };
    let users = message
        .mentions
        .iter()
        .map(|u| parse_user_id(u))
        .collect::<CoreResult<BTreeSet<_>>>()?;
    let mut mentions = Mentions::with_user_ids(users);
    mentions.room = message.mention_room;
    Ok(RoomMessageEventContentWithoutRelation::new(msgtype).add_mentions(mentions))
}

/// Queues `message`, a reply to the item `in_reply_to_item` when given;
/// its local echo is in the timeline when this returns. A reply to a local
/// echo waits (at most [`ECHO_WAIT`]) for the echo to reach the server:
/// `InvalidState` if it failed, `Timeout` if it is still on its way.
pub(crate) async fn send_message(
    timeline: &Timeline,
    message: &OutgoingMessage,
    in_reply_to_item: Option<&str>,
) -> CoreResult<()> {
    let content = content_of(message)?;
    let Some(item_id) = in_reply_to_item else {
        return timeline
            .send(content.with_relation(None).into())
            .await
            .map(drop)
            .map_err(|e| from_timeline(&e));
    };
    let event_id = event_id_of(timeline, item_id).await?;
    timeline
        .send_reply(content, event_id)
        .await
        .map_err(|e| from_timeline(&e))
}

/// The event id of the item `item_id`, waiting for a local echo's.
async fn event_id_of(timeline: &Timeline, item_id: &str) -> CoreResult<OwnedEventId> {
    let sent =
        |item: &matrix_sdk_ui::timeline::EventTimelineItem| -> CoreResult<Option<OwnedEventId>> {
            if let Some(id) = item.event_id() {
                return Ok(Some(id.to_owned()));
            }
            if let Some(matrix_sdk_ui::timeline::EventSendState::SendingFailed { .. }) =
                item.send_state()
            {
                return Err(CoreError::invalid_state(
                    "the message replied to could not be sent; retry or cancel it first",
                ));
            }
            Ok(None)
        };
    // Subscribed before the first look: no change falls between.
    let (_, mut updates) = timeline.subscribe().await;
    if let Some(id) = sent(&event_item(timeline, item_id).await?)? {
        return Ok(id);
    }
    let wait = async {
        while updates.next().await.is_some() {
            if let Some(id) = sent(&event_item(timeline, item_id).await?)? {
                return Ok(id);
            }
        }
        Err(CoreError::ClientClosed)
    };
    tokio::time::timeout(ECHO_WAIT, wait)
        .await
        .unwrap_or_else(|_| Err(CoreError::timeout("the message replied to, still sending")))
}

/// Replaces the message `item_id` with `message` (its kind, Markdown and
/// mentions included).
pub(crate) async fn edit_message(
    timeline: &Timeline,
    item_id: &str,
    message: &OutgoingMessage,
) -> CoreResult<()> {
    let content = content_of(message)?;
    let id = identifier(timeline, item_id).await?;
    timeline
        .edit(&id, EditedContent::RoomMessage(content))
        .await
        .map_err(|e| from_timeline(&e))
}

/// Sends a private read receipt (`m.read.private`) and the fully-read
/// marker at the latest event.
pub(crate) async fn mark_as_read_privately(timeline: &Timeline) -> CoreResult<()> {
    let Some(latest) = timeline.latest_event_id().await else {
        return Ok(());
    };
    let receipts = matrix_sdk::room::Receipts::new()
        .fully_read_marker(Some(latest.clone()))
        .private_read_receipt(Some(latest));
    timeline
        .send_multiple_receipts(receipts)
        .await
        .map_err(|e| errors::from_sdk(&e))
}

/// The remote items among `batch`'s new values whose replied-to message the
/// timeline does not hold yet, not in `asked`; they are added to it.
pub(crate) fn replies_to_load(
    batch: &[VectorDiff<Arc<SdkItem>>],
    asked: &mut BTreeSet<OwnedEventId>,
) -> Vec<OwnedEventId> {
    let mut wanted = Vec::new();
    let mut look = |item: &Arc<SdkItem>| {
        let Some(event) = item.as_event() else { return };
        let Some(id) = event.event_id() else { return };
        let unavailable = event
            .content()
            .in_reply_to()
            .is_some_and(|r| matches!(r.event, TimelineDetails::Unavailable));
        if unavailable && asked.insert(id.to_owned()) {
            wanted.push(id.to_owned());
        }
    };
    for diff in batch {
        match diff {
            VectorDiff::Append { values } | VectorDiff::Reset { values } => {
                values.iter().for_each(&mut look)
            }
            VectorDiff::PushFront { value }
            | VectorDiff::PushBack { value }
            | VectorDiff::Insert { value, .. }
            | VectorDiff::Set { value, .. } => look(value),
            _ => {}
        }
    }
    wanted
}

/// Loads the message the item `event_id` replies to; the timeline then
/// updates the item. A failure is logged: the item keeps its reply's id.
pub(crate) async fn load_reply(timeline: &Timeline, event_id: &OwnedEventId) {
    if let Err(e) = timeline.fetch_details_for_event(event_id).await {
        tracing::debug!(%event_id, %e, "could not load the message replied to");
    }
}
