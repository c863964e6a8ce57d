//! The chat cycle, N times on one account with one room: log in over HTTP
//! (a fresh device and token), then create, restore on a fresh data dir,
//! start sync, open the room list and the room's timeline, send a message,
//! and log out with the wipe. After each cycle: the process's open fds,
//! threads and RSS, and the report's `store_files_open_after`,
//! `client_dropped` and `tasks_left_behind` checked.

use std::time::Instant;

use futures_executor::block_on;
use matrix_mobile_core::{Client, LogoutOptions, RoomListOptions, Session};
use serde_json::{json, Value};

use crate::probe::Probe;
use crate::shared::{self, fail, fd_count, ms_since, rss_mib, threads, PASSWORD};

pub fn run(cycles: usize) -> Value {
    shared::count_panics();
    let base = tempfile::TempDir::new().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
    let user = shared::fresh_user("cyc");
    let room = {
        let client = block_on(Client::create(shared::config(&base.path().join("setup"))))
            .unwrap_or_else(|e| fail(&format!("create: {e}")));
        block_on(client.login(user.clone(), PASSWORD.into(), None))
            .unwrap_or_else(|e| fail(&format!("login: {e}")));
        let room = block_on(client.create_room("cycle".into(), vec![], false))
            .unwrap_or_else(|e| fail(&format!("create_room: {e}")));
        block_on(client.logout(LogoutOptions::default(), None))
            .unwrap_or_else(|e| fail(&format!("logout: {e}")));
        room
    };
    let (mut fds, mut thr, mut rss, mut ms, mut logout_ms) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut store_files_open, mut not_dropped, mut tasks_left) = (0u64, 0u64, 0u64);
    for i in 0..cycles {
        let session = http_login(&user);
        let dir = base.path().join(format!("c{i}"));
        let started = Instant::now();
        let client = block_on(Client::create(shared::config(&dir)))
            .unwrap_or_else(|e| fail(&format!("create: {e}")));
        block_on(client.restore(session)).unwrap_or_else(|e| fail(&format!("restore: {e}")));
        block_on(client.start_sync()).unwrap_or_else(|e| fail(&format!("start_sync: {e}")));
        let list = Probe::new();
        let handle = client
            .observe_room_list(RoomListOptions::default(), list.clone())
            .unwrap_or_else(|e| fail(&format!("observe_room_list: {e}")));
        list.non_empty();
        let items = Probe::new();
        let timeline = block_on(client.timeline(room.clone()))
            .unwrap_or_else(|e| fail(&format!("timeline: {e}")));
        let sub = timeline
            .observe(items.clone())
            .unwrap_or_else(|e| fail(&format!("observe: {e}")));
        items.first_reset();
        let body = format!("cycle {i}");
        items.expect(&body);
        block_on(timeline.send_text(body, None))
            .unwrap_or_else(|e| fail(&format!("send_text: {e}")));
        items.target_seen();
        let logout_started = Instant::now();
        let report = block_on(client.logout(LogoutOptions::default(), None))
            .unwrap_or_else(|e| fail(&format!("logout: {e}")));
        logout_ms.push(ms_since(logout_started));
        ms.push(ms_since(started));
        store_files_open += u64::from(report.store_files_open_after.unwrap_or(0));
        not_dropped += u64::from(!report.client_dropped);
        tasks_left += u64::from(report.tasks_left_behind);
        drop((sub, timeline, handle, client));
        fds.push(fd_count());
        thr.push(threads());
        rss.push(shared::round2(rss_mib()));
        if (i + 1) % 20 == 0 || i + 1 == cycles {
            eprintln!(
                "  chat cycle {}: fds {} threads {} RSS {:.1} MiB",
                i + 1,
                fds[i],
                thr[i],
                rss[i]
            );
        }
    }
    let from = 50.min(cycles / 4);
    json!({
        "cycles": cycles,
        "fds_first": fds.first(),
        "fds_last": fds.last(),
        "threads_first": thr.first(),
        "threads_last": thr.last(),
        "rss_from_cycle": from + 1,
        "rss_growth_mib": shared::round2(rss.last().copied().unwrap_or(0.0) - rss.get(from).copied().unwrap_or(0.0)),
        "store_files_open_after_total": store_files_open,
        "clients_not_dropped": not_dropped,
        "tasks_left_behind_total": tasks_left,
        "panics": shared::panics(),
        "cycle_ms": crate::summary(&ms),
        "logout_ms": crate::summary(&logout_ms),
        "series": { "fds": fds, "threads": thr, "rss_mib": rss },
    })
}

/// A password login through the client-server API: a fresh device and
/// token for the cycle to restore.
fn http_login(user: &str) -> Session {
    let body = json!({
        "type": "m.login.password",
        "identifier": { "type": "m.id.user", "user": user },
        "password": PASSWORD,
    })
    .to_string();
    let base = crate::homeserver::url();
    let (status, answer) = crate::homeserver::post(&base, "/_matrix/client/v3/login", &body);
    if status != 200 {
        fail(&format!("login over HTTP answered {status}: {answer}"));
    }
    // The body may come chunked: the JSON is between the outer braces.
    let json = answer
        .find('{')
        .and_then(|a| answer.rfind('}').map(|b| &answer[a..=b]))
        .unwrap_or("{}");
    let v: Value = serde_json::from_str(json)
        .unwrap_or_else(|e| fail(&format!("login answer: {e}: {answer}")));
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    Session {
        user_id: s("user_id"),
        device_id: s("device_id"),
        access_token: s("access_token"),
        refresh_token: None,
        homeserver_url: base,
    }
}
