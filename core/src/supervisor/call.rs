//! [`call`]: run one exported async function's work as a supervised task and
//! hand its result back to the foreign caller.

use std::future::Future;

use std::time::{Duration, Instant};

use tokio::sync::oneshot::{self, error::TryRecvError};
use tokio::task::AbortHandle;

use super::group::{TaskGroup, TaskKind};
use crate::error::{CoreError, CoreResult};
use crate::runtime;

/// How long the first poll waits for a result before yielding to the executor.
const FIRST_POLL_WAIT: Duration = Duration::from_micros(100);

/// Aborts the task when the awaiting future is dropped (Kotlin cancelling a
/// coroutine, Python cancelling a task), so that work is never detached.
struct AbortOnDrop(Option<AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.abort();
        }
    }
}

/// Spawns `work` in `group` on the owned runtime and awaits its result.
///
/// The returned future does not need a tokio context: it can be polled by any
/// executor (UniFFI's foreign executors). If it is dropped first, the task is
/// aborted. If the group is stopped before the work ends, the caller gets
/// `closed_error`.
pub(crate) async fn call<T, F>(
    group: &TaskGroup,
    name: &str,
    closed_error: CoreError,
    work: F,
) -> CoreResult<T>
where
    T: Send + 'static,
    F: Future<Output = CoreResult<T>> + Send + 'static,
{
    let handle = runtime::handle()?;
    let (tx, rx) = oneshot::channel();
    // Calls cooperate with a stop: cancelling the group ends them at once.
    let token = group.token().clone();
    let task = async move {
        if let Some(result) = token.run_until_cancelled(work).await {
            let _ = tx.send(result);
        }
        Ok(())
    };
    let abort = group
        .spawn(&handle, name, TaskKind::Finite, task)
        .ok_or_else(|| closed_error.clone())?;
    let _guard = AbortOnDrop(Some(abort));
    // Short calls finish within microseconds: wait for them briefly on this
    // thread, so that the foreign executor gets the result on its first poll
    // instead of through a wake-up from a runtime thread.
    let mut rx = rx;
    let spin_until = Instant::now() + FIRST_POLL_WAIT;
    loop {
        match rx.try_recv() {
            Ok(result) => return result,
            Err(TryRecvError::Closed) => break,
            Err(TryRecvError::Empty) if Instant::now() < spin_until => std::hint::spin_loop(),
            Err(TryRecvError::Empty) => break,
        }
    }
    match rx.await {
        Ok(result) => result,
        // The task was dropped without answering: its group was stopped, or
        // it panicked (already reported to the failure listener).
        Err(_) if !group.is_open() => Err(closed_error),
        Err(_) => Err(CoreError::internal(format!(
            "`{name}` ended without a result (it panicked; see the log)"
        ))),
    }
}
