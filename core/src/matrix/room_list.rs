//! The room list: matrix-sdk-ui's `RoomListService` (the one the client's
//! `SyncService` runs) as diffs of [`RoomSummary`], its filters and pages,
//! and a room's summary in the core's terms.

use std::sync::Arc;

use futures_util::StreamExt;
use matrix_sdk::latest_events::LatestEventValue;
use matrix_sdk::{Room, RoomState};
use matrix_sdk_ui::room_list_service::filters::{
    new_filter_all, new_filter_category, new_filter_favourite, new_filter_invite,
    new_filter_non_left, new_filter_normalized_match_room_name, new_filter_unread, RoomCategory,
};
use matrix_sdk_ui::room_list_service::{filters::BoxedFilterFn, RoomListItem, RoomListService};
use tokio::sync::mpsc::UnboundedReceiver;

use super::sync::Service;
use super::{diffs, preview};
use crate::api::{
    LatestMessage, Membership, PreviewKind, RoomListFilter, RoomListUpdate, RoomSummary,
};

/// What a room list handle asks of its running list.
#[derive(Debug)]
pub(crate) enum Command {
    SetFilter(RoomListFilter),
    LoadMore,
}

/// The room list service of a sync service.
pub(crate) fn service(sync: &Service) -> Arc<RoomListService> {
    sync.room_list_service()
}

/// Runs a room list until `commands` closes or the list ends: every change
/// goes to `emit` as diffs, the first a `Reset`. A new filter resets the
/// list; `LoadMore` adds a page. While `lagging()` says the listener is far
/// behind, a change goes as a `Reset` of the whole list instead.
pub(crate) async fn run(
    rooms: Arc<RoomListService>,
    page_size: u32,
    filter: RoomListFilter,
    mut commands: UnboundedReceiver<Command>,
    emit: impl Fn(Vec<RoomListUpdate>),
    lagging: impl Fn() -> bool,
) -> Result<(), String> {
    let list = rooms
        .all_rooms()
        .await
        .map_err(|e| format!("the room list is unavailable: {e}"))?;
    let (stream, controller) = list.entries_with_dynamic_adapters(page_size.max(1) as usize);
    futures_util::pin_mut!(stream);
    controller.set_filter(filter_fn(&filter));
    // The list as the listener will see it: what a lagging one is reset to.
    let mut current = imbl::Vector::new();
    loop {
        tokio::select! {
            batch = stream.next() => match batch {
                Some(batch) => {
                    emit(diffs::follow(batch, &mut current, &lagging, |i: &RoomListItem| summary(i)));
                }
                None => return Ok(()),
            },
            command = commands.recv() => match command {
                Some(Command::SetFilter(filter)) => {
                    controller.set_filter(filter_fn(&filter));
                }
                Some(Command::LoadMore) => controller.add_one_page(),
                None => return Ok(()),
            },
        }
    }
}

/// matrix-sdk-ui's filter for a [`RoomListFilter`]. Left rooms never show.
fn filter_fn(filter: &RoomListFilter) -> BoxedFilterFn {
    let non_left = || -> BoxedFilterFn { Box::new(new_filter_non_left()) };
    match filter {
        RoomListFilter::All => non_left(),
        RoomListFilter::Unread => Box::new(new_filter_all(vec![
            non_left(),
            Box::new(new_filter_unread()),
        ])),
        RoomListFilter::Favourites => Box::new(new_filter_all(vec![
            non_left(),
            Box::new(new_filter_favourite()),
        ])),
        RoomListFilter::Invites => Box::new(new_filter_invite()),
        RoomListFilter::DirectMessages => Box::new(new_filter_all(vec![
            non_left(),
            Box::new(new_filter_category(RoomCategory::People)),
        ])),
        RoomListFilter::Groups => Box::new(new_filter_all(vec![
            non_left(),
            Box::new(new_filter_category(RoomCategory::Group)),
        ])),
        RoomListFilter::NameMatches { pattern } => Box::new(new_filter_all(vec![
            non_left(),
            Box::new(new_filter_normalized_match_room_name(pattern)),
        ])),
    }
}

/// A room's summary, from the local state (no request).
pub(crate) fn summary(room: &Room) -> RoomSummary {
    RoomSummary {
        room_id: room.room_id().to_string(),
        name: room
            .name()
            .or_else(|| room.cached_display_name().map(|n| n.to_string())),
        is_encrypted: room.encryption_state().is_encrypted(),
        joined_members: room.joined_members_count(),
        membership: membership(room.state()),
        is_direct: room.direct_targets_length() > 0,
        is_favourite: room.is_favourite(),
        topic: room.topic(),
        avatar_url: room.avatar_url().map(|u| u.to_string()),
        unread_messages: room.num_unread_messages(),
        unread_mentions: room.num_unread_mentions(),
        latest: latest(room),
        avatar: room
            .avatar_url()
            .and_then(|u| crate::matrix::media::source_of_url(u.as_str())),
        notification_mode: room
            .cached_user_defined_notification_mode()
            .map(super::notification_settings::mode_record),
        is_marked_unread: room.is_marked_unread(),
        notification_count: room.num_unread_notifications(),
    }
}

fn membership(state: RoomState) -> Membership {
    match state {
        RoomState::Joined => Membership::Joined,
        RoomState::Invited => Membership::Invited,
        RoomState::Left => Membership::Left,
        RoomState::Knocked => Membership::Knocked,
        RoomState::Banned => Membership::Banned,
    }
}

/// The room's latest event as a row's preview; local echoes included.
fn latest(room: &Room) -> Option<LatestMessage> {
    let ms = |ts: matrix_sdk::ruma::MilliSecondsSinceUnixEpoch| u64::from(ts.get());
    let row = |sender: String, kind: PreviewKind, timestamp_ms| LatestMessage {
        sender,
        preview: preview::english(&kind),
        timestamp_ms,
        kind,
    };
    match room.latest_event() {
        LatestEventValue::None => None,
        LatestEventValue::Remote(event) => {
            let timestamp_ms = event.timestamp().map(ms).unwrap_or(0);
            let parsed = event.raw().deserialize().ok()?;
            Some(row(
                parsed.sender().to_string(),
                preview::of_event(&parsed),
                timestamp_ms,
            ))
        }
        LatestEventValue::RemoteInvite {
            timestamp, inviter, ..
        } => Some(row(
            inviter.map(|u| u.to_string()).unwrap_or_default(),
            PreviewKind::Invite,
            ms(timestamp),
        )),
        LatestEventValue::LocalIsSending(local)
        | LatestEventValue::LocalHasBeenSent { value: local, .. }
        | LatestEventValue::LocalCannotBeSent(local) => {
            let kind = match local.content.deserialize() {
                Ok(content) => preview::of_local(&content),
                Err(_) => PreviewKind::Other {
                    event_type: String::new(),
                },
            };
            Some(row(
                room.own_user_id().to_string(),
                kind,
                ms(local.timestamp),
            ))
        }
    }
}
