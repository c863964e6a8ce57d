//! `runtime_stats().live_clients` counts the clients themselves (created and
//! not yet drained), whether the runtime runs or not, so that "no client
//! left after shutdown" is a check that can fail.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/session.rs"]
mod session;

use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::{
    runtime, runtime_stats, shutdown_blocking, Client, ClientState, RuntimeState, ShutdownOptions,
};
use session::config;
use tempfile::TempDir;

/// Regression: `live_clients` read 0 whenever the runtime was shut down, and
/// every start of the runtime reset it to 0, so a client that outlived its
/// runtime (the very leak the shutdown checks look for) was never counted.
#[test]
fn a_client_that_outlives_its_runtime_is_still_counted() {
    shutdown_blocking(ShutdownOptions { timeout_ms: 10_000 }).unwrap();
    assert_eq!(runtime_stats().live_clients, 0);
    let dir = TempDir::new().unwrap();
    let client = block_on(Client::create(config(&homeserver::url(), dir.path()))).unwrap();
    assert_eq!(runtime_stats().live_clients, 1);
    // Stores closed first, so that stopping the runtime under the client
    // (which no app can do) drops no open pool.
    block_on(client.pause()).unwrap();

    // The runtime is stopped under the live client: it is still live.
    runtime::stop(Duration::from_secs(5), false).unwrap();
    let stats = runtime_stats();
    assert_eq!(stats.state, RuntimeState::ShutDown);
    assert_eq!(stats.live_clients, 1, "{stats:?}");

    // A new generation starts: the client of the old one is still live.
    runtime::start().unwrap();
    let stats = runtime_stats();
    assert_eq!(stats.state, RuntimeState::Running);
    assert_eq!(stats.live_clients, 1, "{stats:?}");

    // Its drain (nothing left to stop) is what ends it.
    let report = block_on(client.close(None)).unwrap();
    assert_eq!(client.state(), ClientState::Closed);
    assert!(!report.warnings.is_empty(), "{report:?}");
    assert_eq!(runtime_stats().live_clients, 0);
    drop(client);
    shutdown_blocking(ShutdownOptions { timeout_ms: 10_000 }).unwrap();
    assert_eq!(runtime_stats().live_clients, 0);
}
