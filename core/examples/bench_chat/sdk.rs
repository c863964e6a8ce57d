//! The bare side: the same work with matrix-sdk and matrix-sdk-ui directly,
//! as an app without this core would do it, on a runtime shaped like the
//! core's (two workers) and SQLite stores of its own. The timeline is built
//! as the core builds it (read receipts tracked on all events), on a runtime
//! worker as the core runs it, in rooms sliding sync subscribed as the
//! core's timelines subscribe theirs (so both open with the same 20 items),
//! so that the difference is the core's own.

use std::path::Path;
use std::time::{Duration, Instant};

use eyeball_im::VectorDiff;
use futures_util::StreamExt;
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::ruma::RoomId;
use matrix_sdk::{Client, Room};
use matrix_sdk_ui::room_list_service::filters::new_filter_non_left;
use matrix_sdk_ui::sync_service::SyncService;
use matrix_sdk_ui::timeline::{RoomExt, Timeline, TimelineReadReceiptTracking};
use serde_json::{json, Value};
use tokio::runtime::Runtime;

use crate::seed::Seed;
use crate::shared::{self, fail, ms_since, rss_mib, PASSWORD};
use crate::{latencies, OPEN_SAMPLES_PER_SAMPLE, OPEN_TIMELINES};

/// Every figure of the bare side, as a JSON object.
pub fn run(seed: &Seed, samples: usize) -> Value {
    shared::count_panics();
    let rt = crate::shared::bare_runtime();
    let base = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let dir = base.path().join("bare");
    let (client, sync) = rt.block_on(async {
        let client = build(&dir).await;
        client
            .matrix_auth()
            .login_username(&seed.user, PASSWORD)
            .send()
            .await
            .unwrap_or_else(|e| fail(&format!("login: {e}")));
        let sync = sync_service(&client).await;
        sync.start().await;
        (client, sync)
    });
    wait_rooms(&client, seed.rooms.len());
    let session = client
        .matrix_auth()
        .session()
        .unwrap_or_else(|| fail("no session"));
    let history = room(&client, &seed.history_room);
    // As an app shows a room, and as the core does when its timeline opens:
    // sliding sync subscribes it and carries its recent history.
    rt.block_on(show(&sync, &history));
    rt.block_on(show(&sync, &room(&client, &seed.echo_room)));

    // Timed as the core runs it, on a runtime worker (an app must keep
    // the store reads off its main thread too), and, for reference, polled
    // on the calling thread.
    let open = latencies(samples * OPEN_SAMPLES_PER_SAMPLE, || {
        let room = history.clone();
        rt.block_on(rt.spawn(async move { open_ms(&room).await }))
            .unwrap_or_else(|e| fail(&format!("the open's task: {e}")))
    });
    let open_inline = latencies(samples * OPEN_SAMPLES_PER_SAMPLE, || {
        rt.block_on(open_ms(&history))
    });
    let (mut gained, mut errors) = (Vec::new(), Vec::new());
    let paginate = latencies(samples, || {
        rt.block_on(async {
            // matrix-sdk's event cache sometimes fails a pagination with
            // SQLite's "FOREIGN KEY constraint failed": counted, and the
            // sample taken again on a fresh timeline (at most 5 times).
            for _ in 0..5 {
                let timeline = std::sync::Arc::new(timeline(&history).await);
                let (items, stream) = timeline.subscribe().await;
                let (result, ms) = paginate_on_worker(&timeline).await;
                if let Err(e) = result {
                    errors.push(e);
                    continue;
                }
                gained.push(gained_after_updates(&timeline, items.len()).await);
                drop((stream, timeline));
                return ms;
            }
            fail(&format!("paginate_backwards failed 5 times: {errors:?}"))
        })
    });
    if let Some(first) = errors.first() {
        eprintln!(
            "chat: {} bare paginations failed, the first with: {first}",
            errors.len()
        );
    }
    let echo = echo(&rt, &room(&client, &seed.echo_room), samples);
    let rss_kib = rss_per_timeline(&rt, &client, &seed.rooms[2..2 + OPEN_TIMELINES]);
    eprintln!("chat: bare timelines measured");
    rt.block_on(async {
        stop(&sync).await;
        drop(sync);
        drop(history);
        drop(client);
    });

    let mut cold_gained = Vec::new();
    let cold = latencies(samples, || {
        rt.block_on(async {
            let client = build(&dir).await;
            restore(&client, &session).await;
            let timeline = std::sync::Arc::new(timeline(&room(&client, &seed.history_room)).await);
            let (items, stream) = timeline.subscribe().await;
            let (result, ms) = paginate_on_worker(&timeline).await;
            result.unwrap_or_else(|e| fail(&format!("paginate_backwards after a restore: {e}")));
            cold_gained.push(gained_after_updates(&timeline, items.len()).await);
            drop((stream, timeline, client));
            ms
        })
    });
    let first = latencies(samples, || room_list_first_ms(&rt, &dir, &session));
    rt.block_on(async {
        let client = build(&dir).await;
        restore(&client, &session).await;
        let _ = client.matrix_auth().logout().await;
    });
    json!({
        "timeline_open_ms": open,
        "timeline_open_inline_ms": open_inline,
        "paginate_100_warm_ms": paginate,
        "paginate_100_ms": cold,
        "paginate_cold_items_gained_p50": shared::pct(&cold_gained, 0.5),
        "echo_ms": echo,
        "paginate_items_gained_p50": shared::pct(&gained, 0.5),
        "paginate_errors": errors.len(),
        "paginate_first_error": errors.first(),
        "rss_per_open_timeline_kib": rss_kib,
        "room_list_first_ms": first,
        "panics": shared::panics(),
    })
}

