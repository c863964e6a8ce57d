//! Reactions: toggling this user's reaction, including one that is still a
//! local echo.
//!
//! matrix-sdk-ui 0.18 takes back a reaction that is a local echo by aborting
//! its send. matrix-sdk turns the abort of a request in flight into a
//! redaction once it is answered, but the abort fails outright when the
//! request has been answered and the timeline has not yet heard of it (the
//! echo still reads as local): matrix-sdk-ui then only logs that it could
//! not, and the reaction the user took back stays, for everyone. Here a
//! failed abort waits for the timeline to see the reaction sent, then
//! redacts it.

use std::time::Duration;

use futures_util::StreamExt;
use matrix_sdk_ui::timeline::{EventTimelineItem, ReactionStatus};

use super::{event_item, from_timeline, Timeline};
use crate::api::{CoreError, CoreResult};

/// How long a reaction taken back while in flight is waited for before the
/// toggle goes ahead without it (the send failed, or the server is slow).
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(30);

/// This user's reaction `key` on `item`, as matrix-sdk-ui tracks it.
fn own_status(timeline: &Timeline, item: &EventTimelineItem, key: &str) -> Option<ReactionStatus> {
    let own = timeline.room().own_user_id();
    let by_sender = item.content().reactions()?.get(key)?;
    Some(by_sender.get(own)?.status.clone())
}

/// Takes back a reaction that has not left; `true` once it is gone, `false`
/// when it is not a local echo or its send is already in flight.
async fn abort_local(status: &ReactionStatus) -> CoreResult<bool> {
    let aborted = match status {
        ReactionStatus::LocalToLocal(Some(handle)) => handle.abort().await,
        ReactionStatus::LocalToRemote(Some(handle)) => handle.abort().await,
        _ => return Ok(false),
    };
    aborted.map_err(|e| CoreError::storage(format!("could not take the reaction back: {e}")))
}

/// Waits, up to [`IN_FLIGHT_WAIT`], until this user's reaction `key` on
/// `item_id` is no longer a local echo (the server echoed it, or it is gone).
async fn wait_until_sent(timeline: &Timeline, item_id: &str, key: &str) {
    let deadline = tokio::time::Instant::now() + IN_FLIGHT_WAIT;
    let (_, mut updates) = timeline.subscribe().await;
    loop {
        let local = match event_item(timeline, item_id).await {
            Ok(item) => matches!(
                own_status(timeline, &item, key),
                Some(ReactionStatus::LocalToLocal(_) | ReactionStatus::LocalToRemote(_))
            ),
            Err(_) => false,
        };
        if !local {
            return;
        }
        match tokio::time::timeout_at(deadline, updates.next()).await {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return,
        }
    }
}

/// Adds or takes back this user's reaction `key` on `item_id`.
pub(crate) async fn toggle(timeline: &Timeline, item_id: &str, key: &str) -> CoreResult<()> {
    if key.is_empty() {
        return Err(CoreError::invalid_argument("the reaction key is empty"));
    }
    let item = event_item(timeline, item_id).await?;
    if let Some(status) = own_status(timeline, &item, key) {
        crate::hooks::pause_point("reaction.read");
        if abort_local(&status).await? {
            // The send queue tells the timeline, which drops the echo.
            return Ok(());
        }
        if matches!(
            status,
            ReactionStatus::LocalToLocal(_) | ReactionStatus::LocalToRemote(_)
        ) {
            // Sent, and the timeline not told yet: redact it once it is.
            wait_until_sent(timeline, item_id, key).await;
        }
    }
    let id = event_item(timeline, item_id).await?.identifier();
    timeline
        .toggle_reaction(&id, key)
        .await
        .map(drop)
        .map_err(|e| from_timeline(&e))
}
