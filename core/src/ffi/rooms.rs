//! Rooms beyond the list on the exported `Client`: creating them with
//! options, direct messages, one room followed, its name, topic and
//! avatar, declining invites. Each method only delegates.

use std::sync::Arc;

use super::client::Client;
use crate::api::{CoreResult, CreateRoomOptions, RoomListener};
use crate::client::Subscription;
use crate::matrix::rooms::{self, settings};

#[uniffi::export]
impl Client {
    /// Creates a room as `options` say; returns its id. While sync runs, it
    /// returns once sync has brought what was asked (name, encryption,
    /// direct), 10 s at most, so that the room reads right at once.
    pub async fn create_room_with(&self, options: CreateRoomOptions) -> CoreResult<String> {
        self.core.create_room_with(options).await
    }

    /// The joined direct message with `user_id` if there is one; otherwise
    /// a new encrypted one (`TrustedPrivateChat`) with the user invited.
    /// An unknown user is `NotFound`; the user's own id `InvalidArgument`.
    /// Two calls at once make one room.
    pub async fn start_dm(&self, user_id: String) -> CoreResult<String> {
        self.core.start_dm(user_id).await
    }

    /// The joined direct message with `user_id`, from memory (the one with
    /// the latest activity if there are several); `None` if there is none.
    pub fn dm_room(&self, user_id: String) -> CoreResult<Option<String>> {
        self.core.dm_room(&user_id)
    }

    /// Follows one known room's summary: `on_update` with the current one
    /// first, then with each change (name, topic, avatar, members, unread
    /// counts, flags); `on_closed()` when the client ends. `NotFound` for a
    /// room the client does not know.
    pub fn observe_room(
        &self,
        room_id: String,
        listener: Arc<dyn RoomListener>,
    ) -> CoreResult<Arc<Subscription>> {
        self.core.observe_room(room_id, listener)
    }

    /// Renames a joined room. `Server { status: 403 }` without the power.
    pub async fn set_room_name(&self, room_id: String, name: String) -> CoreResult<()> {
        let work = |sdk| async move { settings::set_name(&sdk, &room_id, name).await };
        self.core.sdk_call("set_room_name", work).await
    }

    /// Sets a joined room's topic (empty clears it). `Server { status: 403 }`
    /// without the power.
    pub async fn set_room_topic(&self, room_id: String, topic: String) -> CoreResult<()> {
        let work = |sdk| async move { settings::set_topic(&sdk, &room_id, &topic).await };
        self.core.sdk_call("set_room_topic", work).await
    }

    /// Sets a joined room's avatar to the image at `path` (its type
    /// `mimetype`, else guessed from the name; within the server's upload
    /// limit), or removes it with `None`. `Server { status: 403 }` without
    /// the power.
    pub async fn set_room_avatar(
        &self,
        room_id: String,
        path: Option<String>,
        mimetype: Option<String>,
    ) -> CoreResult<()> {
        let work = |sdk| async move { settings::set_avatar(&sdk, &room_id, path, mimetype).await };
        self.core.sdk_call("set_room_avatar", work).await
    }

    /// Declines an invite; a room the user is not invited to is
    /// `InvalidState`.
    pub async fn decline_invite(&self, room_id: String) -> CoreResult<()> {
        let work = |sdk| async move { rooms::decline_invite(&sdk, &room_id).await };
        self.core.sdk_call("decline_invite", work).await
    }
}
