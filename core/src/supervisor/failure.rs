//! Task failure reports and the process-wide [`TaskFailureListener`].

use std::sync::{Arc, RwLock};

use crate::ffi::listeners::guard_listener;

/// Why a supervised task (or one of matrix-sdk's monitored tasks) failed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum TaskFailureReason {
    /// The task panicked; `message` is the panic payload when it was a string.
    Panic { message: String },
    /// A fallible task returned an error.
    Error { message: String },
    /// A task meant to run until cancelled ended on its own.
    EarlyTermination,
}

/// One failure report.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TaskFailure {
    pub task_name: String,
    pub reason: TaskFailureReason,
}

/// Receives every task failure. Called from the core's threads.
#[uniffi::export(foreign)]
pub trait TaskFailureListener: Send + Sync {
    fn on_failure(&self, failure: TaskFailure);
}

static LISTENER: RwLock<Option<Arc<dyn TaskFailureListener>>> = RwLock::new(None);

/// Installs or removes the process-wide failure listener.
pub(crate) fn set_listener(listener: Option<Arc<dyn TaskFailureListener>>) {
    let mut slot = LISTENER.write().unwrap_or_else(|p| p.into_inner());
    *slot = listener;
}

/// Logs a failure and hands it to the listener, if any; a failing listener is
/// contained and logged.
pub(crate) fn report(task_name: &str, reason: TaskFailureReason) {
    tracing::warn!(task = task_name, ?reason, "supervised task failed");
    let listener = LISTENER.read().unwrap_or_else(|p| p.into_inner()).clone();
    if let Some(listener) = listener {
        let failure = TaskFailure {
            task_name: task_name.to_owned(),
            reason,
        };
        guard_listener("TaskFailureListener.on_failure", || {
            listener.on_failure(failure)
        });
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}
