//! `cargo xtask demo`: two users chat over the local Synapse, then alice logs
//! out and the report shows what the drain did, step by step.

#[path = "../tests/support/homeserver.rs"]
mod homeserver;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::{
    runtime_stats, shutdown, Client, ClientConfig, CoreError, LogoutOptions, LogoutReport, Message,
    ShutdownOptions, SyncState,
};
use matrix_mobile_core::{MessageListener, SyncStateListener};

const PASSWORD: &str = "demo password 1";

struct Printer(&'static str, Arc<Mutex<Vec<String>>>);
impl MessageListener for Printer {
    fn on_message(&self, m: Message) {
        println!("    [{} sees] {}: {}", self.0, m.sender, m.body);
        self.1
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(m.body);
    }
    fn on_closed(&self) {
        println!("    [{} messages] closed", self.0);
    }
}

struct SyncPrinter(&'static str);
impl SyncStateListener for SyncPrinter {
    fn on_state(&self, state: SyncState) {
        println!("    [{} sync] {state:?}", self.0);
    }
}

fn wait(what: &str, mut done: impl FnMut() -> bool) -> Result<(), CoreError> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        if Instant::now() > deadline {
            return Err(CoreError::Timeout {
                operation: what.into(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn print_report(report: &LogoutReport) {
    println!("  server logout:          {:?}", report.server_logout);
    for p in &report.phases {
        println!(
            "    {:<20} {:>5} ms",
            format!("{:?}", p.phase),
            p.elapsed_ms
        );
    }
    println!("  total:                  {} ms", report.total_ms);
    println!("  tasks drained:          {}", report.tasks_drained);
    println!(
        "  store files open after: {:?}",
        report.store_files_open_after
    );
    println!("  client dropped:         {}", report.client_dropped);
    println!("  tasks left behind:      {}", report.tasks_left_behind);
    println!("  data wiped:             {}", report.data_wiped);
    println!(
        "  runtime restarted:      {} (generation {})",
        report.runtime_restarted, report.runtime_generation
    );
    for w in &report.warnings {
        println!("  note: {w}");
    }
}

fn main() -> Result<(), CoreError> {
    let url = homeserver::url();
    let base = tempfile::TempDir::new().map_err(|e| CoreError::Storage {
        detail: e.to_string(),
    })?;
    let alice_name = homeserver::fresh_name("alice");
    let bob_name = homeserver::fresh_name("bob");
    println!("1. Synapse runs at {url}; registering {alice_name} and {bob_name}");
    homeserver::register(&alice_name, PASSWORD);
    homeserver::register(&bob_name, PASSWORD);
    let config = |who: &str| ClientConfig {
        homeserver_url: url.clone(),
        data_dir: base.path().join(who).to_string_lossy().into_owned(),
        store_passphrase: Some(format!("{who} store passphrase")),
        request_timeout_ms: 30_000,
        additional_root_certificates: Vec::new(),
    };

    println!("2. alice and bob log in; alice creates a room and invites bob, who joins");
    let alice = block_on(Client::create(config("alice")))?;
    let bob = block_on(Client::create(config("bob")))?;
    block_on(alice.login(
        alice_name.clone(),
        PASSWORD.into(),
        Some("demo phone".into()),
    ))?;
    let bob_session = block_on(bob.login(bob_name, PASSWORD.into(), Some("demo tablet".into())))?;
    let _a = alice.observe_sync_state(Arc::new(SyncPrinter("alice")))?;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let _m1 = alice.observe_messages(Arc::new(Printer("alice", seen.clone())))?;
    let _m2 = bob.observe_messages(Arc::new(Printer("bob", seen.clone())))?;
    block_on(alice.start_sync())?;
    block_on(bob.start_sync())?;
    wait("sync", || {
        alice.sync_state() == SyncState::Running && bob.sync_state() == SyncState::Running
    })?;
    let room = block_on(alice.create_room("demo".into(), vec![bob_session.user_id], false))?;
    wait("bob joins", || {
        block_on(bob.join_room(room.clone())).is_ok()
    })?;
    println!("    room {room}");

    println!("3. they exchange messages (delivered through observe_messages)");
    block_on(alice.send_text(room.clone(), "hi bob, this is alice".into()))?;
    wait("bob sees it", || {
        seen.lock().map(|s| s.len() >= 2).unwrap_or(false)
    })?;
    block_on(bob.send_text(room.clone(), "hi alice!".into()))?;
    wait("alice sees it", || {
        seen.lock().map(|s| s.len() >= 4).unwrap_or(false)
    })?;

    println!("4. alice logs out while bob stays online; the report:");
    let report = block_on(alice.logout(LogoutOptions::default(), None))?;
    print_report(&report);

    println!("5. alice logs in again on a fresh data_dir");
    let again = block_on(Client::create(config("alice-again")))?;
    block_on(again.login(alice_name, PASSWORD.into(), None))?;
    println!("    live clients: {}", runtime_stats().live_clients);

    println!("6. shutdown(): closes every client, stops every task, joins the runtime's threads");
    let report = block_on(shutdown(ShutdownOptions { timeout_ms: 5000 }))?;
    println!("  clients closed:   {}", report.clients_closed);
    println!("  tasks drained:    {}", report.tasks_drained);
    println!("  tasks abandoned:  {:?}", report.tasks_abandoned);
    println!("  total:            {} ms", report.total_ms);
    println!("  generation:       {}", report.runtime_generation);
    let stats = runtime_stats();
    println!(
        "  after: state {:?}, alive tasks {}, live clients {}",
        stats.state, stats.alive_tasks, stats.live_clients
    );
    Ok(())
}
