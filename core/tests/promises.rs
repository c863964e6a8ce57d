//! Promises of the contract that no other test asserted: where listeners
//! run, an async core call awaited inside a listener, no request in flight
//! once `stop_sync` returns, a logout that keeps the stores, and a `close`
//! of a client that is not the last.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/session.rs"]
mod session;
#[path = "support/watch_proxy.rs"]
mod watch_proxy;

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::ThreadId;

use futures_executor::block_on;
use matrix_mobile_core::platform::open_files_under;
use matrix_mobile_core::{
    runtime, runtime_stats, set_task_failure_listener, Client, ClientState, LifecycleListener,
    LifecyclePhase, LogoutOptions, Message, MessageListener, ServerLogout, SyncState,
    SyncStateListener, TaskFailure, TaskFailureListener, TaskFailureReason,
};
use session::{config, logged_in, user, wait, PASSWORD};
use tempfile::TempDir;

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where one listener call ran.
#[derive(Debug, Clone)]
struct Seen {
    what: String,
    thread: ThreadId,
    name: String,
    on_runtime: bool,
}

/// Records the thread of every call; in `on_message`, awaits an async core
/// call (`recent_messages`) and records its outcome.
#[derive(Default)]
struct Where {
    seen: Mutex<Vec<Seen>>,
    client: Mutex<Option<Arc<Client>>>,
    awaited: Mutex<Vec<Result<usize, String>>>,
}

