//! What a process costs while it waits: CPU, wake-ups and write calls over
//! a window, read from `/proc/self`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::shared::{fail, round2};

/// Clock ticks per second of `/proc/self/stat` (`sysconf(_SC_CLK_TCK)`,
/// 100 on every Linux the project runs on).
const TICKS_PER_S: f64 = 100.0;

struct Sample {
    at: Instant,
    ticks: u64,
    switches: HashMap<String, u64>,
    write_calls: u64,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("{path}: {e}")))
}

fn sample() -> Sample {
    let stat = read("/proc/self/stat");
    let after_name = &stat[stat.rfind(')').unwrap_or(0) + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let mut switches = HashMap::new();
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
                continue;
            };
            let n = status
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0);
            switches.insert(task.file_name().to_string_lossy().into_owned(), n);
        }
    }
    let write_calls = read("/proc/self/io")
        .lines()
        .find_map(|l| l.strip_prefix("syscw:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Sample {
        at: Instant::now(),
        // utime and stime: fields 14 and 15 of stat(5), 11 and 12 here.
        ticks: field(11) + field(12),
        switches,
        write_calls,
    }
}

/// The process's cost over `window` (this thread sleeps through it): CPU
/// share of one core in %, wake-ups a second (voluntary context switches
/// of the threads alive at the end; a thread that ended took its count
/// with it, so this is a floor) and write calls a second.
pub fn over(window: Duration) -> Value {
    let before = sample();
    std::thread::sleep(window);
    let after = sample();
    let secs = after.at.duration_since(before.at).as_secs_f64();
    let woken: u64 = after
        .switches
        .iter()
        .map(|(tid, n)| n.saturating_sub(before.switches.get(tid).copied().unwrap_or(0)))
        .sum();
    // This thread's own two wake-ups (its sleep) are not the client's.
    let woken = woken.saturating_sub(2);
    json!({
        "secs": round2(secs),
        "cpu_pct": round2((after.ticks - before.ticks) as f64 / TICKS_PER_S / secs * 100.0),
        "wakeups_per_s": round2(woken as f64 / secs),
        "writes_per_s": round2(after.write_calls.saturating_sub(before.write_calls) as f64 / secs),
        "threads": after.switches.len(),
    })
}
