//! matrix-sdk's hook for saving refreshed tokens: the save callback it calls
//! right after a refresh installs the new tokens, with the refresh's lock
//! still held (the requests that wait for the refresh go on after it).
//!
//! matrix-sdk 0.18 installs the new tokens before it calls the callback and
//! only logs the callback's error: a failed save cannot put the old tokens
//! back. The core offers the session again at the next refresh.

use crate::api::{CoreResult, Session};

use super::Sdk;

/// Makes `sdk` call `save` with its session after each refresh of its
/// tokens. Once per client (matrix-sdk keeps the first callbacks).
pub(crate) fn install(sdk: &Sdk, save: impl Fn(Session) -> CoreResult<()> + Send + Sync + 'static) {
    let saved = sdk.set_session_callbacks(
        // Asked by matrix-sdk only for OAuth sessions across processes.
        Box::new(|_| Err("the core keeps no session to reload".into())),
        Box::new(move |client| {
            crate::hooks::pause_point("session.saving");
            let Some(session) = super::auth::session_of(&client) else {
                return Ok(());
            };
            save(session).map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        }),
    );
    if let Err(e) = saved {
        tracing::error!(%e, "could not install the session's save callback");
    }
}
