//! The server dies, hangs or answers late during a logout (through the
//! fault proxy, in front of the suite's Synapse).

use std::sync::Arc;
use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::platform::open_files_under;
use matrix_mobile_core::{
    runtime_stats, shutdown, ClientState, CoreError, LifecyclePhase, LogoutOptions, RuntimeState,
    ServerLogout, ShutdownOptions,
};
use tempfile::TempDir;

use super::faults::{assert_drained, assert_wiped, bound, data_dir_in, within, Case, Phases};
use super::homeserver::{self, Fault, FaultProxy};
use super::session::wait;
use super::{logged_in_at, syncing};

fn logout_options(server_timeout_ms: u32) -> LogoutOptions {
    LogoutOptions {
        server_timeout_ms,
        wipe_local_data: true,
    }
}

fn server_unreachable(outcome: &ServerLogout) -> bool {
    matches!(
        outcome,
        ServerLogout::Failed { .. } | ServerLogout::TimedOut
    )
}

/// The server process is gone before the logout starts: every connection is
/// refused, the ones sync held open are cut. The logout says `Failed` (or
/// `TimedOut`) and drains locally.
#[test]
fn logout_with_every_connection_refused_drains_locally() {
    let case = Case::begin("refused");
    let proxy = FaultProxy::start();
    let root = TempDir::new().unwrap();
    let (client, _) = logged_in_at(
        &proxy.url,
        &homeserver::url(),
        &data_dir_in(root.path()),
        "ref",
    );
    syncing(&client);
    proxy.die();
    let (report, _) = within("logout", bound(Duration::from_secs(5)), move || {
        block_on(client.logout(logout_options(5000), None))
    });
    let report = report.unwrap();
    assert!(server_unreachable(&report.server_logout), "{report:?}");
    assert!(report.data_wiped, "{report:?}");
    assert_drained("refused", report);
    assert_wiped("refused", root.path());
    case.end();
}

/// The server dies while the logout's request is in flight: the response is
/// held back for 2 s, and the connection is cut as soon as the logout
/// reaches its server phase.
#[test]
fn logout_whose_server_dies_mid_request_drains_locally() {
    let case = Case::begin("dies mid-request");
    let proxy = Arc::new(FaultProxy::start());
    let root = TempDir::new().unwrap();
    let (client, _) = logged_in_at(
        &proxy.url,
        &homeserver::url(),
        &data_dir_in(root.path()),
        "mid",
    );
    syncing(&client);
    proxy.set_response_delay(Duration::from_secs(2));
    proxy.set(Fault::Delay);
    let p = proxy.clone();
    let phases = Phases::on(LifecyclePhase::ServerLogout, move || p.die());
    let listener = phases.clone();
    let (report, _) = within("logout", bound(Duration::from_secs(5)), move || {
        block_on(client.logout(logout_options(5000), Some(listener)))
    });
    let report = report.unwrap();
    assert!(server_unreachable(&report.server_logout), "{report:?}");
    assert_drained("dies mid-request", report);
    assert_wiped("dies mid-request", root.path());
    wait("the phase listener's Done", 10, || {
        phases.seen().last() == Some(&LifecyclePhase::Done)
    });
    case.end();
}

/// The server stops answering while the logout's request is in flight (a
/// blackhole: open connections swallow bytes, new ones are never answered):
/// `TimedOut` after `server_timeout_ms`, then a full local drain.
#[test]
fn logout_into_a_blackhole_times_out_and_drains_locally() {
    let case = Case::begin("blackhole");
    let proxy = Arc::new(FaultProxy::start());
    let root = TempDir::new().unwrap();
    let (client, _) = logged_in_at(
        &proxy.url,
        &homeserver::url(),
        &data_dir_in(root.path()),
        "hole",
    );
    syncing(&client);
    proxy.set_response_delay(Duration::from_secs(2));
    proxy.set(Fault::Delay);
    let p = proxy.clone();
    let phases = Phases::on(LifecyclePhase::ServerLogout, move || {
        p.set(Fault::Blackhole)
    });
    let (report, _) = within("logout", bound(Duration::from_millis(1500)), move || {
        block_on(client.logout(logout_options(1500), Some(phases)))
    });
    let report = report.unwrap();
    assert_eq!(report.server_logout, ServerLogout::TimedOut, "{report:?}");
    assert_drained("blackhole", report);
    assert_wiped("blackhole", root.path());
    case.end();
}

/// Every response 2 s late, while a syncing client logs out and another
/// thread shuts the core down, at three points of the logout: before it
/// starts, during its server request, during its local steps. Both calls
/// return within their bounds. The logout either completes (then the
/// directory is wiped) or, when the shutdown reached the client first, is
/// refused with `ShuttingDown`, `Busy` (the shutdown's close is under way)
/// or `ClientClosed`, with the stores closed all the same. The shutdown
/// abandons nothing and the runtime ends shut down and clean.
#[test]
fn logout_and_shutdown_racing_with_every_response_late_both_return() {
    let case = Case::begin("late responses, logout vs shutdown");
    for shutdown_after_ms in [0u64, 1000, 2500] {
        let what = format!("shutdown {shutdown_after_ms} ms into the logout");
        let proxy = FaultProxy::start();
        let root = TempDir::new().unwrap();
        let dir = data_dir_in(root.path());
        let (client, _) = logged_in_at(&proxy.url, &homeserver::url(), &dir, "late");
        syncing(&client);
        proxy.set_response_delay(Duration::from_secs(2));
        proxy.set(Fault::Delay);

        let c = client.clone();
        let logout = std::thread::spawn(move || {
            within("logout", bound(Duration::from_secs(5)), move || {
                block_on(c.logout(logout_options(5000), None))
            })
            .0
        });
        if shutdown_after_ms > 0 {
            wait("the logout to start", 10, || {
                client.state() != ClientState::LoggedIn
            });
            std::thread::sleep(Duration::from_millis(shutdown_after_ms));
        }
        let (shutdown_report, _) = within("shutdown", bound(Duration::from_secs(10)), || {
            block_on(shutdown(ShutdownOptions { timeout_ms: 10_000 }))
        });
        let shutdown_report = shutdown_report.unwrap();
        let logout = logout.join().unwrap();

        assert!(
            shutdown_report.tasks_abandoned.is_empty(),
            "{what}: {shutdown_report:?}"
        );
        assert_eq!(shutdown_report.threads_left, Some(0), "{what}");
        match logout {
            Ok(report) => {
                eprintln!("{what}: the logout completed");
                assert_drained(&what, report);
                assert_wiped(&what, root.path());
            }
            Err(
                e @ (CoreError::ShuttingDown | CoreError::ClientClosed | CoreError::Busy { .. }),
            ) => {
                eprintln!("{what}: the shutdown closed the client first: {e:?}");
                assert_eq!(open_files_under(&dir), Some(0), "{what}");
            }
            Err(e) => panic!("{what}: the logout failed with {e:?}"),
        }
        assert_eq!(client.state(), ClientState::Closed, "{what}");
        assert_eq!(runtime_stats().state, RuntimeState::ShutDown, "{what}");
    }
    case.end();
}
