//! The drain shared by `logout`, `close`, a release by the app and `shutdown`.
//!
//! It runs on a dedicated thread that is not one of the runtime's, so that it
//! can restart the runtime, and so that a foreign caller that cancels its
//! `logout` cannot leave a client half drained. When it returns:
//! 1. sync is stopped and no request of the client is in flight;
//! 2. every supervised task of the client has ended and the core's handles to
//!    the matrix `Client` are dropped, inside the runtime;
//! 3. the stores are closed (`Client::pause`) and no file under `data_dir` is
//!    open (looked at, and waited for), and with a wipe `data_dir` is gone.
//!    Stores that did not close are never wiped, nor dropped by a restart:
//!    the report says what is open;
//! 4. if it was the last live client, the runtime has restarted, which ends
//!    matrix-sdk's own tasks; their stores were closed in step 3. Under a
//!    process shutdown, the drain parks instead, and the shutdown's stop of
//!    the runtime ends them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::coordinator::{self, DrainToken};
use super::phases::PhaseClock;
use super::steps::{self, LOCAL_STEP};
use crate::api::{LifecycleListener, LifecyclePhase, LogoutOptions, LogoutReport, ServerLogout};
use crate::client::{begin_wipe, mark_wipe_owed, ClientCore};
use crate::matrix;
use crate::platform;
use crate::runtime::{self, Release};

