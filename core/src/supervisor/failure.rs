//! Task failure reports and the process-wide [`TaskFailureListener`].
//!
//! A failure is reported from inside the failed task's poll (a worker, or the
//! app's own thread for an inline first poll), where foreign code must never
//! run. The listener is therefore called on a thread of its own (a
//! [`Dispatcher`]), in order, with no core lock held: a listener that blocks
//! (a hop to the main thread) delays only its own later calls, never a task,
//! a group's stop or a shutdown.

use std::sync::{Arc, Mutex, RwLock};

use super::dispatch::Dispatcher;
use crate::api::listeners::call_foreign;
use crate::api::{TaskFailure, TaskFailureListener, TaskFailureReason};

static LISTENER: RwLock<Option<Arc<dyn TaskFailureListener>>> = RwLock::new(None);

/// The listener's thread, started on the first report; let go at every
/// runtime stop (it ends once it has delivered what is queued).
static LANE: Mutex<Option<Dispatcher>> = Mutex::new(None);

/// Installs or removes the process-wide failure listener.
pub(crate) fn set_listener(listener: Option<Arc<dyn TaskFailureListener>>) {
    let mut slot = LISTENER.write().unwrap_or_else(|p| p.into_inner());
    *slot = listener;
}

/// Logs a failure and queues it for the listener, if any. Never runs
/// foreign code on the calling thread; a failing listener is contained.
pub(crate) fn report(task_name: &str, reason: TaskFailureReason) {
    tracing::warn!(task = task_name, ?reason, "supervised task failed");
    let listener = LISTENER.read().unwrap_or_else(|p| p.into_inner()).clone();
    if let Some(listener) = listener {
        let failure = TaskFailure {
            task_name: task_name.to_owned(),
            reason,
        };
        let mut lane = LANE.lock().unwrap_or_else(|p| p.into_inner());
        lane.get_or_insert_with(|| Dispatcher::new("mmc-failures"))
            .post(Box::new(move || {
                call_foreign("TaskFailureListener.on_failure", || {
                    listener.on_failure(failure)
                });
            }));
    }
}

/// Lets the listener's thread end once it has delivered what is queued
/// (without waiting for it); the next report starts a new one.
pub(crate) fn release_lane() {
    let lane = LANE.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(lane) = lane {
        lane.release();
    }
}
