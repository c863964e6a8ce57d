//! A room's matrix-sdk-ui `Timeline`: building it, its items as the core's
//! records, and what an app does in a conversation (send through the send
//! queue, reply, edit, react, redact, read receipts, typing).
//!
//! What a `Timeline` runs (read in matrix-sdk-ui 0.18): its build spawns
//! tasks that follow the room's event cache, its send queue and, in
//! encrypted rooms, the crypto store's key updates. They are aborted when the
//! last `Timeline` handle or `subscribe` stream drops. The room's event cache
//! and send queue belong to the matrix `Client` and live with it.

pub(crate) mod compose;
pub(crate) mod items;
pub(crate) mod media;
mod reactions;

pub(crate) use reactions::toggle as toggle_reaction;

use std::collections::HashSet;

use matrix_sdk::room::edit::EditedContent;
use matrix_sdk::room::Receipts;
use matrix_sdk::ruma::events::room::message::{
    RoomMessageEventContent, RoomMessageEventContentWithoutRelation,
};
use matrix_sdk::ruma::{OwnedEventId, OwnedUserId};
use matrix_sdk::store::DependentQueuedRequestKind;
use matrix_sdk::Room;
use matrix_sdk_ui::timeline::{
    EventTimelineItem, RoomExt, TimelineEventItemId, TimelineReadReceiptTracking,
};

use super::errors;
use crate::api::{CoreError, CoreResult};

/// A room's timeline, as the rest of the core holds it.
pub(crate) type Timeline = matrix_sdk_ui::timeline::Timeline;

/// Builds the live timeline of the joined room `room_id`.
pub(crate) async fn build(client: &matrix_sdk::Client, room_id: &str) -> CoreResult<Timeline> {
    let room = super::rooms::joined_room(client, room_id)?;
    // The timeline follows the event cache, which listens to sync once
    // subscribed (idempotent; the sync service does it too).
    client
        .event_cache()
        .subscribe()
        .map_err(|e| CoreError::internal(format!("the event cache did not start: {e}")))?;
    room.timeline_builder()
        .track_read_marker_and_receipts(TimelineReadReceiptTracking::AllEvents)
        .build()
        .await
        .map_err(|e| from_timeline(&e))
}

/// matrix-sdk-ui's timeline errors in the core's terms.
pub(crate) fn from_timeline(error: &matrix_sdk_ui::timeline::Error) -> CoreError {
    use matrix_sdk_ui::timeline::{Error as E, RedactError};
    match error {
        E::EventNotInTimeline(id) => CoreError::NotFound {
            detail: format!("no such item in the timeline: {id:?}"),
        },
        E::RedactError(RedactError::ItemNotFound(id)) => CoreError::NotFound {
            detail: format!("no such item in the timeline: {id:?}"),
        },
        E::RedactError(RedactError::HttpError(http)) => errors::from_http(http),
        E::InvalidAttachmentData | E::InvalidAttachmentFileName => {
            CoreError::invalid_argument(error.to_string())
        }
        E::UnsupportedEvent => CoreError::invalid_state(error.to_string()),
        // A back-pagination's request that failed keeps its kind (the
        // server unreachable is `Network`, not `Storage`).
        E::EventCacheError(matrix_sdk::event_cache::EventCacheError::PaginationError(e)) => {
            errors::from_sdk(e)
        }
        // The event cache reads the stores: a closed store (a `pause`
        // under the call) is a storage error, which a paused client's
        // call turns into "call resume() first".
        E::EventCacheError(_) => CoreError::storage(error.to_string()),
        E::PaginationError(_) => CoreError::Network {
            detail: error.to_string(),
        },
        E::SendQueueError(e) => errors::from_send_queue(e),
        // The event replied to or edited, asked of the server when the
        // timeline does not hold it: the request's own error (offline is
        // `Network`).
        E::ReplyError(matrix_sdk::room::reply::ReplyError::Fetch(e))
        | E::EditError(matrix_sdk_ui::timeline::EditError::RoomError(
            matrix_sdk::room::edit::EditError::Fetch(e),
        )) => errors::from_sdk(e),
        E::ReplyError(_) => CoreError::invalid_argument(error.to_string()),
        E::EditError(_) => CoreError::invalid_state(error.to_string()),
        other => CoreError::internal(other.to_string()),
    }
}

