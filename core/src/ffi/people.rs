//! People on the exported `Client`: room members and moderation, profiles
//! and the user directory, ignoring and reporting, the account's devices.
//! Each method only delegates.

use crate::api::{CoreResult, Device, Member, Profile};
use crate::matrix::people::members::{self, Moderation};
use crate::matrix::people::{devices, profiles, safety};

use super::client::Client;

#[uniffi::export]
impl Client {
    /// The joined and invited members of a joined room, with their power
    /// and role: loaded from the server the first time, from the store
    /// after (sync keeps it current). `Timeout` after twice the client's
    /// request timeout (a large room's members can take the server long);
    /// the next call loads them again.
    pub async fn members(&self, room_id: String) -> CoreResult<Vec<Member>> {
        let bound = 2 * self.core.request_timeout();
        let work = move |sdk| async move { members::members(&sdk, &room_id, bound).await };
        self.core.sdk_call("members", work).await
    }

    /// Kicks a member out of a joined room. `Server { status: 403 }`
    /// without the power.
    pub async fn kick(
        &self,
        room_id: String,
        user_id: String,
        reason: Option<String>,
    ) -> CoreResult<()> {
        self.moderate("kick", room_id, user_id, Moderation::Kick, reason)
            .await
    }

    /// Bans a user from a joined room. `Server { status: 403 }` without
    /// the power.
    pub async fn ban(
        &self,
        room_id: String,
        user_id: String,
        reason: Option<String>,
    ) -> CoreResult<()> {
        self.moderate("ban", room_id, user_id, Moderation::Ban, reason)
            .await
    }

    /// Lifts a user's ban from a joined room. `Server { status: 403 }`
    /// without the power.
    pub async fn unban(
        &self,
        room_id: String,
        user_id: String,
        reason: Option<String>,
    ) -> CoreResult<()> {
        self.moderate("unban", room_id, user_id, Moderation::Unban, reason)
            .await
    }

    /// A user's public profile; `NotFound` for a user the server does not
    /// know.
    pub async fn profile(&self, user_id: String) -> CoreResult<Profile> {
        let work = |sdk| async move { profiles::profile(&sdk, &user_id).await };
        self.core.sdk_call("profile", work).await
    }

    /// Sets the user's own display name; blank is `InvalidArgument`.
    pub async fn set_display_name(&self, name: String) -> CoreResult<()> {
        let work = |sdk| async move { profiles::set_display_name(&sdk, &name).await };
        self.core.sdk_call("set_display_name", work).await
    }

    /// Sets the user's own avatar to the image at `path` (its type
    /// `mimetype`, else guessed from the name), or removes it with `None`.
    pub async fn set_avatar(
        &self,
        path: Option<String>,
        mimetype: Option<String>,
    ) -> CoreResult<()> {
        let work = |sdk| async move { profiles::set_avatar(&sdk, path, mimetype).await };
        self.core.sdk_call("set_avatar", work).await
    }

    /// The server's user directory: up to `limit` (1 to 100) users whose id
    /// or name matches `term`.
    pub async fn search_users(&self, term: String, limit: u32) -> CoreResult<Vec<Profile>> {
        let work = |sdk| async move { profiles::search_users(&sdk, &term, limit).await };
        self.core.sdk_call("search_users", work).await
    }

    /// Ignores a user: the server stops sending their events, and they
    /// leave the open timelines. Oneself is `InvalidArgument`.
    pub async fn ignore_user(&self, user_id: String) -> CoreResult<()> {
        let work = |sdk| async move { safety::ignore(&sdk, &user_id).await };
        self.core.sdk_call("ignore_user", work).await
    }

    /// Stops ignoring a user (nothing if they were not ignored).
    pub async fn unignore_user(&self, user_id: String) -> CoreResult<()> {
        let work = |sdk| async move { safety::unignore(&sdk, &user_id).await };
        self.core.sdk_call("unignore_user", work).await
    }

    /// The users the account ignores.
    pub async fn ignored_users(&self) -> CoreResult<Vec<String>> {
        let work = |sdk| async move { safety::ignored(&sdk).await };
        self.core.sdk_call("ignored_users", work).await
    }

    /// Reports an event of a joined room to the server's administrators.
    pub async fn report_event(
        &self,
        room_id: String,
        event_id: String,
        reason: Option<String>,
    ) -> CoreResult<()> {
        let work =
            |sdk| async move { safety::report_event(&sdk, &room_id, &event_id, reason).await };
        self.core.sdk_call("report_event", work).await
    }

    /// Reports a room to the server's administrators (the user need not be
    /// in it); the reason may not be blank.
    pub async fn report_room(&self, room_id: String, reason: String) -> CoreResult<()> {
        let work = |sdk| async move { safety::report_room(&sdk, &room_id, reason).await };
        self.core.sdk_call("report_room", work).await
    }

    /// The account's devices, with whether each is cross-signed and which
    /// is this one.
    pub async fn devices(&self) -> CoreResult<Vec<Device>> {
        let work = |sdk| async move { devices::devices(&sdk).await };
        self.core.sdk_call("devices", work).await
    }

    /// Signs another device out, with the account's password where the
    /// server asks for one (`Auth` if it is wrong or missing). This device
    /// is `InvalidArgument`: use `logout`.
    pub async fn delete_device(
        &self,
        device_id: String,
        password: Option<String>,
    ) -> CoreResult<()> {
        let work = |sdk| async move { devices::delete(&sdk, &device_id, password).await };
        self.core.sdk_call("delete_device", work).await
    }
}

impl Client {
    async fn moderate(
        &self,
        name: &'static str,
        room_id: String,
        user_id: String,
        action: Moderation,
        reason: Option<String>,
    ) -> CoreResult<()> {
        let work =
            |sdk| async move { members::moderate(&sdk, &room_id, &user_id, action, reason).await };
        self.core.sdk_call(name, work).await
    }
}
