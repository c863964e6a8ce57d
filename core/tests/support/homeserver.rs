//! The test homeserver that `cargo xtask test` starts: its URL, fresh users,
//! and a fault proxy in front of it. It serves HTTPS with the run's CA, whose
//! files are in `MMC_TLS_DIR`; the helpers here trust that CA explicitly, so
//! they work whatever `SSL_CERT_FILE` says.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// `MMC_HOMESERVER_URL`, set by `cargo xtask test`. Fails loudly when unset.
pub fn url() -> String {
    std::env::var("MMC_HOMESERVER_URL")
        .expect("MMC_HOMESERVER_URL is unset: run the suite with `cargo xtask test`")
}

/// `MMC_TLS_DIR`, set by `cargo xtask test`: the run's CA (`ca.pem`) and the
/// bad certificates of the TLS tests (`expired.pem`, `wrong-host.pem`,
/// `untrusted.pem`, each with its `.key`).
pub fn tls_dir() -> PathBuf {
    std::env::var_os("MMC_TLS_DIR")
        .expect("MMC_TLS_DIR is unset: run the suite with `cargo xtask test`")
        .into()
}

/// The run's CA certificate, PEM.
pub fn ca_pem() -> String {
    std::fs::read_to_string(tls_dir().join("ca.pem")).expect("read the run's CA")
}

/// `127.0.0.1:PORT` of an `http://` or `https://` URL.
pub fn host_port(url: &str) -> String {
    url.trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

/// A TLS client that trusts the run's CA alone.
fn tls_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            for der in CertificateDer::pem_slice_iter(ca_pem().as_bytes()) {
                roots.add(der.expect("the run's CA is PEM")).unwrap();
            }
            let config = rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth();
            Arc::new(config)
        })
        .clone()
}

/// Sends `request` (a whole HTTP/1.x request with `Connection: close`) to
/// `base`, over TLS for an `https://` URL, and returns the whole response.
pub fn exchange(base: &str, request: &str) -> String {
    let host = host_port(base);
    let tcp = TcpStream::connect(&host).expect("connect to the homeserver");
    let mut stream: Box<dyn ReadWrite> = if base.starts_with("https://") {
        let name = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
        let name = ServerName::try_from(name.to_owned()).expect("a server name");
        let tls = rustls::ClientConnection::new(tls_config(), name).expect("a TLS client");
        Box::new(rustls::StreamOwned::new(tls, tcp))
    } else {
        Box::new(tcp)
    };
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    // A server may close without TLS's close_notify once it has answered.
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&response).into_owned()
}

/// One call of the client-server API at `path` on the suite's homeserver,
/// as the user whose access token is `token`; panics unless it answers 200.
/// Returns the answer's JSON.
pub fn client_api(
    method: &str,
    path: &str,
    token: &str,
    body: &serde_json::Value,
) -> serde_json::Value {
    let base = url();
    let host = host_port(&base);
    let body = body.to_string();
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let response = exchange(&base, &request);
    let (head, answer) = response.split_once("\r\n\r\n").unwrap_or_default();
    assert!(head.contains(" 200 "), "{method} {path}: {response}");
    serde_json::from_str(answer).unwrap_or_else(|e| panic!("{method} {path}: {e}: {answer}"))
}

/// A Matrix id (`!room:server`, `$event`, `@user:server`) escaped for a path.
pub fn escaped(id: &str) -> String {
    id.replace('!', "%21")
        .replace('$', "%24")
        .replace('@', "%40")
        .replace(':', "%3A")
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

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
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = exchange(base, &request);
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
        // Bytes pass through untouched, TLS included: the scheme is upstream's.
        let scheme = upstream.split("://").next().unwrap_or("http");
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
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
