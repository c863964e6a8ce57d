//! `cargo xtask bench notification [--runs N]`: what a notification
//! extension pays for its pushes: a fresh process, the app's stores of an
//! account with 200 rooms, encrypted messages.
//!
//! The parent sets the account up once per run: 199 rooms of its own and an
//! encrypted room with a second user, who sends N messages (20 by default);
//! the app's client syncs until it has them (and their keys), then closes,
//! as an app that went to the background. Then fresh processes of this
//! binary (`--part child`) read on those stores and report their time and
//! their peak RSS (`VmHWM` of `/proc/self/status`, the whole process's
//! life): N children call `get_notification` once; N children open a
//! `notification_fetcher` and read one push; N / 4 children (at least 3)
//! open one and read 5 pushes. Writes `--out`
//! (`target/bench/notification.json`): `peak_rss_mib` (the largest of the
//! `get_notification` children), `ms_p50`, `ms_p95`, and the same of the
//! fetcher with one push (`fetcher_…`) and with five
//! (`fetcher_5_pushes_ms_p50`, `…_p95`).
//! `--rooms` makes fewer rooms, for development.

#[path = "../tests/support/homeserver.rs"]
mod homeserver;
#[path = "shared/bench.rs"]
mod shared;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::{
    get_notification, notification_fetcher, Client, CoreError, LogoutOptions, Session, SessionStore,
};
use serde_json::{json, Value};
use shared::{fail, pct, round2, Args, PASSWORD};

/// Rooms of the account by default.
const ROOMS: usize = 200;
/// Rooms created at once.
const CREATORS: usize = 4;
/// The goals: a notification extension's memory limit leaves about this
/// much, and a notification should show within this.
const RSS_GOAL_MIB: f64 = 20.0;
const P95_GOAL_MS: f64 = 1000.0;

