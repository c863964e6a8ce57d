//! Where each slot's clients live: one `data_dir` per slot, reused by every
//! client of that slot, and the session its stores hold. So a create after
//! a `close` (or a release, or a shutdown) finds the stores of the session
//! before and restores it, and a create after a wiping logout logs in again
//! on the same directory.
//!
//! After a logout without a wipe, the stores hold a revoked session that
//! nothing can restore; the slot then moves to a fresh directory.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::api::Session;

/// One slot's directory and what its stores hold.
#[derive(Default)]
pub struct Home {
    /// Bumped when the stores hold a session no one can use any more.
    moves: u64,
    /// The session the stores hold, when it can be restored.
    pub session: Option<Session>,
}

/// The homes of every slot.
pub struct Homes {
    root: PathBuf,
    homes: Vec<Mutex<Home>>,
}

impl Homes {
    pub fn new(root: &Path, slots: usize) -> Self {
        Self {
            root: root.to_path_buf(),
            homes: (0..slots).map(|_| Mutex::new(Home::default())).collect(),
        }
    }

    pub fn get(&self, j: usize) -> MutexGuard<'_, Home> {
        self.homes[j].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Slot `j`'s data dir now.
    pub fn dir(&self, j: usize) -> PathBuf {
        let moves = self.get(j).moves;
        self.root.join(format!("slot{j}-home{moves}"))
    }

    /// A logout was asked for (it may go on in the background, cancelled or
    /// not): the session is revoked. Without a wipe its stores stay, and the
    /// slot moves on to a fresh directory.
    pub fn logged_out(&self, j: usize, wipe: bool) {
        let mut home = self.get(j);
        home.session = None;
        if !wipe {
            home.moves += 1;
        }
    }

    /// A password login was refused because the stores hold a session this
    /// run did not see (a login cancelled after the server answered): move on.
    pub fn unknown_session(&self, j: usize) {
        let mut home = self.get(j);
        home.session = None;
        home.moves += 1;
    }
}
