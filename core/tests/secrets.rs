//! No secret reaches a log line or a file the core writes: a whole session at
//! trace level, then every log file and every file under `data_dir` is read.

#[path = "support/homeserver.rs"]
mod homeserver;

use std::path::Path;
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::{init_logging, Client, ClientConfig, LogConfig, LogoutOptions, SyncState};

const PASSWORD: &str = "a very secret password 42";

fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(path.display().to_string());
                }
            }
        }
    }
    hits
}

#[test]
fn access_token_and_password_reach_no_log_line_and_no_store_file() {
    let logs = tempfile::TempDir::new().unwrap();
    init_logging(LogConfig {
        filter: "trace".into(),
        to_stdout: false,
        file_dir: Some(logs.path().to_string_lossy().into_owned()),
    })
    .unwrap();
    // A second call replaces the filter instead of failing.
    init_logging(LogConfig {
        filter: "trace".into(),
        to_stdout: false,
        file_dir: None,
    })
    .unwrap();

    let name = homeserver::fresh_name("secret");
    homeserver::register(&name, PASSWORD);
    let data = tempfile::TempDir::new().unwrap();
    let config = ClientConfig {
        homeserver_url: homeserver::url(),
        data_dir: data.path().to_string_lossy().into_owned(),
        store_passphrase: Some("store passphrase 1234".into()),
        request_timeout_ms: 10_000,
        additional_root_certificates: Vec::new(),
    };
    let client = block_on(Client::create(config.clone())).unwrap();
    let session = block_on(client.login(name, PASSWORD.into(), None)).unwrap();
    block_on(client.start_sync()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.sync_state() != SyncState::Running && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let room = block_on(client.create_room("r".into(), vec![], true)).unwrap();
    block_on(client.send_text(room, "hello".into())).unwrap();
    block_on(client.close(None)).unwrap();

    // The closed stores hold no token; then restore and log out for good.
    let token = session.access_token.clone();
    assert!(files_containing(data.path(), token.as_bytes()).is_empty());
    let again = block_on(Client::create(config)).unwrap();
    block_on(again.restore(session)).unwrap();
    block_on(again.logout(LogoutOptions::default(), None)).unwrap();

    let log_bytes: u64 = std::fs::read_dir(logs.path())
        .unwrap()
        .flatten()
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    assert!(
        log_bytes > 10_000,
        "the trace log is suspiciously small: {log_bytes} bytes"
    );
    for secret in [token.as_str(), PASSWORD, "store passphrase 1234"] {
        let hits = files_containing(logs.path(), secret.as_bytes());
        assert!(hits.is_empty(), "a secret reached the log: {hits:?}");
    }
}
