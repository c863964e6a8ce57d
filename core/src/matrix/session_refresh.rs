//! matrix-sdk's session changes: refreshed tokens and refused tokens.
//!
//! A client built with `handle_refresh_tokens` refreshes an expired access
//! token inside the request that met the expiry, then retries that request;
//! it reports each refresh, and each token the server refuses for good,
//! through `Client::subscribe_to_session_changes`.

use tokio::sync::broadcast::error::RecvError;

use crate::api::{CoreError, CoreResult, Session};

/// A change of the session, as the core reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionChange {
    /// New tokens are in place (read them with `auth::session_of`).
    Refreshed,
    /// The server refused the token and no refresh fixed it.
    Refused { soft_logout: bool },
}

/// The session changes of one client, from the moment of [`changes`].
pub(crate) struct SessionChanges(tokio::sync::broadcast::Receiver<matrix_sdk::SessionChange>);

/// Subscribes to `client`'s session changes.
pub(crate) fn changes(client: &matrix_sdk::Client) -> SessionChanges {
    SessionChanges(client.subscribe_to_session_changes())
}

impl SessionChanges {
    /// Whether the server refused the token since the last look (its
    /// `soft_logout`: an expired token, which a refresh may fix), without
    /// waiting; the changes seen are consumed.
    pub(crate) fn refused(&mut self) -> Option<bool> {
        let mut refused = None;
        loop {
            match self.0.try_recv() {
                Ok(matrix_sdk::SessionChange::UnknownToken(data)) => {
                    refused = Some(data.soft_logout || refused.unwrap_or(false))
                }
                Ok(matrix_sdk::SessionChange::TokensRefreshed)
                | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(_) => return refused,
            }
        }
    }

    /// The next change, or `None` once the client can report no more.
    pub(crate) async fn next(&mut self) -> Option<SessionChange> {
        match self.0.recv().await {
            Ok(matrix_sdk::SessionChange::TokensRefreshed) => Some(SessionChange::Refreshed),
            Ok(matrix_sdk::SessionChange::UnknownToken(data)) => Some(SessionChange::Refused {
                soft_logout: data.soft_logout,
            }),
            // Reports missed under load: the tokens may have changed, so the
            // current ones are read and reported again.
            Err(RecvError::Lagged(_)) => Some(SessionChange::Refreshed),
            Err(RecvError::Closed) => None,
        }
    }
}

/// Refreshes `client`'s access token now, with its refresh token, and
/// returns the new session. matrix-sdk installs the new tokens in the client
/// before this returns: the caller saves them before the next request.
pub(crate) async fn refresh(client: &matrix_sdk::Client) -> CoreResult<Session> {
    client
        .refresh_access_token()
        .await
        .map_err(|e| super::errors::from_http(&matrix_sdk::HttpError::RefreshToken(e)))?;
    super::auth::session_of(client)
        .ok_or_else(|| CoreError::internal("a refresh left the client without a session"))
}
