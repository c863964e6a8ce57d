//! The only module that speaks matrix-sdk and matrix-sdk-ui: building, auth,
//! sync, rooms, stores, task failures. The rest of the core holds their
//! objects only through the names below ([`Sdk`], [`sync::Service`]).

pub(crate) mod auth;
pub(crate) mod build;
pub(crate) mod diffs;
pub(crate) mod encryption;
pub(crate) mod errors;
pub(crate) mod media;
pub(crate) mod notification;
pub(crate) mod notification_settings;
pub(crate) mod people;
pub(crate) mod preview;
pub(crate) mod push;
pub(crate) mod room_list;
pub(crate) mod rooms;
pub(crate) mod send_queue;
pub(crate) mod sentinel;
pub(crate) mod session_refresh;
pub(crate) mod session_save;
pub(crate) mod stores;
pub(crate) mod subscriptions;
pub(crate) mod summaries;
pub(crate) mod sync;
pub(crate) mod timeline;
pub(crate) mod tls;
pub(crate) mod verification;

use matrix_sdk::task_monitor::BackgroundTaskFailureReason;
use tokio::sync::broadcast::error::RecvError;

use crate::api::TaskFailureReason;

/// A matrix client, as the rest of the core holds it.
pub(crate) type Sdk = matrix_sdk::Client;

/// A user's ID, as the rest of the core holds it.
pub(crate) type UserId = matrix_sdk::ruma::OwnedUserId;

/// matrix-sdk's reports of its own tasks that failed.
pub(crate) struct TaskFailures(
    tokio::sync::broadcast::Receiver<matrix_sdk::task_monitor::BackgroundTaskFailure>,
);

/// Subscribes to the failures of `client`'s own tasks.
pub(crate) fn task_failures(client: &Sdk) -> TaskFailures {
    TaskFailures(client.task_monitor().subscribe())
}

impl TaskFailures {
    /// The next failure (the task's name and why), or `None` once the client
    /// reports no more. Reports missed under load are logged and skipped.
    pub(crate) async fn next(&mut self) -> Option<(String, TaskFailureReason)> {
        loop {
            match self.0.recv().await {
                Ok(failure) => {
                    return Some((
                        format!("matrix-sdk::{}", failure.task.name),
                        map_task_failure(failure.reason),
                    ))
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(n, "missed matrix-sdk task failure reports")
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// matrix-sdk's task failure reason in the core's terms.
fn map_task_failure(reason: BackgroundTaskFailureReason) -> TaskFailureReason {
    match reason {
        BackgroundTaskFailureReason::Panic { message, .. } => TaskFailureReason::Panic {
            message: message.unwrap_or_else(|| "a panic without a message".into()),
        },
        BackgroundTaskFailureReason::Error { error } => TaskFailureReason::Error { message: error },
        BackgroundTaskFailureReason::EarlyTermination => TaskFailureReason::EarlyTermination,
    }
}
