//! Client state machine, logout/close drains and the process shutdown.
//!
//! Every drain and every shutdown runs on a dedicated thread of its own (never
//! a runtime thread), tracked here so that `shutdown` can wait for drains that
//! are under way.

pub mod phases;
pub(crate) mod shutdown;
pub mod state;
pub(crate) mod teardown;

use std::sync::{Arc, LazyLock};

use tokio::sync::oneshot;
use tokio_util::task::TaskTracker;

use crate::client::ClientCore;
use crate::error::{CoreError, CoreResult};
use crate::ffi::records::LogoutReport;
use phases::LifecycleListener;
use state::Transition;
use teardown::DrainKind;

/// Drains under way, each holding a token of this tracker.
static DRAINS: LazyLock<TaskTracker> = LazyLock::new(TaskTracker::new);

/// Whether any drain is under way.
pub(crate) fn drains_in_progress() -> bool {
    !DRAINS.is_empty()
}

/// Moves the client to `LoggingOut` or `Closing` now, then drains it on a
/// thread of its own. The receiver gets the report; the drain completes even
/// if the receiver is dropped.
pub(crate) fn begin_drain(
    core: &Arc<ClientCore>,
    kind: DrainKind,
    listener: Option<Arc<dyn LifecycleListener>>,
    restart_if_last: bool,
) -> CoreResult<oneshot::Receiver<CoreResult<LogoutReport>>> {
    let transition = match kind {
        DrainKind::Logout(_) => Transition::BeginLogout,
        DrainKind::Close => Transition::BeginClose,
    };
    core.transition(transition)?;
    let (tx, rx) = oneshot::channel();
    let token = DRAINS.token();
    let core = core.clone();
    std::thread::Builder::new()
        .name("mmc-drain".into())
        .spawn(move || {
            let drained = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                teardown::drain(&core, kind, listener, restart_if_last)
            }));
            let report = drained.map_err(|payload| {
                let message = crate::supervisor::failure::panic_message(payload.as_ref());
                tracing::error!(%message, "the drain panicked");
                CoreError::internal(format!("the drain panicked: {message}"))
            });
            if let Ok(r) = &report {
                tracing::info!(
                    total_ms = r.total_ms,
                    client_dropped = r.client_dropped,
                    "client drained"
                );
            }
            let _ = tx.send(report);
            drop(core);
            drop(token);
        })
        .map_err(|e| CoreError::internal(format!("could not start the drain thread: {e}")))?;
    Ok(rx)
}