/// Cooperative grace of the client's tasks before the gate closes.
const GRACE: Duration = Duration::from_millis(20);
/// How long the listeners' end signals may take before the drain goes on.
const LISTENERS_END: Duration = Duration::from_secs(1);

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
    token: &DrainToken,
) -> LogoutReport {
    let mut clock = PhaseClock::new(listener);
    let mut warnings = Vec::new();
    let wipe_wanted = matches!(&kind, DrainKind::Logout(o) if o.wipe_local_data);
    if wipe_wanted {
        // First, so that a process killed from here on still owes the wipe.
        if let Err(e) = mark_wipe_owed(core.store_dir()) {
            warnings.push(format!("could not record the owed wipe: {e}"));
        }
    }

    clock.begin(LifecyclePhase::StoppingSync);
    let mut server_logout = ServerLogout::Skipped;
    let mut tasks_drained = 0;
    let mut data_wiped = false;
    let mut unsent_messages = 0;
    let mut keys_backed_up = None;
    // Whether the stores are known to have let go of their files.
    let mut stores_closed = true;
    match core.drain_handle() {
        Ok(handle) => {
            // Everything this thread drops, even while unwinding, is dropped
            // inside the runtime's context (a store pool's drop spawns work).
            let _entered = handle.enter();
            let parts = core.take_for_drain(&handle, LOCAL_STEP);
            if let Some(sync) = &parts.sync {
                if let Err(e) = handle.block_on(matrix::sync::stop(sync)) {
                    warnings.push(format!("the sync service did not stop: {e}"));
                }
            }
            drop(parts.sync);

            // One deadline bounds the key backup's wait and the server
            // logout together: `server_timeout_ms` is the whole time the
            // logout gives the server.
            let server_deadline = match &kind {
                DrainKind::Logout(options) => {
                    Instant::now() + Duration::from_millis(options.server_timeout_ms.into())
                }
                DrainKind::Close => Instant::now(),
            };
            crate::hooks::pause_point("drain.server_deadline");
            if let (DrainKind::Logout(_), Some(sdk), true) = (&kind, &parts.sdk, wipe_wanted) {
                // The room keys only this device holds are lost with the
                // wipe unless the key backup has them.
                let timeout = server_deadline.saturating_duration_since(Instant::now());
                keys_backed_up = handle.block_on(async {
                    tokio::select! {
                        outcome = matrix::encryption::wait_backed_up(sdk, timeout) => outcome,
                        () = shutdown_cutoff() => Some(false),
                    }
                });
                if keys_backed_up == Some(false) {
                    warnings.push("the key backup did not upload every room key".to_owned());
                }
            }

            server_logout = match (&kind, &parts.sdk) {
                (DrainKind::Logout(_), Some(sdk)) => {
                    clock.begin(LifecyclePhase::ServerLogout);
                    // What the backup's wait left of the deadline.
                    let timeout = server_deadline.saturating_duration_since(Instant::now());
                    // A process shutdown waits for the server only as long as
                    // its own bound allows, keeping time for the local steps.
                    handle.block_on(async {
                        tokio::select! {
                            outcome = matrix::auth::server_logout(sdk, timeout) => outcome,
                            () = shutdown_cutoff() => ServerLogout::Failed {
                                reason: "abandoned: the core is shutting down".into(),
                            },
                        }
                    })
                }
                (DrainKind::Logout(_), None) => ServerLogout::Failed {
                    reason: "the client had no matrix session".into(),
                },
                (DrainKind::Close, _) => ServerLogout::Skipped,
            };

            let revoked = matches!(
                server_logout,
                ServerLogout::Revoked | ServerLogout::TokenAlreadyInvalid
            );
            if revoked && !wipe_wanted {
                if let Err(e) = core.mark_session_revoked() {
                    warnings.push(format!("could not record that the session ended: {e}"));
                }
            }

            clock.begin(LifecyclePhase::CancellingTasks);
            tasks_drained =
                steps::stop_tasks(core.task_group(), &handle, GRACE, &mut warnings).drained;

            // matrix-sdk's own back-paginations hold the client until
            // they end (see `paginations_settled`): they end here, while
            // the stores are open and the runtime runs, or are reported.
            if let Some(sdk) = &parts.sdk {
                let rooms = core.take_paginated_rooms();
                let deadline = (Instant::now() + LOCAL_STEP).into();
                let settled = handle.block_on(async {
                    tokio::select! {
                        settled = matrix::timeline::paginations_settled(sdk, &rooms, deadline) => settled,
                        () = shutdown_cutoff() => false,
                    }
                });
                if !settled {
                    warnings.push(
                        "a back-pagination was still waiting for the server; matrix-sdk's task \
                         holds the client until it ends"
                            .to_owned(),
                    );
                }
            }

            // The timelines' matrix-sdk-ui objects and the tasks that
            // follow their rooms, dropped here inside the runtime: calls on
            // them get `ClientClosed` from now on.
            drop(core.take_timelines());
            drop(core.take_verifications());
            drop(core.take_push_rules());

            clock.begin(LifecyclePhase::ClosingStores);
            // A pause closed the stores: the state store opens again for the
            // count (the close below closes it with the rest).
            let paused = core.inner().paused;
            if let Some(sdk) = &parts.sdk {
                unsent_messages = handle
                    .block_on(async {
                        tokio::time::timeout(LOCAL_STEP, async {
                            if paused {
                                matrix::stores::reopen_state(sdk).await?;
                            }
                            matrix::timeline::unsent_messages(sdk).await
                        })
                        .await
                    })
                    .unwrap_or_else(|_| Err(crate::api::CoreError::timeout("counting")))
                    .unwrap_or_else(|e| {
                        warnings.push(format!("could not count the unsent messages: {e}"));
                        0
                    });
            }
            if let Some(sdk) = &parts.sdk {
                stores_closed = handle.block_on(steps::close_stores(sdk, &mut warnings));
            }
            if stores_closed {
                core.let_readers_in();
            }
            handle.block_on(steps::files_after_close(
                core.store_files_open(LOCAL_STEP),
                &mut stores_closed,
                &mut warnings,
            ));

            clock.begin(LifecyclePhase::DroppingClient);
            // The core's last handle, dropped inside the runtime's context.
            drop(parts.sdk);
        }
        Err(e) => warnings.push(format!(
            "the client's runtime is gone ({e}); nothing to stop"
        )),
    }
    if !stores_closed {
        // A wipe would delete files under live connections, and a restart
        // would drop live pools inside a runtime that is shutting down.
        warnings.push(
            "the stores did not close: data_dir is not wiped (the next create on it finishes an \
             owed wipe) and the runtime is not restarted; the next shutdown() stops it"
                .to_owned(),
        );
    }

    // The directory is gone once renamed; its contents are deleted beside
    // the runtime restart, and before the drain returns.
    let mut wiping = None;
    if wipe_wanted && stores_closed {
        clock.begin(LifecyclePhase::WipingData);
        match begin_wipe(core.store_dir()) {
            Ok(w) => wiping = Some(w),
            Err(e) => warnings.push(format!(
                "wiping data_dir failed (the next create finishes it): {e}"
            )),
        }
    }
    let tombstone = wiping
        .as_ref()
        .and_then(|w| w.tombstone().map(std::path::Path::to_path_buf));
    if !core.end_listeners(Instant::now() + LISTENERS_END) {
        warnings.push("a listener was still busy when the drain went on".to_owned());
    }
    core.mark_drained();

    let (runtime_restarted, runtime_generation) = release(
        core,
        restart_if_last && stores_closed,
        token,
        &mut clock,
        &mut warnings,
    );
    match wiping.map(|w| w.finish()) {
        Some(Ok(())) => data_wiped = true,
        Some(Err(e)) => warnings.push(format!(
            "deleting the wiped data_dir failed (the next create finishes it): {e}"
        )),
        None => {}
    }

    // Measured last: after a restart, matrix-sdk's own tasks are gone too.
    // Over everything the stores were: a file held open through the wipe
    // has its path under the renamed directory.
    let mut looked_at = vec![core.store_dir()];
    looked_at.extend(tombstone.as_deref());
    let files_open = platform::open_files_under_any(&looked_at);
    core.release_data_dir();
    let client_dropped = core.client_dropped();
    let own_tasks = core.tasks_alive();
    let tasks_left_behind = if client_dropped {
        own_tasks
    } else {
        warnings.push(
            "matrix-sdk still holds this client: its own tasks, while other clients are live \
             and the runtime was not restarted, or a back-pagination that did not end (see the \
             warning above); tasks_left_behind counts them as 1, an estimate (tokio cannot \
             attribute tasks to a client). The next restart or shutdown() ends the tasks; the \
             client's stores are already closed."
                .to_owned(),
        );
        own_tasks + 1
    };
    let (phases, total_ms) = clock.finish();
    LogoutReport {
        server_logout,
        phases,
        total_ms,
        tasks_drained,
        store_files_open_after: files_open,
        client_dropped,
        tasks_left_behind,
        data_wiped,
        runtime_restarted,
        runtime_generation,
        warnings,
        unsent_messages,
        keys_backed_up,
    }
}

