//! The run's data, made once per run by the parent process and handed to
//! each child in a JSON file: one account with `ROOMS` rooms, the first of
//! which holds `HISTORY` messages of history; the second takes the echoes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_executor::block_on;
use matrix_mobile_core::{Client, LogoutOptions};
use serde_json::{json, Value};

use crate::shared::{self, fail, PASSWORD};

/// Rooms of the account by default (`--rooms` changes it, for development).
pub const ROOMS: usize = 200;
/// Messages of history in the first room.
pub const HISTORY: usize = 130;
/// Rooms created at once (Synapse on SQLite gains little beyond this).
const CREATORS: usize = 4;

pub struct Seed {
    pub user: String,
    pub rooms: Vec<String>,
    pub history_room: String,
    pub echo_room: String,
}

/// A number unique in this process, for message bodies.
pub fn unique() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// Registers the account and makes its rooms and history; returns the
/// seed as JSON (with the seconds it took).
pub fn make(rooms: usize) -> Value {
    let started = Instant::now();
    let user = shared::fresh_user("chat");
    let dir = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let client = block_on(Client::create(shared::config(dir.path())))
        .unwrap_or_else(|e| fail(&format!("create: {e}")));
    block_on(client.login(user.clone(), PASSWORD.into(), None))
        .unwrap_or_else(|e| fail(&format!("login: {e}")));
    let rooms = create_rooms(&client, rooms);
    let history_room = rooms[0].clone();
    for i in 0..HISTORY {
        block_on(client.send_text(history_room.clone(), format!("history {i}")))
            .unwrap_or_else(|e| fail(&format!("send_text: {e}")));
    }
    block_on(client.logout(LogoutOptions::default(), None))
        .unwrap_or_else(|e| fail(&format!("logout: {e}")));
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "chat: seeded {} rooms and {HISTORY} messages in {seconds:.0} s",
        rooms.len()
    );
    json!({
        "user": user,
        "rooms": rooms,
        "history_room": history_room,
        "echo_room": rooms[1],
        "seed_seconds": shared::round2(seconds),
    })
}

/// `n` rooms, `CREATORS` at a time; in the order they were made.
fn create_rooms(client: &Arc<Client>, n: usize) -> Vec<String> {
    let made = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..CREATORS)
        .map(|_| {
            let (client, made, next) = (client.clone(), made.clone(), next.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst) as usize;
                if i >= n {
                    return;
                }
                let id = block_on(client.create_room(format!("room {i:03}"), vec![], false))
                    .unwrap_or_else(|e| fail(&format!("create_room: {e}")));
                made.lock().unwrap_or_else(|p| p.into_inner()).push((i, id));
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    let mut made = std::mem::take(&mut *made.lock().unwrap_or_else(|p| p.into_inner()));
    made.sort();
    made.into_iter().map(|(_, id)| id).collect()
}

/// Reads the seed the parent wrote.
pub fn read(path: &str) -> Seed {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
    let s = |k: &str| {
        v[k].as_str()
            .unwrap_or_else(|| fail(&format!("seed lacks {k}")))
            .to_owned()
    };
    Seed {
        user: s("user"),
        rooms: v["rooms"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| Some(r.as_str()?.to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        history_room: s("history_room"),
        echo_room: s("echo_room"),
    }
}
