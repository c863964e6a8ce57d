//! The operations of the workload, the bound of each, and the errors the
//! contract allows for each: one table, read by every call.

use std::time::Duration;

use crate::api::CoreError;

/// Bound of each HTTP request of the clients (`ClientConfig::request_timeout_ms`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// matrix-sdk's own request timeout, which some of its requests use
/// whatever the client's (push rules).
const SDK_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a change waits, while sync runs, for sync to bring it back (the
/// core's documented bound for notification settings).
const ECHO_WAIT: Duration = Duration::from_secs(10);

/// One thing a worker thread does to the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Create,
    Login,
    /// `restore` of the session the slot's stores hold.
    Restore,
    StartSync,
    StopSync,
    SendText,
    RecentMessages,
    Rooms,
    ObserveMessages,
    ObserveSyncState,
    /// `Subscription::cancel()`, or dropping the subscription.
    Unsubscribe,
    Logout,
    Close,
    Pause,
    Resume,
    /// Dropping an `Arc<Client>` (what Kotlin's GC or Swift's `deinit` does).
    Release,
    Shutdown,
    ShutdownBlocking,
    /// `state()`, `sync_state()`, `session()` and `runtime_stats()`.
    Read,
    /// `Client::timeline` of the run's room.
    OpenTimeline,
    /// `Timeline::paginate_backwards`.
    Paginate,
    /// `Timeline::send_text`, through the send queue.
    TimelineSend,
    /// `Timeline::observe`.
    ObserveTimeline,
    /// `Client::observe_room_list`, then `set_filter` and `load_more`.
    ObserveRoomList,
    /// `Timeline::send_media` of a small file, through the send queue.
    Upload,
    /// `Client::download_thumbnail` of the run's image, at a size the
    /// media store may or may not have.
    Thumbnail,
    /// `Client::observe_room` of the run's room.
    ObserveRoom,
    /// `Timeline::send_message`: Markdown, mentioning the user.
    SendMessage,
    /// `Client::members` of the run's room.
    Members,
    /// `Client::set_room_notification_mode` or its reset.
    NotificationMode,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Login => "login",
            Op::Restore => "restore",
            Op::StartSync => "start_sync",
            Op::StopSync => "stop_sync",
            Op::SendText => "send_text",
            Op::RecentMessages => "recent_messages",
            Op::Rooms => "rooms",
            Op::ObserveMessages => "observe_messages",
            Op::ObserveSyncState => "observe_sync_state",
            Op::Unsubscribe => "unsubscribe",
            Op::Logout => "logout",
            Op::Close => "close",
            Op::Pause => "pause",
            Op::Resume => "resume",
            Op::Release => "release",
            Op::Shutdown => "shutdown",
            Op::ShutdownBlocking => "shutdown_blocking",
            Op::Read => "read_state",
            Op::OpenTimeline => "timeline",
            Op::Paginate => "paginate_backwards",
            Op::TimelineSend => "timeline_send_text",
            Op::ObserveTimeline => "observe_timeline",
            Op::ObserveRoomList => "observe_room_list",
            Op::Upload => "upload",
            Op::Thumbnail => "download_thumbnail",
            Op::ObserveRoom => "observe_room",
            Op::SendMessage => "send_message",
            Op::Members => "members",
            Op::NotificationMode => "set_room_notification_mode",
        }
    }

    /// How long the call may take before it counts as a hang.
    ///
    /// Drains and shutdowns: 30 s. Calls that reach the server: three request
    /// timeouts (a login may ask for the server's versions, log in, then
    /// upload keys, and each may time out under a black hole) plus 2 s.
    /// Local calls that should not wait on anything: 2 s; `cancel()` 1 s (the
    /// contract's 100 ms, ten times over). `create` opens
    /// four SQLite stores and creates the device's keys, and it first waits
    /// out a runtime restart that a last client's drain began: as long as a
    /// drain, 30 s (a debug build on a loaded two-core machine took 13 s).
    pub fn bound(self) -> Duration {
        match self {
            Op::Create | Op::Logout | Op::Close | Op::Shutdown | Op::ShutdownBlocking => {
                Duration::from_secs(30)
            }
            Op::Login
            | Op::Restore
            | Op::StartSync
            | Op::StopSync
            | Op::SendText
            | Op::RecentMessages
            | Op::Pause
            | Op::Resume
            | Op::OpenTimeline
            | Op::Paginate
            | Op::TimelineSend
            | Op::Upload
            | Op::Thumbnail
            | Op::SendMessage => 3 * REQUEST_TIMEOUT + Duration::from_secs(2),
            // The core gives up a load of members after twice the request
            // timeout (matrix-sdk's own waits 60 s a try), a wait for
            // another call's load included.
            Op::Members => 2 * REQUEST_TIMEOUT + Duration::from_secs(2),
            // A change of the push rules, then, while sync runs, the wait
            // for sync to bring it back (10 s at most, documented): a black
            // hole after the change keeps the echo away for all of it. One
            // change at a time per client, and a cancelled one runs to its
            // end: it may first wait out the changes of the iteration's two
            // other threads on the same client. matrix-sdk sends push rules
            // with its own 30 s timeout a try, not the client's, and one
            // fault per iteration swallows one change's request at most
            // (seen: 40.6 s, a change swallowed, then its echo's full wait).
            Op::NotificationMode => {
                SDK_REQUEST_TIMEOUT + 3 * (3 * REQUEST_TIMEOUT + ECHO_WAIT) + Duration::from_secs(2)
            }
            Op::Rooms
            | Op::ObserveMessages
            | Op::ObserveSyncState
            | Op::ObserveTimeline
            | Op::ObserveRoomList
            | Op::ObserveRoom
            | Op::Release
            | Op::Read => Duration::from_secs(2),
            // `cancel()` waits at most 100 ms for a call in progress (the
            // listeners block at times): 10 times that, for a debug build.
            Op::Unsubscribe => Duration::from_secs(1),
        }
    }

    /// Whether the call may talk to the homeserver (so that a fault may fail it).
    fn networked(self) -> bool {
        matches!(
            self,
            Op::Create
                | Op::Login
                | Op::Restore
                | Op::StartSync
                | Op::StopSync
                | Op::SendText
                | Op::RecentMessages
                | Op::Resume
                | Op::OpenTimeline
                | Op::Paginate
                | Op::TimelineSend
                | Op::Upload
                | Op::Thumbnail
                | Op::SendMessage
                | Op::Members
                | Op::NotificationMode
        )
    }

    /// Whether the contract (`API.md`) allows this error for this call.
    ///
    /// Every call on a client may meet its end: `ClientClosed` (closed,
    /// logged out or shut down), `Busy` (a drain or another call holds it),
    /// `ShuttingDown`. Calls that need a session, or a state they are not in,
    /// get `InvalidState`. `send_text` and `recent_messages` get `NotFound`
    /// for a room that sync has not brought to this device yet, and so does
    /// opening its timeline; a paused client's timeline gets `InvalidState`. `Network` and
    /// `Timeout` are allowed for calls that reach the server while a fault
    /// is on (or was, within one request timeout). `logout` and `close` must
    /// succeed even with the server unreachable. `shutdown` may only say
    /// `Timeout` or `ShuttingDown`. Anything else, `Internal` first of all,
    /// is unexpected.
    pub fn allowed(self, error: &CoreError, faulted: bool) -> bool {
        use CoreError as E;
        let network =
            faulted && self.networked() && matches!(error, E::Network { .. } | E::Timeout { .. });
        let on_a_client = matches!(error, E::ClientClosed | E::ShuttingDown | E::Busy { .. });
        let invalid_state = matches!(error, E::InvalidState { .. });
        network
            || match self {
                Op::Create => matches!(error, E::ShuttingDown | E::Busy { .. }),
                Op::Login
                | Op::Restore
                | Op::StartSync
                | Op::StopSync
                | Op::Rooms
                | Op::Pause
                | Op::Resume
                | Op::Logout => on_a_client || invalid_state,
                Op::SendText | Op::RecentMessages | Op::OpenTimeline => {
                    on_a_client || invalid_state || matches!(error, E::NotFound { .. })
                }
                // A paused client's timeline says `InvalidState`.
                Op::Paginate
                | Op::TimelineSend
                | Op::Upload
                | Op::Thumbnail
                | Op::ObserveTimeline
                | Op::ObserveRoomList
                | Op::SendMessage => on_a_client || invalid_state,
                // The room may not have reached this device yet.
                Op::ObserveRoom | Op::Members | Op::NotificationMode => {
                    on_a_client || invalid_state || matches!(error, E::NotFound { .. })
                }
                Op::ObserveMessages | Op::ObserveSyncState | Op::Close => on_a_client,
                Op::Shutdown | Op::ShutdownBlocking => {
                    matches!(error, E::Timeout { .. } | E::ShuttingDown)
                }
                Op::Unsubscribe | Op::Release | Op::Read => false,
            }
    }
}

/// The variant's name, the key of the error counts.
pub fn kind(error: &CoreError) -> &'static str {
    match error {
        CoreError::ClientClosed => "ClientClosed",
        CoreError::ShuttingDown => "ShuttingDown",
        CoreError::Busy { .. } => "Busy",
        CoreError::InvalidState { .. } => "InvalidState",
        CoreError::InvalidArgument { .. } => "InvalidArgument",
        CoreError::Auth { .. } => "Auth",
        CoreError::Network { .. } => "Network",
        CoreError::Server { .. } => "Server",
        CoreError::NotFound { .. } => "NotFound",
        CoreError::Storage { .. } => "Storage",
        CoreError::Timeout { .. } => "Timeout",
        CoreError::Internal { .. } => "Internal",
    }
}
