//! Mapping matrix-sdk's errors onto [`CoreError`], by kind, never by text.

use matrix_sdk::ruma::api::error::ErrorKind;
use matrix_sdk::{ClientBuildError, HttpError, RefreshTokenError};

use crate::api::CoreError;

/// Maps an HTTP-level error of matrix-sdk.
pub(crate) fn from_http(error: &HttpError) -> CoreError {
    if let Some(api) = error.as_client_api_error() {
        let status = api.status_code.as_u16();
        let detail = api.to_string();
        return match api.error_kind() {
            Some(ErrorKind::UnknownToken { .. } | ErrorKind::MissingToken) => {
                CoreError::Auth { detail }
            }
            Some(ErrorKind::Forbidden) if status == 403 => CoreError::Auth { detail },
            Some(ErrorKind::NotFound) => CoreError::NotFound { detail },
            Some(
                ErrorKind::InvalidParam
                | ErrorKind::InvalidUsername
                | ErrorKind::BadJson
                | ErrorKind::NotJson,
            ) => CoreError::InvalidArgument { detail },
            Some(kind) => CoreError::Server {
                status,
                errcode: kind.errcode().to_string(),
                detail,
            },
            None => CoreError::Server {
                status,
                errcode: String::new(),
                detail,
            },
        };
    }
    match error {
        HttpError::Reqwest(e) if e.is_timeout() => CoreError::timeout("HTTP request"),
        HttpError::Reqwest(e) => CoreError::Network {
            detail: super::tls::certificate_error(e).unwrap_or_else(|| describe_chain(e)),
        },
        HttpError::Cached(inner) => from_http(inner),
        // The token expired and its refresh failed: as the refresh's own
        // request failed (a refused refresh token is `Auth`).
        HttpError::RefreshToken(RefreshTokenError::MatrixAuth(inner)) => from_http(inner),
        HttpError::RefreshToken(other) => CoreError::Auth {
            detail: other.to_string(),
        },
        other => CoreError::Network {
            detail: other.to_string(),
        },
    }
}

/// Whether the server refused the session's token for good: an unknown
/// token, or an expired one whose refresh the server refused likewise.
pub(crate) fn is_unknown_token(error: &HttpError) -> bool {
    match error {
        HttpError::RefreshToken(RefreshTokenError::MatrixAuth(inner)) => is_unknown_token(inner),
        HttpError::Cached(inner) => is_unknown_token(inner),
        other => matches!(
            other.client_api_error_kind(),
            Some(ErrorKind::UnknownToken { .. })
        ),
    }
}

/// Maps a general matrix-sdk error.
pub(crate) fn from_sdk(error: &matrix_sdk::Error) -> CoreError {
    use matrix_sdk::Error as E;
    match error {
        E::Http(http) => from_http(http),
        E::AuthenticationRequired => CoreError::Auth {
            detail: "the client has no session".into(),
        },
        E::Io(e) => CoreError::storage(e.to_string()),
        E::StateStore(e) => CoreError::storage(e.to_string()),
        E::CryptoStoreError(e) => CoreError::storage(e.to_string()),
        // A deduplicated request that this call waited for, made by
        // another, failed: its error went to that call.
        E::ConcurrentRequestFailed => CoreError::Network {
            detail: "the same request, made by another call, failed".into(),
        },
        other => CoreError::internal(other.to_string()),
    }
}

/// Maps the error of an action in a room or on another user (a state
/// change, a kick, a report): the server's refusal for want of power is
/// `Server { status: 403 }`, not `Auth` (the session is fine); the rest as
/// [`from_sdk`].
pub(crate) fn from_room_action(error: &matrix_sdk::Error) -> CoreError {
    if let matrix_sdk::Error::Http(http) = error {
        if let Some(api) = http.as_client_api_error() {
            if api.status_code.as_u16() == 403 {
                return CoreError::Server {
                    status: 403,
                    errcode: api
                        .error_kind()
                        .map(|k| k.errcode().to_string())
                        .unwrap_or_default(),
                    detail: api.to_string(),
                };
            }
        }
    }
    from_sdk(error)
}

/// Maps an error of matrix-sdk's send queue by its kind.
pub(crate) fn from_send_queue(error: &matrix_sdk::send_queue::RoomSendQueueError) -> CoreError {
    use matrix_sdk::send_queue::{RoomSendQueueError as E, RoomSendQueueStorageError as S};
    let detail = error.to_string();
    match error {
        E::RoomNotJoined => CoreError::InvalidState { detail },
        E::RoomDisappeared => CoreError::NotFound { detail },
        E::StorageError(S::ClientShuttingDown) => CoreError::ClientClosed,
        E::StorageError(
            S::InvalidParentKey | S::OperationNotImplementedYet | S::InvalidMediaCaptionEdit,
        ) => CoreError::InvalidState { detail },
        E::StorageError(_) => CoreError::storage(detail),
        _ => CoreError::internal(detail),
    }
}

/// Maps an error of building a client (opening its stores).
pub(crate) fn from_build(error: &ClientBuildError) -> CoreError {
    match error {
        ClientBuildError::Url(e) => CoreError::invalid_argument(format!("homeserver_url: {e}")),
        ClientBuildError::Http(e) => from_http(e),
        ClientBuildError::SqliteStore(e) => CoreError::storage(format!(
            "could not open the stores in data_dir (a wrong store_passphrase gives this too): {e}"
        )),
        other => CoreError::internal(other.to_string()),
    }
}

/// An error and its sources, joined, for network failures whose top line is vague.
fn describe_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
