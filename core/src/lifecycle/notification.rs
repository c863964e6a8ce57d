//! `get_notification`: one event for a push handler or an iOS notification
//! extension, read from the app's `data_dir`, typically in another process
//! while the app may be syncing on the same stores.
//!
//! It is a client with the shortest life: leased and counted like one, built
//! on the stores with its own cross-process lock holder name
//! ([`matrix::build::Role::Notification`]), restored with only the one room
//! loaded, asked through matrix-sdk-ui's `NotificationClient`, then taken
//! apart in the drain's order. When it returns:
//! 1. the fetch has ended (its one supervised task, `get-notification`),
//!    and the matrix client was dropped inside the runtime after its stores
//!    were closed;
//! 2. no file under `data_dir` is open in this process (looked at, and
//!    waited for), unless the stores refused to close (logged as an error);
//! 3. no task it started is left: if it was the only client of the process
//!    (a notification extension's case), the runtime was restarted, which
//!    ends matrix-sdk's own tasks; otherwise its client was observed dropped,
//!    after which those tasks (which hold it weakly) end on their own, or a
//!    warning says they wait for the next restart.
//!
//! In-process, on a `data_dir` that a live client of this process uses,
//! that client fetches the event as a call of its own (no second client on
//! its stores); `Busy` only while it is being built, resumed or closed.
//! While it is paused, it is held paused and a short-lived client reads its
//! closed stores: when the call returns, the client is still paused with its
//! stores closed. Calls at once take turns: each gets its answer. A cancelled
//! call on the short-lived client completes in the background; a process
//! shutdown cuts the fetch short and waits for its teardown.

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::{coordinator, spawn_thread};
use crate::api::listeners::panic_message;
use crate::api::{ClientConfig, CoreError, CoreResult, NotificationItem, Session};
use crate::client::{LiveNotification, NotificationDir, PausedHold};
use crate::matrix::{self, build::CheckedConfig, notification::Target, sentinel::DropSentinel};
use crate::runtime::{self, ClientLease, Release};
use crate::supervisor::TaskKind;

/// Bound of the fetch (sync, `/context`, decryption retry): an iOS
/// notification extension has about 30 s in all.
const FETCH_BOUND: Duration = Duration::from_secs(25);
/// Bound of each local step of the teardown (closing the stores, waiting for
/// their files, the drop, a runtime restart).
const LOCAL_STEP: Duration = Duration::from_secs(5);
/// How long the teardown waits to see the matrix client dropped.
const DROP_BOUND: Duration = Duration::from_secs(1);

/// The turn of the process's short-lived notification clients.
static TURN: LazyLock<Arc<tokio::sync::Mutex<()>>> = LazyLock::new(Arc::default);

/// What the fetch needs, checked before anything is spawned.
struct Request {
    config: CheckedConfig,
    session: Session,
    target: Target,
    /// The `data_dir` of this process's paused client, lent.
    lent: Option<PausedHold>,
}

/// What the fetch task hands back besides its outcome.
struct Fetched {
    outcome: CoreResult<Option<NotificationItem>>,
    /// The canonical `data_dir`, once claimed.
    data_dir: Option<PathBuf>,
    /// Whether the stores are known to have let go of their files.
    stores_closed: bool,
}

/// Fetches one notification's event (see the module's guarantees).
///
/// Bad input (`config`, the session, a room or event id that is not one)
/// gets `InvalidArgument` before anything runs. `Ok(None)` when the event
/// does not notify (push rules, an ignored sender, a redaction); `NotFound`
/// when the account does not know the room or the event.
///
/// # Cancel safety
/// The work runs on a thread of its own and always reaches its teardown;
/// dropping the returned future only drops the answer.
pub(crate) async fn get_notification(
    config: ClientConfig,
    session: Session,
    room_id: String,
    event_id: String,
) -> CoreResult<Option<NotificationItem>> {
    let mut request = Request {
        lent: None,
        config: matrix::build::check(&config)?,
        target: matrix::notification::target(&room_id, &event_id)?,
        session: {
            matrix::auth::check_session(&session)?;
            session
        },
    };
    // In the process of a live client on the same data_dir (an Android push
    // handler runs in the app's process), that client answers.
    let live = std::fs::canonicalize(&request.config.data_dir)
        .ok()
        .and_then(|dir| crate::client::registry::live_on(&dir));
    // One short-lived notification client at a time in this process: a
    // notification extension handed two pushes at once answers both, the
    // second after the first's teardown, instead of `Busy` on the claim. The
    // turn goes with the thread, so a caller that stops waiting keeps the
    // next one out until its teardown is done.
    let turn = match live {
        Some(live) => {
            // A paused client's stores are read in turn, each call holding
            // it paused; a running one answers at once.
            let turn = match live.is_paused() {
                true => Some(TURN.clone().lock_owned().await),
                false => None,
            };
            let answer = live
                .notification(&request.session, request.target.clone(), FETCH_BOUND)
                .await?;
            match answer {
                LiveNotification::Answered(item) => return Ok(*item),
                LiveNotification::Paused(hold) => request.lent = Some(hold),
            }
            match turn {
                Some(turn) => turn,
                None => TURN.clone().lock_owned().await,
            }
        }
        None => TURN.clone().lock_owned().await,
    };
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
    let (tx, rx) = oneshot::channel();
    spawn_thread("mmc-notification", move || {
        let _turn = turn;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(&handle, lease, request)
        }))
        .unwrap_or_else(|payload| {
            let message = panic_message(payload.as_ref());
            tracing::error!(%message, "get_notification panicked");
            Err(CoreError::internal(format!(
                "get_notification panicked: {message}"
            )))
        });
        // A shutdown waits for this token: only now is everything taken apart.
        drop(creating);
        let _ = tx.send(outcome);
    })
    .map_err(|e| CoreError::internal(format!("could not start the notification thread: {e}")))?;
    rx.await.unwrap_or_else(|_| {
        Err(CoreError::internal(
            "get_notification ended without a result",
        ))
    })
}

