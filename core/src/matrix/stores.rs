//! Closing a client's stores, the independent ones at the same time.

use matrix_sdk::Client;

use super::errors;
use crate::api::{CoreError, CoreResult};

/// Reopens the stores that [`close`] closed (matrix-sdk's `Client::resume`).
pub(crate) async fn reopen(sdk: &Client) -> CoreResult<()> {
    sdk.resume().await.map_err(|e| errors::from_sdk(&e))
}

/// Reopens the state store alone (closed by a pause), for a drain to read
/// what is still queued there before it closes every store again.
pub(crate) async fn reopen_state(sdk: &Client) -> CoreResult<()> {
    sdk.state_store()
        .reopen()
        .await
        .map_err(|e| CoreError::storage(format!("reopening the state store: {e}")))
}

/// Closes every store of `sdk` and releases its SQLite connections, after
/// disabling its send queue so that no send reaches a closing store.
///
/// matrix-sdk's `Client::pause` closes the four stores one after another, and
/// each close checkpoints its WAL on a blocking thread. Here the state, event
/// cache and media stores close at the same time as `pause` runs: a close is
/// idempotent, so `pause` finds them closed (or waits for the close under
/// way) and goes on to the crypto store, which only `pause` can reach.
pub(crate) async fn close(sdk: &Client) -> CoreResult<()> {
    sdk.send_queue().set_enabled(false).await;
    let (state, events, media, all) = tokio::join!(
        sdk.state_store().close(),
        sdk.event_cache_store().close(),
        sdk.media_store().close(),
        sdk.pause(),
    );
    all.map_err(|e| errors::from_sdk(&e))?;
    state.map_err(|e| CoreError::storage(format!("closing the state store: {e}")))?;
    events.map_err(|e| CoreError::storage(format!("closing the event cache store: {e}")))?;
    media.map_err(|e| CoreError::storage(format!("closing the media store: {e}")))?;
    Ok(())
}
