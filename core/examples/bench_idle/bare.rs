//! The bare side: the same idle client with matrix-sdk and matrix-sdk-ui
//! used directly, as an app without this core would run it: SQLite stores
//! of its own, a runtime of two workers, the `SyncService`, the room list of
//! its `RoomListService` and the room's timeline, each followed by a task
//! that drops what it gets. With matrix-sdk's default locks (cross-process,
//! holder `main`, as the core's), or with `single_process` locks, which no
//! app that shares its stores with a notification process may use: the
//! second run shows what the cross-process locks cost.

use std::time::Duration;

use futures_util::StreamExt;
use matrix_sdk::cross_process_lock::CrossProcessLockConfig;
use matrix_sdk::ruma::RoomId;
use matrix_sdk::Client;
use matrix_sdk_ui::room_list_service::filters::new_filter_non_left;
use matrix_sdk_ui::sync_service::{State, SyncService};
use matrix_sdk_ui::timeline::RoomExt;
use serde_json::{json, Value};

use crate::shared::{fail, PASSWORD};
use crate::{measure, SETTLE};

pub fn run(user: &str, room: &str, secs: u64, single_process: bool) -> Value {
    let rt = crate::shared::bare_runtime();
    let dir = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let (client, sync) = rt.block_on(async {
        let builder = Client::builder()
            .homeserver_url(crate::homeserver::url())
            .sqlite_store(dir.path(), None);
        let builder = if single_process {
            builder.cross_process_store_config(CrossProcessLockConfig::SingleProcess)
        } else {
            builder
        };
        let client = builder
            .build()
            .await
            .unwrap_or_else(|e| fail(&format!("build: {e}")));
        client
            .matrix_auth()
            .login_username(user, PASSWORD)
            .send()
            .await
            .unwrap_or_else(|e| fail(&format!("login: {e}")));
        let sync = SyncService::builder(client.clone())
            .build()
            .await
            .unwrap_or_else(|e| fail(&format!("sync service: {e}")));
        sync.start().await;
        (client, sync)
    });
    let mut state = sync.state();
    rt.block_on(async {
        let running = async {
            while !matches!(state.get(), State::Running) {
                state.next().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), running)
            .await
            .unwrap_or_else(|_| fail("the bare sync did not run within 30 s"));
    });
    let rooms = sync.room_list_service();
    rt.spawn(async move {
        let list = rooms
            .all_rooms()
            .await
            .unwrap_or_else(|e| fail(&format!("all_rooms: {e}")));
        let (stream, controller) = list.entries_with_dynamic_adapters(50);
        controller.set_filter(Box::new(new_filter_non_left()));
        futures_util::pin_mut!(stream);
        while stream.next().await.is_some() {}
    });
    let room_id = <&RoomId>::try_from(room).unwrap_or_else(|e| fail(&format!("room id: {e}")));
    let timeline = rt.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let room = loop {
            if let Some(room) = client.get_room(room_id) {
                break room;
            }
            if tokio::time::Instant::now() > deadline {
                fail("the bare sync did not bring the room in 30 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        client
            .event_cache()
            .subscribe()
            .unwrap_or_else(|e| fail(&format!("event cache: {e}")));
        let build: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send + '_>> =
            Box::pin(room.timeline());
        build
            .await
            .unwrap_or_else(|e| fail(&format!("timeline: {e}")))
    });
    let items = rt.block_on(timeline.subscribe());
    rt.spawn(async move {
        let (_, stream) = items;
        futures_util::pin_mut!(stream);
        while stream.next().await.is_some() {}
    });
    std::thread::sleep(SETTLE);
    let idle = measure::over(Duration::from_secs(secs));
    rt.block_on(sync.stop());
    drop((timeline, sync, client));
    rt.shutdown_timeout(Duration::from_secs(5));
    json!({ "idle": idle })
}