impl Where {
    fn record(&self, what: &str) {
        let current = std::thread::current();
        self.seen.lock().unwrap().push(Seen {
            what: what.to_owned(),
            thread: current.id(),
            name: current.name().unwrap_or("").to_owned(),
            on_runtime: runtime::on_runtime_thread(),
        });
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl SyncStateListener for Where {
    fn on_state(&self, state: SyncState) {
        self.record(&format!("{state:?}"));
    }
}

impl MessageListener for Where {
    fn on_message(&self, message: Message) {
        self.record("message");
        let client = self.client.lock().unwrap().clone();
        if let Some(client) = client {
            let outcome = block_on(client.recent_messages(message.room_id, 5))
                .map(|m| m.len())
                .map_err(|e| format!("{e:?}"));
            self.awaited.lock().unwrap().push(outcome);
        }
    }

    fn on_closed(&self) {
        self.record("closed");
        self.client.lock().unwrap().take();
    }
}

impl LifecycleListener for Where {
    fn on_phase(&self, phase: LifecyclePhase, _elapsed_ms: u64) {
        self.record(&format!("{phase:?}"));
    }
}

/// Every listener call runs on a listener thread of the core (`mmc-listeners`,
/// phases on `mmc-phases`), never on the app's thread that made the call and
/// never on a runtime thread; and a listener may await an async core call
/// (`recent_messages`) from inside its callback.
#[test]
fn listeners_run_on_the_cores_listener_threads_and_may_await_core_calls() {
    let _s = serial();
    let app = std::thread::current().id();
    let (client, _, _dir) = logged_in("where");
    let states = Arc::new(Where::default());
    let messages = Arc::new(Where::default());
    *messages.client.lock().unwrap() = Some(client.clone());
    let _states = client.observe_sync_state(states.clone()).unwrap();
    let _messages = client.observe_messages(messages.clone()).unwrap();
    block_on(client.start_sync()).unwrap();
    let room = block_on(client.create_room("where".into(), vec![], false)).unwrap();
    block_on(client.send_text(room, "where do you run".into())).unwrap();
    wait("the awaited call inside the listener", 30, || {
        !messages.awaited.lock().unwrap().is_empty()
    });
    let phases = Arc::new(Where::default());
    let report = block_on(client.logout(LogoutOptions::default(), Some(phases.clone()))).unwrap();
    assert_eq!(report.store_files_open_after, Some(0));
    wait("every end signal", 20, || {
        states.seen().iter().any(|s| s.what == "Terminated")
            && messages.seen().iter().any(|s| s.what == "closed")
            && phases.seen().iter().any(|s| s.what == "Done")
    });

    let awaited = messages.awaited.lock().unwrap().clone();
    assert!(
        matches!(awaited.first(), Some(Ok(n)) if *n >= 1),
        "{awaited:?}"
    );
    for (listener, thread) in [
        (&states, "mmc-listeners"),
        (&messages, "mmc-listeners"),
        (&phases, "mmc-phases"),
    ] {
        let seen = listener.seen();
        assert!(!seen.is_empty());
        for call in seen {
            assert_ne!(call.thread, app, "{call:?} ran on the app's thread");
            assert!(!call.on_runtime, "{call:?} ran on a runtime thread");
            assert!(call.name.starts_with(thread), "{call:?} is not on {thread}");
        }
    }
}

/// Once `stop_sync` returns, no request of the client is in flight: the
/// proxy in front of the server sees no request waiting for its answer (a
/// long-polling sync was, a moment before).
#[test]
fn no_request_is_in_flight_once_stop_sync_returns() {
    let _s = serial();
    let proxy = watch_proxy::WatchProxy::start(&homeserver::url());
    let name = user("quiet");
    let dir = TempDir::new().unwrap();
    let client = block_on(Client::create(config(&proxy.url, dir.path()))).unwrap();
    block_on(client.login(name, PASSWORD.into(), None)).unwrap();
    block_on(client.start_sync()).unwrap();
    wait("sync running", 30, || {
        client.sync_state() == SyncState::Running
    });
    wait("a long-polling sync request in flight", 30, || {
        proxy.awaiting_answer() > 0
    });
    block_on(client.stop_sync()).unwrap();
    let left = proxy.awaiting_answer();
    assert_eq!(left, 0, "{left} requests still in flight after stop_sync");
    assert_ne!(client.sync_state(), SyncState::Running);
    block_on(client.logout(LogoutOptions::default(), None)).unwrap();
}

/// A logout with `wipe_local_data: false` ends the session on the server,
/// closes the stores and keeps them on disk; the report says so.
#[test]
fn a_logout_without_a_wipe_revokes_the_session_and_keeps_the_stores() {
    let _s = serial();
    let (client, session, dir) = logged_in("keep");
    let options = LogoutOptions {
        wipe_local_data: false,
        ..LogoutOptions::default()
    };
    let report = block_on(client.logout(options, None)).unwrap();
    assert_eq!(report.server_logout, ServerLogout::Revoked);
    assert!(!report.data_wiped, "{report:?}");
    assert_eq!(report.store_files_open_after, Some(0));
    assert!(report.client_dropped, "{report:?}");
    assert_eq!(report.tasks_left_behind, 0);
    assert!(dir.path().exists());
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(files > 0, "the stores are gone");
    assert_eq!(open_files_under(dir.path()), Some(0));
    assert_eq!(client.state(), ClientState::Closed);
    // Revoked on the server: the token no longer lists any device.
    assert!(session::devices(&session.access_token).is_empty());
}

/// `close()` of a client that is not the last: the runtime is not
/// restarted, the report says so honestly, and the other client keeps
/// syncing and sending on the same generation.
#[test]
fn closing_a_client_that_is_not_the_last_leaves_the_other_one_syncing() {
    let _s = serial();
    let (first, _, _d1) = logged_in("first");
    let (second, _, _d2) = logged_in("second");
    block_on(second.start_sync()).unwrap();
    wait("second syncing", 30, || {
        second.sync_state() == SyncState::Running
    });
    let generation = runtime_stats().generation;

    let report = block_on(first.close(None)).unwrap();
    assert!(!report.runtime_restarted, "{report:?}");
    assert_eq!(report.runtime_generation, generation);
    assert_eq!(report.store_files_open_after, Some(0));
    assert!(!report.data_wiped);
    assert_eq!(report.client_dropped, report.tasks_left_behind == 0);
    assert_eq!(runtime_stats().generation, generation);
    assert_eq!(runtime_stats().live_clients, 1);
    assert_eq!(second.sync_state(), SyncState::Running);
    let room = block_on(second.create_room("after".into(), vec![], false)).unwrap();
    assert!(block_on(second.send_text(room, "still here".into())).is_ok());
    assert_eq!(second.sync_state(), SyncState::Running);

    let last = block_on(second.logout(LogoutOptions::default(), None)).unwrap();
    assert!(last.runtime_restarted, "{last:?}");
    assert!(last.client_dropped, "{last:?}");
}

#[derive(Default)]
struct Failures(Mutex<Vec<(TaskFailure, bool)>>);

impl TaskFailureListener for Failures {
    fn on_failure(&self, failure: TaskFailure) {
        let on_runtime = runtime::on_runtime_thread();
        self.0.lock().unwrap().push((failure, on_runtime));
    }
}

/// A failure of one of matrix-sdk's own monitored tasks reaches the
/// `TaskFailureListener`, named `matrix-sdk::<task>`. The one this test can
/// cause: matrix-sdk 0.18's `event_cache::thread_subscriber`, an "infinite"
/// task, returns at once when the server has no thread subscriptions (this
/// Synapse), which its task monitor reports as an early termination.
#[test]
fn a_failure_of_a_matrix_sdk_task_reaches_the_task_failure_listener() {
    let _s = serial();
    let failures = Arc::new(Failures::default());
    set_task_failure_listener(Some(failures.clone()));
    let (client, _, _dir) = logged_in("monitor");
    block_on(client.start_sync()).unwrap();
    wait("sync running", 30, || {
        client.sync_state() == SyncState::Running
    });
    let room = block_on(client.create_room("monitored".into(), vec![], false)).unwrap();
    block_on(client.send_text(room, "hello".into())).unwrap();
    wait("a matrix-sdk task failure", 20, || {
        failures
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|(f, _)| f.task_name.starts_with("matrix-sdk::"))
    });
    block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    set_task_failure_listener(None);
    let seen = failures.0.lock().unwrap().clone();
    let (sdk, _) = seen
        .iter()
        .find(|(f, _)| f.task_name.starts_with("matrix-sdk::"))
        .unwrap();
    assert_eq!(sdk.task_name, "matrix-sdk::event_cache::thread_subscriber");
    assert_eq!(sdk.reason, TaskFailureReason::EarlyTermination);
    eprintln!("task failures seen: {seen:?}");
}
