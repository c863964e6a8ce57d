//! Password login, session restore and the server side of logout.

use std::time::Duration;

use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::ruma::api::client::session::login::{self, v3::LoginInfo};
use matrix_sdk::ruma::api::client::uiaa::{MatrixUserIdentifier, UserIdentifier};
use matrix_sdk::store::RoomLoadSettings;
use matrix_sdk::{SessionMeta, SessionTokens};

use super::errors;
use crate::api::{CoreError, CoreResult};
use crate::api::{ServerLogout, Session};
use crate::logging::scrub;

/// The server's half of a password login: asks for `device` (a new one
/// when `None`) and returns its session, with its tokens registered with the
/// scrubber for as long as the returned guard lives. Changes nothing on the
/// client; [`install_session`] does. `InvalidState` when the server answers
/// for another device than `device`.
pub(crate) async fn login_request(
    client: &matrix_sdk::Client,
    username: &str,
    password: &str,
    device_name: Option<&str>,
    device: Option<&str>,
) -> CoreResult<(MatrixSession, Vec<scrub::Registered>)> {
    if username.trim().is_empty() {
        return Err(CoreError::invalid_argument("username is empty"));
    }
    if password.is_empty() {
        return Err(CoreError::invalid_argument("password is empty"));
    }
    let _password = scrub::Registered::typed(password);
    let identifier = UserIdentifier::Matrix(MatrixUserIdentifier::new(username.trim().to_owned()));
    let mut request = login::v3::Request::new(LoginInfo::Password(login::v3::Password::new(
        identifier,
        password.to_owned(),
    )));
    request.initial_device_display_name = device_name.map(str::to_owned);
    request.device_id = device.map(Into::into);
    // Where the server gives one, matrix-sdk refreshes the access token with
    // it (the client is built with `handle_refresh_tokens`).
    request.refresh_token = true;
    // A wrong user or password is a 403 M_FORBIDDEN, which maps to `Auth`.
    let response = client
        .send(request)
        .await
        .map_err(|e| errors::from_http(&e))?;
    let session = MatrixSession::from(&response);
    if device.is_some_and(|d| session.meta.device_id.as_str() != d) {
        return Err(CoreError::invalid_state(format!(
            "the server logged in device {} instead of the stores' own",
            session.meta.device_id
        )));
    }
    let tokens = std::iter::once(&session.tokens.access_token)
        .chain(&session.tokens.refresh_token)
        .map(|token| scrub::Registered::new(token))
        .collect();
    Ok((session, tokens))
}

/// The client's half of a login: installs `session` (local only, no
/// request) and returns it for the app to keep.
pub(crate) async fn install_session(
    client: &matrix_sdk::Client,
    session: MatrixSession,
) -> CoreResult<Session> {
    client
        .matrix_auth()
        .restore_session(session, RoomLoadSettings::default())
        .await
        .map_err(|e| errors::from_sdk(&e))?;
    let session = session_of(client)
        .ok_or_else(|| CoreError::internal("login succeeded without a session"))?;
    Ok(session)
}

/// Restores a kept session.
pub(crate) async fn restore(client: &matrix_sdk::Client, session: &Session) -> CoreResult<()> {
    let matrix_session = matrix_session(session)?;
    let _tokens = token_guards(session);
    client
        .restore_session(matrix_session)
        .await
        .map_err(|e| errors::from_sdk(&e))
}

/// Restores a kept session with only the room `room_id` loaded from the
/// state store (not the account's every room): what a notification needs.
pub(crate) async fn restore_for_room(
    client: &matrix_sdk::Client,
    session: &Session,
    room_id: &matrix_sdk::ruma::RoomId,
) -> CoreResult<()> {
    let matrix_session = matrix_session(session)?;
    let _tokens = token_guards(session);
    client
        .matrix_auth()
        .restore_session(matrix_session, RoomLoadSettings::One(room_id.to_owned()))
        .await
        .map_err(|e| errors::from_sdk(&e))
}

/// `InvalidArgument` unless `session` names a user id and holds a device id
/// and an access token. Makes no request.
pub(crate) fn check_session(session: &Session) -> CoreResult<()> {
    matrix_session(session).map(drop)
}

fn matrix_session(session: &Session) -> CoreResult<MatrixSession> {
    let user_id =
        session.user_id.as_str().try_into().map_err(|e| {
            CoreError::invalid_argument(format!("user_id `{}`: {e}", session.user_id))
        })?;
    if session.device_id.is_empty() || session.access_token.is_empty() {
        return Err(CoreError::invalid_argument(
            "device_id and access_token must not be empty",
        ));
    }
    Ok(MatrixSession {
        meta: SessionMeta {
            user_id,
            device_id: session.device_id.as_str().into(),
        },
        tokens: SessionTokens {
            access_token: session.access_token.clone(),
            refresh_token: session.refresh_token.clone(),
        },
    })
}

/// Keeps the session's tokens out of every log line while the guards live.
pub(crate) fn token_guards(session: &Session) -> Vec<scrub::Registered> {
    std::iter::once(&session.access_token)
        .chain(&session.refresh_token)
        .map(|token| scrub::Registered::new(token))
        .collect()
}

/// The client's current session, if it has one.
pub(crate) fn session_of(client: &matrix_sdk::Client) -> Option<Session> {
    let session = client.matrix_auth().session()?;
    Some(Session {
        user_id: session.meta.user_id.to_string(),
        device_id: session.meta.device_id.to_string(),
        access_token: session.tokens.access_token,
        refresh_token: session.tokens.refresh_token,
        homeserver_url: client.homeserver().to_string(),
    })
}

/// Asks the server to end the session, within `timeout`. Never fails: the
/// outcome is the answer.
pub(crate) async fn server_logout(client: &matrix_sdk::Client, timeout: Duration) -> ServerLogout {
    match tokio::time::timeout(timeout, client.matrix_auth().logout()).await {
        Err(_) => ServerLogout::TimedOut,
        Ok(Ok(_)) => ServerLogout::Revoked,
        // An expired token's refresh may meet the revocation too.
        Ok(Err(e)) if errors::is_unknown_token(&e) => ServerLogout::TokenAlreadyInvalid,
        Ok(Err(e)) => ServerLogout::Failed {
            reason: errors::from_http(&e).to_string(),
        },
    }
}
