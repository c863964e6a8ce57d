//! The two baselines, written against matrix-sdk directly, as an app without
//! this core would: each cycle builds a client on SQLite stores, logs in,
//! starts matrix-sdk-ui's `SyncService` and waits until it runs; then the
//! teardown under test.

use std::path::Path;
use std::time::{Duration, Instant};

use matrix_sdk_ui::sync_service::{State, SyncService};
use tokio::runtime::Runtime;

use crate::shared::{fail, ms_since, PASSWORD};

/// A logged-in client on `dir` with its sync service running.
async fn syncing(user: &str, dir: &Path) -> (matrix_sdk::Client, SyncService) {
    let client = matrix_sdk::Client::builder()
        .homeserver_url(crate::homeserver::url())
        .sqlite_store(dir, None)
        .build()
        .await
        .unwrap_or_else(|e| fail(&format!("build: {e}")));
    client
        .matrix_auth()
        .login_username(user, PASSWORD)
        .send()
        .await
        .unwrap_or_else(|e| fail(&format!("login: {e}")));
    let sync = SyncService::builder(client.clone())
        .build()
        .await
        .unwrap_or_else(|e| fail(&format!("sync service: {e}")));
    sync.start().await;
    let state = sync.state();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(state.get(), State::Running) {
        if Instant::now() > deadline {
            fail("sync did not reach Running within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    (client, sync)
}

/// `naive`: the server logout, then drop the client and its sync service,
/// then `Runtime::shutdown_background` of the runtime built for this
/// session. Returns the teardown's ms.
pub fn naive_cycle(user: &str, dir: &Path) -> f64 {
    let rt = crate::shared::bare_runtime();
    let (client, sync) = rt.block_on(syncing(user, dir));
    let started = Instant::now();
    rt.block_on(async {
        let _ = client.matrix_auth().logout().await;
        drop(sync);
        drop(client);
    });
    rt.shutdown_background();
    ms_since(started)
}

/// `logout_only`: the server logout call and nothing else; the app forgets
/// its handles, and the process-wide runtime and the stores are left alone.
/// Returns the logout call's ms.
pub fn logout_only_cycle(rt: &Runtime, user: &str, dir: &Path) -> f64 {
    let (client, sync) = rt.block_on(syncing(user, dir));
    let started = Instant::now();
    rt.block_on(async {
        let _ = client.matrix_auth().logout().await;
    });
    let ms = ms_since(started);
    let _context = rt.enter();
    drop(sync);
    drop(client);
    ms
}
