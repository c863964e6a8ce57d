//! A room's name, topic and avatar. Each needs the power to change the
//! room's state: without it the server's refusal is `Server { status: 403 }`.

use super::joined_room;
use crate::api::CoreResult;
use crate::matrix::{errors, media};

/// Renames the joined room `room_id`.
pub(crate) async fn set_name(
    client: &matrix_sdk::Client,
    room_id: &str,
    name: String,
) -> CoreResult<()> {
    let room = joined_room(client, room_id)?;
    room.set_name(name)
        .await
        .map(drop)
        .map_err(|e| errors::from_room_action(&e))
}

/// Sets the topic of the joined room `room_id` (empty clears it).
pub(crate) async fn set_topic(
    client: &matrix_sdk::Client,
    room_id: &str,
    topic: &str,
) -> CoreResult<()> {
    let room = joined_room(client, room_id)?;
    room.set_room_topic(topic)
        .await
        .map(drop)
        .map_err(|e| errors::from_room_action(&e))
}

/// Sets the avatar of the joined room `room_id` to the image at `path`
/// (uploaded first), or removes it with `None`.
pub(crate) async fn set_avatar(
    client: &matrix_sdk::Client,
    room_id: &str,
    path: Option<String>,
    mimetype: Option<String>,
) -> CoreResult<()> {
    let room = joined_room(client, room_id)?;
    let sent = match path {
        Some(path) => {
            let uri = media::upload_avatar(client, path, mimetype).await?;
            room.set_avatar_url(&uri, None).await
        }
        None => room.remove_avatar().await,
    };
    sent.map(drop).map_err(|e| errors::from_room_action(&e))
}
