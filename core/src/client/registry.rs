//! The live clients of the process, and which `data_dir` each one holds.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::ClientCore;
use crate::api::{CoreError, CoreResult};
use crate::runtime::RefuseGuard;

struct Registry {
    clients: Vec<Weak<ClientCore>>,
    data_dirs: Vec<Held>,
    /// Released clients whose drain could not start: held here, alive and
    /// listed, until a drain of theirs begins (the next shutdown's).
    owed: Vec<Arc<ClientCore>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    clients: Vec::new(),
    data_dirs: Vec::new(),
    owed: Vec::new(),
});

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// Who holds a `data_dir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    /// A client (built, live or draining).
    Client,
    /// A short-lived notification client (`get_notification`'s, for the
    /// time of one fetch, or a `NotificationFetcher`'s), which gives the
    /// directory up when a client of this process wants it.
    Notification,
}

/// One claimed directory.
struct Held {
    dir: PathBuf,
    holder: Holder,
    /// Told when a client of this process waits for the directory.
    wanted: Arc<tokio::sync::Notify>,
}

/// Holds a `data_dir` for one client; released on drop.
pub(crate) struct DataDirClaim {
    dir: PathBuf,
    wanted: Arc<tokio::sync::Notify>,
}

impl DataDirClaim {
    /// Resolves once a client of this process has asked for the directory
    /// (at once if it asked before this was awaited).
    pub(crate) async fn wanted(&self) {
        self.wanted.notified().await
    }
}

/// Claims `dir` for `holder`, or `Busy` when another holder of this process
/// has it.
pub(crate) fn claim_data_dir(dir: &Path, holder: Holder) -> CoreResult<DataDirClaim> {
    let mut reg = registry();
    if reg.data_dirs.iter().any(|h| h.dir == dir) {
        return Err(CoreError::busy(format!(
            "another client of this process uses data_dir `{}`",
            dir.display()
        )));
    }
    let wanted = Arc::new(tokio::sync::Notify::new());
    reg.data_dirs.push(Held {
        dir: dir.to_path_buf(),
        holder,
        wanted: wanted.clone(),
    });
    Ok(DataDirClaim {
        dir: dir.to_path_buf(),
        wanted,
    })
}

/// Whether a short-lived notification client holds `dir` now; if so, it is
/// asked to give it up after the fetch under way.
pub(crate) fn want_from_notification(dir: &Path) -> bool {
    let reg = registry();
    let held = reg
        .data_dirs
        .iter()
        .find(|h| h.dir == dir && h.holder == Holder::Notification);
    if let Some(held) = held {
        held.wanted.notify_one();
    }
    held.is_some()
}

impl Drop for DataDirClaim {
    fn drop(&mut self) {
        registry().data_dirs.retain(|h| h.dir != self.dir);
    }
}

/// Records a new live client; `ShuttingDown` once a shutdown has begun (it
/// has walked, or will walk, the registry, and would miss this client).
pub(crate) fn add(client: &Arc<ClientCore>) -> CoreResult<()> {
    let mut reg = registry();
    if RefuseGuard::active() {
        return Err(CoreError::ShuttingDown);
    }
    reg.clients.retain(|c| c.strong_count() > 0);
    reg.clients.push(Arc::downgrade(client));
    Ok(())
}

/// Every client that has not been released, drained or not. The `Arc`s are
/// dropped by the caller, after the registry's lock is released.
pub(crate) fn all() -> Vec<Arc<ClientCore>> {
    let reg = registry();
    let clients = reg.clients.iter().filter_map(Weak::upgrade).collect();
    drop(reg);
    clients
}

/// The registered client that holds `dir` (canonical). Every `Arc` is
/// upgraded by [`all`] and dropped here, after the registry's lock is
/// released (one of them may be a last reference).
pub(crate) fn live_on(dir: &Path) -> Option<Arc<ClientCore>> {
    all().into_iter().find(|c| c.data_dir == dir)
}

/// How many clients are live, whatever the runtime's state: every client
/// holds its `data_dir` claim from its build to the very end of its drain
/// (or its drop), so the claims are the live clients, a client still being
/// built or drained included. Reads no `Arc` (nothing is dropped under the lock).
pub(crate) fn live_count() -> u32 {
    registry().data_dirs.len() as u32
}

/// Forgets a drained client (and every released one).
///
/// Compares pointers without upgrading: an upgraded `Arc` dropped here could
/// be a client's last reference, and its drop (releasing its `data_dir`
/// claim) would lock the registry again on this thread.
pub(crate) fn remove(client: &ClientCore) {
    registry().clients.retain(|c| {
        crate::hooks::pause_point("registry.remove.visit");
        c.strong_count() > 0 && !std::ptr::eq(c.as_ptr(), client)
    });
}

/// Keeps a released client whose drain could not start (no thread): it
/// stays live, its stores open, and the next `shutdown()` closes it. Never
/// dropped undrained, on whatever thread released it.
pub(crate) fn owe_drain(client: Arc<ClientCore>) {
    registry().owed.push(client);
}

/// Gives back the owed clients whose drain has begun; the caller drops them
/// after the lock is released (their drains hold clients of their own).
pub(crate) fn settle_owed(draining: impl Fn(&ClientCore) -> bool) -> Vec<Arc<ClientCore>> {
    let mut reg = registry();
    let (settled, still_owed) = std::mem::take(&mut reg.owed)
        .into_iter()
        .partition(|c| draining(c));
    reg.owed = still_owed;
    settled
}
