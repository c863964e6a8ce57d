//! The core's side: login on a new device, then the room list filling up.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::{
    Client, RoomListFilter, RoomListListener, RoomListOptions, RoomListUpdate,
};
use serde_json::{json, Value};

use crate::seed::Seed;
use crate::shared::{self, fail, ms_since, pct, round2, rss_mib, PASSWORD};
use crate::watch_proxy::WatchProxy;
use crate::{homeserver, FIRST_PAGE};

/// How long the list may take to hold every room.
const LIST_BOUND: Duration = Duration::from_secs(600);

/// The length of a room list, and when it first reached each length.
#[derive(Default)]
struct ListLen {
    state: Mutex<(usize, Vec<(usize, Instant)>)>,
    grew: Condvar,
}

impl ListLen {
    /// When the list first held at least `n` rooms (waits for it).
    fn reached(&self, n: usize) -> Instant {
        let deadline = Instant::now() + LIST_BOUND;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some((_, at)) = state.1.iter().find(|(len, _)| *len >= n) {
                return *at;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                fail(&format!(
                    "the core's room list held {} of {n} rooms",
                    state.0
                ));
            }
            state = self
                .grew
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl RoomListListener for ListLen {
    fn on_update(&self, updates: Vec<RoomListUpdate>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for update in &updates {
            state.0 = match update {
                RoomListUpdate::Reset { values } => values.len(),
                RoomListUpdate::Append { values } => state.0 + values.len(),
                RoomListUpdate::PushFront { .. }
                | RoomListUpdate::PushBack { .. }
                | RoomListUpdate::Insert { .. } => state.0 + 1,
                RoomListUpdate::PopFront
                | RoomListUpdate::PopBack
                | RoomListUpdate::Remove { .. } => state.0.saturating_sub(1),
                RoomListUpdate::Clear => 0,
                RoomListUpdate::Truncate { length } => state.0.min(*length as usize),
                RoomListUpdate::Set { .. } => state.0,
            };
        }
        let len = state.0;
        if state.1.last().is_none_or(|(most, _)| len > *most) {
            state.1.push((len, Instant::now()));
        }
        self.grew.notify_all();
    }
    fn on_closed(&self) {}
}

/// Every figure of the core's side, as a JSON object.
pub fn run(seed: &Seed, samples: usize) -> Value {
    shared::count_panics();
    let proxy = WatchProxy::start(&homeserver::url());
    let dir = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let mut config = shared::config(dir.path());
    config.homeserver_url = proxy.url.clone();
    let client: Arc<Client> =
        block_on(Client::create(config)).unwrap_or_else(|e| fail(&format!("create: {e}")));
    block_on(client.login(seed.user.clone(), PASSWORD.into(), None))
        .unwrap_or_else(|e| fail(&format!("login: {e}")));

    let list = Arc::new(ListLen::default());
    let received_before = proxy.bytes_received();
    let started = Instant::now();
    let options = RoomListOptions {
        page_size: (seed.rooms + 10) as u32,
        filter: RoomListFilter::All,
    };
    let handle = client
        .observe_room_list(options, list.clone())
        .unwrap_or_else(|e| fail(&format!("observe_room_list: {e}")));
    block_on(client.start_sync()).unwrap_or_else(|e| fail(&format!("start_sync: {e}")));
    let first = list.reached(FIRST_PAGE).duration_since(started);
    let all = list.reached(seed.rooms).duration_since(started);
    let bytes = proxy.bytes_received() - received_before;
    let rss = rss_mib();
    let points: Vec<(f64, usize)> = list
        .state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .1
        .iter()
        .map(|(len, at)| {
            (
                at.saturating_duration_since(started).as_secs_f64() * 1000.0,
                *len,
            )
        })
        .collect();

    // `rooms()` answers from memory on the caller's thread.
    let calls: Vec<f64> = (0..samples)
        .map(|_| {
            let at = Instant::now();
            let rooms = client
                .rooms()
                .unwrap_or_else(|e| fail(&format!("rooms: {e}")));
            let ms = ms_since(at);
            if rooms.len() < seed.rooms {
                fail(&format!("rooms() gave {} of {}", rooms.len(), seed.rooms));
            }
            ms
        })
        .collect();
    let max = calls.iter().copied().fold(0.0, f64::max);
    let mut sorted: Vec<f64> = calls.iter().map(|ms| round2(*ms)).collect();
    sorted.sort_by(f64::total_cmp);

    handle.cancel();
    block_on(client.close(None)).unwrap_or_else(|e| fail(&format!("close: {e}")));
    json!({
        "first_page_ms": round2(first.as_secs_f64() * 1000.0),
        "all_listed_ms": round2(all.as_secs_f64() * 1000.0),
        "bytes_received": bytes,
        "rss_mib": round2(rss),
        "rooms_call_ms": {
            "p50": round2(pct(&calls, 0.5)),
            "p95": round2(pct(&calls, 0.95)),
            "max": round2(max),
            "sorted": sorted,
        },
        "growth": crate::growth(&points, all.as_secs_f64() * 1000.0),
        "panics": shared::panics(),
    })
}