/// Runs the fetch as the lease's one supervised task, then gives the lease
/// back; on a core thread that is not one of the runtime's.
fn run(
    handle: &Handle,
    lease: ClientLease,
    request: Request,
) -> CoreResult<Option<NotificationItem>> {
    let (sentinel, watch) = matrix::sentinel::sentinel();
    let fetched = {
        // Whatever this thread drops here, it drops inside the runtime.
        let _entered = handle.enter();
        let (tx, rx) = oneshot::channel();
        let task = async move {
            let _ = tx.send(fetch(request, sentinel).await);
            Ok(())
        };
        let join = lease
            .group()
            .spawn(handle, "get-notification", TaskKind::Finite, task)
            .ok_or(CoreError::ShuttingDown)?;
        let fetched = handle.block_on(rx);
        // Read before this thread's own stop below cancels the group.
        let cancelled = lease.group().token().is_cancelled();
        // The task's future, the matrix client in it, is gone once it joins.
        let _ = handle.block_on(join);
        let _ = handle.block_on(wait_dropped(&watch));
        let stop = lease
            .group()
            .stop(handle, Duration::ZERO, Instant::now() + LOCAL_STEP);
        if !stop.abandoned.is_empty() {
            tracing::warn!(abandoned = ?stop.abandoned, "get_notification left tasks");
        }
        // No answer: a process shutdown stopped the task, or it panicked
        // (reported to the failure listener).
        fetched.map_err(|_| match cancelled {
            true => CoreError::ShuttingDown,
            false => CoreError::internal("get_notification's task ended without a result"),
        })?
    };
    // Stores that did not close are never dropped by a restart (it would
    // drop live pools inside a runtime that is shutting down).
    match lease.release(fetched.stores_closed, LOCAL_STEP, || {}) {
        Release::Restarted(Ok(_)) | Release::ShutdownPending => {}
        Release::Restarted(Err(e)) => tracing::warn!(%e, "runtime restart after get_notification"),
        Release::NotLast if !watch.dropped() => tracing::warn!(
            "matrix-sdk's tasks of get_notification's client outlive it (other clients are \
             live); the next restart or shutdown() ends them"
        ),
        Release::NotLast => {}
    }
    if let Some(dir) = &fetched.data_dir {
        match crate::platform::open_files_under(dir) {
            Some(0) | None => {}
            Some(open) => tracing::error!(open, "get_notification left store files open"),
        }
    }
    fetched.outcome
}

/// Waits, at most [`DROP_BOUND`], until the matrix client's inner state is
/// gone; whether it is.
async fn wait_dropped(watch: &matrix::sentinel::DropWatch) -> bool {
    let deadline = tokio::time::Instant::now() + DROP_BOUND;
    while !watch.dropped() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    watch.dropped()
}

/// Claims the directory, builds the client on its stores, fetches the event
/// (cut short by a process shutdown), then closes the stores and drops the
/// client, here inside the runtime.
async fn fetch(request: Request, sentinel: DropSentinel) -> Fetched {
    let Request {
        config,
        session,
        target,
        lent,
    } = request;
    let claimed = tokio::task::block_in_place(|| match lent {
        Some(hold) => NotificationDir::lent(hold, &session),
        None => NotificationDir::claim(&config.data_dir, &session),
    });
    let dir = match claimed {
        Ok(dir) => {
            crate::hooks::pause_point("notification.claimed");
            dir
        }
        Err(e) => {
            return Fetched {
                outcome: Err(e),
                data_dir: None,
                stores_closed: true,
            }
        }
    };
    // Out of every log line while the fetch runs.
    let _tokens = matrix::auth::token_guards(&session);
    let _passphrase = config
        .passphrase
        .as_deref()
        .map(crate::logging::scrub::Registered::typed);
    let config = CheckedConfig {
        data_dir: dir.path().to_path_buf(),
        ..config
    };
    let built = matrix::build::build(&config, sentinel, matrix::build::Role::Notification).await;
    let (outcome, mut stores_closed) = match built {
        Ok(sdk) => {
            let work = async {
                matrix::auth::restore_for_room(&sdk, &session, &target.room_id).await?;
                matrix::notification::fetch(&sdk, &target).await
            };
            let outcome = tokio::select! {
                outcome = tokio::time::timeout(FETCH_BOUND, work) => outcome
                    .unwrap_or_else(|_| Err(CoreError::timeout("get_notification"))),
                () = runtime::refusing() => Err(CoreError::ShuttingDown),
            };
            let closed = tokio::time::timeout(LOCAL_STEP, matrix::stores::close(&sdk))
                .await
                .unwrap_or_else(|_| Err(CoreError::timeout("closing the stores")));
            if let Err(e) = &closed {
                tracing::warn!(%e, "get_notification: closing the stores");
            }
            drop(sdk);
            (outcome, closed.is_ok())
        }
        Err(e) => (Err(e), true),
    };
    // Looked at, not assumed: the connections close on blocking threads
    // after the close returns.
    if let Some(open) = dir.files_open(LOCAL_STEP).await.filter(|n| *n > 0) {
        tracing::error!(
            open,
            "get_notification: store files still open after the close"
        );
        stores_closed = false;
    }
    Fetched {
        outcome,
        data_dir: Some(dir.path().to_path_buf()),
        stores_closed,
    }
}
