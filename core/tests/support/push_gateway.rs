//! A push gateway of the tests' own: it records what Synapse posts to it.
//!
//! Synapse's HTTP pushers POST each notification to the pusher's URL, which
//! must end in `/_matrix/push/v1/notify` (the Push Gateway API). This one
//! listens on plain HTTP on 127.0.0.1 (the harness lets Synapse push to
//! loopback: `ip_range_whitelist` in harness/synapse_harness.py), answers
//! each notify with `{"rejected":[]}` and keeps each posted `notification`
//! object, in order. Python has the same gateway in harness/push_gateway.py.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The path a pusher's URL must have.
pub const NOTIFY_PATH: &str = "/_matrix/push/v1/notify";

/// Name of the gateway's threads, so that a thread count can leave them out.
pub const GATEWAY_THREAD: &str = "push-gateway";

#[derive(Default)]
struct Received {
    notifications: Mutex<Vec<serde_json::Value>>,
    arrived: Condvar,
}

/// A running gateway. Its threads end with the test process.
pub struct PushGateway {
    /// `http://127.0.0.1:PORT/_matrix/push/v1/notify`: a pusher's `gateway_url`.
    pub url: String,
    received: Arc<Received>,
}

impl PushGateway {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the push gateway");
        let url = format!("http://{}{NOTIFY_PATH}", listener.local_addr().unwrap());
        let received = Arc::new(Received::default());
        let r = received.clone();
        spawn_named(move || {
            for stream in listener.incoming().flatten() {
                let r = r.clone();
                spawn_named(move || serve(stream, &r));
            }
        });
        Self { url, received }
    }

    /// Every `notification` posted so far, oldest first.
    pub fn notifications(&self) -> Vec<serde_json::Value> {
        self.received
            .notifications
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The first posted notification that `matches`, waiting up to `secs`;
    /// `None` if none came.
    pub fn wait_for(
        &self,
        secs: u64,
        matches: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut got = self
            .received
            .notifications
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(found) = got.iter().find(|n| matches(n)) {
                return Some(found.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            got = self
                .received
                .arrived
                .wait_timeout(got, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// The notification for `event_id`, waiting up to `secs`.
    pub fn wait_for_event(&self, event_id: &str, secs: u64) -> Option<serde_json::Value> {
        self.wait_for(secs, |n| n["event_id"] == event_id)
    }
}

fn spawn_named(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .name(GATEWAY_THREAD.into())
        .spawn(f)
        .expect("spawn a push-gateway thread");
}

/// Answers the requests of one connection (Synapse keeps it alive).
fn serve(stream: TcpStream, received: &Received) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or_default();
        let (status, answer) = if !request_line.starts_with("POST ") || path != NOTIFY_PATH {
            ("404 Not Found", r#"{"errcode":"M_UNRECOGNIZED"}"#)
        } else {
            match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(json) => {
                    let mut got = received
                        .notifications
                        .lock()
                        .unwrap_or_else(|p| p.into_inner());
                    got.push(json["notification"].clone());
                    received.arrived.notify_all();
                    ("200 OK", r#"{"rejected":[]}"#)
                }
                Err(_) => ("400 Bad Request", r#"{"errcode":"M_NOT_JSON"}"#),
            }
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
