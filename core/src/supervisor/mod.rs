//! The supervisor: every task the core runs is named, panic-catching,
//! cancellable and awaitable as a group.
//!
//! Tasks belong to a [`TaskGroup`]: the process group of the current runtime
//! generation, or one group per client. Stopping a group follows three
//! steps: signal (cancel the token), collect (close the gate and wait until no
//! poll is running), drop (drop every remaining future inside the runtime).
//! No task's code runs while another task's data is being dropped.

mod call;
pub mod failure;
mod gate;
mod group;

pub(crate) use call::call;
pub(crate) use group::wait_until;
pub use group::{StopReport, TaskGroup, TaskKind};

use std::future::Future;

use crate::error::{CoreError, CoreResult};
use crate::runtime;

/// Spawns a named task in the process group of the current runtime
/// generation, starting the runtime if needed.
pub fn spawn<F>(name: &str, kind: TaskKind, future: F) -> CoreResult<tokio::task::AbortHandle>
where
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    let (handle, group) = runtime::process_group()?;
    group
        .spawn(&handle, name, kind, future)
        .ok_or(CoreError::ShuttingDown)
}

/// Runs `work` as a supervised task of the process group and awaits it from
/// any executor; dropping the returned future aborts the task.
pub async fn run<T, F>(name: &str, work: F) -> CoreResult<T>
where
    T: Send + 'static,
    F: Future<Output = CoreResult<T>> + Send + 'static,
{
    let (_, group) = runtime::process_group()?;
    call(&group, name, CoreError::ShuttingDown, work).await
}
