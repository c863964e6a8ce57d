//! The check after a shutdown: no live client, no task, no open file under
//! the data dirs, no wipe left half done, threads back to baseline.

use std::time::Duration;

use serde_json::{json, Value};

use crate::api::{platform, runtime_stats};
use crate::homeserver::PROXY_THREAD;
use crate::watchdog;
use crate::workload::Run;

impl Run {
    /// The process as the contract wants it after a shutdown: no live client,
    /// no task, no file open under the data dirs, threads back to baseline
    /// (the fault proxy's and the watchdog's left out). Returns whether it is
    /// so, and what was measured.
    pub fn clean_state(&self) -> (bool, Value) {
        let stats = runtime_stats();
        let fds = platform::open_files_under(&self.root);
        // The core's threads answer, then end: give them a bounded moment
        // to be gone (listener threads wait for the app's listeners).
        let threads = settled_threads(self.baseline_threads);
        // Every wipe has ended: the renamed leftovers of a data dir are gone.
        let tombstones = tombstones(&self.root);
        let clean = stats.live_clients == 0
            && stats.alive_tasks == 0
            && fds.unwrap_or(0) == 0
            && tombstones.is_empty()
            && match (threads, self.baseline_threads) {
                (Some(now), Some(base)) => now <= base,
                _ => true,
            };
        let mut value = json!({
            "live_clients": stats.live_clients,
            "alive_tasks": stats.alive_tasks,
            "supervised_tasks": stats.supervised_tasks,
            "runtime_state": format!("{:?}", stats.state),
            "runtime_generation": stats.generation,
            "open_fds_under_data_dirs": fds,
            "wipes_left_half_done": tombstones,
            "threads": threads,
            "threads_baseline": self.baseline_threads,
            "core_thread_names": core_thread_names(),
        });
        if !clean {
            // Whether it is a leak or a lag: the verdict above stands either way.
            std::thread::sleep(Duration::from_secs(1));
            let stats = runtime_stats();
            value["one_second_later"] = json!({
                "live_clients": stats.live_clients,
                "alive_tasks": stats.alive_tasks,
                "open_fds_under_data_dirs": platform::open_files_under(&self.root),
                "core_thread_names": core_thread_names(),
            });
        }
        (clean, value)
    }
}

/// The leftovers of wipes under `root` (`.NAME.mmc-wiped-…`).
fn tombstones(root: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(root)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.contains(".mmc-wiped-"))
                .collect()
        })
        .unwrap_or_default()
}

/// How long the threads get to be gone after a shutdown. The core's drain
/// and shutdown threads end at once; a listener thread (`mmc-listeners`)
/// ends once the app's listener call it runs returns, and the workload's
/// listeners block on purpose, up to 800 ms a call, sometimes several calls
/// in a row on one thread (a thread serves several subscriptions).
const THREADS_SETTLE: Duration = Duration::from_secs(3);

/// Threads other than the harness's, once at most `baseline` or after
/// [`THREADS_SETTLE`].
fn settled_threads(baseline: Option<u32>) -> Option<u32> {
    let deadline = std::time::Instant::now() + THREADS_SETTLE;
    loop {
        let harness = platform::threads_named(PROXY_THREAD).unwrap_or(0)
            + platform::threads_named(watchdog::THREAD_NAME).unwrap_or(0);
        let threads = platform::thread_count().map(|n| n.saturating_sub(harness));
        let settled = match (threads, baseline) {
            (Some(now), Some(base)) => now <= base,
            _ => true,
        };
        if settled || std::time::Instant::now() >= deadline {
            return threads;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Names of the threads that are neither the main thread nor the harness's
/// (the proxy's, the watchdog's).
fn core_thread_names() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let main = std::process::id().to_string();
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy() != main)
        .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
        .map(|n| n.trim_end().to_owned())
        .filter(|n| !n.starts_with(PROXY_THREAD) && !n.starts_with(watchdog::THREAD_NAME))
        .collect();
    names.sort();
    names
}
