//! `cargo xtask bench idle [--secs N]`: what an idle client costs a phone,
//! the core against matrix-sdk-ui used directly, each in a process of its
//! own (this binary with `--part`), on the same Synapse in the same run.
//!
//! The parent registers one account with one room holding a few messages
//! (so that the event cache has stored something, as on any real account).
//! Each child logs in, starts sync, observes the room list and opens the
//! room's timeline, lets it settle, then reads over `--secs` seconds (60 by
//! default) of idling, with no traffic at all: the process's CPU share, its
//! wake-ups per second (voluntary context switches of every thread) and its
//! write calls per second (`syscw` of `/proc/self/io`: each SQLite WAL write
//! and `fsync` is one or more). The core child then pauses the client and
//! reads the same over 10 s. A third child runs the bare client with
//! single-process locks, to show what matrix-sdk's cross-process locks cost
//! an idle client (see the README's "An idle client"), and a fourth the
//! core sharing its stores with no process (`shared_with_other_processes:
//! Some(false)`, Android's default), which takes those locks. Writes `--out`
//! (`target/bench/idle.json`).

mod bare;
#[path = "../../tests/support/homeserver.rs"]
mod homeserver;
mod measure;
#[path = "../shared/bench.rs"]
mod shared;

use std::sync::Arc;
use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::{
    Client, ClientConfig, LogoutOptions, RoomListListener, RoomListUpdate, TimelineListener,
    TimelineUpdate,
};
use serde_json::{json, Value};
use shared::{fail, round2, Args, PASSWORD};

/// How long a child lets its client settle before it measures.
pub const SETTLE: Duration = Duration::from_secs(5);
/// How long the paused client is measured.
const PAUSED_SECS: u64 = 10;
/// Messages in the room before the run.
const MESSAGES: usize = 5;

fn main() {
    let args = Args::parse(&["--secs", "--out", "--part", "--user", "--room"]);
    let secs = args.number("--secs", 60).max(1) as u64;
    match args.get("--part") {
        Some(part) => {
            let user = args
                .get("--user")
                .unwrap_or_else(|| fail("--user is missing"));
            let room = args
                .get("--room")
                .unwrap_or_else(|| fail("--room is missing"));
            let figures = match part {
                "core" => core_side(user, room, secs, true),
                "core-alone" => core_side(user, room, secs, false),
                "bare" => bare::run(user, room, secs, false),
                "bare-single-process" => bare::run(user, room, secs, true),
                other => fail(&format!(
                    "unknown part {other}; known: core core-alone bare bare-single-process"
                )),
            };
            println!("{figures}");
        }
        None => parent(secs, args.get("--out").unwrap_or("target/bench/idle.json")),
    }
}

/// Seeds the account, runs both children and writes the report.
fn parent(secs: u64, out: &str) {
    let user = shared::fresh_user("idle");
    let dir = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let client = shared::core_client_syncing(&user, dir.path());
    let room = block_on(client.create_room("idle".into(), vec![], true))
        .unwrap_or_else(|e| fail(&format!("create_room: {e}")));
    for i in 0..MESSAGES {
        block_on(client.send_text(room.clone(), format!("message {i}")))
            .unwrap_or_else(|e| fail(&format!("send_text: {e}")));
    }
    block_on(client.logout(
        LogoutOptions {
            server_timeout_ms: 5000,
            wipe_local_data: true,
        },
        None,
    ))
    .unwrap_or_else(|e| fail(&format!("logout: {e}")));
    let child = |part: &str| -> Value {
        eprintln!("idle: {part} ({secs} s)");
        let args = [
            "--secs",
            &secs.to_string(),
            "--user",
            &user,
            "--room",
            &room,
        ];
        shared::run_child(part, &args.map(String::from))
    };
    let (core, bare, single) = (child("core"), child("bare"), child("bare-single-process"));
    let alone = child("core-alone");
    let ratio = |key: &str| {
        let (c, b) = (core["idle"][key].as_f64(), bare["idle"][key].as_f64());
        match (c, b) {
            (Some(c), Some(b)) if b > 0.0 => json!(round2(c / b)),
            _ => Value::Null,
        }
    };
    let report = json!({
        "secs": secs,
        "paused_secs": PAUSED_SECS,
        "core": core,
        "bare": bare,
        "bare_single_process_locks": single,
        "core_sharing_nothing": alone,
        "core_over_bare": {
            "cpu_pct": ratio("cpu_pct"),
            "wakeups_per_s": ratio("wakeups_per_s"),
            "writes_per_s": ratio("writes_per_s"),
        },
        "goals": {
            "idle": "under 1 % of a core, under 20 wake-ups a second, no store writes",
            "paused": "0 % CPU (under 0.5 % with noise), under 5 wake-ups a second",
        },
    });
    shared::write_json(out, &report);
}

/// A listener that takes what it is given and does nothing with it.
struct Quiet;

impl RoomListListener for Quiet {
    fn on_update(&self, _updates: Vec<RoomListUpdate>) {}
    fn on_closed(&self) {}
}

impl TimelineListener for Quiet {
    fn on_update(&self, _updates: Vec<TimelineUpdate>) {}
    fn on_closed(&self) {}
}

/// The core: a syncing client with a room list and a timeline open, idle,
/// then paused; its stores shared with other processes or not (`sharing`).
fn core_side(user: &str, room: &str, secs: u64, sharing: bool) -> Value {
    shared::count_panics();
    let dir = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let config = ClientConfig {
        shared_with_other_processes: Some(sharing),
        ..shared::config(dir.path())
    };
    let client = block_on(Client::create(config)).unwrap_or_else(|e| fail(&format!("create: {e}")));
    block_on(client.login(user.into(), PASSWORD.into(), None))
        .unwrap_or_else(|e| fail(&format!("login: {e}")));
    block_on(client.start_sync()).unwrap_or_else(|e| fail(&format!("start_sync: {e}")));
    shared::wait_running(&client);
    let quiet = Arc::new(Quiet);
    let _rooms = client
        .observe_room_list(Default::default(), quiet.clone())
        .unwrap_or_else(|e| fail(&format!("observe_room_list: {e}")));
    let timeline =
        block_on(client.timeline(room.into())).unwrap_or_else(|e| fail(&format!("timeline: {e}")));
    let _items = timeline
        .observe(quiet)
        .unwrap_or_else(|e| fail(&format!("observe: {e}")));
    std::thread::sleep(SETTLE);
    let idle = measure::over(Duration::from_secs(secs));
    block_on(client.pause()).unwrap_or_else(|e| fail(&format!("pause: {e}")));
    std::thread::sleep(Duration::from_secs(1));
    let paused = measure::over(Duration::from_secs(PAUSED_SECS));
    block_on(client.resume()).unwrap_or_else(|e| fail(&format!("resume: {e}")));
    let report = block_on(client.close(None)).unwrap_or_else(|e| fail(&format!("close: {e}")));
    json!({
        "idle": idle,
        "paused": paused,
        "close_store_files_open_after": report.store_files_open_after,
        "panics": shared::panics(),
    })
}
