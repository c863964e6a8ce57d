//! [`CoreError`]: the one error type every exported function returns.
//!
//! Every variant is structured; there is no catch-all message sink. The text
//! field is called `detail` because Kotlin's `Throwable.message` would clash
//! with a field called `message`.

/// Every failure the core reports across the FFI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum CoreError {
    /// The client has been closed or logged out; create a new one.
    #[error("the client is closed")]
    ClientClosed,
    /// The runtime is shutting down; retry after `shutdown` returns.
    #[error("the core is shutting down")]
    ShuttingDown,
    /// Another operation holds what this call needs.
    #[error("busy: {operation} is in progress")]
    Busy { operation: String },
    /// The call does not fit the object's current state.
    #[error("invalid state: {detail}")]
    InvalidState { detail: String },
    /// An argument was rejected before anything was changed.
    #[error("invalid argument: {detail}")]
    InvalidArgument { detail: String },
    /// The server refused the credentials or the session.
    #[error("authentication failed: {detail}")]
    Auth { detail: String },
    /// The server could not be reached or the connection broke.
    #[error("network error: {detail}")]
    Network { detail: String },
    /// The server answered with an error.
    #[error("server error {status} {errcode}: {detail}")]
    Server {
        status: u16,
        errcode: String,
        detail: String,
    },
    /// A room, user or object does not exist.
    #[error("not found: {detail}")]
    NotFound { detail: String },
    /// The local stores could not be opened, read or written.
    #[error("storage error: {detail}")]
    Storage { detail: String },
    /// The operation did not finish within its bound.
    #[error("timed out: {operation}")]
    Timeout { operation: String },
    /// A bug in the core; the call did not complete.
    #[error("internal error: {detail}")]
    Internal { detail: String },
}

impl CoreError {
    pub(crate) fn invalid_argument(detail: impl Into<String>) -> Self {
        Self::InvalidArgument {
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid_state(detail: impl Into<String>) -> Self {
        Self::InvalidState {
            detail: detail.into(),
        }
    }

    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        Self::Internal {
            detail: detail.into(),
        }
    }

    pub(crate) fn storage(detail: impl Into<String>) -> Self {
        Self::Storage {
            detail: detail.into(),
        }
    }

    pub(crate) fn busy(operation: impl Into<String>) -> Self {
        Self::Busy {
            operation: operation.into(),
        }
    }

    pub(crate) fn timeout(operation: impl Into<String>) -> Self {
        Self::Timeout {
            operation: operation.into(),
        }
    }
}

/// Result alias used throughout the core.
pub type CoreResult<T> = Result<T, CoreError>;

/// What a foreign implementation (a `SessionStore`) threw that is not a
/// `CoreError`: the app's storage failed.
impl From<uniffi::UnexpectedUniFFICallbackError> for CoreError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::storage(format!("the app's store failed: {}", e.reason))
    }
}
