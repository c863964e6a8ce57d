//! The fault matrix: the server dying, hanging, or slow; Synapse killed or
//! paused; the `data_dir` deleted or read-only; listeners that block or
//! panic. In every case each call returns `Ok` or a documented error within
//! its bound, nothing panics, the stores end closed, a wiped `data_dir`
//! leaves nothing, and the runtime is clean afterwards
//! ([`faults::Case::end`]).
//!
//! Cases run one at a time; some end with `shutdown`, which the others
//! tolerate (the next `Client::create` starts a new runtime generation).

#[path = "support/faults.rs"]
mod faults;
#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/private_synapse.rs"]
mod private_synapse;
#[path = "support/session.rs"]
mod session;

#[path = "fault_matrix/listeners.rs"]
mod listeners;
#[path = "fault_matrix/server.rs"]
mod server;
#[path = "fault_matrix/storage.rs"]
mod storage;
#[path = "fault_matrix/synapse.rs"]
mod synapse;

use std::path::Path;
use std::sync::{Arc, Mutex};

use futures_executor::block_on;
use matrix_mobile_core::{
    Client, ClientConfig, Message, MessageListener, Session, SyncState, SyncStateListener,
};

use session::{config, wait, PASSWORD};

/// A client on `url` with `data_dir`, logged in as a fresh user registered
/// on `register_on`.
fn logged_in_at(
    url: &str,
    register_on: &str,
    data_dir: &Path,
    prefix: &str,
) -> (Arc<Client>, Session) {
    logged_in_with(config(url, data_dir), register_on, prefix)
}

fn logged_in_with(config: ClientConfig, register_on: &str, prefix: &str) -> (Arc<Client>, Session) {
    let name = homeserver::fresh_name(prefix);
    homeserver::register_at(register_on, &name, PASSWORD);
    let client = block_on(Client::create(config)).unwrap();
    let session = block_on(client.login(name, PASSWORD.into(), Some("faults".into()))).unwrap();
    (client, session)
}

/// Starts sync and waits until it runs.
fn syncing(client: &Client) {
    block_on(client.start_sync()).unwrap();
    wait("sync to run", 30, || {
        client.sync_state() == SyncState::Running
    });
}

/// Records what a subscription delivers: sync states, message bodies, and
/// `closed` for `on_closed`.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn calls(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn push(&self, call: String) {
        self.0.lock().unwrap().push(call);
    }

    /// Whether the last call was the end signal `end`.
    fn ended_with(&self, end: &str) -> bool {
        self.calls().last().map(String::as_str) == Some(end)
    }
}

impl SyncStateListener for Recorder {
    fn on_state(&self, state: SyncState) {
        self.push(format!("{state:?}"));
    }
}

impl MessageListener for Recorder {
    fn on_message(&self, message: Message) {
        self.push(message.body);
    }

    fn on_closed(&self) {
        self.push("closed".into());
    }
}
