//! The process shutdown: close every client, stop every task, stop the runtime.
//!
//! Concurrent and repeated calls are safe. Callers that arrive while a
//! shutdown runs share its outcome; a call after it finished finds nothing
//! running and says `already_shut_down`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, FutureExt, Shared};

use crate::client::registry;
use crate::error::{CoreError, CoreResult};
use crate::ffi::records::{ShutdownOptions, ShutdownReport};
use crate::lifecycle::{begin_drain, drains_in_progress, state::ClientState, teardown::DrainKind};
use crate::runtime::{self, RuntimeState};
use crate::supervisor::wait_until;

type Outcome = Shared<BoxFuture<'static, CoreResult<ShutdownReport>>>;

static CURRENT: Mutex<Option<Outcome>> = Mutex::new(None);

/// The outcome of the shutdown under way, starting one if none is.
pub(crate) fn begin(options: ShutdownOptions) -> Outcome {
    let mut current = CURRENT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(outcome) = current.as_ref() {
        return outcome.clone();
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let outcome: Outcome = async move {
        rx.await.unwrap_or_else(|_| {
            Err(CoreError::internal(
                "the shutdown thread ended without a report",
            ))
        })
    }
    .boxed()
    .shared();
    *current = Some(outcome.clone());
    let spawned = std::thread::Builder::new()
        .name("mmc-shutdown".into())
        .spawn(move || {
            let report = run(options);
            // Forget this shutdown before answering, so that a caller woken
            // by the answer and calling again starts a fresh one.
            *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = None;
            let _ = tx.send(report);
        });
    if let Err(e) = spawned {
        *current = None;
        let error = CoreError::internal(format!("could not start the shutdown thread: {e}"));
        return async move { Err(error) }.boxed().shared();
    }
    outcome
}

fn run(options: ShutdownOptions) -> CoreResult<ShutdownReport> {
    let started = Instant::now();
    let deadline = started + Duration::from_millis(options.timeout_ms.into());
    let before = runtime::snapshot();
    if matches!(
        before.state,
        RuntimeState::NotStarted | RuntimeState::ShutDown
    ) && !drains_in_progress()
    {
        return Ok(ShutdownReport {
            clients_closed: 0,
            tasks_drained: 0,
            tasks_abandoned: Vec::new(),
            total_ms: started.elapsed().as_millis() as u64,
            runtime_generation: before.generation,
            already_shut_down: true,
        });
    }
    runtime::refuse_new_work();

    // Wait for logouts and closes under way, then close every live client.
    wait_until(deadline, || !drains_in_progress());
    let mut clients_closed = 0;
    for core in registry::all() {
        if matches!(core.state(), ClientState::Created | ClientState::LoggedIn)
            && begin_drain(&core, DrainKind::Close, None, false).is_ok()
        {
            clients_closed += 1;
        }
    }
    if !wait_until(deadline, || !drains_in_progress()) {
        // Stopping the runtime under a drain would drop a client's stores
        // with no runtime to close them; leave it running and say so.
        return Err(CoreError::timeout(
            "shutdown: clients still draining at the deadline",
        ));
    }

    let left = deadline.saturating_duration_since(Instant::now());
    let outcome = runtime::stop(left.max(Duration::from_millis(1)), false)?;
    Ok(ShutdownReport {
        clients_closed,
        tasks_drained: outcome.tasks_drained,
        tasks_abandoned: outcome.tasks_abandoned,
        total_ms: started.elapsed().as_millis() as u64,
        runtime_generation: outcome.generation,
        already_shut_down: false,
    })
}
