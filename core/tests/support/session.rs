//! Clients for the tests: configuration, fresh users, waiting.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::{Client, ClientConfig, Session};
use tempfile::TempDir;

use super::homeserver;

pub const PASSWORD: &str = "correct horse battery";

pub fn config(url: &str, dir: &Path) -> ClientConfig {
    ClientConfig {
        homeserver_url: url.to_owned(),
        data_dir: dir.to_string_lossy().into_owned(),
        store_passphrase: None,
        request_timeout_ms: 10_000,
        additional_root_certificates: Vec::new(),
    }
}

/// A fresh registered user name.
pub fn user(prefix: &str) -> String {
    let name = homeserver::fresh_name(prefix);
    homeserver::register(&name, PASSWORD);
    name
}

/// A fresh user, logged in on a fresh data dir.
pub fn logged_in(prefix: &str) -> (Arc<Client>, Session, TempDir) {
    let name = user(prefix);
    let dir = TempDir::new().unwrap();
    let client = block_on(Client::create(config(&homeserver::url(), dir.path()))).unwrap();
    let session = block_on(client.login(name, PASSWORD.into(), Some("test".into()))).unwrap();
    (client, session, dir)
}

/// Waits until `done`, failing the test after `secs`.
pub fn wait(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until no supervised call named `name` is alive.
pub fn wait_call_ended(name: &str) {
    let suffix = format!("::{name}");
    wait(&format!("`{name}` to end"), 30, || {
        !matrix_mobile_core::runtime_stats()
            .supervised_tasks
            .iter()
            .any(|t| t.ends_with(&suffix))
    });
}

/// The device ids of the user whose access token is `token`, from the
/// client-server API.
pub fn devices(token: &str) -> Vec<String> {
    let base = homeserver::url();
    let host = homeserver::host_port(&base);
    let request = format!(
        "GET /_matrix/client/v3/devices HTTP/1.0\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    let response = homeserver::exchange(&base, &request);
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    let json = body
        .find('{')
        .and_then(|start| body.rfind('}').map(|end| &body[start..=end]))
        .unwrap_or("{}");
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    value["devices"]
        .as_array()
        .map(|devices| {
            devices
                .iter()
                .filter_map(|d| d["device_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
