//! Records and enums that cross the FFI (the shapes of ../API.md).

use crate::lifecycle::phases::PhaseTiming;
use crate::runtime::RuntimeState;

/// How to build a client.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ClientConfig {
    /// `https://...` or `http://...` base URL of the homeserver.
    pub homeserver_url: String,
    /// This client's stores; created if missing. One client per directory.
    pub data_dir: String,
    /// Encrypts the SQLite stores. Must match on every later open.
    #[uniffi(default = None)]
    pub store_passphrase: Option<String>,
    /// Bound of each HTTP request.
    #[uniffi(default = 30000)]
    pub request_timeout_ms: u32,
}

/// A login session. It is the app's to keep (Keychain, Keystore); the core
/// never writes the tokens to disk or to a log.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
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

/// State of the sync service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncState {
    Idle,
    Running,
    Offline,
    Error,
    Terminated,
}

/// One joined room.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RoomSummary {
    pub room_id: String,
    pub name: Option<String>,
    pub is_encrypted: bool,
    pub joined_members: u64,
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

/// Options of `logout`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LogoutOptions {
    /// Bound of the server round trip; the local steps run whatever happens.
    #[uniffi(default = 5000)]
    pub server_timeout_ms: u32,
    /// Delete `data_dir` once the stores are closed.
    #[uniffi(default = true)]
    pub wipe_local_data: bool,
}

impl Default for LogoutOptions {
    fn default() -> Self {
        Self {
            server_timeout_ms: 5000,
            wipe_local_data: true,
        }
    }
}

/// What the server said to the logout.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ServerLogout {
    /// The server revoked the access token.
    Revoked,
    /// The server no longer knew the token.
    TokenAlreadyInvalid,
    /// The request failed; `reason` says how.
    Failed { reason: String },
    /// No answer within `server_timeout_ms`.
    TimedOut,
    /// Not asked (`close`).
    Skipped,
}

/// What a logout or close did, measured when it returned.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogoutReport {
    pub server_logout: ServerLogout,
    pub phases: Vec<PhaseTiming>,
    pub total_ms: u64,
    /// Supervised tasks of this client that were ended by the drain.
    pub tasks_drained: u32,
    /// Open files under `data_dir` after the drain (None where the OS cannot tell).
    pub store_files_open_after: Option<u32>,
    /// Observed: no strong reference to the matrix `Client` is left.
    pub client_dropped: bool,
    /// Tasks of this client still alive when the call returned.
    pub tasks_left_behind: u32,
    pub data_wiped: bool,
    pub runtime_restarted: bool,
    pub runtime_generation: u64,
    pub warnings: Vec<String>,
}

/// What a close did: the fields of [`LogoutReport`]; `server_logout` is `Skipped`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CloseReport {
    pub server_logout: ServerLogout,
    pub phases: Vec<PhaseTiming>,
    pub total_ms: u64,
    pub tasks_drained: u32,
    pub store_files_open_after: Option<u32>,
    pub client_dropped: bool,
    pub tasks_left_behind: u32,
    pub data_wiped: bool,
    pub runtime_restarted: bool,
    pub runtime_generation: u64,
    pub warnings: Vec<String>,
}

impl From<LogoutReport> for CloseReport {
    fn from(r: LogoutReport) -> Self {
        Self {
            server_logout: r.server_logout,
            phases: r.phases,
            total_ms: r.total_ms,
            tasks_drained: r.tasks_drained,
            store_files_open_after: r.store_files_open_after,
            client_dropped: r.client_dropped,
            tasks_left_behind: r.tasks_left_behind,
            data_wiped: r.data_wiped,
            runtime_restarted: r.runtime_restarted,
            runtime_generation: r.runtime_generation,
            warnings: r.warnings,
        }
    }
}

/// Options of `shutdown`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ShutdownOptions {
    /// Bound of the whole call.
    #[uniffi(default = 5000)]
    pub timeout_ms: u32,
}

impl Default for ShutdownOptions {
    fn default() -> Self {
        Self { timeout_ms: 5000 }
    }
}

/// What `shutdown` did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ShutdownReport {
    pub clients_closed: u32,
    pub tasks_drained: u32,
    /// Names of tasks still alive at the deadline.
    pub tasks_abandoned: Vec<String>,
    pub total_ms: u64,
    pub runtime_generation: u64,
    /// No runtime was running when the call came.
    pub already_shut_down: bool,
}

/// A snapshot of the runtime.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RuntimeStats {
    pub generation: u64,
    pub state: RuntimeState,
    /// Every task on the runtime, from tokio's metrics.
    pub alive_tasks: u64,
    pub supervised_tasks: Vec<String>,
    pub worker_threads: u32,
    pub live_clients: u32,
}
