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
    register_at(&url(), username, password);
}

/// Registers `username` with `password` on the homeserver at `base`.
pub fn register_at(base: &str, username: &str, password: &str) {
    let body = format!(
        r#"{{"username":"{username}","password":"{password}","auth":{{"type":"m.login.dummy"}},"inhibit_login":true}}"#
    );
    let (status, response) = post(base, "/_matrix/client/v3/register", &body);
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
    /// Accept and never answer; open connections swallow what arrives.
    Blackhole = 2,
    /// Forward bytes both ways, each chunk held back for [`DELAY`] first, or
    /// each response held back for the proxy's response delay when one is
    /// set ([`FaultProxy::set_response_delay`]).
    Delay = 3,
}

/// How long [`Fault::Delay`] holds back each chunk.
pub const DELAY: Duration = Duration::from_millis(300);

/// How often a forwarding thread looks at the proxy's controls while no
/// bytes arrive, so that [`FaultProxy::die`] cuts idle connections too.
const POLL: Duration = Duration::from_millis(100);

/// Name of every thread the proxy starts, so that a thread count can leave
/// them out (`platform::threads_named(PROXY_THREAD)`).
pub const PROXY_THREAD: &str = "fault-proxy";

fn spawn_named(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .name(PROXY_THREAD.into())
        .spawn(f)
        .expect("spawn a fault-proxy thread");
}

/// The proxy's controls, shared with its threads.
#[derive(Default)]
struct Controls {
    mode: AtomicU8,
    /// Bumped by [`FaultProxy::die`]: connections opened before end.
    epoch: AtomicU64,
    /// 0: [`Fault::Delay`] holds back every chunk by [`DELAY`].
    response_delay_ms: AtomicU64,
}

/// A loopback TCP proxy in front of the homeserver, controlled by the test.
pub struct FaultProxy {
    pub url: String,
    controls: Arc<Controls>,
}

impl FaultProxy {
    /// A proxy in front of the suite's homeserver ([`url`]).
    pub fn start() -> Self {
        Self::start_to(&self::url())
    }

    /// A proxy in front of the homeserver at `upstream`.
    pub fn start_to(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = host_port(upstream);
        let controls = Arc::new(Controls::default());
        let c = controls.clone();
        spawn_named(move || {
            for client in listener.incoming().flatten() {
                match c.mode.load(Ordering::SeqCst) {
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
                        pipe(client, server, c.clone());
                    }
                }
            }
        });
        Self { url, controls }
    }

    pub fn set(&self, fault: Fault) {
        self.controls.mode.store(fault as u8, Ordering::SeqCst);
    }

    /// Makes [`Fault::Delay`] hold back the first bytes of every response by
    /// `delay` (and nothing else) instead of every chunk by [`DELAY`];
    /// `Duration::ZERO` restores the per-chunk delay.
    pub fn set_response_delay(&self, delay: Duration) {
        self.controls
            .response_delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// The server dies: every new connection is refused ([`Fault::Refuse`])
    /// and every open one is cut within [`POLL`] (a held-back response is
    /// cut when its delay ends), as when the server process is killed.
    pub fn die(&self) {
        self.set(Fault::Refuse);
        self.controls.epoch.fetch_add(1, Ordering::SeqCst);
    }
}

fn pipe(client: TcpStream, server: TcpStream, controls: Arc<Controls>) {
    let born = controls.epoch.load(Ordering::SeqCst);
    // Requests seen on this connection, so that a response delay holds back
    // each response once.
    let requests = Arc::new(AtomicU64::new(0));
    let copy = |mut from: TcpStream, mut to: TcpStream, upstream: bool| {
        let controls = controls.clone();
        let requests = requests.clone();
        spawn_named(move || {
            let _ = from.set_read_timeout(Some(POLL));
            let mut buf = [0u8; 16 * 1024];
            let mut delayed_for = 0;
            let cut = || controls.epoch.load(Ordering::SeqCst) != born;
            while !cut() {
                let n = match from.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if is_idle(&e) => continue,
                    Err(_) => break,
                };
                if upstream {
                    requests.fetch_add(1, Ordering::SeqCst);
                }
                if controls.mode.load(Ordering::SeqCst) == Fault::Delay as u8 {
                    let response_delay = controls.response_delay_ms.load(Ordering::SeqCst);
                    if response_delay == 0 {
                        std::thread::sleep(DELAY);
                    } else if !upstream {
                        let seen = requests.load(Ordering::SeqCst);
                        if seen != delayed_for {
                            delayed_for = seen;
                            std::thread::sleep(Duration::from_millis(response_delay));
                        }
                    }
                }
                // A blackholed connection swallows what arrives.
                if controls.mode.load(Ordering::SeqCst) == Fault::Blackhole as u8 {
                    continue;
                }
                if cut() || to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            if cut() {
                let _ = from.shutdown(std::net::Shutdown::Both);
            }
            let _ = to.shutdown(std::net::Shutdown::Both);
        });
    };
    copy(
        client.try_clone().unwrap(),
        server.try_clone().unwrap(),
        true,
    );
    copy(server, client, false);
}

fn is_idle(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}
