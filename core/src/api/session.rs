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
    /// With `soft_logout` the device and its keys still exist: log in again
    /// as the same user on the same `data_dir`. Without it the device is gone.
    /// Told once per token and kind, however many requests were refused.
    fn on_auth_error(&self, soft_logout: bool);
    /// The end signal: the client closed, logged out or was shut down. The
    /// last call; not sent after `cancel()`.
    fn on_closed(&self);
}
