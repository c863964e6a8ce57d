//! What the operating system can tell about this process: open files and
//! threads. Linux and Android read `/proc/self`; Apple platforms ask the
//! kernel through libproc (open files only); elsewhere the answer is `None`.

#[cfg(target_os = "android")]
pub mod android;
#[cfg(target_vendor = "apple")]
mod apple;

use std::path::{Path, PathBuf};

/// The paths of every file this process holds open, or `None` where the
/// platform cannot tell. A file deleted while open keeps its path, which
/// Linux suffixes with ` (deleted)`.
fn open_file_paths() -> Option<Vec<PathBuf>> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let entries = std::fs::read_dir("/proc/self/fd").ok()?;
        Some(
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .collect(),
        )
    }
    #[cfg(target_vendor = "apple")]
    {
        apple::open_file_paths()
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
    {
        None
    }
}

/// Whether `target` (an open file's path) lies under `dir` or is `dir`.
fn is_under(target: &Path, dir: &Path) -> bool {
    let t = target.to_string_lossy();
    let prefix = dir.to_string_lossy();
    let prefix = prefix.trim_end_matches('/');
    t == prefix || t.starts_with(&format!("{prefix}/"))
}

/// Number of open file descriptors whose target lies under `dir`.
///
/// A file deleted while open still counts (its path is kept). `None` where
/// the platform cannot tell.
pub fn open_files_under(dir: &Path) -> Option<u32> {
    open_files_under_any(&[dir])
}

/// Number of open file descriptors whose target lies under any of `dirs`
/// (a store directory and the name it was renamed to while it is wiped).
///
/// The OS names open files by their real path: each of `dirs` is looked
/// for under its canonical path too (a temporary directory reached through
/// a symbolic link, as `/tmp` is on Apple platforms, would otherwise count
/// nothing).
pub fn open_files_under_any(dirs: &[&Path]) -> Option<u32> {
    let paths = open_file_paths()?;
    let dirs: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|dir| [dir.to_path_buf(), canonical(dir)])
        .collect();
    let count = paths
        .iter()
        .filter(|target| dirs.iter().any(|dir| is_under(target, dir)))
        .count();
    Some(count as u32)
}

/// `path` with its symbolic links resolved; for a path that no longer
/// exists (a wiped directory), its parent's, joined with its name.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => std::fs::canonicalize(parent)
            .map(|p| p.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

/// Number of this process's threads whose name starts with `prefix`
/// (compared on the first 15 bytes, the kernel's limit). A test and bench
/// helper: the runtime counts its own threads by id ([`current_thread_id`]).
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

/// The kernel's id of the calling thread, where the platform can tell.
pub fn current_thread_id() -> Option<u64> {
    if !cfg!(any(target_os = "linux", target_os = "android")) {
        return None;
    }
    // `/proc/thread-self` links to `<pid>/task/<tid>`.
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// How many of the threads `ids` (from [`current_thread_id`]) the OS still
/// lists. `None` where the platform cannot tell.
pub fn threads_alive(ids: &[u64]) -> Option<u32> {
    if !cfg!(any(target_os = "linux", target_os = "android")) {
        return None;
    }
    let count = ids
        .iter()
        .filter(|id| Path::new(&format!("/proc/self/task/{id}")).exists())
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

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A file held open while its directory is renamed away and deleted
    /// (what a wipe does) is counted over the new name, and not over the old.
    #[test]
    fn a_file_in_a_renamed_and_deleted_directory_is_still_counted() -> TestResult {
        let root = tempfile::TempDir::new()?;
        let dir = root.path().join("store");
        std::fs::create_dir_all(&dir)?;
        let held = std::fs::File::create(dir.join("x.sqlite3"))?;
        assert_eq!(open_files_under(&dir), Some(1));
        let renamed = root.path().join(".store.mmc-wiped-1");
        std::fs::rename(&dir, &renamed)?;
        std::fs::remove_dir_all(&renamed)?;
        assert_eq!(open_files_under(&dir), Some(0));
        assert_eq!(open_files_under_any(&[&dir, &renamed]), Some(1));
        drop(held);
        assert_eq!(open_files_under_any(&[&dir, &renamed]), Some(0));
        Ok(())
    }

    /// A directory named through a symbolic link counts the files open
    /// under its real path (the OS names open files by it).
    #[test]
    fn files_under_a_linked_directory_are_counted() -> TestResult {
        let root = tempfile::TempDir::new()?;
        let real = root.path().join("real");
        std::fs::create_dir_all(&real)?;
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&real, &link)?;
        let held = std::fs::File::create(link.join("x.sqlite3"))?;
        assert_eq!(open_files_under(&link), Some(1));
        assert_eq!(open_files_under(&link.join("gone")), Some(0));
        drop(held);
        assert_eq!(open_files_under(&link), Some(0));
        Ok(())
    }

    #[test]
    fn a_thread_is_counted_by_id_until_it_has_exited() -> TestResult {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            tx.send(current_thread_id()).ok();
            stop_rx.recv().ok();
        });
        let id = rx.recv()?.ok_or("no thread id")?;
        assert_ne!(Some(id), current_thread_id());
        assert_eq!(threads_alive(&[id]), Some(1));
        stop_tx.send(())?;
        thread.join().map_err(|_| "thread panicked")?;
        // The kernel may list a joined thread for a moment longer.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while threads_alive(&[id]) != Some(0) {
            assert!(
                std::time::Instant::now() < deadline,
                "thread {id} still listed"
            );
            // The OS has no notification for a thread leaving its list.
            std::thread::sleep(std::time::Duration::from_millis(1)); // allowed: a test
        }
        Ok(())
    }
}
