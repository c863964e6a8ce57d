//! The process shutdown: close every client, stop every task, stop the runtime.
//!
//! Concurrent and repeated calls are safe. Callers that arrive while a
//! shutdown runs share its outcome; a call after it finished finds nothing
//! running and says `already_shut_down`.
//!
//! The bound `timeout_ms` covers the whole call, thread joins included. It is
//! split in two budgets: a quarter (at least one second, at most half) for
//! stopping the runtime, the rest for the clients' drains, so that a slow
//! drain cannot eat the time the stop needs; the stop also gets whatever the
//! drains left.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, FutureExt, Shared};

use super::begin_drain;
use super::coordinator;
use super::drain::DrainKind;
use crate::api::{
    ClientState, CoreError, CoreResult, RuntimeState, ShutdownOptions, ShutdownReport,
};
use crate::client::registry;
use crate::runtime::{self, RefuseGuard};

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
            let report = std::panic::catch_unwind(|| run(options))
                .unwrap_or_else(|_| Err(CoreError::internal("the shutdown panicked; see the log")));
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

/// Refuses new work while a shutdown runs; on every exit path, lets work in
/// again and wakes the drains that parked for this shutdown.
struct Refusing(Option<RefuseGuard>);

impl Drop for Refusing {
    fn drop(&mut self) {
        drop(self.0.take());
        coordinator::shutdown_ended();
    }
}

/// What the stop leaves, at most, for parked drains to finish their reports.
const PARKED_RESERVE: Duration = Duration::from_millis(100);

/// The two budgets of one shutdown.
fn budgets(timeout: Duration) -> (Duration, Duration) {
    let stop = (timeout / 4).max(Duration::from_secs(1).min(timeout / 2));
    (timeout - stop, stop)
}

fn run(options: ShutdownOptions) -> CoreResult<ShutdownReport> {
    let started = Instant::now();
    let before = runtime::snapshot();
    if matches!(
        before.state,
        RuntimeState::NotStarted | RuntimeState::ShutDown
    ) && !coordinator::busy()
    {
        return Ok(ShutdownReport {
            clients_closed: 0,
            tasks_drained: 0,
            tasks_abandoned: Vec::new(),
            total_ms: started.elapsed().as_millis() as u64,
            runtime_generation: before.generation,
            already_shut_down: true,
            // Looked at: the last generation's threads, by id.
            threads_left: runtime::threads_alive(),
        });
    }
    let timeout = Duration::from_millis(options.timeout_ms.into());
    // The stop's budget is what the drains may not take.
    let (drain_budget, _stop_budget) = budgets(timeout);
    let drains_deadline = started + drain_budget;
    coordinator::shutdown_began(drains_deadline);
    let refusing = Refusing(Some(runtime::refuse_new_work()));
    crate::hooks::pause_point("shutdown.refusing");

    // Creations and drains under way end or park; then close every live client.
    coordinator::wait_settled(drains_deadline);
    let mut clients_closed = 0;
    let mut not_closed = None;
    for core in registry::all() {
        if !matches!(core.state(), ClientState::Created | ClientState::LoggedIn) {
            continue;
        }
        match begin_drain(&core, DrainKind::Close, None, false) {
            Ok(_) => clients_closed += 1,
            // Began draining meanwhile (a close of the app's): not ours.
            Err(_) if !matches!(core.state(), ClientState::Created | ClientState::LoggedIn) => {}
            Err(e) => not_closed = Some(e),
        }
    }
    // Released clients held for want of a drain thread: their drains hold
    // them now.
    drop(registry::settle_owed(|c| {
        !matches!(c.state(), ClientState::Created | ClientState::LoggedIn)
    }));
    let settled = coordinator::wait_settled(drains_deadline);
    if let Some(e) = not_closed {
        // Stopping the runtime under a client that is not drained would drop
        // its stores with no runtime to close them; leave it running.
        return Err(CoreError::internal(format!(
            "shutdown: a live client could not be closed ({e}); the runtime is left running"
        )));
    }
    if !settled {
        // Stopping the runtime under a drain would drop a client's stores
        // with no runtime to close them; leave it running and say so.
        return Err(CoreError::timeout(
            "shutdown: clients still draining at the deadline",
        ));
    }

    // The stop may use what the drains left of the bound, less a moment for
    // the parked drains to look at their clients after it.
    let deadline = started + timeout;
    let remaining = deadline.saturating_duration_since(Instant::now());
    let stop_for = remaining
        .saturating_sub((remaining / 10).min(PARKED_RESERVE))
        .max(Duration::from_millis(1));
    let outcome = runtime::stop(stop_for, false)?;
    // Parked drains carry on now, and observe their clients' drop.
    drop(refusing);
    coordinator::wait_drained(deadline);
    Ok(ShutdownReport {
        clients_closed,
        tasks_drained: outcome.tasks_drained,
        tasks_abandoned: outcome.tasks_abandoned,
        total_ms: started.elapsed().as_millis() as u64,
        runtime_generation: outcome.generation,
        already_shut_down: false,
        threads_left: outcome.threads_left,
    })
}

#[cfg(test)]
mod tests {
    use super::budgets;
    use std::time::Duration;

    #[test]
    fn the_stop_keeps_a_budget_of_its_own() {
        let ms = Duration::from_millis;
        assert_eq!(budgets(ms(5000)), (ms(3750), ms(1250)));
        assert_eq!(budgets(ms(3000)), (ms(2000), ms(1000)));
        assert_eq!(budgets(ms(400)), (ms(200), ms(200)));
        assert_eq!(budgets(ms(20_000)), (ms(15_000), ms(5000)));
    }
}
