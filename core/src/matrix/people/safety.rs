//! Ignoring users and reporting what they sent. Once a user is ignored, the
//! server leaves their events out of sync and history, and matrix-sdk
//! empties its event cache and rebuilds open timelines without them.

use matrix_sdk::ruma::api::client::room::report_room;
use matrix_sdk::ruma::events::ignored_user_list::{IgnoredUser, IgnoredUserListEventContent};
use matrix_sdk::ruma::OwnedEventId;

use crate::api::{CoreError, CoreResult};
use crate::matrix::errors;
use crate::matrix::rooms::{joined_room, parse_room_id, parse_user_id};

/// Changes to the ignore list, one at a time in the process: each reads
/// the server's list and writes it back.
static CHANGING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Adds `user_id` to the account's ignore list; ignoring oneself is
/// `InvalidArgument`.
pub(crate) async fn ignore(client: &matrix_sdk::Client, user_id: &str) -> CoreResult<()> {
    let user = parse_user_id(user_id)?;
    if client.user_id() == Some(user.as_ref()) {
        return Err(CoreError::invalid_argument(
            "a user cannot ignore themselves",
        ));
    }
    change_list(client, |list| {
        list.ignored_users
            .insert(user, IgnoredUser::new())
            .is_none()
    })
    .await
}

/// Takes `user_id` off the account's ignore list (nothing if not on it).
pub(crate) async fn unignore(client: &matrix_sdk::Client, user_id: &str) -> CoreResult<()> {
    let user = parse_user_id(user_id)?;
    change_list(client, |list| list.ignored_users.remove(&user).is_some()).await
}

/// Applies `change` to the server's ignore list and writes it back if it
/// says it changed anything. matrix-sdk's own `ignore_user` starts from the
/// store's copy, which sync brings back only later: a second change before
/// that would undo the first.
async fn change_list(
    client: &matrix_sdk::Client,
    change: impl FnOnce(&mut IgnoredUserListEventContent) -> bool,
) -> CoreResult<()> {
    let _one_at_a_time = CHANGING.lock().await;
    let mut list = server_list(client).await?;
    if change(&mut list) {
        client
            .account()
            .set_account_data(list)
            .await
            .map_err(|e| errors::from_sdk(&e))?;
    }
    Ok(())
}

/// The account's ignore list, asked of the server.
async fn server_list(client: &matrix_sdk::Client) -> CoreResult<IgnoredUserListEventContent> {
    let raw = client
        .account()
        .fetch_account_data_static::<IgnoredUserListEventContent>()
        .await
        .map_err(|e| errors::from_sdk(&e))?;
    let Some(raw) = raw else {
        return Ok(IgnoredUserListEventContent::default());
    };
    raw.deserialize()
        .map_err(|e| CoreError::internal(format!("the server's ignore list: {e}")))
}

/// The account's ignore list, asked of the server: the store has a change
/// only once sync brings it back.
pub(crate) async fn ignored(client: &matrix_sdk::Client) -> CoreResult<Vec<String>> {
    let list = server_list(client).await?;
    Ok(list.ignored_users.keys().map(|u| u.to_string()).collect())
}

/// Reports the event `event_id` of the joined room `room_id` to the
/// server's administrators.
pub(crate) async fn report_event(
    client: &matrix_sdk::Client,
    room_id: &str,
    event_id: &str,
    reason: Option<String>,
) -> CoreResult<()> {
    let event = OwnedEventId::try_from(event_id.trim())
        .map_err(|e| CoreError::invalid_argument(format!("event id `{event_id}`: {e}")))?;
    let room = joined_room(client, room_id)?;
    room.report_content(event, reason)
        .await
        .map(drop)
        .map_err(|e| errors::from_room_action(&e))
}

/// Reports the room `room_id` to the server's administrators; the user
/// need not be in it. The reason is required, and may not be blank.
pub(crate) async fn report_room(
    client: &matrix_sdk::Client,
    room_id: &str,
    reason: String,
) -> CoreResult<()> {
    if reason.trim().is_empty() {
        return Err(CoreError::invalid_argument(
            "a room's report needs a reason",
        ));
    }
    let id = parse_room_id(room_id)?;
    let request = report_room::v3::Request::new(id, reason);
    client
        .send(request)
        .await
        .map(drop)
        .map_err(|e| errors::from_room_action(&matrix_sdk::Error::Http(Box::new(e))))
}