async fn build(dir: &Path) -> Client {
    Client::builder()
        .homeserver_url(crate::homeserver::url())
        .sqlite_store(dir, None)
        .build()
        .await
        .unwrap_or_else(|e| fail(&format!("build: {e}")))
}

async fn sync_service(client: &Client) -> SyncService {
    SyncService::builder(client.clone())
        .build()
        .await
        .unwrap_or_else(|e| fail(&format!("sync service: {e}")))
}

async fn restore(client: &Client, session: &MatrixSession) {
    client
        .matrix_auth()
        .restore_session(session.clone(), Default::default())
        .await
        .unwrap_or_else(|e| fail(&format!("restore: {e}")));
}

fn wait_rooms(client: &Client, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while client.joined_rooms().len() < n {
        if Instant::now() > deadline {
            fail(&format!("the bare sync did not bring {n} rooms in 180 s"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn room(client: &Client, id: &str) -> Room {
    let id = <&RoomId>::try_from(id).unwrap_or_else(|e| fail(&format!("room id {id}: {e}")));
    client
        .get_room(id)
        .unwrap_or_else(|| fail(&format!("room {id} unknown")))
}

/// The room's live timeline, built as the core builds it (boxed, as the
/// core boxes it: the build future nests too deep for the type layout).
/// A timeline's build and subscription, in ms.
async fn open_ms(room: &Room) -> f64 {
    let started = Instant::now();
    let timeline = timeline(room).await;
    let (items, stream) = timeline.subscribe().await;
    let ms = ms_since(started);
    drop((items, stream, timeline));
    ms
}

/// `timeline` paginating 100 events back on a runtime worker, as the core
/// runs it: the outcome, and the ms from the spawn to the caller's wake-up.
async fn paginate_on_worker(timeline: &std::sync::Arc<Timeline>) -> (Result<bool, String>, f64) {
    let timeline = timeline.clone();
    let started = Instant::now();
    let result = tokio::spawn(async move { timeline.paginate_backwards(100).await })
        .await
        .unwrap_or_else(|e| fail(&format!("the pagination's task: {e}")));
    (result.map_err(|e| e.to_string()), ms_since(started))
}

/// Subscribes `room` to sliding sync, and waits (at most 60 s) until its
/// timeline opens with what the subscription carried (20 items or more).
async fn show(sync: &SyncService, room: &Room) {
    sync.room_list_service()
        .subscribe_to_rooms(&[room.room_id()])
        .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while timeline(room).await.items().await.len() < 20 {
        if Instant::now() > deadline {
            fail("the room's subscription brought no history in 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The items `timeline` gained over `before`, counted 100 ms after a
/// pagination returned, as the core's side counts what its listener saw:
/// the timeline applies the event cache's updates after the call returns.
async fn gained_after_updates(timeline: &Timeline, before: usize) -> f64 {
    tokio::time::sleep(Duration::from_millis(100)).await;
    timeline.items().await.len().saturating_sub(before) as f64
}

async fn timeline(room: &Room) -> Timeline {
    room.client()
        .event_cache()
        .subscribe()
        .unwrap_or_else(|e| fail(&format!("event cache: {e}")));
    let build: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send + '_>> = Box::pin(
        room.timeline_builder()
            .track_read_marker_and_receipts(TimelineReadReceiptTracking::AllEvents)
            .build(),
    );
    build
        .await
        .unwrap_or_else(|e| fail(&format!("timeline: {e}")))
}

/// From `Timeline::send` to the stream yielding the local echo.
fn echo(rt: &Runtime, room: &Room, samples: usize) -> Value {
    use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
    rt.block_on(async {
        let timeline = timeline(room).await;
        let (_, stream) = timeline.subscribe().await;
        futures_util::pin_mut!(stream);
        let mut values = Vec::new();
        for i in 0..=samples {
            let body = format!("bare echo {}", crate::seed::unique());
            let started = Instant::now();
            timeline
                .send(RoomMessageEventContent::text_plain(&body).into())
                .await
                .unwrap_or_else(|e| fail(&format!("send: {e}")));
            let has_body = |item: &matrix_sdk_ui::timeline::TimelineItem| {
                item.as_event()
                    .and_then(|e| e.content().as_message().map(|m| m.body() == body))
                    .unwrap_or(false)
            };
            'seen: while let Some(diffs) = stream.next().await {
                for diff in diffs {
                    let hit = match &diff {
                        VectorDiff::PushBack { value }
                        | VectorDiff::PushFront { value }
                        | VectorDiff::Insert { value, .. }
                        | VectorDiff::Set { value, .. } => has_body(value),
                        VectorDiff::Append { values } | VectorDiff::Reset { values } => {
                            values.iter().any(|v| has_body(v))
                        }
                        _ => false,
                    };
                    if hit {
                        break 'seen;
                    }
                }
            }
            // The first is untimed, as in `latencies`.
            if i > 0 {
                values.push(ms_since(started));
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        crate::summary(&values)
    })
}

fn rss_per_timeline(rt: &Runtime, client: &Client, rooms: &[String]) -> f64 {
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_mib();
    let open: Vec<_> = rooms
        .iter()
        .map(|id| {
            let room = room(client, id);
            rt.block_on(async {
                let timeline = timeline(&room).await;
                let (items, stream) = timeline.subscribe().await;
                (timeline, items, Box::pin(stream))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let kib = (rss_mib() - before) * 1024.0 / rooms.len() as f64;
    let _context = rt.enter();
    drop(open);
    shared::round2(kib)
}

/// Build, restore, the sync service and its room list with the core's page
/// and filter, until the list holds a room; then stop and drop, untimed.
fn room_list_first_ms(rt: &Runtime, dir: &Path, session: &MatrixSession) -> f64 {
    rt.block_on(async {
        let started = Instant::now();
        let client = build(dir).await;
        restore(&client, session).await;
        let sync = sync_service(&client).await;
        let rooms = sync.room_list_service();
        let list = rooms
            .all_rooms()
            .await
            .unwrap_or_else(|e| fail(&format!("all_rooms: {e}")));
        let ms = {
            let (stream, controller) = list.entries_with_dynamic_adapters(50);
            controller.set_filter(Box::new(new_filter_non_left()));
            sync.start().await;
            futures_util::pin_mut!(stream);
            let mut len = 0usize;
            loop {
                let Some(diffs) = stream.next().await else {
                    fail("the room list ended before it held a room");
                };
                for diff in diffs {
                    len = shared::apply_len(len, &diff);
                }
                if len > 0 {
                    break ms_since(started);
                }
            }
        };
        drop(list);
        stop(&sync).await;
        drop((rooms, sync, client));
        ms
    })
}

/// Stops a sync service once its room list loop has had its first answer:
/// matrix-sdk-ui 0.18 loses a stop sent before that loop listens, and then
/// waits forever (the core re-sends it; a bare app would hang). Bounded.
async fn stop(sync: &SyncService) {
    use matrix_sdk_ui::room_list_service::State;
    let mut state = sync.room_list_service().state();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while matches!(state.get(), State::Init) {
            if state.next().await.is_none() {
                return;
            }
        }
    })
    .await;
    if tokio::time::timeout(Duration::from_secs(10), sync.stop())
        .await
        .is_err()
    {
        eprintln!("chat: the bare sync service did not stop within 10 s; dropped");
    }
}
