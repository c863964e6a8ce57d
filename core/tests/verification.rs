//! Device verification against the real Synapse: two devices of one user
//! (two clients, two data dirs, both syncing) verify each other by emoji;
//! a cancel on one side reaches the other; a drain with a verification in
//! flight ends every task and every listener; the async calls are cancel
//! safe at every poll.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/poll.rs"]
mod poll;
#[path = "support/session.rs"]
mod session;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures_executor::block_on;
use matrix_mobile_core::{
    runtime_stats, shutdown_blocking, Client, CoreError, ShutdownOptions, Verification,
    VerificationListener, VerificationRequestListener, VerificationState,
};
use poll::poll_then_drop;
use session::{config, user, wait, wait_call_ended, PASSWORD};
use tempfile::TempDir;

const MAX_POLLS: usize = 64;

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct States {
    seen: Mutex<Vec<VerificationState>>,
    closed: AtomicUsize,
}

impl States {
    fn all(&self) -> Vec<VerificationState> {
        self.seen.lock().unwrap().clone()
    }
    fn has(&self, pick: impl Fn(&VerificationState) -> bool) -> bool {
        self.all().iter().any(pick)
    }
    fn emojis(&self) -> Option<Vec<(String, String)>> {
        self.all().into_iter().find_map(|s| match s {
            VerificationState::Emojis { emojis } => Some(
                emojis
                    .into_iter()
                    .map(|e| (e.symbol, e.description))
                    .collect(),
            ),
            _ => None,
        })
    }
}

impl VerificationListener for States {
    fn on_state(&self, state: VerificationState) {
        self.seen.lock().unwrap().push(state);
    }
    fn on_closed(&self) {
        self.closed.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Default)]
struct Requests {
    seen: Mutex<Vec<Arc<Verification>>>,
    closed: AtomicUsize,
}

impl Requests {
    /// The request of the flow `flow_id`, once it has arrived; requests of
    /// earlier flows (a cancelled call may have sent one) are left.
    fn take(&self, flow_id: &str) -> Option<Arc<Verification>> {
        let mut seen = self.seen.lock().unwrap();
        let at = seen.iter().position(|v| v.flow_id() == flow_id)?;
        Some(seen.remove(at))
    }
}

impl VerificationRequestListener for Requests {
    fn on_request(&self, verification: Arc<Verification>) {
        self.seen.lock().unwrap().push(verification);
    }
    fn on_closed(&self) {
        self.closed.fetch_add(1, Ordering::SeqCst);
    }
}

/// One device of `name`, logged in on a fresh data dir and syncing.
fn device(name: &str, device: &str) -> (Arc<Client>, TempDir) {
    let dir = TempDir::new().unwrap();
    let client = block_on(Client::create(config(&homeserver::url(), dir.path()))).unwrap();
    block_on(client.login(name.into(), PASSWORD.into(), Some(device.into()))).unwrap();
    block_on(client.start_sync()).unwrap();
    (client, dir)
}

/// The first device (A, with cross-signing and listening for requests) and
/// a new one (B) of a fresh user.
struct Pair {
    a: Arc<Client>,
    b: Arc<Client>,
    requests: Arc<Requests>,
    _subscription: Arc<matrix_mobile_core::Subscription>,
    _dirs: (TempDir, TempDir),
}

fn pair(prefix: &str) -> Pair {
    let name = user(prefix);
    let (a, dir_a) = device(&name, "A");
    block_on(a.bootstrap_cross_signing(Some(PASSWORD.into()))).unwrap();
    wait("A cross-signed by bootstrapping", 30, || a.is_verified());
    let requests = Arc::new(Requests::default());
    let subscription = a.observe_verification_requests(requests.clone()).unwrap();
    let (b, dir_b) = device(&name, "B");
    Pair {
        a,
        b,
        requests,
        _subscription: subscription,
        _dirs: (dir_a, dir_b),
    }
}

/// B requests; A's listener gets that request (matched by its flow id,
/// never a stale one). Returns (on A, on B).
fn request(pair: &Pair) -> (Arc<Verification>, Arc<Verification>) {
    let on_b = block_on(pair.b.request_verification()).unwrap();
    let mut on_a = None;
    wait("A's on_request", 60, || {
        on_a = pair.requests.take(&on_b.flow_id());
        on_a.is_some()
    });
    let on_a = on_a.unwrap();
    assert_eq!(on_a.flow_id(), on_b.flow_id());
    (on_a, on_b)
}

fn observe(verification: &Verification) -> (Arc<States>, Arc<matrix_mobile_core::Subscription>) {
    let states = Arc::new(States::default());
    let subscription = verification.observe(states.clone()).unwrap();
    (states, subscription)
}

fn assert_process_clean() {
    let report = shutdown_blocking(ShutdownOptions { timeout_ms: 10_000 }).unwrap();
    assert!(report.tasks_abandoned.is_empty(), "{report:?}");
    let stats = runtime_stats();
    assert_eq!(stats.live_clients, 0, "{stats:?}");
    assert_eq!(stats.alive_tasks, 0, "{stats:?}");
}

fn close_both(pair: &Pair) {
    for client in [&pair.a, &pair.b] {
        let report = block_on(client.close(None)).unwrap();
        assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    }
}