/// The event item whose unique id is `item_id`.
async fn event_item(timeline: &Timeline, item_id: &str) -> CoreResult<EventTimelineItem> {
    let items = timeline.items().await;
    let item = items
        .iter()
        .find(|i| i.unique_id().0 == item_id)
        .ok_or_else(|| CoreError::NotFound {
            detail: format!("no item `{item_id}` in the timeline"),
        })?;
    item.as_event()
        .cloned()
        .ok_or_else(|| CoreError::invalid_argument(format!("item `{item_id}` is not an event")))
}

/// What matrix-sdk-ui calls the event item `item_id`.
async fn identifier(timeline: &Timeline, item_id: &str) -> CoreResult<TimelineEventItemId> {
    Ok(event_item(timeline, item_id).await?.identifier())
}

fn parse_event_id(event_id: &str) -> CoreResult<OwnedEventId> {
    OwnedEventId::try_from(event_id.trim())
        .map_err(|e| CoreError::invalid_argument(format!("event id `{event_id}`: {e}")))
}

/// Queues a text message (a reply when `in_reply_to` is an event id); its
/// local echo is in the timeline when this returns.
pub(crate) async fn send_text(
    timeline: &Timeline,
    body: &str,
    in_reply_to: Option<&str>,
) -> CoreResult<()> {
    if body.is_empty() {
        return Err(CoreError::invalid_argument("body is empty"));
    }
    match in_reply_to {
        Some(event_id) => {
            let event_id = parse_event_id(event_id)?;
            timeline
                .send_reply(
                    RoomMessageEventContentWithoutRelation::text_plain(body),
                    event_id,
                )
                .await
        }
        None => timeline
            .send(RoomMessageEventContent::text_plain(body).into())
            .await
            .map(drop),
    }
    .map_err(|e| from_timeline(&e))
}

/// Replaces the text of the message `item_id`.
pub(crate) async fn edit(timeline: &Timeline, item_id: &str, body: &str) -> CoreResult<()> {
    if body.is_empty() {
        return Err(CoreError::invalid_argument("body is empty"));
    }
    let id = identifier(timeline, item_id).await?;
    let content =
        EditedContent::RoomMessage(RoomMessageEventContentWithoutRelation::text_plain(body));
    timeline
        .edit(&id, content)
        .await
        .map_err(|e| from_timeline(&e))
}

/// Redacts the event `item_id` (or takes a local echo back).
pub(crate) async fn redact(
    timeline: &Timeline,
    item_id: &str,
    reason: Option<&str>,
) -> CoreResult<()> {
    let id = identifier(timeline, item_id).await?;
    timeline
        .redact(&id, reason)
        .await
        .map_err(|e| from_timeline(&e))
}

/// Sends again a local echo whose send failed, and re-enables the room's
/// send queue.
pub(crate) async fn retry_send(timeline: &Timeline, item_id: &str) -> CoreResult<()> {
    let item = event_item(timeline, item_id).await?;
    let handle = item.local_echo_send_handle().ok_or_else(|| {
        CoreError::invalid_state(format!(
            "item `{item_id}` is not a local echo waiting to be sent"
        ))
    })?;
    handle
        .unwedge()
        .await
        .map_err(|e| errors::from_send_queue(&e))?;
    timeline.room().send_queue().set_enabled(true);
    Ok(())
}

/// Takes a local echo out of the send queue; `false` when it was already
/// sent (or is being sent and cannot be stopped).
pub(crate) async fn cancel_send(timeline: &Timeline, item_id: &str) -> CoreResult<bool> {
    let item = event_item(timeline, item_id).await?;
    let Some(handle) = item.local_echo_send_handle() else {
        return Ok(false);
    };
    handle
        .abort()
        .await
        .map_err(|e| CoreError::storage(format!("could not take the message back: {e}")))
}

