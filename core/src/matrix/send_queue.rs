//! matrix-sdk's send queue kept going, and kept still: a room's queue that
//! stopped on a failure it can recover from (the server unreachable) is
//! re-enabled after a backoff, and a paused client's queues do nothing.

use std::collections::HashMap;
use std::time::Duration;

use matrix_sdk::ruma::OwnedRoomId;
use matrix_sdk::send_queue::RoomSendQueueUpdate;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::time::Instant;

use super::Sdk;
use crate::api::SyncState;

/// The first wait before a room's queue is re-enabled; it doubles with each
/// failure in a row, up to [`LONGEST_WAIT`], and starts again after a success.
const FIRST_WAIT: Duration = Duration::from_secs(1);
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// Stops every room's queue before a pause closes the stores: matrix-sdk's
/// sending loop would otherwise meet a closed store and try again at once.
pub(crate) async fn hold(client: &Sdk) {
    client.send_queue().set_enabled(false).await;
}

/// Starts every room's queue again after `resume` reopened the stores:
/// what was queued or failed before the pause is sent.
pub(crate) async fn release(client: &Sdk) {
    client.send_queue().set_enabled(true).await;
}

/// Re-enables each room's queue after a recoverable failure, once its own
/// backoff has passed: rooms wait concurrently, each with its own backoff
/// (reset when the room sends), and every waiting room is retried at once
/// when sync is running again after a failure (connectivity is back).
/// While `paused` is true nothing is re-enabled and no timer runs. Runs
/// until the client's updates end.
pub(crate) async fn keep_going(
    client: Sdk,
    mut paused: watch::Receiver<bool>,
    mut sync: watch::Receiver<SyncState>,
) {
    let mut errors = client.send_queue().subscribe_errors();
    let mut updates = client.send_queue().subscribe();
    let mut backoff: HashMap<OwnedRoomId, Duration> = HashMap::new();
    let mut due: HashMap<OwnedRoomId, Instant> = HashMap::new();
    loop {
        let next = if *paused.borrow() {
            None
        } else {
            due.values().min().copied()
        };
        let wake = async move {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            failure = errors.recv() => match failure {
                Ok(failure) if failure.is_recoverable => {
                    let wait = backoff
                        .entry(failure.room_id.clone())
                        .and_modify(|d| *d = (*d * 2).min(LONGEST_WAIT))
                        .or_insert(FIRST_WAIT);
                    due.insert(failure.room_id, Instant::now() + *wait);
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
            update = updates.recv() => match update {
                Ok(update) => {
                    if matches!(update.update, RoomSendQueueUpdate::SentEvent { .. }) {
                        backoff.remove(&update.room_id);
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
            () = wake => {
                let now = Instant::now();
                let ready: Vec<OwnedRoomId> = due
                    .iter()
                    .filter(|(_, at)| **at <= now)
                    .map(|(room, _)| room.clone())
                    .collect();
                for room_id in ready {
                    due.remove(&room_id);
                    if let Some(room) = client.get_room(&room_id) {
                        room.send_queue().set_enabled(true);
                    }
                }
            }
            changed = paused.changed() => {
                if changed.is_err() {
                    return;
                }
                // `resume` re-enabled every queue itself.
                if !*paused.borrow_and_update() {
                    due.clear();
                }
            }
            changed = sync.changed() => {
                if changed.is_err() {
                    return;
                }
                if *sync.borrow_and_update() == SyncState::Running {
                    let now = Instant::now();
                    due.values_mut().for_each(|at| *at = now);
                }
            }
        }
    }
}
