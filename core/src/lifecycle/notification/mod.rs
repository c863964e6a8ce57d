//! Notifications for a push handler or an iOS notification extension, read
//! from the app's `data_dir`, typically in another process while the app may
//! be syncing on the same stores: `get_notification` for one push, and the
//! [`fetcher`] for several on one set of open stores.
//!
//! Both read through a [`short_lived`] client: leased and counted like a
//! client, built on the stores with its own cross-process lock holder name
//! ([`matrix::build::Role::Notification`]), restored with only the push's
//! room loaded, asked through matrix-sdk-ui's `NotificationClient`, then
//! taken apart in the drain's order (its module states what holds then).
//!
//! In-process, on a `data_dir` that a live client of this process uses,
//! that client fetches the event as a call of its own (no second client on
//! its stores); `Busy` only while it is being built, resumed or closed.
//! While it is paused, it is held paused and a short-lived client reads its
//! closed stores: when the call returns, the client is still paused with its
//! stores closed. `get_notification` calls at once take turns: each gets
//! its answer. A cancelled call on the short-lived client completes in the
//! background; a process shutdown cuts the fetch short and waits for its
//! teardown.

pub(crate) mod fetcher;
mod reader;
mod short_lived;

use std::sync::{Arc, LazyLock};

use tokio::sync::oneshot;

use crate::api::{ClientConfig, CoreError, CoreResult, NotificationItem, Session};
use crate::client::LiveNotification;
use crate::matrix;
use reader::Sessions;
use short_lived::{Job, Opening, FETCH_BOUND};

/// The turn of the process's `get_notification` short-lived clients.
static TURN: LazyLock<Arc<tokio::sync::Mutex<()>>> = LazyLock::new(Arc::default);

/// Fetches one notification's event (see the module's guarantees).
///
/// Bad input (`config`, the session, a room or event id that is not one)
/// gets `InvalidArgument` before anything runs. `Ok(None)` when the event
/// does not notify (push rules, an ignored sender, a redaction); `NotFound`
/// when the account does not know the room or the event.
///
/// # Cancel safety
/// The work runs on a thread of its own and always reaches its teardown;
/// dropping the returned future only drops the answer.
pub(crate) async fn get_notification(
    config: ClientConfig,
    session: Session,
    room_id: String,
    event_id: String,
) -> CoreResult<Option<NotificationItem>> {
    let config = matrix::build::check(&config)?;
    let target = matrix::notification::target(&room_id, &event_id)?;
    matrix::auth::check_session(&session)?;
    let mut lent = None;
    // In the process of a live client on the same data_dir (an Android push
    // handler runs in the app's process), that client answers.
    let live = std::fs::canonicalize(&config.data_dir)
        .ok()
        .and_then(|dir| crate::client::registry::live_on(&dir));
    // One short-lived notification client at a time in this process: a
    // notification extension handed two pushes at once answers both, the
    // second after the first's teardown, instead of `Busy` on the claim. The
    // turn goes with the thread, so a caller that stops waiting keeps the
    // next one out until its teardown is done.
    let turn = match live {
        Some(live) => {
            // A paused client's stores are read in turn, each call holding
            // it paused; a running one answers at once.
            let turn = match live.is_paused() {
                true => Some(TURN.clone().lock_owned().await),
                false => None,
            };
            let answer = live
                .notification(&session, target.clone(), FETCH_BOUND)
                .await?;
            match answer {
                LiveNotification::Answered(item) => return Ok(*item),
                LiveNotification::Paused(hold) => lent = Some(hold),
            }
            match turn {
                Some(turn) => turn,
                None => TURN.clone().lock_owned().await,
            }
        }
        None => TURN.clone().lock_owned().await,
    };
    let opening = Opening {
        config,
        sessions: Sessions::Given(session),
        lent,
        yields: false,
    };
    let client = short_lived::start(opening, Some(turn)).await?;
    let (reply, answer) = oneshot::channel();
    // The queue has room: this is its only push.
    let _ = client.jobs.try_send(Job { target, reply });
    drop(client.jobs);
    let answer = answer.await;
    // Only once it is taken apart (see the module's guarantees).
    let closed = client.closed.await;
    match (answer, closed) {
        (Ok(outcome), _) => outcome,
        (Err(_), Ok(Err(e))) => Err(e),
        // Ended before it took the push: only a shutdown ends it so.
        (Err(_), Ok(Ok(_))) => Err(CoreError::ShuttingDown),
        (Err(_), Err(_)) => Err(CoreError::internal(
            "get_notification ended without a result",
        )),
    }
}