/// Loads `events` older events; `true` once the start of the room is reached.
pub(crate) async fn paginate_backwards(timeline: &Timeline, events: u16) -> CoreResult<bool> {
    if events == 0 {
        return Err(CoreError::invalid_argument("events must be at least 1"));
    }
    timeline
        .paginate_backwards(events)
        .await
        .map_err(|e| from_timeline(&e))
}

/// Waits, until `deadline`, for the back-paginations matrix-sdk runs in
/// `rooms` to end; `false` if one still runs.
///
/// matrix-sdk 0.18 runs a room's back-pagination as a task of its own and
/// keeps the shared future in the room's event cache until it ends
/// (`event_cache/caches/pagination.rs`, `SharedPaginationStatus::Paginating`).
/// While it waits for the server that future holds the room, and so the
/// client: if the runtime stops it there, the client holds itself and is
/// never dropped. An ended pagination lets go.
pub(crate) async fn paginations_settled(
    client: &matrix_sdk::Client,
    rooms: &[String],
    deadline: tokio::time::Instant,
) -> bool {
    use matrix_sdk::event_cache::PaginationStatus;
    for room_id in rooms {
        let Some(room) = matrix_sdk::ruma::RoomId::parse(room_id)
            .ok()
            .and_then(|id| client.get_room(&id))
        else {
            continue;
        };
        let Ok((cache, _handles)) = room.event_cache().await else {
            continue;
        };
        let mut status = cache.pagination().status();
        while status.get() == PaginationStatus::Paginating {
            match tokio::time::timeout_at(deadline, status.next()).await {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return false,
            }
        }
    }
    true
}

/// Sends the read receipt and the fully-read marker at the latest event.
pub(crate) async fn mark_as_read(timeline: &Timeline) -> CoreResult<()> {
    let Some(latest) = timeline.latest_event_id().await else {
        return Ok(());
    };
    let receipts = Receipts::new()
        .fully_read_marker(Some(latest.clone()))
        .public_read_receipt(Some(latest));
    timeline
        .send_multiple_receipts(receipts)
        .await
        .map_err(|e| errors::from_sdk(&e))
}

/// Tells the room whether this user is typing.
pub(crate) async fn set_typing(room: &Room, typing: bool) -> CoreResult<()> {
    room.typing_notice(typing)
        .await
        .map_err(|e| errors::from_sdk(&e))
}

/// Calls `emit` with the users typing in `room` (the own user left out) on
/// every change, until the client's updates end.
pub(crate) async fn follow_typing(room: Room, emit: impl Fn(Vec<String>)) {
    use tokio::sync::broadcast::error::RecvError;
    let (_guard, mut updates) = room.subscribe_to_typing_notifications();
    drop(room);
    loop {
        match updates.recv().await {
            Ok(users) => emit(users.iter().map(OwnedUserId::to_string).collect()),
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

/// Local echoes that have not reached the server, over every room, but
/// the ones the app took back.
pub(crate) async fn unsent_messages(client: &matrix_sdk::Client) -> CoreResult<u32> {
    let store = client.state_store();
    let rooms = store
        .load_rooms_with_unsent_requests()
        .await
        .map_err(|e| CoreError::storage(e.to_string()))?;
    let mut count = 0usize;
    for room in rooms {
        let storage = |e: matrix_sdk::StoreError| CoreError::storage(e.to_string());
        // A message taken back (`cancel_send`) while it was being sent stays
        // queued with a redaction to follow: the app took it back, so it is
        // not counted.
        let taken_back: HashSet<_> = store
            .load_dependent_queued_requests(&room)
            .await
            .map_err(storage)?
            .into_iter()
            .filter(|d| matches!(d.kind, DependentQueuedRequestKind::RedactEvent))
            .map(|d| d.parent_transaction_id)
            .collect();
        count += store
            .load_send_queue_requests(&room)
            .await
            .map_err(storage)?
            .iter()
            .filter(|r| !taken_back.contains(&r.transaction_id))
            .count();
    }
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}
