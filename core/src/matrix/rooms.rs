//! Rooms: create, join, leave, invite, tag, list, send text, read recent
//! messages.

use std::time::Duration;

use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::api::client::room::create_room::v3::Request as CreateRoomRequest;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::message::{MessageType, RoomMessageEventContent};
use matrix_sdk::ruma::events::{
    AnySyncMessageLikeEvent, AnySyncTimelineEvent, InitialStateEvent, SyncMessageLikeEvent,
};
use matrix_sdk::ruma::{OwnedRoomId, OwnedRoomOrAliasId, OwnedUserId, UInt};
use matrix_sdk::Room;

use super::errors;
use crate::api::Message;
use crate::api::{CoreError, CoreResult};

/// Most messages one `recent_messages` call returns.
pub(crate) const MAX_RECENT: u32 = 1000;

/// Parses a room id, or says why it is not one.
pub(crate) fn parse_room_id(room_id: &str) -> CoreResult<OwnedRoomId> {
    OwnedRoomId::try_from(room_id.trim())
        .map_err(|e| CoreError::invalid_argument(format!("room id `{room_id}`: {e}")))
}

/// The joined room `room_id`, or `NotFound`.
pub(crate) fn joined_room(client: &matrix_sdk::Client, room_id: &str) -> CoreResult<Room> {
    let id = parse_room_id(room_id)?;
    client
        .get_room(&id)
        .filter(|r| r.state() == matrix_sdk::RoomState::Joined)
        .ok_or_else(|| CoreError::NotFound {
            detail: format!("no joined room `{room_id}`"),
        })
}

/// How long `create_room` waits, while sync runs, for the new room's state.
pub(crate) const NEW_ROOM_STATE_WAIT: Duration = Duration::from_secs(10);

/// Creates a room, optionally encrypted, inviting `invite`; returns its id.
///
/// The server answers with the id alone; the room's state (its name, its
/// encryption) reaches the stores with the next sync, and until then the
/// room reads as "Empty Room" and unencrypted. With `wait_for_state`, this
/// waits that long at most for sync to bring what was asked for, so that
/// an app showing the room at once shows it right; past it (or without it,
/// when sync does not run) the state comes with the next sync as usual.
pub(crate) async fn create_room(
    client: &matrix_sdk::Client,
    name: &str,
    invite: &[String],
    encrypted: bool,
    wait_for_state: Option<Duration>,
) -> CoreResult<String> {
    let invite = invite
        .iter()
        .map(|u| {
            OwnedUserId::try_from(u.trim())
                .map_err(|e| CoreError::invalid_argument(format!("user id `{u}`: {e}")))
        })
        .collect::<CoreResult<Vec<_>>>()?;
    let mut request = CreateRoomRequest::new();
    if !name.trim().is_empty() {
        request.name = Some(name.to_owned());
    }
    request.invite = invite;
    if encrypted {
        let content = RoomEncryptionEventContent::with_recommended_defaults();
        request.initial_state = vec![InitialStateEvent::with_empty_state_key(content).to_raw_any()];
    }
    let named = request.name.is_some();
    let room = client
        .create_room(request)
        .await
        .map_err(|e| errors::from_sdk(&e))?;
    if let Some(bound) = wait_for_state {
        if !state_arrived(&room, named, encrypted, bound).await {
            tracing::debug!(room = %room.room_id(), "the new room's state has not arrived yet");
        }
    }
    Ok(room.room_id().to_string())
}

/// Waits, at most `bound`, until the stores know the room's name (when it
/// was `named`) and that it is encrypted (when it is); whether they do.
async fn state_arrived(room: &Room, named: bool, encrypted: bool, bound: Duration) -> bool {
    let ready = |room: &Room| {
        (!named || room.name().is_some()) && (!encrypted || room.encryption_state().is_encrypted())
    };
    // Subscribed before the first look, so that no change falls between.
    let mut info = room.subscribe_info();
    let wait = async {
        while !ready(room) {
            if info.next().await.is_none() {
                return false;
            }
        }
        true
    };
    tokio::time::timeout(bound, wait).await.unwrap_or(false)
}

/// Joins a room by id or alias; returns its id.
pub(crate) async fn join_room(
    client: &matrix_sdk::Client,
    room_id_or_alias: &str,
) -> CoreResult<String> {
    let target = OwnedRoomOrAliasId::try_from(room_id_or_alias.trim()).map_err(|e| {
        CoreError::invalid_argument(format!("room id or alias `{room_id_or_alias}`: {e}"))
    })?;
    let room = client
        .join_room_by_id_or_alias(&target, &[])
        .await
        .map_err(|e| errors::from_sdk(&e))?;
    Ok(room.room_id().to_string())
}

