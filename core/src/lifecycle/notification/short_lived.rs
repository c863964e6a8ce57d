//! A short-lived notification client: a `data_dir` claimed in this process
//! (or lent by its paused client), a [`Reader`] on its stores that answers
//! pushes one at a time, then taken apart in the drain's order. It runs on a
//! thread of its own with a runtime lease, counted like any client.
//! `get_notification`'s serves one push; a fetcher's serves until it is
//! closed or released, until a client of this process wants the directory
//! (after the pushes already queued), or until a process shutdown.
//!
//! When its report is sent:
//! 1. its one supervised task (`notification-client`) has ended, and every
//!    matrix client it built was dropped inside the runtime after its
//!    stores were closed (looked at, for a bounded time);
//! 2. no file under `data_dir` is open in this process (looked at, and
//!    waited for), unless the stores refused to close (logged as an error);
//! 3. no task it started is left: if it was the only client of the process
//!    (a notification extension's case), the runtime was restarted, which
//!    ends matrix-sdk's own tasks; otherwise they hold the dropped client
//!    weakly and end on their own, or a warning says they wait for the next
//!    restart.

use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot, OwnedMutexGuard};

use super::super::steps::{self, LOCAL_STEP};
use super::super::{coordinator, spawn_thread};
use super::reader::{Dropped, Reader, Sessions};
use crate::api::listeners::panic_message;
use crate::api::{
    CloseReport, CoreError, CoreResult, LifecyclePhase, NotificationItem, PhaseTiming, ServerLogout,
};
use crate::client::{process_lock, NotificationDir, PausedHold};
use crate::matrix::{build::CheckedConfig, notification::Target};
use crate::runtime::{self, ClientLease, Release};
use crate::supervisor::TaskKind;

/// Bound of one fetch (sync, `/context`, decryption retry, a refresh): an
/// iOS notification extension has about 30 s in all.
pub(crate) const FETCH_BOUND: Duration = Duration::from_secs(25);
/// Pushes queued at once; a caller beyond waits for room.
const QUEUE: usize = 16;

/// What a short-lived client starts from, checked before anything is spawned.
pub(crate) struct Opening {
    pub(crate) config: CheckedConfig,
    pub(crate) sessions: Sessions,
    /// The `data_dir` of this process's paused client, lent.
    pub(crate) lent: Option<PausedHold>,
    /// Whether it gives the directory up when a client of this process
    /// wants it (a fetcher's); `get_notification`'s is waited for instead.
    pub(crate) yields: bool,
}

/// One push to answer.
pub(crate) struct Job {
    pub(crate) target: Target,
    pub(crate) reply: oneshot::Sender<CoreResult<Option<NotificationItem>>>,
}

/// A running short-lived client: its queue, and the report of its teardown.
/// Dropping the queue's sender ends it after the pushes queued.
pub(crate) struct ShortLived {
    pub(crate) jobs: mpsc::Sender<Job>,
    pub(crate) closed: oneshot::Receiver<CoreResult<CloseReport>>,
}

/// What the supervised task hands back.
struct Served {
    /// Whether the stores are known to have let go of their files.
    stores_closed: bool,
    closing_stores: Duration,
    /// Files under `data_dir` open in this process after the close, counted
    /// while the directory is still claimed (a client that takes it over
    /// right after opens its own).
    files_open: Option<u32>,
    dropped: Option<Dropped>,
    /// What went wrong in the close, in the drain's words.
    warnings: Vec<String>,
}

