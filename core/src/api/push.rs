//! Push notifications: the pusher settings, and what a notification shows.

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
            .finish_non_exhaustive()
    }
}

/// As `Debug`: what the foreign `toString`/`description`/`str` show.
impl std::fmt::Display for PusherConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// What a push notification shows: one event, fetched and (where this
/// device's keys allow) decrypted by `get_notification`.
///
/// `body` is `None` when the event could not be decrypted on this device,
/// or carries no text (an invite, a call, a reaction).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct NotificationItem {
    pub room_id: String,
    /// The room's display name as matrix-sdk computes it: its name, its
    /// alias, or its members' names.
    pub room_name: String,
    /// The sender's user id (the inviter's, for an invite).
    pub sender: String,
    /// The sender's display name in the room, if they set one.
    pub sender_name: Option<String>,
    /// The message's text (a media message's caption or file name).
    pub body: Option<String>,
    /// The event travelled encrypted (its room is encrypted).
    pub is_encrypted: bool,
    /// The account's push rules ask for a sound.
    pub is_noisy: bool,
    /// The server's time of the event (`origin_server_ts`); 0 for an invite,
    /// whose stripped event carries none.
    pub timestamp_ms: u64,
}

impl std::fmt::Debug for NotificationItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body is the user's private message: kept out of debug output
        // (and so out of logs), like a token.
        f.debug_struct("NotificationItem")
            .field("room_id", &self.room_id)
            .field("sender", &self.sender)
            .field("body", &self.body.as_ref().map(|b| b.len()))
            .field("is_encrypted", &self.is_encrypted)
            .field("is_noisy", &self.is_noisy)
            .field("timestamp_ms", &self.timestamp_ms)
            .finish_non_exhaustive()
    }
}
