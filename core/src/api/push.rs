//! Push notifications: the pusher settings, and what a notification shows.

use super::chat::MediaSource;

/// An HTTP pusher: where the homeserver posts this device's notifications
/// (a push gateway, such as Sygnal, speaking the Push Gateway API).
///
/// Its `Debug` output, and the generated `toString`/`description`/`repr`,
/// never show the pushkey.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct PusherConfig {
    /// The app's id with the gateway, e.g. `com.example.app.ios` (1 to 64
    /// bytes).
    pub app_id: String,
    /// The device's token with the platform's push service (APNs, FCM), as
    /// the gateway expects it (1 to 512 bytes).
    pub pushkey: String,
    /// The gateway's notify URL: `http(s)://HOST[:PORT]/_matrix/push/v1/notify`.
    pub gateway_url: String,
    /// Shown to the user in the list of their devices' pushers.
    pub device_name: String,
    /// The preferred language of the notifications, e.g. `en` or `en-US`.
    pub lang: String,
    /// What the pushes carry: `None` for the whole event (its content in
    /// the clear, through the gateway and the platform's push service),
    /// `EventIdOnly` for its ids alone (the app fetches it with
    /// `get_notification`).
    #[uniffi(default = None)]
    pub format: Option<PushFormat>,
    /// A JSON object the gateway merges into every push it sends, e.g.
    /// `{"aps":{"mutable-content":1}}`, without which APNs never wakes an
    /// iOS notification service extension. Anything but a JSON object is
    /// `InvalidArgument`.
    #[uniffi(default = None)]
    pub default_payload_json: Option<String>,
}

/// What a push carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PushFormat {
    /// Only the event's and the room's ids, and the unread counts: no
    /// message content leaves the homeserver through the push.
    EventIdOnly,
}

impl std::fmt::Debug for PusherConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The pushkey addresses this device through the push service: kept
        // out of debug output like a token.
        f.debug_struct("PusherConfig")
            .field("app_id", &self.app_id)
            .field("gateway_url", &self.gateway_url)
            .field("device_name", &self.device_name)
            .field("lang", &self.lang)
            .field("format", &self.format)
            .field("default_payload_json", &self.default_payload_json)
            .finish_non_exhaustive()
    }
}

/// As `Debug`: what the foreign `toString`/`description`/`str` show.
impl std::fmt::Display for PusherConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// What a notification is about.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum NotificationKind {
    /// A room message (text, notice, emote, media), or an event this device
    /// could not decrypt (`body` is then `None`).
    Message,
    /// This user was invited to the room (by `sender`).
    Invite,
    /// Any other event that notifies (a call, a poll, a sticker...), by its
    /// type, e.g. `m.call.invite`.
    Other { event_type: String },
}

/// What a push notification shows: one event, fetched and (where this
/// device's keys allow) decrypted by `get_notification`.
///
/// `body` is `None` when the event could not be decrypted on this device,
/// or carries no text (an invite, a call, a reaction).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct NotificationItem {
    pub room_id: String,
    /// The event the push was about (the invite's membership event, for an
    /// invite).
    pub event_id: String,
    /// The room's display name as matrix-sdk computes it: its name, its
    /// alias, or its members' names.
    pub room_name: String,
    /// The room's avatar, for `download_media`.
    pub room_avatar: Option<MediaSource>,
    /// The sender's user id (the inviter's, for an invite).
    pub sender: String,
    /// The sender's display name in the room, if they set one.
    pub sender_name: Option<String>,
    /// The sender's avatar in the room, for `download_media`.
    pub sender_avatar: Option<MediaSource>,
    /// The message's text (a media message's caption or file name).
    pub body: Option<String>,
    /// A message, an invite, or another event.
    pub kind: NotificationKind,
    /// The room is a direct message room of this user.
    pub is_dm: bool,
    /// The event mentions this user (or the room, where they may be
    /// mentioned by `@room`), as the account's push rules see it.
    pub has_mention: bool,
    /// The event travelled encrypted (its room is encrypted).
    pub is_encrypted: bool,
    /// The account's push rules ask for a sound.
    pub is_noisy: bool,
    /// The server's time of the event (`origin_server_ts`), the invite's
    /// for an invite; 0 only when the server would not say.
    pub timestamp_ms: u64,
}

impl std::fmt::Debug for NotificationItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body is the user's private message: kept out of debug output
        // (and so out of logs), like a token.
        f.debug_struct("NotificationItem")
            .field("room_id", &self.room_id)
            .field("event_id", &self.event_id)
            .field("sender", &self.sender)
            .field("body", &self.body.as_ref().map(|b| b.len()))
            .field("kind", &self.kind)
            .field("is_dm", &self.is_dm)
            .field("has_mention", &self.has_mention)
            .field("is_encrypted", &self.is_encrypted)
            .field("is_noisy", &self.is_noisy)
            .field("timestamp_ms", &self.timestamp_ms)
            .finish_non_exhaustive()
    }
}
