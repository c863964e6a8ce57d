//! The media repository's requests that matrix-sdk cannot stream (its
//! requests hold whole bodies in memory): made with matrix-sdk's own HTTP
//! client (its TLS roots and proxy), the session's token, and the core's
//! errors; an expired token is refreshed once, as matrix-sdk would.

use crate::api::{CoreError, CoreResult};

/// What became of a media request.
pub(crate) enum Answer {
    Ok(matrix_sdk::reqwest::Response),
    /// The token expired and has been refreshed: the request may go again.
    Refreshed,
}

/// The homeserver's URL with `segments` as its path.
pub(crate) fn endpoint(client: &matrix_sdk::Client, segments: &[&str]) -> CoreResult<url::Url> {
    let mut endpoint = client.homeserver();
    endpoint
        .path_segments_mut()
        .map_err(|()| CoreError::internal("the homeserver URL cannot take a path"))?
        .pop_if_empty()
        .extend(segments);
    Ok(endpoint)
}

/// The session's access token.
pub(crate) fn token(client: &matrix_sdk::Client) -> CoreResult<String> {
    client.access_token().ok_or_else(|| CoreError::Auth {
        detail: "the client has no session".into(),
    })
}

/// `response` if it succeeded; else its refusal in the core's terms, or
/// [`Answer::Refreshed`] when the token had expired, `may_refresh` allows
/// a refresh and it worked. `what` names the request in errors.
pub(crate) async fn answer(
    client: &matrix_sdk::Client,
    response: matrix_sdk::reqwest::Response,
    may_refresh: bool,
    what: &str,
) -> CoreResult<Answer> {
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(Answer::Ok(response));
    }
    let body = bounded_text(response).await;
    let errcode = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("errcode")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    let refreshable = client
        .session_tokens()
        .is_some_and(|t| t.refresh_token.is_some());
    if status == 401 && errcode == "M_UNKNOWN_TOKEN" && may_refresh && refreshable {
        client
            .refresh_access_token()
            .await
            .map_err(|e| CoreError::Auth {
                detail: format!("refreshing the access token: {e}"),
            })?;
        return Ok(Answer::Refreshed);
    }
    Err(match (status, errcode.as_str()) {
        (401, _) => CoreError::Auth { detail: body },
        (404, _) | (_, "M_NOT_FOUND") => CoreError::NotFound {
            detail: format!("{what}: {body}"),
        },
        _ => CoreError::Server {
            status,
            errcode,
            detail: body,
        },
    })
}

/// A request that could not be made or answered.
pub(crate) fn network(what: &str, error: impl std::fmt::Display) -> CoreError {
    CoreError::Network {
        detail: format!("{what}: {error}"),
    }
}

/// The start of an error response's body, at most 4 KiB of it.
async fn bounded_text(mut response: matrix_sdk::reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < 4096 {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk[..chunk.len().min(4096 - body.len())]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}
