//! Task failure reports and the process-wide [`TaskFailureListener`].

use std::sync::{Arc, RwLock};

use crate::api::listeners::call_foreign;
use crate::api::{TaskFailure, TaskFailureListener, TaskFailureReason};

static LISTENER: RwLock<Option<Arc<dyn TaskFailureListener>>> = RwLock::new(None);

/// Installs or removes the process-wide failure listener.
pub(crate) fn set_listener(listener: Option<Arc<dyn TaskFailureListener>>) {
    let mut slot = LISTENER.write().unwrap_or_else(|p| p.into_inner());
    *slot = listener;
}

/// Logs a failure and hands it to the listener, if any. The listener is
/// called after the slot's lock is released; a failing listener is contained.
pub(crate) fn report(task_name: &str, reason: TaskFailureReason) {
    tracing::warn!(task = task_name, ?reason, "supervised task failed");
    let listener = LISTENER.read().unwrap_or_else(|p| p.into_inner()).clone();
    if let Some(listener) = listener {
        let failure = TaskFailure {
            task_name: task_name.to_owned(),
            reason,
        };
        call_foreign("TaskFailureListener.on_failure", || {
            listener.on_failure(failure)
        });
    }
}