/// Time a drain keeps for its local steps when a shutdown bounds it.
const LOCAL_RESERVE: Duration = Duration::from_millis(750);

/// Resolves when a process shutdown has begun and its wait for drains is
/// about to run out (keeping [`LOCAL_RESERVE`] for the local steps).
async fn shutdown_cutoff() {
    runtime::refusing().await;
    if let Some(deadline) = coordinator::drains_deadline() {
        let cutoff = deadline.checked_sub(LOCAL_RESERVE).unwrap_or(deadline);
        tokio::time::sleep_until(cutoff.into()).await;
    }
}

/// Gives the client's lease back: restarts the runtime when it was the last
/// client, parks until a pending shutdown has stopped the runtime, or leaves
/// the runtime to the other clients. Returns (restarted, generation).
fn release(
    core: &ClientCore,
    restart_if_last: bool,
    token: &DrainToken,
    clock: &mut PhaseClock,
    warnings: &mut Vec<String>,
) -> (bool, u64) {
    let Some(lease) = core.take_lease() else {
        return (false, runtime::generation());
    };
    let epoch = coordinator::epoch();
    let released = steps::give_back(lease, restart_if_last, || {
        clock.begin(LifecyclePhase::RestartingRuntime)
    });
    if matches!(released, Release::ShutdownPending) {
        token.park(epoch);
    }
    released.outcome(warnings)
}
