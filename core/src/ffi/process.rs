//! Process-wide exported functions. Each one only delegates.

use std::sync::Arc;

use crate::api::{
    ClientConfig, CoreError, CoreResult, LogConfig, NotificationItem, RuntimeConfig, RuntimeStats,
    Session, ShutdownOptions, ShutdownReport, TaskFailureListener,
};
use crate::lifecycle::{self, shutdown};
use crate::logging;
use crate::runtime;
use crate::supervisor::failure;

/// Configures the runtime before first use. `Busy` once it runs.
#[uniffi::export]
pub fn configure_runtime(config: RuntimeConfig) -> CoreResult<()> {
    runtime::configure(config)
}

/// Sets up logging; a second call replaces the filter.
#[uniffi::export]
pub fn init_logging(config: LogConfig) -> CoreResult<()> {
    logging::init(config)
}

/// Installs (or with `None` removes) the listener of task failures.
#[uniffi::export]
pub fn set_task_failure_listener(listener: Option<Arc<dyn TaskFailureListener>>) {
    failure::set_listener(listener);
}

/// A snapshot of the runtime; never starts it.
#[uniffi::export]
pub fn runtime_stats() -> RuntimeStats {
    let s = runtime::snapshot();
    RuntimeStats {
        generation: s.generation,
        state: s.state,
        alive_tasks: s.alive_tasks,
        supervised_tasks: s.supervised_tasks,
        worker_threads: s.worker_threads,
        // Counted from the clients themselves (their `data_dir` claims), so
        // that a client that outlives its runtime is still live, and from
        // the runtime's leases, which a creation takes before it claims its
        // directory: each is a lower bound of the live clients.
        live_clients: crate::client::registry::live_count().max(s.leased_clients),
    }
}

/// Closes every client, stops every task, shuts the runtime down and joins
/// its threads, within `timeout_ms`. Concurrent callers share one outcome.
#[uniffi::export]
pub async fn shutdown(options: ShutdownOptions) -> CoreResult<ShutdownReport> {
    shutdown::begin(options).await
}

/// [`shutdown`] for a thread that cannot await. `InvalidState` on a runtime thread.
#[uniffi::export]
pub fn shutdown_blocking(options: ShutdownOptions) -> CoreResult<ShutdownReport> {
    if runtime::on_runtime_thread() {
        return Err(CoreError::invalid_state(
            "shutdown_blocking was called on a runtime thread; use shutdown() or another thread",
        ));
    }
    futures_executor::block_on(shutdown::begin(options))
}

/// One event for a push handler or an iOS notification extension, read from
/// `config.data_dir` (the app's stores, which the app may have open in
/// another process) with `session`, decrypted where this device's keys allow.
///
/// When it returns, no file under `data_dir` is open in this process and no
/// task it started is left. In the app's own process (an Android push
/// handler), a live client on `data_dir` answers instead, as a call of its
/// own. Calls at once take turns. `Ok(None)` when the event does not notify
/// (push rules, an ignored sender, a redaction); `NotFound` when the account
/// does not know the room or the event; `InvalidArgument` for a bad id;
/// `InvalidState` when `data_dir` holds no stores of `session`, or its live
/// client is paused or another session's; `Busy` while that client is being
/// built or closed.
#[uniffi::export]
pub async fn get_notification(
    config: ClientConfig,
    session: Session,
    room_id: String,
    event_id: String,
) -> CoreResult<Option<NotificationItem>> {
    lifecycle::get_notification(config, session, room_id, event_id).await
}
