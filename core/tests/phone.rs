//! Built for a phone, against the real Synapse: the app's thread is never
//! held by a file, memory does not grow with a file, a paused client is
//! still, and getters answer from memory.
//!
//! The bounds here are far from what a fixed core measures (the figures
//! themselves come from `cargo xtask bench`) and far below what the faults
//! they guard against cost: an upload that read and encrypted its file on
//! the caller's thread held it for seconds; a download held the whole file
//! twice in memory; a paused client's send queue spun on its closed store.
//! The tests take turns, so that process-wide figures (CPU time, peak RSS)
//! are this test's alone.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/mirror.rs"]
mod mirror;
#[path = "support/session.rs"]
mod session;

use std::future::Future;
use std::pin::pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::{
    Client, CoreError, LogoutOptions, MessageContent, SendState, TimelineItem, TimelineItemKind,
};
use mirror::Mirror;
use session::{logged_in, wait};

const MIB: u64 = 1024 * 1024;

/// Longest the caller's thread may be held by one poll: far above a fixed
/// core's (well under a millisecond, a debug build included), far below the
/// seconds that reading and encrypting a 40 MiB file on it took.
const HOLD_BOUND: Duration = Duration::from_millis(250);

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Polls `future` on this thread to its end, as a foreign executor does
/// (each poll on the caller's thread, waiting between polls), and returns
/// its output with the longest single poll.
fn longest_poll<F: Future>(future: F) -> (F::Output, Duration) {
    let mut future = pin!(future);
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    let mut longest = Duration::ZERO;
    loop {
        let started = Instant::now();
        let polled = future.as_mut().poll(&mut cx);
        longest = longest.max(started.elapsed());
        if let Poll::Ready(out) = polled {
            return (out, longest);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A line of `/proc/self/status`, in KiB (`VmHWM`, `VmRSS`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Resets the process's peak RSS to its current RSS (Linux `clear_refs` 5).
fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

/// How far the peak RSS rose above the RSS at the last reset, in bytes.
fn peak_rise(rss_at_reset_kib: u64) -> u64 {
    status_kib("VmHWM").saturating_sub(rss_at_reset_kib) * 1024
}

/// The process's CPU time (user + system), in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5), counted from the state (field 3).
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Voluntary context switches of each thread of the process, by thread id.
fn switches() -> std::collections::HashMap<String, u64> {
    let mut by_thread = std::collections::HashMap::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        let count = status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        by_thread.insert(task.file_name().to_string_lossy().into_owned(), count);
    }
    by_thread
}

/// The process's wake-ups (voluntary context switches) since `before`: of
/// the threads alive now (a thread that ended took its count with it).
fn wakeups_since(before: &std::collections::HashMap<String, u64>) -> u64 {
    switches()
        .iter()
        .map(|(tid, n)| n.saturating_sub(before.get(tid).copied().unwrap_or(0)))
        .sum()
}

/// A file of `size` bytes that does not compress to nothing.
fn write_file(path: &std::path::Path, size: u64) {
    let mut data = Vec::with_capacity(size as usize);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while (data.len() as u64) < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(size as usize);
    std::fs::write(path, data).unwrap();
}

fn media_source_of(items: &[TimelineItem]) -> Option<matrix_mobile_core::MediaSource> {
    items.iter().find_map(|i| match &i.kind {
        TimelineItemKind::Event {
            content: MessageContent::Media { source, .. },
            ..
        } => Some(source.clone()),
        _ => None,
    })
}

/// A 40 MiB file into an encrypted room: no poll of `send_file` holds the
/// caller's thread, and both the upload and the download of it stream:
/// neither raises peak RSS by more than 16 MiB.
#[test]
fn a_large_encrypted_file_holds_no_thread_and_its_download_streams() {
    let _serial = serial();
    let (alice, _session, dir) = logged_in("phone-file");
    let room_id = block_on(alice.create_room("files".into(), vec![], true)).unwrap();
    block_on(alice.start_sync()).unwrap();
    let timeline = block_on(alice.timeline(room_id)).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();

    let file = dir.path().join("video.bin");
    let size = 40 * MIB;
    write_file(&file, size);
    reset_peak_rss();
    let rss = status_kib("VmRSS");
    let (sent, held) = longest_poll(timeline.send_file(
        file.to_string_lossy().into_owned(),
        Some("application/octet-stream".into()),
        None,
        None,
    ));
    sent.unwrap();
    let upload_rise = peak_rise(rss);
    println!(
        "upload of {} MiB: longest poll {held:?}, peak RSS +{:.1} MiB",
        size / MIB,
        upload_rise as f64 / MIB as f64
    );
    assert!(
        held < HOLD_BOUND,
        "send_file held the caller's thread {held:?}"
    );
    // The file streams (encrypted on the way): memory does not grow with it.
    assert!(
        upload_rise <= 16 * MIB,
        "a {} MiB upload raised peak RSS by {:.1} MiB: it did not stream",
        size / MIB,
        upload_rise as f64 / MIB as f64
    );

    let mut source = None;
    wait("the file in the timeline", 30, || {
        source = media_source_of(&mirror.items());
        source.is_some()
    });
    let source = source.unwrap();
    assert!(source.encrypted);
    let dest = dir.path().join("downloaded.bin");
    reset_peak_rss();
    let rss = status_kib("VmRSS");
    let (got, held) = longest_poll(alice.download_media(source, dest.to_string_lossy().into()));
    let download_rise = peak_rise(rss);
    println!(
        "download of {} MiB: longest poll {held:?}, peak RSS +{:.1} MiB",
        size / MIB,
        download_rise as f64 / MIB as f64
    );
    assert_eq!(got.unwrap(), size);
    assert!(
        std::fs::read(&dest).unwrap() == std::fs::read(&file).unwrap(),
        "the download is the file"
    );
    assert!(
        held < HOLD_BOUND,
        "download_media held the caller's thread {held:?}"
    );
    assert!(
        download_rise <= 16 * MIB,
        "a {} MiB download raised peak RSS by {:.1} MiB: it did not stream",
        size / MIB,
        download_rise as f64 / MIB as f64
    );
    // Each download has its own temporary file: none is left beside it.
    let partials: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("mmc-partial"))
        .collect();
    assert!(partials.is_empty(), "{partials:?}");

    let (rooms, held) = longest_poll(async { alice.rooms() });
    assert!(!rooms.unwrap().is_empty());
    assert!(
        held < HOLD_BOUND,
        "rooms() held the caller's thread {held:?}"
    );

    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

/// A file over the server's upload limit is refused with `InvalidArgument`
/// before it is read: a sparse file of the limit plus one byte (or of
/// 2 GiB) costs no memory and no time.
#[test]
fn a_file_over_the_upload_limit_is_refused_before_it_is_read() {
    let _serial = serial();
    let (alice, _session, dir) = logged_in("phone-limit");
    let limit = block_on(alice.max_upload_size()).unwrap();
    assert!(limit > 0, "the server's limit: {limit}");
    let room_id = block_on(alice.create_room("limits".into(), vec![], true)).unwrap();
    let timeline = block_on(alice.timeline(room_id)).unwrap();
    reset_peak_rss();
    let rss = status_kib("VmRSS");
    for size in [limit + 1, 2 * 1024 * MIB] {
        let file = dir.path().join(format!("too-large-{size}.bin"));
        std::fs::File::create(&file).unwrap().set_len(size).unwrap();
        let refused =
            block_on(timeline.send_file(file.to_string_lossy().into_owned(), None, None, None));
        match refused {
            Err(CoreError::InvalidArgument { detail }) => {
                assert!(detail.contains(&limit.to_string()), "{detail}")
            }
            other => panic!("a {size}-byte file: {other:?}"),
        }
    }
    let rise = peak_rise(rss);
    assert!(
        rise < 64 * MIB,
        "refusing files over the limit raised peak RSS by {} MiB: they were read",
        rise / MIB
    );
    block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
}

/// A paused client with a message that failed to send (the server
/// unreachable) is still: over 10 s its process uses (almost) no CPU and
/// wakes rarely. After `resume`, with the server back, the message is sent.
#[test]
fn a_paused_client_with_a_failed_message_is_still_and_sends_it_after_resume() {
    let _serial = serial();
    let proxy = homeserver::FaultProxy::start();
    let dir = tempfile::TempDir::new().unwrap();
    let config = session::config(&proxy.url, dir.path());
    let alice = block_on(Client::create(config)).unwrap();
    block_on(alice.login(session::user("phone-still"), session::PASSWORD.into(), None)).unwrap();
    let room_id = block_on(alice.create_room("still".into(), vec![], false)).unwrap();
    block_on(alice.start_sync()).unwrap();
    let timeline = block_on(alice.timeline(room_id)).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();

    proxy.die();
    block_on(timeline.send_text("sent while away".into(), None)).unwrap();
    let state = || {
        mirror.items().iter().find_map(|i| match &i.kind {
            TimelineItemKind::Event {
                content: MessageContent::Text { body, .. },
                send_state,
                event_id,
                ..
            } if body == "sent while away" => Some((send_state.clone(), event_id.clone())),
            _ => None,
        })
    };
    wait("the send to fail", 30, || {
        matches!(state(), Some((Some(SendState::Failed { .. }), _)))
    });
    block_on(alice.pause()).unwrap();
    // Whatever was under way when the pause began has settled.
    std::thread::sleep(Duration::from_secs(1));
    let (ticks, woken) = (cpu_ticks(), switches());
    std::thread::sleep(Duration::from_secs(10));
    let (ticks, woken) = (cpu_ticks() - ticks, wakeups_since(&woken));
    println!("paused for 10 s: {ticks} CPU ticks, {woken} wake-ups");
    // 10 ticks of 10 ms: 1 % of a core, against a queue that spun on its
    // closed store for the whole 10 s.
    assert!(
        ticks <= 10,
        "a paused client used {ticks} ticks of CPU in 10 s"
    );

    proxy.set(homeserver::Fault::Pass);
    block_on(alice.resume()).unwrap();
    wait("the message sent after resume", 60, || {
        matches!(
            state(),
            Some((Some(SendState::Sent { .. }), _)) | Some((None, Some(_)))
        )
    });
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.unsent_messages, 0, "{report:?}");
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

/// `is_verified()` answers from memory: while the client is paused (its
/// stores closed) a cross-signed device still reads as verified.
#[test]
fn is_verified_answers_from_memory_while_paused() {
    let _serial = serial();
    let (alice, _session, _dir) = logged_in("phone-verified");
    block_on(alice.start_sync()).unwrap();
    block_on(alice.bootstrap_cross_signing(Some(session::PASSWORD.into()))).unwrap();
    wait("cross-signed", 30, || alice.is_verified());
    block_on(alice.pause()).unwrap();
    let (verified, held) = longest_poll(async { alice.is_verified() });
    assert!(
        verified,
        "a paused client forgot that its device is verified"
    );
    assert!(
        held < HOLD_BOUND,
        "is_verified held the caller's thread {held:?}"
    );
    block_on(alice.resume()).unwrap();
    block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
}

/// A timeline and a room list opened before `pause()` keep updating after
/// `resume()`: the other user's message reaches both.
#[test]
fn lists_opened_before_a_pause_keep_updating_after_resume() {
    let _serial = serial();
    let (alice, _session, _dir) = logged_in("phone-lists-alice");
    let (bob, _bob_session, _bob_dir) = logged_in("phone-lists-bob");
    let room_id =
        block_on(alice.create_room("lists".into(), vec![bob.user_id().unwrap()], false)).unwrap();
    block_on(bob.start_sync()).unwrap();
    wait("bob's invite", 20, || bob.room(room_id.clone()).is_ok());
    block_on(bob.join_room(room_id.clone())).unwrap();
    block_on(alice.start_sync()).unwrap();
    let timeline = block_on(alice.timeline(room_id.clone())).unwrap();
    let items = Mirror::<TimelineItem>::new();
    let _items = timeline.observe(items.clone()).unwrap();
    let rooms = Mirror::<matrix_mobile_core::RoomSummary>::new();
    let _rooms = alice
        .observe_room_list(Default::default(), rooms.clone())
        .unwrap();
    wait("the room in the list", 20, || {
        rooms.items().iter().any(|r| r.room_id == room_id)
    });

    block_on(alice.pause()).unwrap();
    block_on(bob.send_text(room_id.clone(), "while you were away".into())).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    block_on(alice.resume()).unwrap();
    let has_text = |items: &[TimelineItem]| {
        items.iter().any(|i| {
            matches!(&i.kind, TimelineItemKind::Event {
                content: MessageContent::Text { body, .. }, ..
            } if body == "while you were away")
        })
    };
    wait("the message in the timeline after resume", 30, || {
        has_text(&items.items())
    });
    wait("the message as the room's preview after resume", 30, || {
        rooms.items().iter().any(|r| {
            r.room_id == room_id
                && r.latest
                    .as_ref()
                    .is_some_and(|l| l.preview == "while you were away")
        })
    });
    block_on(bob.send_text(room_id.clone(), "and now".into())).unwrap();
    wait("a later message too", 30, || {
        items.items().iter().any(|i| {
            matches!(&i.kind, TimelineItemKind::Event {
                content: MessageContent::Text { body, .. }, ..
            } if body == "and now")
        })
    });
    block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    let report = block_on(bob.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

/// A drain of a paused client counts the messages still queued (the pause
/// closed the stores they are in): a close says 1 and keeps it for the
/// restore. Before, it said 0 without looking, with a warning.
#[test]
fn a_paused_client_counts_its_unsent_messages_when_it_closes() {
    let _serial = serial();
    let proxy = homeserver::FaultProxy::start();
    let dir = tempfile::TempDir::new().unwrap();
    let alice = block_on(Client::create(session::config(&proxy.url, dir.path()))).unwrap();
    block_on(alice.login(
        session::user("phone-unsent"),
        session::PASSWORD.into(),
        None,
    ))
    .unwrap();
    let room_id = block_on(alice.create_room("unsent".into(), vec![], false)).unwrap();
    let timeline = block_on(alice.timeline(room_id)).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    proxy.die();
    block_on(timeline.send_text("queued while paused".into(), None)).unwrap();
    wait("the echo", 10, || !mirror.items().is_empty());
    block_on(alice.pause()).unwrap();
    let report = block_on(alice.close(None)).unwrap();
    assert_eq!(report.unsent_messages, 1, "{report:?}");
    assert!(
        !report.warnings.iter().any(|w| w.contains("unsent")),
        "{report:?}"
    );
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}
