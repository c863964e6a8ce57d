//! The records of a client's ordinary calls: its configuration, session,
//! rooms and messages.

use super::chat::{LatestMessage, MediaSource, Membership};
use super::rooms::RoomNotificationMode;

/// How to build a client. Its `Debug` output, and the generated
/// `toString`/`description`/`repr`, never show the passphrase.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct ClientConfig {
    /// `https://...` or `http://...` base URL of the homeserver.
    pub homeserver_url: String,
    /// This client's stores; created if missing. One client per directory.
    pub data_dir: String,
    /// Encrypts the SQLite stores. Must match on every later open.
    #[uniffi(default = None)]
    pub store_passphrase: Option<String>,
    /// Encrypts the SQLite stores with this key itself: 32 bytes (from the
    /// Keychain or Keystore), instead of a passphrase from which each store
    /// derives its key (PBKDF2, four times at every open: time and memory a
    /// notification extension spares). Must match on every later open; not
    /// with `store_passphrase`.
    #[uniffi(default = None)]
    pub store_key: Option<Vec<u8>>,
    /// Bound of each HTTP request.
    #[uniffi(default = 30000)]
    pub request_timeout_ms: u32,
    /// PEM certificates trusted beside the platform's roots, for a homeserver
    /// behind a private (company) CA. Each string holds one or more
    /// `CERTIFICATE` blocks; a string without one, or with a block that is not
    /// a certificate, makes `Client::create` fail with `InvalidArgument`.
    #[uniffi(default = [])]
    pub additional_root_certificates: Vec<String>,
    /// Whether another process of the app opens these stores while this
    /// client lives (an iOS notification service extension does). `None`:
    /// the platform's answer, `false` on Android (the push handler runs in
    /// the app's process, where this client answers it) and `true`
    /// elsewhere. A client that shares nothing takes matrix-sdk's
    /// single-process locks, which keep an idle client from rewriting lock
    /// leases in SQLite every 50 ms; while it lives, a notification client
    /// of another process on the same `data_dir` gets `InvalidState`.
    #[uniffi(default = None)]
    pub shared_with_other_processes: Option<bool>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("homeserver_url", &self.homeserver_url)
            .field("data_dir", &self.data_dir)
            .field(
                "store_passphrase",
                &self.store_passphrase.as_ref().map(|_| "[redacted]"),
            )
            .field("store_key", &self.store_key.as_ref().map(|_| "[redacted]"))
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field(
                "additional_root_certificates",
                &self.additional_root_certificates.len(),
            )
            .field(
                "shared_with_other_processes",
                &self.shared_with_other_processes,
            )
            .finish()
    }
}

/// As `Debug`: what the foreign `toString`/`description`/`str` show.
impl std::fmt::Display for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// A login session. It is the app's to keep (Keychain, Keystore); the core
/// never writes the tokens to disk or to a log, and its generated
/// `toString`/`description`/`repr` show neither token.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct Session {
    pub user_id: String,
    pub device_id: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub homeserver_url: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .field("device_id", &self.device_id)
            .field("homeserver_url", &self.homeserver_url)
            .finish_non_exhaustive()
    }
}

/// As `Debug`: what the foreign `toString`/`description`/`str` show.
impl std::fmt::Display for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// State of the sync service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncState {
    Idle,
    Running,
    Offline,
    Error,
    Terminated,
}

/// One room of the account, as a room list row shows it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RoomSummary {
    pub room_id: String,
    pub name: Option<String>,
    pub is_encrypted: bool,
    pub joined_members: u64,
    pub membership: Membership,
    pub is_direct: bool,
    pub is_favourite: bool,
    pub topic: Option<String>,
    /// The `mxc://` URI of the room's avatar.
    pub avatar_url: Option<String>,
    pub unread_messages: u64,
    pub unread_mentions: u64,
    /// Decrypted where keys allow.
    pub latest: Option<LatestMessage>,
    /// The room's avatar, for `download_thumbnail` or `download_media`.
    #[uniffi(default = None)]
    pub avatar: Option<MediaSource>,
    /// The room's own notification mode; `None`: the account's default.
    #[uniffi(default = None)]
    pub notification_mode: Option<RoomNotificationMode>,
    /// The user marked the room unread (`set_marked_unread`); the `Unread`
    /// filter shows it.
    #[uniffi(default = false)]
    pub is_marked_unread: bool,
    /// Unread messages that notify (the push rules' count).
    #[uniffi(default = 0)]
    pub notification_count: u64,
}

/// One text message, decrypted where keys allow.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Message {
    pub event_id: String,
    pub room_id: String,
    pub sender: String,
    pub body: String,
    pub timestamp_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::ClientConfig;

    /// Regression: `ClientConfig` derived `Debug`, which printed the passphrase.
    #[test]
    fn debug_output_never_shows_the_passphrase_or_the_key() {
        let config = ClientConfig {
            homeserver_url: "https://example.org".into(),
            data_dir: "/data".into(),
            store_passphrase: Some("hunter2-passphrase".into()),
            store_key: Some(b"0123456789abcdef0123456789abcdef".to_vec()),
            request_timeout_ms: 30_000,
            additional_root_certificates: Vec::new(),
            shared_with_other_processes: None,
        };
        let shown = format!("{config:?} {config:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("48, 49"), "the key's bytes: {shown}");
        assert!(shown.contains("[redacted]") && shown.contains("https://example.org"));
    }
}
