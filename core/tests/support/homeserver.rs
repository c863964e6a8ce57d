//! The test homeserver that `cargo xtask test` starts: its URL, fresh users,
//! and a fault proxy in front of it.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `MMC_HOMESERVER_URL`, set by `cargo xtask test`. Fails loudly when unset.
pub fn url() -> String {
    std::env::var("MMC_HOMESERVER_URL")
        .expect("MMC_HOMESERVER_URL is unset: run the suite with `cargo xtask test`")
}

fn host_port(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

/// A fresh, unique user name.
pub fn fresh_name(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}{}x{}",
        nanos % 1_000_000_000_000,
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Registers `username` with `password` through open registration.
pub fn register(username: &str, password: &str) {
    let body = format!(
        r#"{{"username":"{username}","password":"{password}","auth":{{"type":"m.login.dummy"}},"inhibit_login":true}}"#
    );
    let (status, response) = post(&url(), "/_matrix/client/v3/register", &body);
    assert_eq!(status, 200, "register {username}: {response}");
}

/// A minimal HTTP/1.1 POST over loopback; returns the status and body.
pub fn post(base: &str, path: &str, body: &str) -> (u16, String) {
    let host = host_port(base);
    let mut stream = TcpStream::connect(&host).expect("connect to the homeserver");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

/// What the proxy does with new and open connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Fault {
    /// Forward bytes both ways.
    Pass = 0,
    /// Accept, then close at once.
    Refuse = 1,
    /// Accept and never answer.
    Blackhole = 2,
    /// Forward bytes both ways, each chunk held back for [`DELAY`] first.
    Delay = 3,
}

/// How long [`Fault::Delay`] holds back each chunk.
pub const DELAY: Duration = Duration::from_millis(300);

/// Name of every thread the proxy starts, so that a thread count can leave
/// them out (`platform::threads_named(PROXY_THREAD)`).
pub const PROXY_THREAD: &str = "fault-proxy";

fn spawn_named(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .name(PROXY_THREAD.into())
        .spawn(f)
        .expect("spawn a fault-proxy thread");
}

/// A loopback TCP proxy in front of the homeserver, controlled by the test.
pub struct FaultProxy {
    pub url: String,
    mode: Arc<AtomicU8>,
}

impl FaultProxy {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = host_port(&self::url());
        let mode = Arc::new(AtomicU8::new(Fault::Pass as u8));
        let m = mode.clone();
        spawn_named(move || {
            for client in listener.incoming().flatten() {
                match m.load(Ordering::SeqCst) {
                    1 => drop(client),
                    2 => {
                        spawn_named(move || {
                            std::thread::sleep(Duration::from_secs(60));
                            drop(client)
                        });
                    }
                    _ => {
                        let Ok(server) = TcpStream::connect(&upstream) else {
                            continue;
                        };
                        pipe(client, server, m.clone());
                    }
                }
            }
        });
        Self { url, mode }
    }

    pub fn set(&self, fault: Fault) {
        self.mode.store(fault as u8, Ordering::SeqCst);
    }
}

fn pipe(client: TcpStream, server: TcpStream, mode: Arc<AtomicU8>) {
    let copy = |mut from: TcpStream, mut to: TcpStream, mode: Arc<AtomicU8>| {
        spawn_named(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        // A blackholed connection swallows what arrives.
                        let now = mode.load(Ordering::SeqCst);
                        if now == Fault::Blackhole as u8 {
                            continue;
                        }
                        if now == Fault::Delay as u8 {
                            std::thread::sleep(DELAY);
                        }
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(std::net::Shutdown::Both);
        });
    };
    copy(
        client.try_clone().unwrap(),
        server.try_clone().unwrap(),
        mode.clone(),
    );
    copy(server, client, mode);
}
