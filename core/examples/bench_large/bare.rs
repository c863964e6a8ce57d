//! The bare side: the same sign-in with matrix-sdk and matrix-sdk-ui
//! directly, on a runtime shaped like the core's (two workers) and SQLite
//! stores of its own, the room list with the core's filter.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use matrix_sdk::Client;
use matrix_sdk_ui::room_list_service::filters::new_filter_non_left;
use matrix_sdk_ui::sync_service::SyncService;
use serde_json::{json, Value};

use crate::seed::Seed;
use crate::shared::{self, fail, round2, rss_mib, PASSWORD};
use crate::watch_proxy::WatchProxy;
use crate::{homeserver, FIRST_PAGE};

/// Every figure of the bare side, as a JSON object.
pub fn run(seed: &Seed) -> Value {
    shared::count_panics();
    let rt = crate::shared::bare_runtime();
    let proxy = WatchProxy::start(&homeserver::url());
    let base = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let dir = base.path().join("bare");
    rt.block_on(async {
        let client = Client::builder()
            .homeserver_url(&proxy.url)
            .sqlite_store(&dir, None)
            .build()
            .await
            .unwrap_or_else(|e| fail(&format!("build: {e}")));
        client
            .matrix_auth()
            .login_username(&seed.user, PASSWORD)
            .send()
            .await
            .unwrap_or_else(|e| fail(&format!("login: {e}")));

        let received_before = proxy.bytes_received();
        let started = Instant::now();
        let sync = SyncService::builder(client.clone())
            .build()
            .await
            .unwrap_or_else(|e| fail(&format!("sync service: {e}")));
        let list = sync
            .room_list_service()
            .all_rooms()
            .await
            .unwrap_or_else(|e| fail(&format!("all_rooms: {e}")));
        let (stream, controller) = list.entries_with_dynamic_adapters(seed.rooms + 10);
        controller.set_filter(Box::new(new_filter_non_left()));
        sync.start().await;
        futures_util::pin_mut!(stream);
        let (mut len, mut first, mut points) = (0usize, None, Vec::new());
        let all = loop {
            let next = tokio::time::timeout(Duration::from_secs(600), stream.next()).await;
            let Ok(Some(diffs)) = next else {
                fail(&format!(
                    "the bare room list held {len} of {} rooms",
                    seed.rooms
                ));
            };
            for diff in diffs {
                len = shared::apply_len(len, &diff);
            }
            points.push((started.elapsed().as_secs_f64() * 1000.0, len));
            if len >= FIRST_PAGE && first.is_none() {
                first = Some(started.elapsed());
            }
            if len >= seed.rooms {
                break started.elapsed();
            }
        };
        let bytes = proxy.bytes_received() - received_before;
        let rss = rss_mib();
        let _ = tokio::time::timeout(Duration::from_secs(10), sync.stop()).await;
        json!({
            "first_page_ms": round2(first.unwrap_or(all).as_secs_f64() * 1000.0),
            "all_listed_ms": round2(all.as_secs_f64() * 1000.0),
            "bytes_received": bytes,
            "rss_mib": round2(rss),
            "growth": crate::growth(&points, all.as_secs_f64() * 1000.0),
            "panics": shared::panics(),
        })
    })
}
