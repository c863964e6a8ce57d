//! What the operating system can tell about this process: open files and
//! threads. Linux and Android read `/proc/self`; elsewhere the answer is `None`.

#[cfg(target_os = "android")]
pub mod android;

use std::path::Path;

/// Number of open file descriptors whose target lies under `dir`.
///
/// A file deleted while open still counts (its link reads `... (deleted)`).
/// `None` where the platform cannot tell.
pub fn open_files_under(dir: &Path) -> Option<u32> {
    if !cfg!(any(target_os = "linux", target_os = "android")) {
        return None;
    }
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    let prefix = dir.to_string_lossy().trim_end_matches('/').to_owned();
    let count = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter(|target| {
            let t = target.to_string_lossy();
            t == prefix || t.starts_with(&format!("{prefix}/"))
        })
        .count();
    Some(count as u32)
}

/// Number of this process's threads whose name starts with `prefix`
/// (compared on the first 15 bytes, the kernel's limit).
pub fn threads_named(prefix: &str) -> Option<u32> {
    if !cfg!(any(target_os = "linux", target_os = "android")) {
        return None;
    }
    let prefix: String = prefix.chars().take(15).collect();
    let entries = std::fs::read_dir("/proc/self/task").ok()?;
    let count = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
        .filter(|comm| comm.trim_end().starts_with(&prefix))
        .count();
    Some(count as u32)
}

/// Number of threads of this process. `None` where the platform cannot tell.
pub fn thread_count() -> Option<u32> {
    if !cfg!(any(target_os = "linux", target_os = "android")) {
        return None;
    }
    Some(std::fs::read_dir("/proc/self/task").ok()?.count() as u32)
}

/// Resident set size in bytes. `None` where the platform cannot tell.
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
