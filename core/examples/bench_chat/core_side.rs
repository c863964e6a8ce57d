//! The core's side: the same account as the bare side, on a data dir of its
//! own, measured through the exported API as an app calls it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::{Client, ClientConfig, LogoutOptions, RoomListOptions, Session};
use serde_json::{json, Value};

use crate::probe::Probe;
use crate::seed::Seed;
use crate::shared::{self, fail, ms_since, rss_mib, PASSWORD};
use crate::{latencies, OPEN_SAMPLES_PER_SAMPLE, OPEN_TIMELINES};

/// Every figure of the core's side, as a JSON object.
pub fn run(seed: &Seed, samples: usize) -> Value {
    shared::count_panics();
    let base = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let dir = base.path().join("core");
    let client = create(&dir);
    let session = block_on(client.login(seed.user.clone(), PASSWORD.into(), None))
        .unwrap_or_else(|e| fail(&format!("login: {e}")));
    block_on(client.start_sync()).unwrap_or_else(|e| fail(&format!("start_sync: {e}")));
    wait_rooms(&client, seed.rooms.len());

    let open = latencies(samples * OPEN_SAMPLES_PER_SAMPLE, || {
        open_ms(&client, &seed.history_room)
    });
    let (mut gained, mut errors) = (Vec::new(), Vec::new());
    let paginate = latencies(samples, || {
        // Counted and taken again on a fresh timeline, as on the bare side.
        for _ in 0..5 {
            match paginate_ms(&client, &seed.history_room) {
                Ok((ms, items)) => {
                    gained.push(items as f64);
                    return ms;
                }
                Err(e) => errors.push(e),
            }
        }
        fail(&format!("paginate_backwards failed 5 times: {errors:?}"))
    });
    if let Some(first) = errors.first() {
        eprintln!(
            "chat: {} core paginations failed, the first with: {first}",
            errors.len()
        );
    }
    let (echo, send_returned) = echo(&client, &seed.echo_room, samples);
    let rss_kib = rss_per_timeline(&client, &seed.rooms[2..2 + OPEN_TIMELINES]);
    block_on(client.close(None)).unwrap_or_else(|e| fail(&format!("close: {e}")));
    drop(client);
    eprintln!("chat: core timelines measured");

    let mut cold_gained = Vec::new();
    let cold = latencies(samples, || {
        let client = create(&dir);
        block_on(client.restore(session.clone()))
            .unwrap_or_else(|e| fail(&format!("restore: {e}")));
        let (ms, gained) = paginate_ms(&client, &seed.history_room)
            .unwrap_or_else(|e| fail(&format!("paginate_backwards after a restore: {e}")));
        cold_gained.push(gained as f64);
        block_on(client.close(None)).unwrap_or_else(|e| fail(&format!("close: {e}")));
        ms
    });
    let first = latencies(samples, || room_list_first_ms(&dir, &session, false));
    let after_sync = latencies(samples, || room_list_first_ms(&dir, &session, true));

    let client = create(&dir);
    block_on(client.restore(session)).unwrap_or_else(|e| fail(&format!("restore: {e}")));
    block_on(client.logout(LogoutOptions::default(), None))
        .unwrap_or_else(|e| fail(&format!("logout: {e}")));
    json!({
        "timeline_open_ms": open,
        "paginate_100_warm_ms": paginate,
        "paginate_100_ms": cold,
        "paginate_cold_items_gained_p50": shared::pct(&cold_gained, 0.5),
        "paginate_items_gained_p50": shared::pct(&gained, 0.5),
        "paginate_errors": errors.len(),
        "paginate_first_error": errors.first(),
        "echo_ms": echo,
        "send_text_returned_ms": send_returned,
        "rss_per_open_timeline_kib": rss_kib,
        "room_list_first_ms": first,
        "room_list_after_start_sync_ms": after_sync,
        "panics": shared::panics(),
    })
}

/// A client whose stores serve this process alone, as the bare side's
/// (matrix-sdk's single-process locks): the comparison is of the core's own
/// work, not of the cross-process locks' store writes.
fn create(dir: &Path) -> Arc<Client> {
    let config = ClientConfig {
        shared_with_other_processes: Some(false),
        ..shared::config(dir)
    };
    block_on(Client::create(config)).unwrap_or_else(|e| fail(&format!("create: {e}")))
}

