//! The drain shared by `logout`, `close`, a release by the app and `shutdown`.
//!
//! It runs on a dedicated thread that is not one of the runtime's, so that it
//! can restart the runtime, and so that a foreign caller that cancels its
//! `logout` cannot leave a client half drained. When it returns:
//! 1. sync is stopped and no request of the client is in flight;
//! 2. every supervised task of the client has ended and the core's handles to
//!    the matrix `Client` are dropped, inside the runtime;
//! 3. the stores are closed (`Client::pause`), and with a wipe `data_dir` is gone;
//! 4. if it was the last live client, the runtime has restarted, which ends
//!    matrix-sdk's own tasks; their stores were closed in step 3.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{registry, ClientCore};
use crate::ffi::records::{LogoutOptions, LogoutReport, ServerLogout};
use crate::lifecycle::phases::{LifecycleListener, LifecyclePhase, PhaseClock};
use crate::lifecycle::state::Transition;
use crate::matrix;
use crate::platform;
use crate::runtime;

/// Bound of each local step (stop sync, close stores, runtime restart).
const LOCAL_STEP: Duration = Duration::from_secs(5);

/// What kind of drain to run.
#[derive(Debug, Clone)]
pub(crate) enum DrainKind {
    /// End the session on the server, then drain.
    Logout(LogoutOptions),
    /// Drain and keep the session for `restore`.
    Close,
}

/// Runs the drain. The caller has already moved the client to `LoggingOut` or
/// `Closing`. `restart_if_last` is false under `shutdown`, which stops the
/// runtime itself once every client is drained.
pub(crate) fn drain(
    core: &Arc<ClientCore>,
    kind: DrainKind,
    listener: Option<Arc<dyn LifecycleListener>>,
    restart_if_last: bool,
) -> LogoutReport {
    let mut clock = PhaseClock::new(listener);
    let mut warnings = Vec::new();
    let handle = core.handle.clone();
    // Everything this thread drops, even while unwinding, is dropped inside
    // the runtime's context (a store pool's drop spawns blocking work).
    let entered = handle.enter();
    let (sdk, sync) = {
        let mut inner = core.inner();
        inner.sync_wanted = false;
        (inner.sdk.take(), inner.sync.take())
    };

    clock.begin(LifecyclePhase::StoppingSync);
    if let Some(sync) = &sync {
        let stopped = handle.block_on(matrix::sync::stop(sync));
        if let Err(e) = stopped {
            warnings.push(format!("the sync service did not stop: {e}"));
        }
    }
    drop(sync);
    core.sync_state
        .send_replace(crate::ffi::records::SyncState::Terminated);

    let server_logout = match (&kind, &sdk) {
        (DrainKind::Logout(options), Some(sdk)) => {
            clock.begin(LifecyclePhase::ServerLogout);
            let timeout = Duration::from_millis(options.server_timeout_ms.into());
            handle.block_on(matrix::auth::server_logout(sdk, timeout))
        }
        (DrainKind::Logout(_), None) => ServerLogout::Failed {
            reason: "the client had no matrix session".into(),
        },
        (DrainKind::Close, _) => ServerLogout::Skipped,
    };

    clock.begin(LifecyclePhase::CancellingTasks);
    // Message listeners are released with the client's tasks.
    core.messages.clear();
    let stop = core.group.stop(
        &handle,
        Duration::from_millis(20),
        Instant::now() + LOCAL_STEP,
    );
    if !stop.abandoned.is_empty() {
        warnings.push(format!("tasks abandoned: {}", stop.abandoned.join(", ")));
    }

    clock.begin(LifecyclePhase::ClosingStores);
    if let Some(sdk) = &sdk {
        match bounded(&handle, sdk.pause()) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warnings.push(format!("closing the stores failed: {e}")),
            Err(_) => warnings.push("closing the stores took over 5 s".to_owned()),
        }
    }

    clock.begin(LifecyclePhase::DroppingClient);
    // The core's last handle, dropped inside the runtime's context.
    drop(sdk);

    let wipe = matches!(&kind, DrainKind::Logout(o) if o.wipe_local_data);
    let mut data_wiped = false;
    if wipe {
        clock.begin(LifecyclePhase::WipingData);
        match std::fs::remove_dir_all(&core.data_dir) {
            Ok(()) => data_wiped = true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => data_wiped = true,
            Err(e) => warnings.push(format!("wiping data_dir failed: {e}")),
        }
    }

    let _ = core.transition(Transition::Drained);
    registry::remove(core);

    // The runtime may be stopped below: leave its context first.
    drop(entered);
    let restart = runtime::release_client(core.generation, LOCAL_STEP, restart_if_last, || {
        clock.begin(LifecyclePhase::RestartingRuntime)
    });
    let (runtime_restarted, runtime_generation) = match restart {
        Ok(Some(outcome)) => {
            if !outcome.tasks_abandoned.is_empty() {
                warnings.push(format!(
                    "runtime restart abandoned: {}",
                    outcome.tasks_abandoned.join(", ")
                ));
            }
            (true, outcome.generation)
        }
        Ok(None) => (false, runtime::generation()),
        Err(e) => {
            warnings.push(format!("runtime restart failed: {e}"));
            (false, runtime::generation())
        }
    };

    // Measured last: after a restart, matrix-sdk's own tasks are gone too.
    let files_open = platform::open_files_under(&core.data_dir);
    core.claim.lock().unwrap_or_else(|p| p.into_inner()).take();
    let client_dropped = core.dropped.dropped();
    // Tokio cannot attribute tasks to a client: when the client is still
    // held, count the unsupervised tasks that appeared since it was built
    // (at least one holds it).
    let foreign_left = if client_dropped {
        0
    } else {
        let grown = runtime::unsupervised_tasks().saturating_sub(core.foreign_tasks_before);
        grown.max(1) as u32
    };
    let tasks_left_behind = core.group.len() as u32 + foreign_left;
    if !client_dropped {
        warnings.push(format!(
            "about {foreign_left} matrix-sdk tasks still hold this client; other clients are live, so the runtime \
             was not restarted. The next restart or shutdown() ends them (its stores are already closed)."
        ));
    }
    let (phases, total_ms) = clock.finish();
    LogoutReport {
        server_logout,
        phases,
        total_ms,
        tasks_drained: stop.drained,
        store_files_open_after: files_open,
        client_dropped,
        tasks_left_behind,
        data_wiped,
        runtime_restarted,
        runtime_generation,
        warnings,
    }
}

/// Runs `future` on the runtime from this (non-runtime) thread, bounded by
/// [`LOCAL_STEP`]. The timer is created inside the runtime's context.
fn bounded<F: std::future::Future>(
    handle: &tokio::runtime::Handle,
    future: F,
) -> Result<F::Output, tokio::time::error::Elapsed> {
    handle.block_on(async { tokio::time::timeout(LOCAL_STEP, future).await })
}
