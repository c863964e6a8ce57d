//! One push notification's event, fetched and decrypted by matrix-sdk-ui's
//! `NotificationClient`, and turned into the contract's [`NotificationItem`].
//!
//! A room that the stores hold (the app has synced it) is asked with one
//! `/context` request; otherwise, or when that finds nothing, the
//! `NotificationClient` runs a short sliding sync of its own (connection
//! `notifications`) on an in-memory copy of the client's state, falling back
//! to `/context`. An event still encrypted is retried after two
//! iterations of an encryption sync, under the cross-process crypto-store
//! lock (which the app's sync holds while it runs: then the event stays
//! encrypted and `body` is `None`).

use matrix_sdk::ruma::api::client::push::get_notifications;
use matrix_sdk::ruma::events::{
    AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent, TimelineEventType,
};
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId};
use matrix_sdk_ui::notification_client::{
    self as ui, NotificationClient, NotificationEvent, NotificationProcessSetup, NotificationStatus,
};

use super::errors;
use super::media;
use super::rooms::parse_room_id;
use crate::api::{CoreError, CoreResult, NotificationItem, NotificationKind};

/// The event a notification is about, its ids checked.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) room_id: OwnedRoomId,
    pub(crate) event_id: OwnedEventId,
}

/// `InvalidArgument` unless `room_id` and `event_id` are a room id and an
/// event id. Makes no request.
pub(crate) fn target(room_id: &str, event_id: &str) -> CoreResult<Target> {
    let room_id = parse_room_id(room_id)?;
    let event_id = OwnedEventId::try_from(event_id.trim())
        .map_err(|e| CoreError::invalid_argument(format!("event id `{event_id}`: {e}")))?;
    Ok(Target { room_id, event_id })
}

/// Fetches the event of `target` for the logged-in `client`.
///
/// `Ok(None)` when there is nothing to show: the account's push rules say
/// the event does not notify (the user's own messages, for one), its sender
/// is ignored, or it was redacted. `NotFound` when the room or the event is
/// unknown to the account. The `NotificationClient` (and its in-memory
/// client) is dropped before this returns.
///
/// `sync` is the sync service of a client whose stores no other process
/// shares (single-process locks), which answers in its own process: the
/// encryption sync then takes turns with that service's own
/// (`NotificationProcessSetup::SingleProcess`), where otherwise the
/// cross-process crypto-store lock orders them.
pub(crate) async fn fetch(
    client: &matrix_sdk::Client,
    target: &Target,
    sync: Option<std::sync::Arc<super::sync::Service>>,
) -> CoreResult<Option<NotificationItem>> {
    let setup = match sync {
        Some(sync_service) => NotificationProcessSetup::SingleProcess { sync_service },
        None => NotificationProcessSetup::MultipleProcesses,
    };
    let notifications = NotificationClient::new(client.clone(), setup)
        .await
        .map_err(from_ui)?;
    let status = fetch_status(&notifications, client, target).await;
    drop(notifications);
    match status.map_err(from_ui)? {
        NotificationStatus::Event(item) => {
            let mut shown = item_of(target, &item);
            if shown.kind == NotificationKind::Invite {
                shown.timestamp_ms = invite_timestamp(client, target, &item.raw_event).await;
            }
            Ok(Some(shown))
        }
        NotificationStatus::EventFilteredOut | NotificationStatus::EventRedacted => Ok(None),
        NotificationStatus::EventNotFound => Err(CoreError::NotFound {
            detail: format!("event {} in room {}", target.event_id, target.room_id),
        }),
    }
}

/// The event's status: with one `/context` request when the room is in the
/// stores (the app has synced it), else (or when that finds nothing) with
/// matrix-sdk-ui's own order: a short sliding sync, then `/context`.
///
/// The sliding sync subscribes to the room with a timeline of the last 16
/// events; an event older than that costs it three long polls (about 2 s)
/// before its own `/context` fallback, where `/context` alone takes one
/// round trip.
async fn fetch_status(
    notifications: &NotificationClient,
    client: &matrix_sdk::Client,
    target: &Target,
) -> Result<NotificationStatus, ui::Error> {
    if client.get_room(&target.room_id).is_some() {
        match notifications
            .get_notification_with_context(&target.room_id, &target.event_id)
            .await
        {
            Ok(status) => return Ok(status),
            Err(e) => tracing::debug!(%e, "no notification from /context; trying a sliding sync"),
        }
    }
    notifications
        .get_notification(&target.room_id, &target.event_id)
        .await
}