/// A room the user is in, was invited to or knocked on.
fn known_room(client: &matrix_sdk::Client, room_id: &str) -> CoreResult<Room> {
    let id = parse_room_id(room_id)?;
    client
        .get_room(&id)
        .filter(|r| r.state() != matrix_sdk::RoomState::Left)
        .ok_or_else(|| CoreError::NotFound {
            detail: format!("no joined or invited room `{room_id}`"),
        })
}

/// Leaves a room, or declines its invite.
pub(crate) async fn leave(client: &matrix_sdk::Client, room_id: &str) -> CoreResult<()> {
    let room = known_room(client, room_id)?;
    room.leave().await.map_err(|e| errors::from_sdk(&e))
}

/// Invites `user_id` to the joined room `room_id`.
pub(crate) async fn invite(
    client: &matrix_sdk::Client,
    room_id: &str,
    user_id: &str,
) -> CoreResult<()> {
    let user = OwnedUserId::try_from(user_id.trim())
        .map_err(|e| CoreError::invalid_argument(format!("user id `{user_id}`: {e}")))?;
    let room = joined_room(client, room_id)?;
    room.invite_user_by_id(&user)
        .await
        .map_err(|e| errors::from_sdk(&e))
}

/// Tags a room as a favourite, or takes the tag off.
pub(crate) async fn set_favourite(
    client: &matrix_sdk::Client,
    room_id: &str,
    favourite: bool,
) -> CoreResult<()> {
    let room = known_room(client, room_id)?;
    room.set_is_favourite(favourite, None)
        .await
        .map_err(|e| errors::from_sdk(&e))
}

/// Sends a plain-text message; returns its event id.
pub(crate) async fn send_text(
    client: &matrix_sdk::Client,
    room_id: &str,
    body: &str,
) -> CoreResult<String> {
    if body.is_empty() {
        return Err(CoreError::invalid_argument("body is empty"));
    }
    let room = joined_room(client, room_id)?;
    let response = room
        .send(RoomMessageEventContent::text_plain(body))
        .await
        .map_err(|e| errors::from_sdk(&e))?;
    Ok(response.response.event_id.to_string())
}

/// The last `limit` text messages of a room, newest last.
pub(crate) async fn recent_messages(
    client: &matrix_sdk::Client,
    room_id: &str,
    limit: u32,
) -> CoreResult<Vec<Message>> {
    if limit == 0 || limit > MAX_RECENT {
        return Err(CoreError::invalid_argument(format!(
            "limit must be 1..={MAX_RECENT}"
        )));
    }
    let room = joined_room(client, room_id)?;
    let mut options = MessagesOptions::backward();
    options.limit = UInt::from(limit);
    let page = room
        .messages(options)
        .await
        .map_err(|e| errors::from_sdk(&e))?;
    let mut messages: Vec<Message> = page
        .chunk
        .iter()
        .filter_map(|event| event.raw().deserialize().ok())
        .filter_map(|event| text_message(room.room_id().as_str(), &event))
        .collect();
    messages.reverse();
    Ok(messages)
}

/// Calls `publish` with every text message that sync delivers. The handler
/// holds only what `publish` holds.
pub(crate) fn on_text_messages(
    client: &matrix_sdk::Client,
    publish: impl Fn(Message) + Clone + Send + Sync + 'static,
) {
    use matrix_sdk::ruma::events::room::message::OriginalSyncRoomMessageEvent;
    client.add_event_handler(
        move |event: OriginalSyncRoomMessageEvent, room: matrix_sdk::Room| {
            let publish = publish.clone();
            async move {
                let any = AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
                    SyncMessageLikeEvent::Original(event),
                ));
                if let Some(message) = text_message(room.room_id().as_str(), &any) {
                    publish(message);
                }
            }
        },
    );
}

/// A text message out of a timeline event, if it is one.
pub(crate) fn text_message(room_id: &str, event: &AnySyncTimelineEvent) -> Option<Message> {
    let AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
        SyncMessageLikeEvent::Original(ev),
    )) = event
    else {
        return None;
    };
    let MessageType::Text(text) = &ev.content.msgtype else {
        return None;
    };
    Some(Message {
        event_id: ev.event_id.to_string(),
        room_id: room_id.to_owned(),
        sender: ev.sender.to_string(),
        body: text.body.clone(),
        timestamp_ms: ev.origin_server_ts.get().into(),
    })
}
