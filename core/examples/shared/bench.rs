//! What the benches share: arguments, the process's
//! counters, percentiles, a panic counter and the core client's steps.
//! Included with `#[path]`; each bench uses only part of it.

#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::platform::{rss_bytes, thread_count};
use matrix_mobile_core::{Client, ClientConfig, SyncState};

/// The password of every user the benches register.
pub const PASSWORD: &str = "bench password 1";

/// `--name value` pairs from the command line; unknown names end the run.
pub struct Args(Vec<(String, String)>);

impl Args {
    /// Reads the command line; every flag takes one value.
    pub fn parse(known: &[&str]) -> Self {
        let mut pairs = Vec::new();
        let mut it = std::env::args().skip(1);
        while let Some(name) = it.next() {
            if !known.contains(&name.as_str()) {
                fail(&format!(
                    "unknown argument {name}; known: {}",
                    known.join(" ")
                ));
            }
            let value = it
                .next()
                .unwrap_or_else(|| fail(&format!("{name} needs a value")));
            pairs.push((name, value));
        }
        Self(pairs)
    }

    /// The last value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name` as a number, `default` when absent.
    pub fn number(&self, name: &str, default: usize) -> usize {
        match self.get(name) {
            None => default,
            Some(v) => v
                .parse()
                .unwrap_or_else(|_| fail(&format!("{name} takes a number, not {v}"))),
        }
    }
}

/// Prints `why` and exits with status 2: a bench that cannot measure stops.
pub fn fail(why: &str) -> ! {
    eprintln!("bench: {why}");
    std::process::exit(2)
}

/// Open file descriptors of the whole process (`/proc/self/fd`, less the
/// one that reading the directory holds). 0 where `/proc` is missing.
pub fn fd_count() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count().saturating_sub(1) as u64)
        .unwrap_or(0)
}

/// Threads of the whole process; 0 where the platform cannot tell.
pub fn threads() -> u64 {
    u64::from(thread_count().unwrap_or(0))
}

/// Resident set size in MiB; 0 where the platform cannot tell.
pub fn rss_mib() -> f64 {
    rss_bytes().unwrap_or(0) as f64 / (1024.0 * 1024.0)
}

/// The `q` quantile (0..=1) of `values`, nearest rank; 0 for no values.
pub fn pct(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

/// `v` rounded to two decimals, for the JSON.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Milliseconds since `start`.
pub fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

static PANICS: AtomicU64 = AtomicU64::new(0);

/// Counts every panic of the process, on any thread (tokio's caught ones
/// too); prints the first three.
pub fn count_panics() {
    std::panic::set_hook(Box::new(|info| {
        if PANICS.fetch_add(1, Ordering::SeqCst) < 3 {
            eprintln!("bench: panic: {info}");
        }
    }));
}

/// Panics seen since [`count_panics`].
pub fn panics() -> u64 {
    PANICS.load(Ordering::SeqCst)
}

/// Registers a fresh user and returns its name.
pub fn fresh_user(prefix: &str) -> String {
    let user = crate::homeserver::fresh_name(prefix);
    crate::homeserver::register(&user, PASSWORD);
    user
}

/// A core client's configuration on `dir`.
pub fn config(dir: &Path) -> ClientConfig {
    ClientConfig {
        homeserver_url: crate::homeserver::url(),
        data_dir: dir.to_string_lossy().into_owned(),
        store_passphrase: None,
        store_key: None,
        request_timeout_ms: 30_000,
        additional_root_certificates: Vec::new(),
        shared_with_other_processes: None,
    }
}

/// Creates a core client on `dir`, logs `user` in, starts sync and waits
/// until it runs.
pub fn core_client_syncing(user: &str, dir: &Path) -> std::sync::Arc<Client> {
    let client =
        block_on(Client::create(config(dir))).unwrap_or_else(|e| fail(&format!("create: {e}")));
    block_on(client.login(user.into(), PASSWORD.into(), None))
        .unwrap_or_else(|e| fail(&format!("login: {e}")));
    block_on(client.start_sync()).unwrap_or_else(|e| fail(&format!("start_sync: {e}")));
    wait_running(&client);
    client
}

/// Waits (at most 30 s) until the client's sync runs.
pub fn wait_running(client: &Client) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.sync_state() != SyncState::Running {
        if Instant::now() > deadline {
            fail("sync did not reach Running within 30 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs this binary again as the child `part` with `args` (each bench part
/// in a process of its own), its stderr passed through; returns the JSON of
/// its last line of output, or stops the bench if it failed.
pub fn run_child(part: &str, args: &[String]) -> serde_json::Value {
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(&format!("current_exe: {e}")));
    let output = std::process::Command::new(exe)
        .args(["--part", part])
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap_or_else(|e| fail(&format!("running the {part} child: {e}")));
    let stdout = String::from_utf8_lossy(&output.stdout);
    match stdout.lines().last().map(serde_json::from_str) {
        Some(Ok(v)) if output.status.success() => v,
        _ => fail(&format!("the {part} child ended with {}", output.status)),
    }
}

/// A multi-thread runtime shaped like the core's on this machine (two
/// workers, as `worker_threads: 0` gives on two cores), for the benches'
/// bare matrix-sdk sides.
pub fn bare_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("tokio runtime: {e}")))
}

/// The seed of a run and the file its children read it from: the file
/// `kept` of an earlier run on the same Synapse when it holds one, else
/// `make()`'s, written into `dir`.
pub fn seed_file(
    dir: &Path,
    kept: Option<&str>,
    make: impl FnOnce() -> serde_json::Value,
) -> (std::path::PathBuf, serde_json::Value) {
    let file = kept.map_or_else(|| dir.join("seed.json"), Into::into);
    let seed = match std::fs::read_to_string(&file) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| fail(&format!("seed: {e}"))),
        Err(_) => make(),
    };
    std::fs::write(&file, seed.to_string()).unwrap_or_else(|e| fail(&format!("seed: {e}")));
    (file, seed)
}

/// Writes `value` as pretty JSON to `path`, creating its folder.
pub fn write_json(path: &str, value: &serde_json::Value) {
    if let Some(dir) = Path::new(path).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    std::fs::write(path, text).unwrap_or_else(|e| fail(&format!("writing {path}: {e}")));
    println!("written to {path}");
}

/// The length of a list after `diff` (a list followed by its length only).
pub fn apply_len<T>(len: usize, diff: &eyeball_im::VectorDiff<T>) -> usize {
    use eyeball_im::VectorDiff;
    match diff {
        VectorDiff::Reset { values } => values.len(),
        VectorDiff::Append { values } => len + values.len(),
        VectorDiff::PushFront { .. } | VectorDiff::PushBack { .. } | VectorDiff::Insert { .. } => {
            len + 1
        }
        VectorDiff::PopFront | VectorDiff::PopBack | VectorDiff::Remove { .. } => {
            len.saturating_sub(1)
        }
        VectorDiff::Clear => 0,
        VectorDiff::Truncate { length } => len.min(*length),
        VectorDiff::Set { .. } => len,
    }
}