/// matrix-sdk-ui's notification in the contract's terms (an invite's
/// timestamp is left 0: its stripped event has none, see
/// [`invite_timestamp`]).
fn item_of(target: &Target, item: &ui::NotificationItem) -> NotificationItem {
    let (sender, body, kind, still_encrypted, timestamp_ms) = match &item.event {
        NotificationEvent::Timeline(event) => {
            let event_type = event.event_type();
            let still_encrypted = event_type == TimelineEventType::RoomEncrypted;
            let kind = if still_encrypted || event_type == TimelineEventType::RoomMessage {
                NotificationKind::Message
            } else {
                NotificationKind::Other {
                    event_type: event_type.to_string(),
                }
            };
            (
                event.sender().to_string(),
                body_of(event),
                kind,
                still_encrypted,
                event.origin_server_ts().get().into(),
            )
        }
        NotificationEvent::Invite(invite) => (
            invite.sender.to_string(),
            None,
            NotificationKind::Invite,
            false,
            0,
        ),
    };
    let avatar = |url: &Option<String>| url.as_deref().and_then(media::source_of_url);
    NotificationItem {
        room_id: target.room_id.to_string(),
        event_id: target.event_id.to_string(),
        room_name: item.room_computed_display_name.clone(),
        room_avatar: avatar(&item.room_avatar_url),
        sender,
        sender_name: item.sender_display_name.clone(),
        sender_avatar: avatar(&item.sender_avatar_url),
        body,
        kind,
        is_dm: item.is_direct_message_room,
        has_mention: item.has_mention == Some(true),
        is_encrypted: still_encrypted || item.is_room_encrypted == Some(true),
        is_noisy: item.is_noisy == Some(true),
        timestamp_ms,
    }
}

/// When the invite of `target` was sent: its stripped event's
/// `origin_server_ts` where the server put one in, else the server's list
/// of this user's recent notifications (the invite notified; its
/// invitee may not fetch the event itself). 0 when neither says.
async fn invite_timestamp(
    client: &matrix_sdk::Client,
    target: &Target,
    raw: &ui::RawNotificationEvent,
) -> u64 {
    if let ui::RawNotificationEvent::Invite(raw) = raw {
        if let Ok(Some(ts)) = raw.get_field::<u64>("origin_server_ts") {
            return ts;
        }
    }
    let mut request = get_notifications::v3::Request::new();
    request.limit = Some(RECENT_NOTIFICATIONS.into());
    match client.send(request).await {
        Ok(response) => response
            .notifications
            .iter()
            .find(|n| {
                n.event.get_field::<OwnedEventId>("event_id").ok().flatten()
                    == Some(target.event_id.clone())
            })
            .map_or(0, |n| {
                n.event
                    .get_field::<u64>("origin_server_ts")
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| n.ts.get().into())
            }),
        Err(e) => {
            tracing::debug!(%e, "no list of notifications for the invite's time");
            0
        }
    }
}

/// How many of the user's latest notifications are looked through for an
/// invite's time.
const RECENT_NOTIFICATIONS: u32 = 50;

/// The text of a (decrypted) message: its body, or a media message's
/// caption or file name. `None` for anything else, an event still
/// encrypted included.
fn body_of(event: &AnySyncTimelineEvent) -> Option<String> {
    match event {
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
            SyncMessageLikeEvent::Original(message),
        )) => Some(message.content.msgtype.body().to_owned()),
        _ => None,
    }
}

/// Maps a `NotificationClient` error, by kind.
fn from_ui(error: ui::Error) -> CoreError {
    match error {
        ui::Error::UnknownRoom => CoreError::NotFound {
            detail: "the room is not known to this account".into(),
        },
        ui::Error::ContextMissingEvent | ui::Error::SlidingSyncEmptyRoom => CoreError::NotFound {
            detail: error.to_string(),
        },
        ui::Error::SdkError(e) => errors::from_sdk(&e),
        ui::Error::StoreError(e) => CoreError::storage(e.to_string()),
        ui::Error::BuildingLocalClient(e) => errors::from_build(&e),
        ui::Error::InvalidRumaEvent => {
            CoreError::internal("the notification's event does not parse")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(content: serde_json::Value, kind: &str) -> AnySyncTimelineEvent {
        let json = serde_json::json!({
            "type": kind,
            "event_id": "$e:localhost",
            "sender": "@bob:localhost",
            "origin_server_ts": 1_700_000_000_000_u64,
            "content": content,
        });
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{kind}: {e}"))
    }

    #[test]
    fn the_body_is_the_text_of_a_message_and_nothing_else() {
        let cases = [
            (
                "m.room.message",
                serde_json::json!({"msgtype": "m.text", "body": "hello"}),
                Some("hello"),
            ),
            (
                "m.room.message",
                serde_json::json!({"msgtype": "m.notice", "body": "a notice"}),
                Some("a notice"),
            ),
            (
                "m.room.message",
                serde_json::json!({"msgtype": "m.image", "body": "cat.png", "url": "mxc://x/y"}),
                Some("cat.png"),
            ),
            (
                "m.room.encrypted",
                serde_json::json!({
                    "algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AAAA",
                    "device_id": "D", "sender_key": "K", "session_id": "S"
                }),
                None,
            ),
            (
                "m.reaction",
                serde_json::json!({"m.relates_to": {
                    "rel_type": "m.annotation", "event_id": "$x:localhost", "key": "👍"
                }}),
                None,
            ),
        ];
        for (kind, content, expected) in cases {
            let body = body_of(&event(content, kind));
            assert_eq!(body.as_deref(), expected, "{kind}");
        }
    }

    #[test]
    fn bad_ids_are_invalid_arguments() {
        for (room, event) in [
            ("", "$e:localhost"),
            ("not a room", "$e:localhost"),
            ("!r:localhost", ""),
            ("!r:localhost", "no dollar"),
            ("#alias:localhost", "$e:localhost"),
        ] {
            assert!(
                matches!(target(room, event), Err(CoreError::InvalidArgument { .. })),
                "{room:?} {event:?}"
            );
        }
        assert!(target("!r:localhost", "$e:localhost").is_ok());
    }
}
