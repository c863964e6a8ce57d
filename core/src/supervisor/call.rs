//! [`call_with`]: run one exported async function's work as a supervised task and
//! hand its result back to the foreign caller.

use std::future::{poll_fn, Future};
use std::task::Poll;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio_util::task::AbortOnDropHandle;

use super::group::{TaskGroup, TaskKind};
use crate::api::{CoreError, CoreResult};

/// What happens to the work when the foreign side drops the awaiting future
/// (Kotlin cancels the coroutine, Python the task, Swift the `Task`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenDropped {
    /// The task is aborted: the work is never detached. For requests whose
    /// only effect is their answer (send, read, create a room).
    Abort,
    /// The task runs to its end, still supervised: its bookkeeping (state
    /// transitions, a session that the server created) completes. For
    /// calls that change the client's state (login, restore, sync, pause).
    Finish,
}

/// Where the work's first poll happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstPoll {
    /// On a runtime worker, like every later poll. The default: the caller's
    /// thread may be an app's main thread, and most work does real work
    /// (serialising, encrypting, opening stores) before its first wait.
    Worker,
    /// On the calling thread, inside the runtime's context and through the
    /// gate; only if the work waits does it go to a worker. Work that is ready
    /// at once then costs no thread hop either way. Only for work that does
    /// nothing blocking or heavy before its first wait.
    Inline,
}

/// Spawns `work` in `group` on `handle` and awaits its result; `first_poll`
/// says where the work's first poll happens.
///
/// The returned future needs no tokio context: any executor can poll it (the
/// foreign executors of UniFFI). It never blocks or spins the polling thread.
/// If the group is stopped before the work ends, the caller gets
/// `closed_error`.
///
/// # Cancel safety
/// Dropping the returned future aborts the work ([`WhenDropped::Abort`]) or
/// leaves it to finish in the group ([`WhenDropped::Finish`]); either way no
/// bookkeeping depends on the caller polling to the end.
pub(crate) async fn call_with<T, F>(
    handle: &Handle,
    group: &TaskGroup,
    name: &'static str,
    (when_dropped, first_poll): (WhenDropped, FirstPoll),
    closed_error: CoreError,
    work: F,
) -> CoreResult<T>
where
    T: Send + 'static,
    F: Future<Output = CoreResult<T>> + Send + 'static,
{
    let (tx, mut rx) = oneshot::channel();
    // Calls cooperate with a stop: cancelling the group ends them at once.
    let token = group.token().clone();
    let task = async move {
        if let Some(result) = token.run_until_cancelled(work).await {
            let _ = tx.send(result);
        }
        Ok(())
    };
    let mut task = group
        .prepare(name, TaskKind::Finite, task)
        .ok_or_else(|| closed_error.clone())?;
    if first_poll == FirstPoll::Inline {
        let ended = poll_fn(|cx| Poll::Ready(task.poll_inline(handle, cx).is_ready())).await;
        if ended {
            drop(task);
            return answer(rx.try_recv().ok(), group, name, closed_error);
        }
    }
    let join = task.spawn(handle);
    let _abort = match when_dropped {
        WhenDropped::Abort => Some(AbortOnDropHandle::new(join)),
        WhenDropped::Finish => None,
    };
    answer((&mut rx).await.ok(), group, name, closed_error)
}

/// The caller's result: the work's own, or why there is none.
fn answer<T>(
    result: Option<CoreResult<T>>,
    group: &TaskGroup,
    name: &str,
    closed_error: CoreError,
) -> CoreResult<T> {
    match result {
        Some(result) => result,
        // The task was dropped without answering: its group was cancelled
        // or stopped, or it panicked (already reported to the failure listener).
        None if !group.is_open() || group.token().is_cancelled() => Err(closed_error),
        None => Err(CoreError::internal(format!(
            "`{name}` ended without a result (it panicked; see the log)"
        ))),
    }
}