/// Starts a short-lived client (holding `turn`, if given, until its
/// teardown ends). Returns once its matrix client is built; when it could
/// not be, after the teardown, with the reason.
pub(crate) async fn start(
    opening: Opening,
    turn: Option<OwnedMutexGuard<()>>,
) -> CoreResult<ShortLived> {
    let (creating, handle, lease) = loop {
        runtime::ready().await?;
        // From here to the thread's spawn, nothing awaits.
        let creating = coordinator::begin_create()?;
        match runtime::lease_client("notification") {
            Ok((handle, _process, lease)) => break (creating, handle, lease),
            // A restart began since `ready`: wait for the next generation.
            Err(CoreError::Busy { .. }) => continue,
            Err(e) => return Err(e),
        }
    };
    let (jobs, queue) = mpsc::channel(QUEUE);
    let (opened_tx, opened) = oneshot::channel();
    let (closed_tx, mut closed) = oneshot::channel();
    spawn_thread("mmc-notification", move || {
        let _turn = turn;
        let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(&handle, lease, opening, queue, opened_tx)
        }))
        .unwrap_or_else(|payload| {
            let message = panic_message(payload.as_ref());
            tracing::error!(%message, "a notification client panicked");
            Err(CoreError::internal(format!(
                "the notification client panicked: {message}"
            )))
        });
        // A shutdown waits for this token: only now is everything taken apart.
        drop(creating);
        let _ = closed_tx.send(report);
    })
    .map_err(|e| CoreError::internal(format!("could not start the notification thread: {e}")))?;
    match opened.await {
        Ok(Ok(())) => Ok(ShortLived { jobs, closed }),
        Ok(Err(e)) => {
            drop(jobs);
            let _ = (&mut closed).await;
            Err(e)
        }
        // It ended before its client was built: a shutdown, or a panic.
        Err(_) => Err(match closed.await {
            Ok(Err(e)) => e,
            _ => CoreError::internal("the notification client ended before it was built"),
        }),
    }
}

/// Runs the client as the lease's one supervised task, then takes it apart
/// and gives the lease back; on a core thread that is not one of the
/// runtime's.
fn run(
    handle: &Handle,
    lease: ClientLease,
    opening: Opening,
    queue: mpsc::Receiver<Job>,
    opened: oneshot::Sender<CoreResult<()>>,
) -> CoreResult<CloseReport> {
    let started = Instant::now();
    let mut phases = Vec::new();
    let mut warnings = Vec::new();
    let (served, client_dropped, stop) = {
        // Whatever this thread drops here, it drops inside the runtime.
        let _entered = handle.enter();
        let (tx, rx) = oneshot::channel();
        let task = async move {
            let _ = tx.send(serve(opening, queue, opened).await);
            Ok(())
        };
        let join = lease
            .group()
            .spawn(handle, "notification-client", TaskKind::Finite, task)
            .ok_or(CoreError::ShuttingDown)?;
        let served = handle.block_on(rx);
        // Read before this thread's own stop below cancels the group.
        let cancelled = lease.group().token().is_cancelled();
        // The task's future, the matrix client in it, is gone once it joins.
        let _ = handle.block_on(join);
        // No answer: a process shutdown stopped the task, or it panicked
        // (reported to the failure listener).
        let served = served.map_err(|_| match cancelled {
            true => CoreError::ShuttingDown,
            false => CoreError::internal("the notification client's task ended without a result"),
        })?;
        phases.push(timing(LifecyclePhase::ClosingStores, served.closing_stores));
        let since = Instant::now();
        let dropped = match &served.dropped {
            Some(dropped) => handle.block_on(dropped.wait()),
            None => true,
        };
        phases.push(timing(LifecyclePhase::DroppingClient, since.elapsed()));
        let since = Instant::now();
        let stop = steps::stop_tasks(lease.group(), handle, Duration::ZERO, &mut warnings);
        phases.push(timing(LifecyclePhase::CancellingTasks, since.elapsed()));
        (served, dropped, stop)
    };
    warnings.extend(served.warnings.iter().cloned());
    let since = Instant::now();
    let released = steps::give_back(lease, served.stores_closed, || {});
    if matches!(released, Release::NotLast) && !client_dropped {
        tracing::warn!(
            "matrix-sdk's tasks of a notification client outlive it (other clients are \
             live); the next restart or shutdown() ends them"
        );
    }
    let (runtime_restarted, runtime_generation) = released.outcome(&mut warnings);
    phases.push(timing(LifecyclePhase::RestartingRuntime, since.elapsed()));
    Ok(CloseReport {
        server_logout: ServerLogout::Skipped,
        phases,
        total_ms: started.elapsed().as_millis() as u64,
        tasks_drained: stop.drained,
        store_files_open_after: served.files_open,
        client_dropped,
        tasks_left_behind: stop.abandoned.len() as u32,
        data_wiped: false,
        runtime_restarted,
        runtime_generation,
        warnings,
        unsent_messages: 0,
    })
}

