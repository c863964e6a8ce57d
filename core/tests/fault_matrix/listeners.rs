//! Listeners that block for 5 s, or panic (what UniFFI turns a throwing
//! Kotlin, Swift or Python callback into), while a logout runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::{
    LifecycleListener, LifecyclePhase, LogoutOptions, Message, MessageListener, SyncState,
    SyncStateListener,
};
use tempfile::TempDir;

use super::faults::{
    assert_drained, assert_wiped, bound, data_dir_in, deliberate_panics, within, Case, DELIBERATE,
};
use super::homeserver;
use super::session::wait;
use super::{logged_in_at, syncing, Recorder};

/// How long a blocking listener holds its call.
const BLOCK: Duration = Duration::from_secs(5);

/// Records every call; blocks for [`BLOCK`] in `on_message("block me")`, in
/// `on_phase(StoppingSync)`, and in the first `on_state` after it is armed.
#[derive(Default)]
struct Blocking {
    calls: Recorder,
    armed: AtomicBool,
    blocking: AtomicBool,
}

impl Blocking {
    fn record(&self, call: String, block: bool) {
        self.calls.push(call);
        if block {
            self.blocking.store(true, Ordering::SeqCst);
            std::thread::sleep(BLOCK);
            self.blocking.store(false, Ordering::SeqCst);
        }
    }
}

impl SyncStateListener for Blocking {
    fn on_state(&self, state: SyncState) {
        let block = self.armed.swap(false, Ordering::SeqCst);
        self.record(format!("{state:?}"), block);
    }
}

impl MessageListener for Blocking {
    fn on_message(&self, message: Message) {
        let block = message.body == "block me";
        self.record(message.body, block);
    }

    fn on_closed(&self) {
        self.calls.push("closed".into());
    }
}

impl LifecycleListener for Blocking {
    fn on_phase(&self, phase: LifecyclePhase, _elapsed_ms: u64) {
        self.record(format!("{phase:?}"), phase == LifecyclePhase::StoppingSync);
    }
}

/// A message listener blocked in `on_message` when the logout starts (the
/// sync state listener's end signal waits behind it on the client's
/// listener thread), and a phase listener that blocks in `StoppingSync`:
/// the logout returns within its bound with a clean report, and each
/// listener hears its end signal once the block is over.
#[test]
fn listeners_that_block_for_five_seconds_do_not_hold_up_the_logout() {
    let case = Case::begin("blocking listeners");
    let url = homeserver::url();
    let root = TempDir::new().unwrap();
    let (client, _) = logged_in_at(&url, &url, &data_dir_in(root.path()), "blk");
    let states = Arc::new(Blocking::default());
    let messages = Arc::new(Blocking::default());
    let phases = Arc::new(Blocking::default());
    let _states = client.observe_sync_state(states.clone()).unwrap();
    let _messages = client.observe_messages(messages.clone()).unwrap();
    syncing(&client);
    let room = block_on(client.create_room("blocking".into(), vec![], false)).unwrap();
    block_on(client.send_text(room, "block me".into())).unwrap();
    wait("the message listener to block", 30, || {
        messages.blocking.load(Ordering::SeqCst)
    });

    let listener = phases.clone();
    let (report, took) = within("logout", bound(Duration::from_secs(5)), move || {
        block_on(client.logout(LogoutOptions::default(), Some(listener)))
    });
    let report = report.unwrap();
    assert!(report.data_wiped, "{report:?}");
    for warning in &report.warnings {
        assert!(warning.contains("listener"), "{warning}");
    }
    assert_drained("blocking listeners", report);
    assert_wiped("blocking listeners", root.path());
    eprintln!("blocking listeners: the logout took {took:?} beside 5 s blocks");
    // The phase listener blocked for 5 s in the logout's first phase: a
    // logout that waited for it (or for the message listener) takes 5 s.
    assert!(
        took < BLOCK - Duration::from_secs(1),
        "the logout waited for a blocked listener: {took:?}"
    );

    wait("every end signal", 20, || {
        states.calls.ended_with("Terminated")
            && messages.calls.ended_with("closed")
            && phases.calls.ended_with("Done")
    });
    case.end();
}

