//! Synapse itself killed (SIGKILL) or paused (SIGSTOP) under a syncing
//! client. Each case starts a private Synapse, so the suite's shared one is
//! never harmed.

use std::sync::Arc;
use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::{
    shutdown, Client, CoreError, LogoutOptions, ServerLogout, ShutdownOptions, SyncState,
};
use tempfile::TempDir;

use super::faults::{assert_drained, assert_wiped, bound, data_dir_in, within, Case};
use super::private_synapse::PrivateSynapse;
use super::session::{config, wait};
use super::{logged_in_at, syncing, Recorder};

/// The test config's `request_timeout_ms`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Synapse is killed while the client's sync request waits on it; then the
/// app logs out and shuts the core down. The logout says the server was
/// unreachable and drains locally; the shutdown has nothing left to abandon;
/// the sync listener hears its end.
#[test]
fn synapse_killed_mid_sync_then_logout_and_shutdown_return_clean() {
    // Started before the case's turn, so that its start overlaps other cases.
    let synapse = PrivateSynapse::start();
    let case = Case::begin("synapse killed mid-sync");
    let root = TempDir::new().unwrap();
    let (client, _) = logged_in_at(&synapse.url, &synapse.url, &data_dir_in(root.path()), "kil");
    let states = Arc::new(Recorder::default());
    let _subscription = client.observe_sync_state(states.clone()).unwrap();
    syncing(&client);
    // Let the long poll reach the server.
    std::thread::sleep(Duration::from_millis(500));
    synapse.kill();

    let (report, _) = within("logout", bound(Duration::from_secs(3)), move || {
        block_on(client.logout(
            LogoutOptions {
                server_timeout_ms: 3000,
                wipe_local_data: true,
            },
            None,
        ))
    });
    let report = report.unwrap();
    assert!(
        matches!(
            report.server_logout,
            ServerLogout::Failed { .. } | ServerLogout::TimedOut
        ),
        "{report:?}"
    );
    assert!(report.runtime_restarted, "{report:?}");
    assert_drained("synapse killed", report);
    assert_wiped("synapse killed", root.path());
    wait("the sync listener's end", 10, || {
        states.ended_with("Terminated")
    });
    eprintln!("synapse killed: sync states {:?}", states.calls());

    let (shutdown_report, _) = within("shutdown", bound(Duration::from_secs(5)), || {
        block_on(shutdown(ShutdownOptions { timeout_ms: 5000 }))
    });
    let shutdown_report = shutdown_report.unwrap();
    assert!(
        shutdown_report.tasks_abandoned.is_empty(),
        "{shutdown_report:?}"
    );
    assert_eq!(shutdown_report.threads_left, Some(0));
    case.end();
}

/// Synapse is paused (SIGSTOP: the kernel still accepts connections, nothing
/// answers) while `stop_sync` and then `close` run. Both return within their
/// bounds, the stores are closed, and once Synapse runs again the session
/// restores on the same `data_dir` with its rooms: the pause lost nothing.
#[test]
fn synapse_paused_while_stop_sync_and_close_run_both_return() {
    // Started before the case's turn, so that its start overlaps other cases.
    let synapse = PrivateSynapse::start();
    let case = Case::begin("synapse paused");
    let root = TempDir::new().unwrap();
    let dir = data_dir_in(root.path());
    let (client, session) = logged_in_at(&synapse.url, &synapse.url, &dir, "sto");
    let room = block_on(client.create_room("kept".into(), vec![], false)).unwrap();
    syncing(&client);
    std::thread::sleep(Duration::from_millis(500));
    synapse.pause();

    let c = client.clone();
    let (stopped, _) = within("stop_sync", bound(REQUEST_TIMEOUT), move || {
        block_on(c.stop_sync())
    });
    match &stopped {
        Ok(()) => assert_ne!(client.sync_state(), SyncState::Running),
        Err(CoreError::Timeout { .. } | CoreError::Network { .. }) => {}
        Err(e) => panic!("stop_sync: {e:?}"),
    }
    eprintln!("synapse paused: stop_sync gave {stopped:?}");
    let c = client.clone();
    let (report, _) = within("close", bound(Duration::from_secs(10)), move || {
        block_on(c.close(None))
    });
    let report = report.unwrap();
    assert_eq!(report.server_logout, ServerLogout::Skipped);
    assert!(report.runtime_restarted, "{report:?}");
    assert_drained("synapse paused", report);

    synapse.resume();
    let again = block_on(Client::create(config(&synapse.url, &dir))).unwrap();
    block_on(again.restore(session)).unwrap();
    let rooms = again.rooms().unwrap();
    assert!(rooms.iter().any(|r| r.room_id == room), "{rooms:?}");
    let report = block_on(again.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.server_logout, ServerLogout::Revoked);
    assert_drained("after the pause", report);
    assert_wiped("after the pause", root.path());
    case.end();
}