fn timing(phase: LifecyclePhase, took: Duration) -> PhaseTiming {
    PhaseTiming {
        phase,
        elapsed_ms: took.as_millis() as u64,
    }
}

/// What ends the wait for the next push.
enum Next {
    Job(Job),
    /// The queue's sender is gone: closed or released.
    End,
    Yield,
    Shutdown,
}

/// Claims the directory, builds the reader on its stores, answers the
/// pushes, then closes the stores and drops the matrix client, here inside
/// the runtime.
async fn serve(
    opening: Opening,
    mut queue: mpsc::Receiver<Job>,
    opened: oneshot::Sender<CoreResult<()>>,
) -> Served {
    let Opening {
        config,
        sessions,
        lent,
        yields,
    } = opening;
    let nothing = |stores_closed| Served {
        stores_closed,
        closing_stores: Duration::ZERO,
        files_open: None,
        dropped: None,
        warnings: Vec::new(),
    };
    let session = sessions.current();
    let claimed = tokio::task::block_in_place(|| match lent {
        Some(hold) => NotificationDir::lent(hold, &session),
        None => NotificationDir::claim(&config.data_dir, &session),
    });
    // An app client that shares its stores with no process keeps readers
    // out while it has them open.
    let claimed = claimed.and_then(|dir| {
        let reading = process_lock::read_beside_app(dir.path())?;
        Ok((dir, reading))
    });
    let (dir, reading) = match claimed {
        Ok(claimed) => {
            crate::hooks::pause_point("notification.claimed");
            claimed
        }
        Err(e) => {
            let _ = opened.send(Err(e));
            return nothing(true);
        }
    };
    // Out of every log line while the client lives.
    let _passphrase = config
        .passphrase
        .as_deref()
        .map(crate::logging::scrub::Registered::typed);
    let config = CheckedConfig {
        data_dir: dir.path().to_path_buf(),
        ..config
    };
    let mut reader = match Reader::build(config, sessions).await {
        Ok(reader) => reader,
        Err(e) => {
            let _ = opened.send(Err(e));
            drop(reading);
            let mut served = nothing(true);
            served.files_open = steps::files_after_close(
                dir.files_open(LOCAL_STEP),
                &mut served.stores_closed,
                &mut served.warnings,
            )
            .await;
            return served;
        }
    };
    let _ = opened.send(Ok(()));
    loop {
        let wanted = async {
            match yields {
                true => dir.wanted().await,
                false => std::future::pending().await,
            }
        };
        let next = tokio::select! {
            biased;
            () = runtime::refusing() => Next::Shutdown,
            job = queue.recv() => job.map_or(Next::End, Next::Job),
            () = wanted => Next::Yield,
        };
        match next {
            Next::Job(job) => {
                let answer = tokio::select! {
                    outcome = tokio::time::timeout(FETCH_BOUND, reader.answer(&job.target)) => {
                        outcome.unwrap_or_else(|_| Err(CoreError::timeout("get_notification")))
                    }
                    () = runtime::refusing() => Err(CoreError::ShuttingDown),
                };
                let _ = job.reply.send(answer);
            }
            Next::End => break,
            // Pushes already queued are answered first; later ones find the
            // queue closed and go to the client that wanted the directory.
            Next::Yield => {
                tracing::info!("a client of this process wants the data_dir; the fetcher yields");
                queue.close();
            }
            Next::Shutdown => {
                queue.close();
                while let Ok(job) = queue.try_recv() {
                    let _ = job.reply.send(Err(CoreError::ShuttingDown));
                }
                break;
            }
        }
    }
    let since = Instant::now();
    let mut warnings = Vec::new();
    let (mut stores_closed, dropped) = reader.close(&mut warnings).await;
    drop(reading);
    let files_open = steps::files_after_close(
        dir.files_open(LOCAL_STEP),
        &mut stores_closed,
        &mut warnings,
    )
    .await;
    Served {
        stores_closed,
        closing_stores: since.elapsed(),
        files_open,
        dropped: Some(dropped),
        warnings,
    }
}
