//! The matrix-sdk-ui `SyncService`, and its states in the core's terms.

use matrix_sdk_ui::sync_service::{State, SyncService};

use super::errors;
use crate::error::{CoreError, CoreResult};
use crate::ffi::records::SyncState;

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
pub(crate) fn map_state(state: &State) -> SyncState {
    match state {
        State::Idle => SyncState::Idle,
        State::Running => SyncState::Running,
        State::Terminated => SyncState::Terminated,
        State::Error(_) => SyncState::Error,
        State::Offline => SyncState::Offline,
    }
}
