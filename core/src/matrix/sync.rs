//! The matrix-sdk-ui `SyncService`, and its states in the core's terms.

use std::time::Duration;

use matrix_sdk_ui::room_list_service::State as RoomListState;
use matrix_sdk_ui::sync_service::{State, SyncService};

use super::errors;
use crate::api::SyncState;
use crate::api::{CoreError, CoreResult};

/// The sync service, as the rest of the core holds it.
pub(crate) type Service = SyncService;

/// The sync service's states in the core's terms, the current one first.
pub(crate) fn states(
    sync: &SyncService,
) -> impl futures_util::Stream<Item = SyncState> + Send + Unpin + 'static {
    Box::pin(futures_util::stream::unfold(
        (sync.state(), true),
        |(mut states, first)| async move {
            if first {
                let state = map_state(&states.get());
                return Some((state, (states, false)));
            }
            let next = states.next().await?;
            Some((map_state(&next), (states, false)))
        },
    ))
}

/// The sync service's current state in the core's terms.
pub(crate) fn current_state(sync: &SyncService) -> SyncState {
    map_state(&sync.state().get())
}

/// Builds the sync service of a logged-in client.
pub(crate) async fn build(client: &matrix_sdk::Client) -> CoreResult<SyncService> {
    SyncService::builder(client.clone())
        .build()
        .await
        .map_err(|e| match e {
            matrix_sdk_ui::sync_service::Error::RoomList(
                matrix_sdk_ui::room_list_service::Error::SlidingSync(matrix_sdk::Error::Http(http)),
            ) => errors::from_http(&http),
            other => CoreError::internal(format!("could not build the sync service: {other}")),
        })
}

/// The core's name for a sync service state.
fn map_state(state: &State) -> SyncState {
    match state {
        State::Idle => SyncState::Idle,
        State::Running => SyncState::Running,
        // The service ended by itself (a loop finished): it is idle and may
        // be started again. `Terminated` is reserved for the end signal that
        // the core sends when the client closes, so that flows end only then.
        State::Terminated => SyncState::Idle,
        State::Error(_) => SyncState::Error,
        State::Offline => SyncState::Offline,
    }
}

/// Bound of [`stop`], and the longest wait of [`start`].
const SYNC_STEP: Duration = Duration::from_secs(10);

/// Starts the sync service and returns once both of its loops listen for a
/// stop (or failed, or `wait` passed, at most `SYNC_STEP`), so that a stop
/// that follows at once is not lost. A server that does not answer makes it
/// wait `wait`: the caller passes its request timeout.
///
/// matrix-sdk-ui 0.18 sends the encryption loop its stop once, and a stop
/// sent before that loop subscribed is lost for good (its supervisor then
/// waits for it forever). The loop lets go of the encryption sync permit in
/// the same poll in which it subscribes, so a free permit is the sign that
/// it listens. The room list loop's stop is re-sent by [`stop`].
pub(crate) async fn start(sync: &SyncService, wait: Duration) {
    sync.start().await;
    let wait = wait.min(SYNC_STEP);
    let _ = tokio::time::timeout(wait, async {
        while matches!(sync.state().get(), State::Running)
            && sync.try_get_encryption_sync_permit().is_none()
        {
            // allowed: the permit is a mutex with no way to be told when it
            // is let go; it is held for microseconds after the loop's spawn.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    let mut room_list = sync.room_list_service().state();
    let _ = tokio::time::timeout(wait, async {
        loop {
            if !matches!(room_list.get(), RoomListState::Init) {
                return;
            }
            if !matches!(sync.state().get(), State::Running) {
                return;
            }
            if room_list.next().await.is_none() {
                return;
            }
        }
    })
    .await;
}

/// Stops the sync service; returns when its loops have ended.
///
/// matrix-sdk-ui 0.18 loses the stop message when it is sent before the
/// room list loop subscribed to it, and then waits for that loop forever.
/// While the stop is pending, the message is sent again every 100 ms; after
/// `SYNC_STEP` the call gives up with `Timeout`.
pub(crate) async fn stop(sync: &SyncService) -> CoreResult<()> {
    let rooms = sync.room_list_service();
    let stop = sync.stop();
    tokio::pin!(stop);
    let deadline = tokio::time::Instant::now() + SYNC_STEP;
    loop {
        tokio::select! {
            () = &mut stop => return Ok(()),
            () = tokio::time::sleep(Duration::from_millis(100)) => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(CoreError::timeout("stopping the sync service"));
                }
                let _ = rooms.stop_sync();
            }
        }
    }
}
