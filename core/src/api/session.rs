//! The session's listener: token refreshes and the server's refusals.

use super::records::Session;

/// Receives the session's changes: each refresh of its tokens, and the
/// server's refusal of its token.
///
/// Calls come in the order of the changes, from the core's threads, never
/// under a core lock.
#[uniffi::export(foreign)]
pub trait SessionListener: Send + Sync {
    /// The session as it is when the listener is registered (its first
    /// call), and after each refresh of its tokens: `session` is the one to
    /// keep from now on (its `access_token` and `refresh_token` replace the
    /// old ones, which the server no longer accepts); `restore` takes it.
    fn on_session_changed(&self, session: Session);
    /// The server refused the session's token and no refresh could fix it.
    /// With `soft_logout` the device and its keys still exist: `close()` this
    /// client (its stores are kept), then `login` as the same user on a new
    /// client on the same `data_dir`, which keeps the device and its
    /// encrypted history. Without it the device is gone.
    /// Told once per token and kind, however many requests were refused.
    fn on_auth_error(&self, soft_logout: bool);
    /// The end signal: the client closed, logged out or was shut down. The
    /// last call; not sent after `cancel()`.
    fn on_closed(&self);
}

/// The app's keeper of the session (the Keychain, the Keystore), given to
/// `Client::set_session_store` before `login` or `restore`.
///
/// `save` is called after the server hands out new tokens (a refresh) and
/// before the core's requests go on with them, so that a process killed at
/// any moment leaves the app holding tokens that work. It runs on a core
/// thread of its own (never the app's, never a runtime worker), bounded by
/// the client's `request_timeout_ms`. `login` and `restore` return or take
/// the session themselves: keep what `login` returns before `start_sync`.
#[uniffi::export(foreign)]
pub trait SessionStore: Send + Sync {
    /// Keeps `session` in place of the one kept before. An error (thrown in
    /// Kotlin and Swift, raised in Python) is logged as `Storage`, and the
    /// session is offered again at the next refresh.
    fn save(&self, session: Session) -> Result<(), crate::api::CoreError>;
    /// The session kept now, if any: `notification_fetcher` opens with it
    /// and asks again before it refreshes, taking up a session another
    /// process refreshed. A client does not ask it: matrix-sdk 0.18
    /// refreshes a password session without asking first.
    fn load(&self) -> Result<Option<Session>, crate::api::CoreError>;
}
