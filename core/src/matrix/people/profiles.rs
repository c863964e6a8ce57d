//! Profiles: anyone's, the user's own, and the server's user directory.

use matrix_sdk::ruma::api::client::profile::{AvatarUrl, DisplayName};

use crate::api::{CoreError, CoreResult, Profile};
use crate::matrix::errors;
use crate::matrix::media;
use crate::matrix::rooms::parse_user_id;

/// Most results one `search_users` returns.
pub(crate) const MAX_SEARCH_RESULTS: u32 = 100;

/// The public profile of `user_id`; `NotFound` for a user the server does
/// not know.
pub(crate) async fn profile(client: &matrix_sdk::Client, user_id: &str) -> CoreResult<Profile> {
    let user = parse_user_id(user_id)?;
    let response = client
        .account()
        .fetch_user_profile_of(&user)
        .await
        .map_err(|e| match errors::from_sdk(&e) {
            // Synapse answers an unknown user with a bare 404.
            CoreError::Server { status: 404, .. } => CoreError::NotFound {
                detail: format!("no user `{user}` on the server"),
            },
            other => other,
        })?;
    // A field the server sent in a shape it should not have reads as unset.
    let display_name = response.get_static::<DisplayName>().ok().flatten();
    let avatar_url = response.get_static::<AvatarUrl>().ok().flatten();
    Ok(Profile {
        user_id: user.to_string(),
        display_name,
        avatar: super::avatar_of(avatar_url.as_deref()),
    })
}

/// Sets the user's own display name; a blank one is `InvalidArgument`.
pub(crate) async fn set_display_name(client: &matrix_sdk::Client, name: &str) -> CoreResult<()> {
    if name.trim().is_empty() {
        return Err(CoreError::invalid_argument("the display name is blank"));
    }
    client
        .account()
        .set_display_name(Some(name))
        .await
        .map_err(|e| errors::from_sdk(&e))
}

/// Sets the user's own avatar to the image at `path` (uploaded first), or
/// removes it with `None`.
pub(crate) async fn set_avatar(
    client: &matrix_sdk::Client,
    path: Option<String>,
    mimetype: Option<String>,
) -> CoreResult<()> {
    let uri = match path {
        Some(path) => Some(media::upload_avatar(client, path, mimetype).await?),
        None => None,
    };
    client
        .account()
        .set_avatar_url(uri.as_deref())
        .await
        .map_err(|e| errors::from_sdk(&e))
}

/// The server's user directory: up to `limit` (1 to 100) users matching
/// `term` (users who share a room with the user, or public ones, as the
/// server is configured).
pub(crate) async fn search_users(
    client: &matrix_sdk::Client,
    term: &str,
    limit: u32,
) -> CoreResult<Vec<Profile>> {
    if limit == 0 || limit > MAX_SEARCH_RESULTS {
        return Err(CoreError::invalid_argument(format!(
            "limit must be 1..={MAX_SEARCH_RESULTS}"
        )));
    }
    if term.trim().is_empty() {
        return Err(CoreError::invalid_argument("the search term is blank"));
    }
    let response = client
        .search_users(term, u64::from(limit))
        .await
        .map_err(|e| errors::from_http(&e))?;
    Ok(response
        .results
        .into_iter()
        .take(limit as usize)
        .map(|user| Profile {
            user_id: user.user_id.to_string(),
            display_name: user.display_name,
            avatar: super::avatar_of(user.avatar_url.as_deref()),
        })
        .collect())
}