/// Waits (at most 180 s) until the client knows `n` rooms.
fn wait_rooms(client: &Client, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while client.rooms().map_or(0, |r| r.len()) < n {
        if Instant::now() > deadline {
            fail(&format!("the core's sync did not bring {n} rooms in 180 s"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `Client::timeline` + `observe` until the first `Reset` arrives.
fn open_ms(client: &Client, room: &str) -> f64 {
    let probe = Probe::new();
    let started = Instant::now();
    let timeline = block_on(client.timeline(room.to_owned()))
        .unwrap_or_else(|e| fail(&format!("timeline: {e}")));
    let sub = timeline
        .observe(probe.clone())
        .unwrap_or_else(|e| fail(&format!("observe: {e}")));
    let ms = probe.first_reset().duration_since(started).as_secs_f64() * 1000.0;
    sub.cancel();
    ms
}

/// A fresh timeline, observed, paginating back 100 events: the call's ms
/// and the items it added (seen by the listener 100 ms later).
fn paginate_ms(client: &Client, room: &str) -> Result<(f64, usize), String> {
    let probe = Probe::new();
    let timeline = block_on(client.timeline(room.to_owned()))
        .unwrap_or_else(|e| fail(&format!("timeline: {e}")));
    let sub = timeline
        .observe(probe.clone())
        .unwrap_or_else(|e| fail(&format!("observe: {e}")));
    probe.first_reset();
    let before = probe.len();
    let started = Instant::now();
    let result = block_on(timeline.paginate_backwards(100));
    let ms = ms_since(started);
    if let Err(e) = result {
        sub.cancel();
        return Err(e.to_string());
    }
    std::thread::sleep(Duration::from_millis(100));
    let gained = probe.len().saturating_sub(before);
    sub.cancel();
    Ok((ms, gained))
}

/// `samples` messages on one observed timeline: from the `send_text` call
/// to the listener seeing the local echo, and to `send_text` returning.
fn echo(client: &Client, room: &str, samples: usize) -> (Value, Value) {
    let probe = Probe::new();
    let timeline = block_on(client.timeline(room.to_owned()))
        .unwrap_or_else(|e| fail(&format!("timeline: {e}")));
    let sub = timeline
        .observe(probe.clone())
        .unwrap_or_else(|e| fail(&format!("observe: {e}")));
    probe.first_reset();
    let mut returned = Vec::new();
    let echo = latencies(samples, || {
        let body = format!("echo {}", crate::seed::unique());
        probe.expect(&body);
        let started = Instant::now();
        block_on(timeline.send_text(body, None))
            .unwrap_or_else(|e| fail(&format!("send_text: {e}")));
        returned.push(ms_since(started));
        let ms = probe.target_seen().duration_since(started).as_secs_f64() * 1000.0;
        // Let the send queue send it before the next one.
        std::thread::sleep(Duration::from_millis(150));
        ms
    });
    sub.cancel();
    (echo, crate::summary(&returned))
}

/// Opens and observes a timeline on each room; the RSS growth per timeline.
fn rss_per_timeline(client: &Client, rooms: &[String]) -> f64 {
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_mib();
    let mut open = Vec::new();
    for room in rooms {
        let probe = Probe::new();
        let timeline = block_on(client.timeline(room.clone()))
            .unwrap_or_else(|e| fail(&format!("timeline: {e}")));
        let sub = timeline
            .observe(probe.clone())
            .unwrap_or_else(|e| fail(&format!("observe: {e}")));
        probe.first_reset();
        open.push((timeline, sub));
    }
    std::thread::sleep(Duration::from_millis(500));
    let kib = (rss_mib() - before) * 1024.0 / rooms.len() as f64;
    drop(open);
    shared::round2(kib)
}

/// Create, restore, and the room list until it holds a room: with
/// `observe_room_list` before `start_sync` (`sync_first` false), or after
/// `start_sync` has returned. The client is closed afterwards, untimed.
fn room_list_first_ms(dir: &Path, session: &Session, sync_first: bool) -> f64 {
    let probe = Probe::new();
    let started = Instant::now();
    let client = create(dir);
    block_on(client.restore(session.clone())).unwrap_or_else(|e| fail(&format!("restore: {e}")));
    let observe = || {
        client
            .observe_room_list(RoomListOptions::default(), probe.clone())
            .unwrap_or_else(|e| fail(&format!("observe_room_list: {e}")))
    };
    let start = || block_on(client.start_sync()).unwrap_or_else(|e| fail(&format!("sync: {e}")));
    let handle = if sync_first {
        start();
        observe()
    } else {
        let handle = observe();
        start();
        handle
    };
    let ms = probe.non_empty().duration_since(started).as_secs_f64() * 1000.0;
    handle.cancel();
    block_on(client.close(None)).unwrap_or_else(|e| fail(&format!("close: {e}")));
    ms
}
