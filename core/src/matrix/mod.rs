//! The only module that speaks matrix-sdk: building, auth, sync, rooms.

pub(crate) mod auth;
pub(crate) mod build;
pub(crate) mod errors;
pub(crate) mod rooms;
pub(crate) mod sentinel;
pub(crate) mod stores;
pub(crate) mod sync;
pub(crate) mod tls;

use matrix_sdk::task_monitor::BackgroundTaskFailureReason;

use crate::api::TaskFailureReason;

/// matrix-sdk's task failure reason in the core's terms.
pub(crate) fn map_task_failure(reason: BackgroundTaskFailureReason) -> TaskFailureReason {
    match reason {
        BackgroundTaskFailureReason::Panic { message, .. } => TaskFailureReason::Panic {
            message: message.unwrap_or_else(|| "a panic without a message".into()),
        },
        BackgroundTaskFailureReason::Error { error } => TaskFailureReason::Error { message: error },
        BackgroundTaskFailureReason::EarlyTermination => TaskFailureReason::EarlyTermination,
    }
}