fn main() {
    let args = Args::parse(&["--runs", "--rooms", "--out", "--part"]);
    if args.get("--part") == Some("child") {
        child();
        return;
    }
    let runs = args.number("--runs", 20).max(1);
    let rooms = args.number("--rooms", ROOMS).max(1);
    let out = args
        .get("--out")
        .unwrap_or("target/bench/notification.json")
        .to_owned();
    let dir = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let started = Instant::now();
    let (session, room, events) = seed(dir.path(), rooms, runs);
    let seed_seconds = started.elapsed().as_secs_f64();
    eprintln!("notification: seeded {rooms} rooms and {runs} messages in {seed_seconds:.0} s");

    let one = |i: usize| vec![events[i].clone()];
    let single = Runs::of(
        &dir,
        &session,
        &room,
        Way::GetNotification,
        (0..runs).map(one),
    );
    let fetched = Runs::of(&dir, &session, &room, Way::Fetcher, (0..runs).map(one));
    let five = (0..(runs / 4).max(3)).map(|i| {
        (0..5)
            .map(|k| events[(i * 5 + k) % events.len()].clone())
            .collect()
    });
    let fetched_five = Runs::of(&dir, &session, &room, Way::Fetcher, five);
    let Runs {
        ms,
        peaks,
        before,
        anon,
        file,
        anon_peaks,
    } = single;
    let peak = peaks.iter().copied().fold(0.0, f64::max);
    let report = json!({
        "runs": runs,
        "rooms": rooms,
        "debug_build": cfg!(debug_assertions),
        "app_client": "closed (the app in the background)",
        "peak_rss_mib": round2(peak),
        "peak_rss_mib_p50": round2(pct(&peaks, 0.5)),
        "rss_before_call_mib_p50": round2(pct(&before, 0.5)),
        "rss_anon_after_mib_p50": round2(pct(&anon, 0.5)),
        "rss_file_after_mib_p50": round2(pct(&file, 0.5)),
        // The heap, stacks and written pages at their largest (sampled every
        // millisecond): roughly what iOS counts of an extension (its
        // footprint leaves clean program pages out), unlike `VmHWM`, which
        // also counts the program's text that Linux maps in 64 KiB steps.
        "peak_anon_mib": round2(anon_peaks.iter().copied().fold(0.0, f64::max)),
        "ms_p50": round2(pct(&ms, 0.5)),
        "ms_p95": round2(pct(&ms, 0.95)),
        "ms_max": round2(pct(&ms, 1.0)),
        "rss_goal_mib": RSS_GOAL_MIB,
        "p95_goal_ms": P95_GOAL_MS,
        "seed_seconds": round2(seed_seconds),
        // The fetcher's figures, flat, as the report's tables read them.
        "fetcher_peak_rss_mib": round2(fetched.peaks.iter().copied().fold(0.0, f64::max)),
        "fetcher_peak_rss_mib_p50": round2(pct(&fetched.peaks, 0.5)),
        "fetcher_peak_anon_mib": round2(fetched.anon_peaks.iter().copied().fold(0.0, f64::max)),
        "fetcher_ms_p50": round2(pct(&fetched.ms, 0.5)),
        "fetcher_ms_p95": round2(pct(&fetched.ms, 0.95)),
        "fetcher_5_pushes_ms_p50": round2(pct(&fetched_five.ms, 0.5)),
        "fetcher_5_pushes_ms_p95": round2(pct(&fetched_five.ms, 0.95)),
        "fetcher_5_pushes_runs": fetched_five.ms.len(),
    });
    println!(
        "get_notification in a fresh process, {rooms} rooms, {runs} runs{}: peak RSS {:.1} MiB \
         (goal {RSS_GOAL_MIB}; heap, stacks and written pages {:.1} MiB), p50 {:.0} ms, p95 {:.0} ms (goal {P95_GOAL_MS})",
        if cfg!(debug_assertions) {
            ", debug build"
        } else {
            ""
        },
        peak,
        anon_peaks.iter().copied().fold(0.0, f64::max),
        pct(&ms, 0.5),
        pct(&ms, 0.95),
    );
    println!(
        "notification_fetcher: one push: peak RSS {:.1} MiB (heap, stacks and written pages \
         {:.1} MiB), p95 {:.0} ms; five pushes: p95 {:.0} ms",
        fetched.peaks.iter().copied().fold(0.0, f64::max),
        fetched.anon_peaks.iter().copied().fold(0.0, f64::max),
        pct(&fetched.ms, 0.95),
        pct(&fetched_five.ms, 0.95),
    );
    shared::write_json(&out, &report);
}

/// How a child reads its pushes.
#[derive(Clone, Copy)]
enum Way {
    /// One `get_notification` per push.
    GetNotification,
    /// One `notification_fetcher` for all of them, closed at the end.
    Fetcher,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::GetNotification => "get_notification",
            Way::Fetcher => "fetcher",
        }
    }
}

/// What the children of one kind reported, in MiB and ms.
#[derive(Default)]
struct Runs {
    ms: Vec<f64>,
    peaks: Vec<f64>,
    before: Vec<f64>,
    anon: Vec<f64>,
    file: Vec<f64>,
    anon_peaks: Vec<f64>,
}

impl Runs {
    /// Runs one child per list of pushes, each reading them `way`.
    fn of(
        dir: &tempfile::TempDir,
        session: &Session,
        room: &str,
        way: Way,
        pushes: impl Iterator<Item = Vec<String>>,
    ) -> Self {
        let mut runs = Runs::default();
        let mib = |answer: &Value, key: &str| answer[key].as_f64().unwrap_or_default() / 1024.0;
        for events in pushes {
            let answer = run_child(dir.path(), session, room, way, &events);
            runs.ms.push(answer["ms"].as_f64().unwrap_or_default());
            runs.peaks.push(mib(&answer, "peak_rss_kib"));
            runs.before.push(mib(&answer, "peak_rss_before_kib"));
            runs.anon.push(mib(&answer, "rss_anon_kib"));
            runs.file.push(mib(&answer, "rss_file_kib"));
            runs.anon_peaks.push(mib(&answer, "peak_anon_kib"));
        }
        runs
    }
}

