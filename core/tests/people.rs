//! Rooms and people against the real Synapse: rooms created with options,
//! direct messages, one room followed, its settings, members and
//! moderation, profiles and the user directory, ignoring and reporting,
//! the account's devices. Every bad input gets its typed error.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/mirror.rs"]
mod mirror;
#[path = "support/session.rs"]
mod session;

#[path = "people/members.rs"]
mod members;
#[path = "people/rooms.rs"]
mod rooms;
#[path = "people/safety.rs"]
mod safety;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures_executor::block_on;
use matrix_mobile_core::{Client, CoreError, Membership, RoomListener, RoomSummary};
use session::wait;

/// A 64 x 64 PNG.
const AVATAR_PNG: &[u8] = include_bytes!("support/avatar.png");

/// The user id of `client`.
fn id(client: &Client) -> String {
    client.user_id().expect("logged in")
}

/// Writes the test PNG into `dir`; its path.
fn png_in(dir: &std::path::Path) -> String {
    let path: PathBuf = dir.join("avatar.png");
    std::fs::write(&path, AVATAR_PNG).unwrap();
    path.to_string_lossy().into_owned()
}

/// Waits until `client` knows `room_id` with `membership`.
fn wait_membership(client: &Client, room_id: &str, membership: Membership) {
    wait(&format!("{room_id} {membership:?}"), 30, || {
        client
            .room(room_id.to_owned())
            .is_ok_and(|s| s.membership == membership)
    });
}

/// Whether `error` is the server's 403.
fn is_forbidden(error: &CoreError) -> bool {
    matches!(error, CoreError::Server { status: 403, .. })
}

/// What a `RoomListener` heard.
#[derive(Default)]
struct Heard {
    updates: Mutex<Vec<RoomSummary>>,
    closed: Mutex<u32>,
}

impl Heard {
    fn last(&self) -> Option<RoomSummary> {
        self.updates.lock().unwrap().last().cloned()
    }

    fn count(&self) -> usize {
        self.updates.lock().unwrap().len()
    }

    fn closed(&self) -> u32 {
        *self.closed.lock().unwrap()
    }
}

impl RoomListener for Heard {
    fn on_update(&self, summary: RoomSummary) {
        self.updates.lock().unwrap().push(summary);
    }

    fn on_closed(&self) {
        *self.closed.lock().unwrap() += 1;
    }
}

/// Runs `f` on `client` from several threads at once; their results.
fn at_once<T: Send + 'static>(
    client: &Arc<Client>,
    n: usize,
    f: impl Fn(&Client) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = Arc::new(f);
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let client = client.clone();
            let f = f.clone();
            std::thread::spawn(move || f(&client))
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// `block_on` under a name the submodules share.
fn run<F: std::future::Future>(future: F) -> F::Output {
    block_on(future)
}
