//! The steps every teardown takes, shared by the drain of an app's client
//! (`drain.rs`) and a short-lived notification client's
//! (`notification/short_lived.rs`): the same bounds, the same looks, and the
//! same words in the report's warnings. Each teardown orders them the same
//! way: stop the tasks, close the stores, look at their files, drop the
//! matrix client inside the runtime, give the runtime lease back.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

use crate::matrix::{self, Sdk};
use crate::runtime::{ClientLease, Release};
use crate::supervisor::{StopReport, TaskGroup};

/// Bound of each local step: the tasks' stop, the stores' close, the wait
/// for their files to close, the runtime's restart.
pub(crate) const LOCAL_STEP: Duration = Duration::from_secs(5);

/// Stops a client's task group: `grace` for its tasks to end on their
/// own, then they are cancelled and collected, [`LOCAL_STEP`] in all.
/// Blocks: call it from a thread that is not one of the runtime's. The
/// tasks that outlived it are named in `warnings`.
pub(crate) fn stop_tasks(
    group: &TaskGroup,
    handle: &Handle,
    grace: Duration,
    warnings: &mut Vec<String>,
) -> StopReport {
    let stop = group.stop(handle, grace, Instant::now() + LOCAL_STEP);
    if !stop.abandoned.is_empty() {
        tracing::warn!(abandoned = ?stop.abandoned, "a teardown left tasks");
        warnings.push(format!("tasks abandoned: {}", stop.abandoned.join(", ")));
    }
    stop
}

/// Closes `sdk`'s stores, within [`LOCAL_STEP`]; whether they closed (a
/// warning says why not).
pub(crate) async fn close_stores(sdk: &Sdk, warnings: &mut Vec<String>) -> bool {
    let warning = match tokio::time::timeout(LOCAL_STEP, matrix::stores::close(sdk)).await {
        Ok(Ok(())) => return true,
        Ok(Err(e)) => format!("closing the stores failed: {e}"),
        Err(_) => format!("closing the stores took over {} s", LOCAL_STEP.as_secs()),
    };
    tracing::warn!("{warning}");
    warnings.push(warning);
    false
}

/// The files still open under the stores' directory after their close, as
/// `files_open` looks (waiting up to [`LOCAL_STEP`] for them to go: the
/// connections close on blocking threads after the close returns). Looked
/// at, never assumed: files left open clear `stores_closed`, and a
/// platform that cannot look leaves it as it was, with a warning when the
/// close itself failed.
pub(crate) async fn files_after_close<F>(
    files_open: F,
    stores_closed: &mut bool,
    warnings: &mut Vec<String>,
) -> Option<u32>
where
    F: Future<Output = Option<u32>>,
{
    let open = files_open.await;
    match open {
        Some(0) => {}
        Some(n) => {
            *stores_closed = false;
            tracing::error!(open = n, "store files are still open after the close");
            warnings.push(format!(
                "{n} files under data_dir were still open {} s after the stores closed",
                LOCAL_STEP.as_secs()
            ));
        }
        None if *stores_closed => {}
        None => warnings.push(
            "this platform cannot list open files: whether the stores let go is unknown".to_owned(),
        ),
    }
    open
}

/// Gives a client's runtime lease back: when it was the last live client
/// and `restart_if_last` (never when its stores did not close: a restart
/// would drop live pools inside a runtime that is shutting down), restarts
/// the runtime within [`LOCAL_STEP`], which ends matrix-sdk's own tasks;
/// `on_restart` runs once the restart is decided. Blocks: call it from a
/// thread that is not one of the runtime's.
pub(crate) fn give_back(
    lease: ClientLease,
    restart_if_last: bool,
    on_restart: impl FnOnce(),
) -> Release {
    lease.release(restart_if_last, LOCAL_STEP, on_restart)
}
