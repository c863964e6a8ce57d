//! The life of a client and of the process: creation, the logout/close
//! drain, the release of a client by the app, and the process shutdown.
//!
//! Every drain and every shutdown runs on a dedicated thread of its own (never
//! a runtime thread). One [`coordinator`] orders them: a shutdown waits for
//! creations and drains under way, and never stops the runtime under one.

mod coordinator;
mod create;
pub(crate) mod drain;
pub(crate) mod notification;
mod phases;
pub(crate) mod shutdown;
mod steps;

pub(crate) use create::create;
pub(crate) use notification::get_notification;

use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::api::listeners::panic_message;
use crate::api::{ClientState, CoreError, CoreResult, LifecycleListener, LogoutReport};
use crate::client::state::Transition;
use crate::client::{registry, ClientCore};
use drain::DrainKind;

/// The app's ownership of a client. When the last owner goes (Kotlin garbage
/// collection, Swift `deinit`, Python `del`, or a creation whose caller was
/// cancelled), the client is closed in the background with the same drain.
/// Dropping it never blocks and never drops a matrix client on this thread.
pub(crate) struct Owner(Arc<ClientCore>);

impl Deref for Owner {
    type Target = Arc<ClientCore>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        if matches!(self.0.state(), ClientState::Created | ClientState::LoggedIn) {
            if let Err(e) = begin_drain(&self.0, DrainKind::Close, None, true) {
                if matches!(self.0.state(), ClientState::Created | ClientState::LoggedIn) {
                    // No drain could start: dropping this last handle would
                    // drop the client undrained. The next shutdown closes it.
                    tracing::error!(%e, "a released client could not be closed; shutdown() will");
                    registry::owe_drain(self.0.clone());
                } else {
                    tracing::debug!(%e, "released client was already draining");
                }
            }
        }
    }
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
    let before = core.transition_returning_previous(transition)?;
    let (tx, rx) = oneshot::channel();
    let token = coordinator::begin_drain();
    let owner = core;
    let core = core.clone();
    let spawned = spawn_thread("mmc-drain", move || {
        let drained = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drain::drain(&core, kind, listener, restart_if_last, &token)
        }));
        let report = drained.map_err(|payload| {
            let message = panic_message(payload.as_ref());
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
        drop(core);
        drop(token);
        let _ = tx.send(report);
    });
    match spawned {
        Ok(_) => Ok(rx),
        Err(e) => {
            // Nothing was taken apart: the client is as it was, usable, and
            // the call may be tried again (the thread and token are gone).
            owner.undo_transition(before);
            Err(CoreError::internal(format!(
                "could not start the drain thread: {e}; the client is unchanged"
            )))
        }
    }
}

/// Runs a drain and awaits its report. The drain goes on if the caller
/// cancels (it holds no state of the caller's).
pub(crate) async fn drain_and_report(
    core: &Arc<ClientCore>,
    kind: DrainKind,
    listener: Option<Arc<dyn LifecycleListener>>,
) -> CoreResult<LogoutReport> {
    let report = begin_drain(core, kind, listener, true)?;
    report
        .await
        .map_err(|_| CoreError::internal("the drain ended without a report"))?
}

/// Spawns a core thread named `name` (a test may make it fail, see
/// [`crate::hooks`]).
fn spawn_thread(name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    if crate::hooks::thread_spawn_fails(name) {
        return Err(std::io::Error::other("refused by a test hook"));
    }
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map(drop)
}
