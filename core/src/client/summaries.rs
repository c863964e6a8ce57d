//! [`Summaries`]: every room's summary of a client, in memory, so that the
//! synchronous `rooms()` and `room()` read nothing and parse nothing on the
//! app's thread.
//!
//! A task of the client follows matrix-sdk's notifications and replaces
//! what changed (on a runtime worker). The session's start fills it before
//! `login` or `restore` returns, and the calls that make a room known
//! (`create_room`, `join_room`) put theirs in before they return, so what
//! the app just did is there when the call returns.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

use super::ClientCore;
use crate::api::{CoreError, CoreResult, Membership, RoomSummary};
use crate::matrix;
use crate::matrix::summaries::{Change, Known};
use crate::supervisor::TaskKind;

/// The rooms by id, left rooms included, and the direct messages by user.
#[derive(Default)]
struct Rooms {
    by_id: BTreeMap<String, Known>,
    /// For each user, the rooms that are a direct message with them alone.
    direct: BTreeMap<String, BTreeSet<String>>,
    /// The direct messages `start_dm` made, by user: found before sync
    /// brings back the account's `m.direct` that records them.
    made: BTreeMap<String, String>,
}

impl Rooms {
    fn insert(&mut self, known: Known) {
        let id = known.summary.room_id.clone();
        self.remove_direct(&id);
        if let [user] = known.direct_with.as_slice() {
            self.direct
                .entry(user.clone())
                .or_default()
                .insert(id.clone());
        }
        self.by_id.insert(id, known);
    }

    fn remove_direct(&mut self, room_id: &str) {
        let Some(old) = self.by_id.get(room_id) else {
            return;
        };
        if let [user] = old.direct_with.as_slice() {
            if let Some(rooms) = self.direct.get_mut(user) {
                rooms.remove(room_id);
                if rooms.is_empty() {
                    self.direct.remove(user);
                }
            }
        }
    }
}

/// Every room's summary, and a version that moves on each change (for the
/// subscriptions of `observe_room`).
#[derive(Default)]
pub(crate) struct Summaries {
    rooms: Mutex<Rooms>,
    version: watch::Sender<u64>,
}

impl Summaries {
    fn lock(&self) -> MutexGuard<'_, Rooms> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies a change; the observers of `changes()` wake.
    pub(crate) fn apply(&self, change: Change) {
        {
            let mut rooms = self.lock();
            match change {
                Change::Upsert(known) => known.into_iter().for_each(|k| rooms.insert(k)),
                Change::Replace(known) => {
                    let made = std::mem::take(&mut rooms.made);
                    *rooms = Rooms {
                        made,
                        ..Rooms::default()
                    };
                    known.into_iter().for_each(|k| rooms.insert(k));
                }
            }
        }
        self.version.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// Follows the changes: a receiver whose `changed()` wakes after each.
    pub(crate) fn changes(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// The joined direct message with `user_id` alone, the one with the
    /// latest activity if there are several; `None` if there is none.
    pub(crate) fn dm_room(&self, user_id: &str) -> Option<String> {
        let rooms = self.lock();
        let joined = |id: &String| {
            rooms
                .by_id
                .get(id)
                .filter(|k| k.summary.membership == Membership::Joined)
        };
        let recorded = rooms.direct.get(user_id).into_iter().flatten();
        recorded
            .chain(rooms.made.get(user_id))
            .filter_map(joined)
            .max_by_key(|k| k.summary.latest.as_ref().map_or(0, |l| l.timestamp_ms))
            .map(|k| k.summary.room_id.clone())
    }

    /// Notes the direct message `room_id` that `start_dm` made with
    /// `user_id`, and puts its summary in.
    pub(crate) fn made_dm(&self, sdk: &matrix::Sdk, user_id: &str, room_id: &str) {
        self.lock()
            .made
            .insert(user_id.to_owned(), room_id.to_owned());
        self.refresh(sdk, room_id);
    }

    /// Puts the current summary of `room_id` in, on the runtime (a call that
    /// made the room known).
    pub(crate) fn refresh(&self, sdk: &matrix::Sdk, room_id: &str) {
        if let Some(known) = matrix::summaries::of(sdk, room_id) {
            self.apply(Change::Upsert(vec![known]));
        }
    }

    /// The rooms the user is in, invited to or knocked on.
    pub(crate) fn current(&self) -> Vec<RoomSummary> {
        self.lock()
            .by_id
            .values()
            .filter(|k| k.summary.membership != Membership::Left)
            .map(|k| k.summary.clone())
            .collect()
    }

    /// One known room's summary; `NotFound` if the client does not know it.
    pub(crate) fn get(&self, room_id: &str) -> CoreResult<RoomSummary> {
        let id = matrix::rooms::parse_room_id(room_id)?;
        self.lock()
            .by_id
            .get(id.as_str())
            .map(|k| k.summary.clone())
            .ok_or_else(|| CoreError::NotFound {
                detail: format!("no known room `{room_id}`"),
            })
    }
}

impl ClientCore {
    /// Fills the summaries from the session's rooms and follows their
    /// changes until the client drains. On the runtime, at the session's start.
    pub(super) fn follow_summaries(&self, sdk: &matrix::Sdk) {
        self.chat
            .summaries
            .apply(Change::Replace(matrix::summaries::all(sdk)));
        let Ok(handle) = self.handle() else { return };
        let summaries = Arc::downgrade(&self.chat.summaries);
        let follow = matrix::summaries::follow(sdk.clone(), move |change| {
            if let Some(summaries) = summaries.upgrade() {
                summaries.apply(change);
            }
        });
        self.spawn(&handle, TaskKind::Finite, "room-summaries", async move {
            follow.await;
            Ok(())
        });
    }
}
