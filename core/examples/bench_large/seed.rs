//! The run's account, made once by the parent and handed to each child in
//! a JSON file: `rooms` rooms, each with [`MESSAGES`] messages.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures_executor::block_on;
use matrix_mobile_core::{Client, LogoutOptions};
use serde_json::{json, Value};

use crate::shared::{self, fail, PASSWORD};

/// Messages in each room.
pub const MESSAGES: usize = 2;
/// Rooms made at once (Synapse on SQLite gains little beyond this).
const MAKERS: usize = 4;

pub struct Seed {
    pub user: String,
    pub rooms: usize,
}

/// Registers the account and makes its rooms; returns the seed as JSON.
pub fn make(rooms: usize) -> Value {
    let started = Instant::now();
    let user = shared::fresh_user("large");
    let dir = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let client = block_on(Client::create(shared::config(dir.path())))
        .unwrap_or_else(|e| fail(&format!("create: {e}")));
    block_on(client.login(user.clone(), PASSWORD.into(), None))
        .unwrap_or_else(|e| fail(&format!("login: {e}")));
    let next = Arc::new(AtomicUsize::new(0));
    let makers: Vec<_> = (0..MAKERS)
        .map(|_| {
            let (client, next) = (client.clone(), next.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= rooms {
                    return;
                }
                let id = block_on(client.create_room(format!("room {i:04}"), vec![], false))
                    .unwrap_or_else(|e| fail(&format!("create_room: {e}")));
                for m in 0..MESSAGES {
                    block_on(client.send_text(id.clone(), format!("message {m} in room {i}")))
                        .unwrap_or_else(|e| fail(&format!("send_text: {e}")));
                }
                if i % 100 == 99 {
                    eprintln!("large: {} rooms made", i + 1);
                }
            })
        })
        .collect();
    for maker in makers {
        let _ = maker.join();
    }
    block_on(client.logout(LogoutOptions::default(), None))
        .unwrap_or_else(|e| fail(&format!("logout: {e}")));
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("large: seeded {rooms} rooms in {seconds:.0} s");
    json!({ "user": user, "rooms": rooms, "seed_seconds": shared::round2(seconds) })
}

/// Reads the seed the parent wrote.
pub fn read(path: &str) -> Seed {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
    Seed {
        user: v["user"]
            .as_str()
            .unwrap_or_else(|| fail("seed lacks user"))
            .to_owned(),
        rooms: v["rooms"]
            .as_u64()
            .unwrap_or_else(|| fail("seed lacks rooms")) as usize,
    }
}
