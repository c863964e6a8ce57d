//! A loopback TCP proxy that counts the requests waiting for their answer
//! (a connection is waiting from the moment the client sends bytes until
//! the server's first bytes back, or the connection's end) and the bytes
//! the server sent. It sees bytes, not HTTP, so it works the same under TLS.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the proxy's threads may take to see a connection's end.
const SETTLE: Duration = Duration::from_millis(200);

pub struct WatchProxy {
    pub url: String,
    waiting: Arc<AtomicI64>,
    received: Arc<AtomicU64>,
}

/// Whether one connection waits for an answer; kept in step with the count.
struct Connection {
    waiting: Mutex<bool>,
    count: Arc<AtomicI64>,
    /// Bytes from the server, over every connection of the proxy.
    received: Arc<AtomicU64>,
}

impl Connection {
    fn set(&self, now: bool) {
        let mut waiting = self.waiting.lock().unwrap();
        if *waiting != now {
            *waiting = now;
            self.count
                .fetch_add(if now { 1 } else { -1 }, Ordering::SeqCst);
        }
    }
}

impl WatchProxy {
    /// A proxy in front of the homeserver at `upstream` (`http(s)://host:port`).
    pub fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        // Bytes pass through untouched, TLS included: the client speaks the
        // upstream's scheme (the test CA's certificate names 127.0.0.1).
        let scheme = if upstream.starts_with("https://") {
            "https"
        } else {
            "http"
        };
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_owned();
        let waiting = Arc::new(AtomicI64::new(0));
        let received = Arc::new(AtomicU64::new(0));
        let (count, total) = (waiting.clone(), received.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let connection = Arc::new(Connection {
                    waiting: Mutex::new(false),
                    count: count.clone(),
                    received: total.clone(),
                });
                copy(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    connection.clone(),
                    true,
                );
                copy(server, client, connection, false);
            }
        });
        Self {
            url,
            waiting,
            received,
        }
    }

    /// Bytes the server has sent through the proxy so far (TLS included).
    pub fn bytes_received(&self) -> u64 {
        self.received.load(Ordering::SeqCst)
    }

    /// Requests sent and not answered yet, once the proxy's threads have
    /// seen every connection the client closed (bounded by [`SETTLE`]).
    pub fn awaiting_answer(&self) -> i64 {
        let deadline = Instant::now() + SETTLE;
        loop {
            let n = self.waiting.load(Ordering::SeqCst);
            if n == 0 || Instant::now() >= deadline {
                return n;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn copy(mut from: TcpStream, mut to: TcpStream, connection: Arc<Connection>, request: bool) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            connection.set(request);
            if !request {
                connection.received.fetch_add(n as u64, Ordering::SeqCst);
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        connection.set(false);
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
