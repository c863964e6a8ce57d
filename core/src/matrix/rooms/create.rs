//! Creating rooms: [`create_room_with`] and its options, direct messages
//! included, and the wait for the new room's state to reach the stores.

use std::time::Duration;

use matrix_sdk::ruma::api::client::room::create_room::v3::{
    Request as CreateRoomRequest, RoomPreset as SdkPreset,
};
use matrix_sdk::ruma::api::client::room::Visibility;
use matrix_sdk::ruma::events::room::avatar::RoomAvatarEventContent;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::MediaSource as SdkMediaSource;
use matrix_sdk::ruma::events::InitialStateEvent;
use matrix_sdk::Room;

use super::parse_user_id;
use crate::api::{CoreError, CoreResult, CreateRoomOptions, RoomPreset, RoomVisibility};
use crate::matrix::errors;

/// How long a room's creation waits, while sync runs, for its state.
pub(crate) const NEW_ROOM_STATE_WAIT: Duration = Duration::from_secs(10);

/// The options of a plain room: private, named (unless `name` is blank),
/// inviting `invite`.
pub(crate) fn plain_options(name: &str, invite: Vec<String>, encrypted: bool) -> CreateRoomOptions {
    CreateRoomOptions {
        name: (!name.trim().is_empty()).then(|| name.to_owned()),
        invite,
        encrypted,
        ..CreateRoomOptions::default()
    }
}

/// The options of a new direct message with `user_id`: encrypted,
/// `TrustedPrivateChat`, the user invited.
pub(crate) fn direct_options(user_id: &str) -> CreateRoomOptions {
    CreateRoomOptions {
        invite: vec![user_id.to_owned()],
        is_direct: true,
        encrypted: true,
        preset: RoomPreset::TrustedPrivateChat,
        ..CreateRoomOptions::default()
    }
}

/// Creates a room as `options` say; returns its id. Every argument is
/// checked before the request.
///
/// The server answers with the id alone; the room's state (its name, its
/// encryption, the account's `m.direct`) reaches the stores with the next
/// sync, and until then the room reads as "Empty Room", unencrypted, not
/// direct. With `wait_for_state`, this waits that long at most for sync to
/// bring what was asked for, so that an app showing the room at once shows
/// it right; past it (or without it, when sync does not run) the state
/// comes with the next sync as usual.
pub(crate) async fn create_room_with(
    client: &matrix_sdk::Client,
    options: &CreateRoomOptions,
    wait_for_state: Option<Duration>,
) -> CoreResult<String> {
    let request = request_of(options)?;
    let asked = Asked {
        named: request.name.is_some(),
        encrypted: options.encrypted,
        direct: options.is_direct && !request.invite.is_empty(),
    };
    let room = client
        .create_room(request)
        .await
        .map_err(|e| errors::from_sdk(&e))?;
    if let Some(bound) = wait_for_state {
        if !state_arrived(&room, asked, bound).await {
            tracing::debug!(room = %room.room_id(), "the new room's state has not arrived yet");
        }
    }
    Ok(room.room_id().to_string())
}

/// The server's request for `options`, or why they are refused.
fn request_of(options: &CreateRoomOptions) -> CoreResult<CreateRoomRequest> {
    let mut request = CreateRoomRequest::new();
    request.invite = options
        .invite
        .iter()
        .map(|u| parse_user_id(u))
        .collect::<CoreResult<Vec<_>>>()?;
    request.name = options
        .name
        .as_ref()
        .filter(|n| !n.trim().is_empty())
        .cloned();
    request.topic = options.topic.clone();
    request.is_direct = options.is_direct;
    request.visibility = match options.visibility {
        RoomVisibility::Private => Visibility::Private,
        RoomVisibility::Public => Visibility::Public,
    };
    request.preset = Some(match options.preset {
        RoomPreset::PrivateChat => SdkPreset::PrivateChat,
        RoomPreset::TrustedPrivateChat => SdkPreset::TrustedPrivateChat,
        RoomPreset::PublicChat => SdkPreset::PublicChat,
    });
    if let Some(alias) = &options.alias_local_part {
        let alias = alias.trim();
        if alias.is_empty() || alias.contains([':', '#']) || alias.chars().any(char::is_whitespace)
        {
            return Err(CoreError::invalid_argument(format!(
                "alias_local_part `{alias}`: give the part before the `:`, without `#`, spaces or `:`"
            )));
        }
        request.room_alias_name = Some(alias.to_owned());
    }
    if options.encrypted {
        let content = RoomEncryptionEventContent::with_recommended_defaults();
        let event = InitialStateEvent::with_empty_state_key(content).to_raw_any();
        request.initial_state.push(event);
    }
    if let Some(avatar) = &options.avatar {
        let SdkMediaSource::Plain(uri) = crate::matrix::timeline::items::sdk_media_source(avatar)?
        else {
            return Err(CoreError::invalid_argument(
                "avatar: an encrypted file cannot be a room's avatar",
            ));
        };
        let mut content = RoomAvatarEventContent::new();
        content.url = Some(uri);
        let event = InitialStateEvent::with_empty_state_key(content).to_raw_any();
        request.initial_state.push(event);
    }
    Ok(request)
}

/// What a new room's state should show once sync has brought it.
#[derive(Clone, Copy)]
struct Asked {
    named: bool,
    encrypted: bool,
    direct: bool,
}

/// Waits, at most `bound`, until the stores know what was `asked`;
/// whether they do.
async fn state_arrived(room: &Room, asked: Asked, bound: Duration) -> bool {
    let ready = |room: &Room| {
        (!asked.named || room.name().is_some())
            && (!asked.encrypted || room.encryption_state().is_encrypted())
            && (!asked.direct || room.direct_targets_length() > 0)
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