/// The account: `rooms - 1` rooms of its own and an encrypted one with a
/// second user, who sends `messages` messages; the app's client has synced
/// them all and is closed. Returns its session, the encrypted room and the
/// messages' event ids.
fn seed(dir: &Path, rooms: usize, messages: usize) -> (Session, String, Vec<String>) {
    let app = Arc::new(
        block_on(Client::create(shared::config(dir)))
            .unwrap_or_else(|e| fail(&format!("create: {e}"))),
    );
    let session = block_on(app.login(shared::fresh_user("nse-app"), PASSWORD.into(), None))
        .unwrap_or_else(|e| fail(&format!("login: {e}")));
    let other_dir = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let other = shared::core_client_syncing(&shared::fresh_user("nse-other"), other_dir.path());
    let other_id = other.user_id().unwrap_or_default();
    let room = block_on(app.create_room("notified".into(), vec![other_id], true))
        .unwrap_or_else(|e| fail(&format!("create_room: {e}")));
    create_rooms(&app, rooms.saturating_sub(1));
    block_on(app.start_sync()).unwrap_or_else(|e| fail(&format!("start_sync: {e}")));
    shared::wait_running(&app);
    until("the invite", || other.room(room.clone()).is_ok());
    block_on(other.join_room(room.clone())).unwrap_or_else(|e| fail(&format!("join: {e}")));
    until("the room known encrypted", || {
        other.room(room.clone()).is_ok_and(|r| r.is_encrypted)
    });
    let mut events = Vec::new();
    for i in 0..messages {
        let event = block_on(other.send_text(room.clone(), format!("notified {i}")))
            .unwrap_or_else(|e| fail(&format!("send_text: {e}")));
        events.push(event);
    }
    let last = format!("notified {}", messages - 1);
    until("the app has every room and message", || {
        app.rooms().is_ok_and(|r| r.len() >= rooms)
            && block_on(app.recent_messages(room.clone(), 5))
                .is_ok_and(|m| m.iter().any(|m| m.body == last))
    });
    let closed = block_on(app.close(None)).unwrap_or_else(|e| fail(&format!("close: {e}")));
    if closed.store_files_open_after != Some(0) {
        fail(&format!("the app's stores stayed open: {closed:?}"));
    }
    let _ = block_on(other.logout(LogoutOptions::default(), None));
    (session, room, events)
}

/// `n` rooms of the account alone, `CREATORS` at a time.
fn create_rooms(client: &Arc<Client>, n: usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..CREATORS)
        .map(|_| {
            let (client, next) = (client.clone(), next.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    return;
                }
                block_on(client.create_room(format!("room {i:03}"), vec![], false))
                    .unwrap_or_else(|e| fail(&format!("create_room: {e}")));
            })
        })
        .collect();
    for thread in threads {
        let _ = thread.join();
    }
}

