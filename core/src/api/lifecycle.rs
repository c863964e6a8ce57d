//! The client's life: its states, the phases of a logout or close, and what
//! they report.

/// Where a client is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ClientState {
    /// Stores are open; no session yet. `login` and `restore` are allowed.
    Created,
    /// A session is active. Every operation is allowed.
    LoggedIn,
    /// `logout` is draining the client. Other calls get `Busy`.
    LoggingOut,
    /// `close` (or a release by the app, or `shutdown`) is draining the client.
    /// Other calls get `Busy`.
    Closing,
    /// Drained and gone. Every call gets `ClientClosed`.
    Closed,
}

/// A step of `logout`, `close` or `shutdown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LifecyclePhase {
    StoppingSync,
    ServerLogout,
    CancellingTasks,
    DroppingClient,
    ClosingStores,
    /// `data_dir` is renamed away (from here on it is gone) and its deletion
    /// begins; the deletion runs beside `RestartingRuntime` and ends before
    /// the call returns.
    WipingData,
    RestartingRuntime,
    Done,
}

/// How long one phase took.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PhaseTiming {
    pub phase: LifecyclePhase,
    pub elapsed_ms: u64,
}

/// Options of `logout`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LogoutOptions {
    /// Bound of the server steps together (a wiping logout's wait for the
    /// key backup, then the server logout: one deadline for both); the
    /// local steps run whatever happens.
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
    /// Tasks of this client still alive when the call returned: its own
    /// supervised tasks that did not end (observed), plus, when
    /// `client_dropped` is false, a lower bound of 1 for matrix-sdk's own
    /// tasks that hold the client (tokio cannot attribute them to a client,
    /// so this part is an estimate, and `warnings` says so). 0 when
    /// `client_dropped`. Never counts another client's tasks.
    pub tasks_left_behind: u32,
    pub data_wiped: bool,
    pub runtime_restarted: bool,
    pub runtime_generation: u64,
    pub warnings: Vec<String>,
    /// Local echoes that never reached the server, counted in the send
    /// queue before the stores closed: lost with a wipe, kept for the next
    /// `restore` after a close.
    pub unsent_messages: u32,
    /// Whether a wiping logout saw the key backup hold every room key of
    /// this device before it ended (waited for within `server_timeout_ms`):
    /// `None` without an active key backup, or when nothing was wiped.
    pub keys_backed_up: Option<bool>,
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
    pub unsent_messages: u32,
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
            unsent_messages: r.unsent_messages,
        }
    }
}
