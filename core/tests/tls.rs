//! HTTPS: a private CA trusted through `additional_root_certificates`, and
//! certificates that fail refused with `Network`, before any secret is sent.
//!
//! This binary's "platform" trusts neither the run's CA nor the untrusted
//! one: [`setup`] points `SSL_CERT_FILE` (which rustls-platform-verifier reads
//! on Linux, in place of the system store) at a CA that signs nothing. The
//! good server is the suite's Synapse; the bad certificates (made by the
//! harness, in `MMC_TLS_DIR`) are served by small TLS servers of the test's
//! own, which count every byte a client sends them after a handshake.

#[path = "support/homeserver.rs"]
mod homeserver;

use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};

use futures_executor::block_on;
use matrix_mobile_core::{Client, ClientConfig, ClientState, CoreError, LogoutOptions};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tempfile::TempDir;

const PASSWORD: &str = "correct horse battery";

/// Makes the platform's roots a CA that signs nothing, once per process,
/// before any client of this binary is built.
fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var(
            "SSL_CERT_FILE",
            homeserver::tls_dir().join("unrelated-ca.pem"),
        );
    });
}

fn config(url: &str, dir: &Path, roots: Vec<String>) -> ClientConfig {
    ClientConfig {
        homeserver_url: url.to_owned(),
        data_dir: dir.join("client").to_string_lossy().into_owned(),
        store_passphrase: None,
        store_key: None,
        request_timeout_ms: 10_000,
        additional_root_certificates: roots,
        shared_with_other_processes: None,
    }
}

/// A TLS server on 127.0.0.1 presenting `name.pem` from `MMC_TLS_DIR`. It
/// answers nothing; it counts the bytes that arrive after a handshake.
struct BadServer {
    url: String,
    received: Arc<AtomicUsize>,
}

impl BadServer {
    fn start(name: &str) -> Self {
        let dir = homeserver::tls_dir();
        let certs = CertificateDer::pem_file_iter(dir.join(format!("{name}.pem")))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(dir.join(format!("{name}.key"))).unwrap();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let received = Arc::new(AtomicUsize::new(0));
        let count = received.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, count) = (config.clone(), count.clone());
                std::thread::spawn(move || {
                    let tls = rustls::ServerConnection::new(config).unwrap();
                    let mut stream = rustls::StreamOwned::new(tls, tcp);
                    let mut buf = [0u8; 4096];
                    // A client that refuses the certificate ends the
                    // handshake with an alert: the read fails, nothing counted.
                    while let Ok(n) = std::io::Read::read(&mut stream, &mut buf) {
                        if n == 0 {
                            break;
                        }
                        count.fetch_add(n, Ordering::SeqCst);
                    }
                });
            }
        });
        Self { url, received }
    }
}

/// Logs in at `url` trusting the run's CA, twice: each time `Network` naming
/// the certificate and `expected`, the client left `Created`.
fn login_is_refused_for_the_certificate(url: &str, expected: &str) {
    setup();
    let dir = TempDir::new().unwrap();
    let config = config(url, dir.path(), vec![homeserver::ca_pem()]);
    let client = block_on(Client::create(config)).unwrap();
    for attempt in 1..=2 {
        let result = block_on(client.login("alice".into(), PASSWORD.into(), None));
        match result {
            Err(CoreError::Network { detail }) => {
                assert!(
                    detail.contains("TLS certificate") && detail.contains(expected),
                    "attempt {attempt}: the detail should name the certificate and {expected}: {detail}"
                );
                assert!(!detail.contains(PASSWORD), "{detail}");
            }
            other => panic!("attempt {attempt}: expected Network, got {other:?}"),
        }
        assert_eq!(client.state(), ClientState::Created, "attempt {attempt}");
    }
    block_on(client.close(None)).unwrap();
}

#[test]
fn the_run_ca_in_additional_root_certificates_alone_is_enough_to_log_in() {
    setup();
    let name = homeserver::fresh_name("tls");
    homeserver::register(&name, PASSWORD);
    let dir = TempDir::new().unwrap();
    let config = config(&homeserver::url(), dir.path(), vec![homeserver::ca_pem()]);
    let client = block_on(Client::create(config)).unwrap();
    let session = block_on(client.login(name, PASSWORD.into(), None)).unwrap();
    assert!(
        session.homeserver_url.starts_with("https://"),
        "{session:?}"
    );
    let report = block_on(client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

#[test]
fn without_additional_root_certificates_the_run_ca_is_unknown_and_login_is_refused() {
    login_is_refused_without_roots(&homeserver::url());
}

fn login_is_refused_without_roots(url: &str) {
    setup();
    let dir = TempDir::new().unwrap();
    let client = block_on(Client::create(config(url, dir.path(), Vec::new()))).unwrap();
    for _ in 0..2 {
        match block_on(client.login("alice".into(), PASSWORD.into(), None)) {
            Err(CoreError::Network { detail }) => {
                assert!(
                    detail.contains("TLS certificate") && detail.contains("UnknownIssuer"),
                    "{detail}"
                )
            }
            other => panic!("expected Network, got {other:?}"),
        }
        assert_eq!(client.state(), ClientState::Created);
    }
    block_on(client.close(None)).unwrap();
}

#[test]
fn a_certificate_of_an_untrusted_ca_is_refused_before_the_password_is_sent() {
    let server = BadServer::start("untrusted");
    login_is_refused_for_the_certificate(&server.url, "UnknownIssuer");
    assert_eq!(
        server.received.load(Ordering::SeqCst),
        0,
        "bytes reached the server"
    );
}

#[test]
fn a_certificate_for_another_host_is_refused_before_the_password_is_sent() {
    let server = BadServer::start("wrong-host");
    login_is_refused_for_the_certificate(&server.url, "NotValidForName");
    assert_eq!(
        server.received.load(Ordering::SeqCst),
        0,
        "bytes reached the server"
    );
}

#[test]
fn an_expired_certificate_is_refused_before_the_password_is_sent() {
    let server = BadServer::start("expired");
    login_is_refused_for_the_certificate(&server.url, "Expired");
    assert_eq!(
        server.received.load(Ordering::SeqCst),
        0,
        "bytes reached the server"
    );
}

#[test]
fn a_malformed_pem_is_an_invalid_argument_and_creates_nothing() {
    setup();
    let garbage = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    for pem in ["not a certificate", garbage] {
        let dir = TempDir::new().unwrap();
        let roots = vec![homeserver::ca_pem(), pem.to_owned()];
        let config = config(&homeserver::url(), dir.path(), roots);
        let data_dir = config.data_dir.clone();
        match block_on(Client::create(config)) {
            Err(CoreError::InvalidArgument { detail }) => {
                assert!(
                    detail.contains("additional_root_certificates[1]"),
                    "{detail}"
                )
            }
            other => panic!(
                "{pem}: expected InvalidArgument, got {:?}",
                other.map(|_| ())
            ),
        }
        assert!(!Path::new(&data_dir).exists(), "{data_dir} was created");
    }
}