#[test]
fn two_devices_verify_each_other_by_emoji() {
    let _s = serial();
    let pair = pair("vera");
    assert!(!pair.b.is_verified(), "a new device starts unverified");
    let (on_a, on_b) = request(&pair);
    let (states_a, _sa) = observe(&on_a);
    let (states_b, _sb) = observe(&on_b);
    wait("Requested first on both", 30, || {
        !states_a.all().is_empty() && !states_b.all().is_empty()
    });
    assert_eq!(states_a.all()[0], VerificationState::Requested);
    assert_eq!(states_b.all()[0], VerificationState::Requested);

    block_on(on_a.accept()).unwrap();
    wait("Ready on both", 30, || {
        states_a.has(|s| *s == VerificationState::Ready)
            && states_b.has(|s| *s == VerificationState::Ready)
    });
    block_on(on_a.start_sas()).unwrap();
    let emojis = || states_a.emojis().is_some() && states_b.emojis().is_some();
    wait("the emojis on both", 30, emojis);
    let (emojis_a, emojis_b) = (states_a.emojis().unwrap(), states_b.emojis().unwrap());
    assert_eq!(emojis_a.len(), 7);
    assert_eq!(
        emojis_a, emojis_b,
        "both devices show the same seven emojis"
    );

    block_on(on_a.confirm()).unwrap();
    block_on(on_b.confirm()).unwrap();
    wait("Done on both", 30, || {
        states_a.all().last() == Some(&VerificationState::Done)
            && states_b.all().last() == Some(&VerificationState::Done)
    });
    wait("B cross-signed by its user", 60, || pair.b.is_verified());

    close_both(&pair);
    assert_eq!(states_a.closed.load(Ordering::SeqCst), 1);
    assert_eq!(pair.requests.closed.load(Ordering::SeqCst), 1);
    assert!(matches!(
        block_on(on_a.confirm()),
        Err(CoreError::ClientClosed)
    ));
    assert_process_clean();
}

#[test]
fn a_cancel_on_one_side_is_cancelled_on_the_other() {
    let _s = serial();
    let pair = pair("vanc");
    let (on_a, on_b) = request(&pair);
    let (states_b, _sb) = observe(&on_b);
    block_on(on_a.accept()).unwrap();
    wait("Ready on B", 30, || {
        states_b.has(|s| *s == VerificationState::Ready)
    });
    block_on(on_a.cancel()).unwrap();
    wait("Cancelled on B", 30, || {
        matches!(
            states_b.all().last(),
            Some(VerificationState::Cancelled { .. })
        )
    });
    assert!(!pair.b.is_verified());
    close_both(&pair);
    assert_process_clean();
}

/// A drain with a verification in flight ends the tasks that follow it,
/// sends `on_closed`, closes every store file; calls afterwards get
/// `ClientClosed`. A released verification leaves no task.
#[test]
fn a_drain_with_a_verification_in_flight_ends_every_task() {
    let _s = serial();
    let pair = pair("vdra");
    let (on_a, on_b) = request(&pair);
    let (states_a, _sa) = observe(&on_a);
    let (states_b, _sb) = observe(&on_b);
    let (states_b2, _sb2) = observe(&on_b);
    wait("both follow the request", 30, || {
        !states_a.all().is_empty() && !states_b.all().is_empty() && !states_b2.all().is_empty()
    });
    let following = || {
        runtime_stats()
            .supervised_tasks
            .iter()
            .filter(|t| t.ends_with("::verification-states"))
            .count()
    };
    assert_eq!(following(), 3);

    // Released with its subscription still held: its task ends.
    drop(on_a);
    wait("the released verification's task ends", 30, || {
        following() == 2
    });

    close_both(&pair);
    wait_call_ended("verification-states");
    wait_call_ended("verification-requests");
    assert_eq!(states_a.closed.load(Ordering::SeqCst), 1);
    assert_eq!(states_b.closed.load(Ordering::SeqCst), 1);
    assert_eq!(states_b2.closed.load(Ordering::SeqCst), 1);
    assert_eq!(pair.requests.closed.load(Ordering::SeqCst), 1);
    assert!(matches!(
        block_on(on_b.accept()),
        Err(CoreError::ClientClosed)
    ));
    assert!(matches!(
        on_b.observe(Arc::new(States::default())),
        Err(CoreError::ClientClosed)
    ));
    assert!(matches!(
        block_on(pair.b.request_verification()),
        Err(CoreError::ClientClosed)
    ));
    assert_process_clean();
}

/// `request_verification`, `accept` and `cancel`, each dropped after every
/// poll count: the client keeps working, and its close still drains.
#[test]
fn cancelled_verification_calls_leave_a_working_client() {
    let _s = serial();
    let pair = pair("vcan");
    for n in 0..MAX_POLLS {
        let outcome = poll_then_drop("request_verification", pair.b.request_verification(), n);
        wait_call_ended("request_verification");
        if let Some(result) = outcome {
            result.unwrap();
            break;
        }
        assert!(n + 1 < MAX_POLLS, "request_verification never completed");
    }
    let (on_a, _on_b) = request(&pair);
    for (name, call) in [("verification_accept", 0), ("verification_cancel", 1)] {
        for n in 0..MAX_POLLS {
            let future: std::pin::Pin<Box<dyn std::future::Future<Output = _>>> = if call == 0 {
                Box::pin(on_a.accept())
            } else {
                Box::pin(on_a.cancel())
            };
            let outcome = poll_then_drop(name, future, n);
            wait_call_ended(name);
            if let Some(result) = outcome {
                result.unwrap();
                break;
            }
            assert!(n + 1 < MAX_POLLS, "{name} never completed");
        }
    }
    let (states_a, _sa) = observe(&on_a);
    wait("A's cancelled request", 30, || {
        matches!(
            states_a.all().last(),
            Some(VerificationState::Cancelled { .. })
        )
    });
    // Still working: a new request reaches A.
    let _ = request(&pair);
    close_both(&pair);
    assert_process_clean();
}
