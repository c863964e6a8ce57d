//! Push notification settings.

/// An HTTP pusher: where the homeserver posts this device's notifications
/// (a push gateway, such as Sygnal, speaking the Push Gateway API).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
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