/// A blocked listener delays only its own later calls. Regression: one
/// thread ran every listener of a client in order, so a sync state listener
/// blocked for 5 s also held back every message to another listener of that
/// client for 5 s.
#[test]
fn a_blocked_sync_state_listener_does_not_delay_another_listeners_messages() {
    let case = Case::begin("a blocked listener and another one");
    let url = homeserver::url();
    let root = TempDir::new().unwrap();
    let (client, _) = logged_in_at(&url, &url, &data_dir_in(root.path()), "dly");
    let states = Arc::new(Blocking::default());
    let messages = Arc::new(Blocking::default());
    let _states = client.observe_sync_state(states.clone()).unwrap();
    let _messages = client.observe_messages(messages.clone()).unwrap();
    states.armed.store(true, Ordering::SeqCst);
    syncing(&client);
    wait("the sync state listener to block", 10, || {
        states.blocking.load(Ordering::SeqCst)
    });
    let room = block_on(client.create_room("delayed".into(), vec![], false)).unwrap();
    block_on(client.send_text(room, "not held back".into())).unwrap();
    // Read in this order, a message seen while the block still holds was
    // delivered during it.
    let delivered_during_the_block = loop {
        let delivered = messages.calls.calls().iter().any(|c| c == "not held back");
        let blocked = states.blocking.load(Ordering::SeqCst);
        if delivered || !blocked {
            break delivered && blocked;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert!(
        delivered_during_the_block,
        "the message waited for the other listener's block"
    );
    case.end();
}

/// Records every call, then panics.
#[derive(Default)]
struct Panicking(Recorder);

impl Panicking {
    fn record(&self, call: String) {
        self.0.push(call.clone());
        panic!("{DELIBERATE}: {call}");
    }
}

impl SyncStateListener for Panicking {
    fn on_state(&self, state: SyncState) {
        self.record(format!("{state:?}"));
    }
}

impl MessageListener for Panicking {
    fn on_message(&self, message: Message) {
        self.record(message.body);
    }

    fn on_closed(&self) {
        self.record("closed".into());
    }
}

impl LifecycleListener for Panicking {
    fn on_phase(&self, phase: LifecyclePhase, _elapsed_ms: u64) {
        self.record(format!("{phase:?}"));
    }
}

/// Listeners that panic in every call (a Kotlin or Swift callback that
/// throws): the core carries on, the logout returns a clean report, every
/// listener still gets each later call and its end signal, and no panic
/// other than theirs happens.
#[test]
fn listeners_that_panic_in_every_call_do_not_stop_the_logout() {
    let case = Case::begin("panicking listeners");
    let url = homeserver::url();
    let root = TempDir::new().unwrap();
    let (client, _) = logged_in_at(&url, &url, &data_dir_in(root.path()), "pan");
    let states = Arc::new(Panicking::default());
    let messages = Arc::new(Panicking::default());
    let phases = Arc::new(Panicking::default());
    let _states = client.observe_sync_state(states.clone()).unwrap();
    let _messages = client.observe_messages(messages.clone()).unwrap();
    let before = deliberate_panics();
    syncing(&client);
    let room = block_on(client.create_room("panicking".into(), vec![], false)).unwrap();
    for body in ["first", "second"] {
        block_on(client.send_text(room.clone(), body.into())).unwrap();
    }
    wait("both messages", 30, || {
        let calls = messages.0.calls();
        calls.contains(&"first".to_owned()) && calls.contains(&"second".to_owned())
    });

    let listener = phases.clone();
    let (report, _) = within("logout", bound(Duration::from_secs(5)), move || {
        block_on(client.logout(LogoutOptions::default(), Some(listener)))
    });
    let report = report.unwrap();
    assert!(report.data_wiped, "{report:?}");
    assert_drained("panicking listeners", report);
    assert_wiped("panicking listeners", root.path());
    wait("every end signal", 10, || {
        states.0.ended_with("Terminated")
            && messages.0.ended_with("closed")
            && phases.0.ended_with("Done")
    });
    let calls =
        || (states.0.calls().len() + messages.0.calls().len() + phases.0.calls().len()) as u64;
    wait("one panic per call", 5, || {
        deliberate_panics() - before == calls()
    });
    case.end();
}