/// Waits (at most 120 s) until `done`.
fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        if Instant::now() > deadline {
            fail(&format!("{what}: not within 120 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs one child on `events`, read `way`; its answer.
fn run_child(dir: &Path, session: &Session, room: &str, way: Way, events: &[String]) -> Value {
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(&format!("current_exe: {e}")));
    // For a look inside (development): `MMC_BENCH_WRAPPER=heaptrack` runs
    // each child under that program.
    let mut command = match std::env::var("MMC_BENCH_WRAPPER") {
        Ok(wrapper) => {
            let mut command = Command::new(wrapper);
            command.arg(exe);
            command
        }
        Err(_) => Command::new(exe),
    };
    let output = command
        .args(["--part", "child"])
        .env("MMC_BENCH_DIR", dir)
        .env("MMC_BENCH_USER", &session.user_id)
        .env("MMC_BENCH_DEVICE", &session.device_id)
        .env("MMC_BENCH_TOKEN", &session.access_token)
        .env("MMC_BENCH_ROOM", room)
        .env("MMC_BENCH_EVENTS", events.join(","))
        .env("MMC_BENCH_WAY", way.name())
        .output()
        .unwrap_or_else(|e| fail(&format!("child: {e}")));
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        fail(&format!(
            "child failed ({}): {stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| fail(&format!("no answer from the child: {stdout}")))
}

/// The child: reads its pushes (`get_notification` for each, or one
/// fetcher), and reports the time from the first call to the last answer and
/// the process's peak RSS.
fn child() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| fail(&format!("{name} unset")));
    let session = Session {
        user_id: var("MMC_BENCH_USER"),
        device_id: var("MMC_BENCH_DEVICE"),
        access_token: var("MMC_BENCH_TOKEN"),
        refresh_token: None,
        homeserver_url: homeserver::url(),
    };
    let config = shared::config(Path::new(&var("MMC_BENCH_DIR")));
    let (room, events) = (var("MMC_BENCH_ROOM"), var("MMC_BENCH_EVENTS"));
    let before_kib = status_kib("VmHWM:");
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = status_kib("RssAnon:");
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(status_kib("RssAnon:"));
                std::thread::sleep(Duration::from_millis(1));
            }
            peak.max(status_kib("RssAnon:"))
        })
    };
    let started = Instant::now();
    let (items, ms) = match var("MMC_BENCH_WAY").as_str() {
        "fetcher" => {
            let store = Arc::new(Kept(session));
            let fetcher = block_on(notification_fetcher(config, store))
                .unwrap_or_else(|e| fail(&format!("notification_fetcher: {e}")));
            let items: Vec<_> = events
                .split(',')
                .map(|event| block_on(fetcher.get(room.clone(), event.to_owned())))
                .collect();
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let report = block_on(fetcher.close()).unwrap_or_else(|e| fail(&format!("close: {e}")));
            if !report.client_dropped || report.store_files_open_after != Some(0) {
                fail(&format!("the fetcher's close broke a promise: {report:?}"));
            }
            (items, ms)
        }
        _ => {
            let items = events
                .split(',')
                .map(|event| {
                    block_on(get_notification(
                        config.clone(),
                        session.clone(),
                        room.clone(),
                        event.to_owned(),
                    ))
                })
                .collect();
            (items, started.elapsed().as_secs_f64() * 1000.0)
        }
    };
    done.store(true, Ordering::Relaxed);
    let peak_anon_kib = sampler.join().unwrap_or_default();
    for item in items {
        let item = item.unwrap_or_else(|e| fail(&format!("a push: {e}")));
        if item
            .and_then(|i| i.body)
            .is_none_or(|b| !b.starts_with("notified "))
        {
            fail("the notification did not decrypt");
        }
    }
    println!(
        "{}",
        json!({
            "ms": round2(ms),
            "peak_rss_kib": status_kib("VmHWM:"),
            "peak_rss_before_kib": before_kib,
            // What the resident set is made of when the call has returned:
            // the heap and stacks, and the mapped program.
            "rss_anon_kib": status_kib("RssAnon:"),
            "rss_file_kib": status_kib("RssFile:"),
            "peak_anon_kib": peak_anon_kib,
            "threads": status_kib("Threads:"),
        })
    );
}

/// The app's session store, as the extension's keychain item: it keeps the
/// session the parent logged in with.
struct Kept(Session);

impl SessionStore for Kept {
    fn save(&self, _: Session) -> Result<(), CoreError> {
        Ok(())
    }

    fn load(&self) -> Result<Option<Session>, CoreError> {
        Ok(Some(self.0.clone()))
    }
}

/// A figure of `/proc/self/status` in KiB (`VmHWM:`, the process's peak
/// resident set); 0 where there is none.
fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
