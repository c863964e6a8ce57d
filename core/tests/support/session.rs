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
        store_key: None,
        request_timeout_ms: 10_000,
        additional_root_certificates: Vec::new(),
        shared_with_other_processes: None,
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

/// A client whose requests go through a fault proxy (`proxy`), logged in
/// as a fresh user (`name`) on a fresh data dir.
pub struct Proxied {
    pub client: Arc<Client>,
    pub proxy: homeserver::FaultProxy,
    pub session: Session,
    pub name: String,
    pub dir: TempDir,
}

impl Proxied {
    pub fn login(prefix: &str) -> Self {
        let proxy = homeserver::FaultProxy::start();
        let url = proxy.url.clone();
        Self::login_through(prefix, proxy, &url)
    }

    /// [`Proxied::login`], the client reaching `proxy` at `url` (through a
    /// proxy of the caller's in front of it).
    pub fn login_through(prefix: &str, proxy: homeserver::FaultProxy, url: &str) -> Self {
        let name = user(prefix);
        let dir = TempDir::new().unwrap();
        let client = block_on(Client::create(config(url, dir.path()))).unwrap();
        let session = block_on(client.login(name.clone(), PASSWORD.into(), None)).unwrap();
        Self {
            client,
            proxy,
            session,
            name,
            dir,
        }
    }
}

/// How a test ends a client.
#[derive(Debug, Clone, Copy)]
pub enum Drain {
    Logout,
    Close,
    Shutdown,
}

impl Drain {
    pub const ALL: [Drain; 3] = [Drain::Logout, Drain::Close, Drain::Shutdown];

    /// Ends `client` this way, on a thread of its own (a drain that hangs
    /// fails the test after a minute), and asserts what every drain
    /// promises: the matrix client dropped, no store file open and no task
    /// left behind; for a shutdown, the one client closed, no task abandoned
    /// and no thread left. A logout wipes and gives the server 1 s. Returns
    /// the unsent messages a logout or a close counted.
    pub fn end(self, client: Arc<Client>) -> Option<u32> {
        let what = format!("{self:?}");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(self.run(&client));
        });
        rx.recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{what} did not return within 60 s (hung)"))
    }

    fn run(self, client: &Client) -> Option<u32> {
        use matrix_mobile_core::{shutdown_blocking, LogoutOptions, ShutdownOptions};
        let what = format!("{self:?}");
        let (dropped, open, tasks, unsent, report) = match self {
            Drain::Logout => {
                let options = LogoutOptions {
                    server_timeout_ms: 1_000,
                    wipe_local_data: true,
                };
                let r = block_on(client.logout(options, None)).unwrap();
                let s = format!("{r:?}");
                (
                    r.client_dropped,
                    r.store_files_open_after,
                    r.tasks_left_behind,
                    r.unsent_messages,
                    s,
                )
            }
            Drain::Close => {
                let r = block_on(client.close(None)).unwrap();
                let s = format!("{r:?}");
                (
                    r.client_dropped,
                    r.store_files_open_after,
                    r.tasks_left_behind,
                    r.unsent_messages,
                    s,
                )
            }
            Drain::Shutdown => {
                let report = shutdown_blocking(ShutdownOptions { timeout_ms: 20_000 }).unwrap();
                assert_eq!(report.clients_closed, 1, "{report:?}");
                assert!(report.tasks_abandoned.is_empty(), "{report:?}");
                assert_eq!(report.threads_left, Some(0), "{report:?}");
                return None;
            }
        };
        assert!(dropped, "{what}: {report}");
        assert_eq!(open, Some(0), "{what}: {report}");
        assert_eq!(tasks, 0, "{what}: {report}");
        Some(unsent)
    }
}
