//! Rooms: join, leave, invite, tag, send text, read recent messages; and
//! in their own files, creating rooms and direct messages ([`create`]) and
//! changing a room's name, topic and avatar ([`settings`]).

pub(crate) mod create;
pub(crate) mod settings;

use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::events::room::message::{MessageType, RoomMessageEventContent};
use matrix_sdk::ruma::events::{
    AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
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

/// Parses a user id, or says why it is not one.
pub(crate) fn parse_user_id(user_id: &str) -> CoreResult<OwnedUserId> {
    OwnedUserId::try_from(user_id.trim())
        .map_err(|e| CoreError::invalid_argument(format!("user id `{user_id}`: {e}")))
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
pub(crate) fn known_room(client: &matrix_sdk::Client, room_id: &str) -> CoreResult<Room> {
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

/// Declines the invite to `room_id`; a room the user is not invited to is
/// `InvalidState` (leave it with `leave_room`).
pub(crate) async fn decline_invite(client: &matrix_sdk::Client, room_id: &str) -> CoreResult<()> {
    let room = known_room(client, room_id)?;
    if room.state() != matrix_sdk::RoomState::Invited {
        return Err(CoreError::invalid_state(format!(
            "`{room_id}` is not an invite: leave it with leave_room"
        )));
    }
    room.leave().await.map_err(|e| errors::from_sdk(&e))
}

/// Invites `user_id` to the joined room `room_id`.
pub(crate) async fn invite(
    client: &matrix_sdk::Client,
    room_id: &str,
    user_id: &str,
) -> CoreResult<()> {
    let user = parse_user_id(user_id)?;
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

/// Marks a known room unread, or clears the mark (the account data
/// `m.marked_unread`; nothing is sent when the mark is already so). The
/// room reads the mark once sync brings it back: with `wait_for_sync`,
/// this waits that long at most for it.
pub(crate) async fn set_marked_unread(
    client: &matrix_sdk::Client,
    room_id: &str,
    unread: bool,
    wait_for_sync: Option<std::time::Duration>,
) -> CoreResult<()> {
    let room = known_room(client, room_id)?;
    // Subscribed before the request: the mark cannot come back unseen.
    let mut info = room.subscribe_info();
    room.set_unread_flag(unread)
        .await
        .map_err(|e| errors::from_sdk(&e))?;
    if let Some(bound) = wait_for_sync {
        let back = async {
            while room.is_marked_unread() != unread {
                if info.next().await.is_none() {
                    return;
                }
            }
        };
        if tokio::time::timeout(bound, back).await.is_err() {
            tracing::debug!(%room_id, "the unread mark has not come back from sync yet");
        }
    }
    Ok(())
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
