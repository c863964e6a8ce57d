//! [`Summaries`]: every room's summary of a client, in memory, so that the
//! synchronous `rooms()` and `room()` read nothing and parse nothing on the
//! app's thread.
//!
//! A task of the client follows matrix-sdk's notifications and replaces
//! what changed (on a runtime worker). The session's start fills it before
//! `login` or `restore` returns, and the calls that make a room known
//! (`create_room`, `join_room`) put theirs in before they return, so what
//! the app just did is there when the call returns.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::ClientCore;
use crate::api::{CoreError, CoreResult, Membership, RoomSummary};
use crate::matrix::{self, summaries::Change};
use crate::supervisor::TaskKind;

/// The summaries by room id, left rooms included.
#[derive(Default)]
pub(crate) struct Summaries(Mutex<BTreeMap<String, RoomSummary>>);

impl Summaries {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, RoomSummary>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn apply(&self, change: Change) {
        let mut map = self.lock();
        match change {
            Change::Upsert(summaries) => {
                for summary in summaries {
                    map.insert(summary.room_id.clone(), summary);
                }
            }
            Change::Replace(summaries) => {
                *map = summaries
                    .into_iter()
                    .map(|s| (s.room_id.clone(), s))
                    .collect();
            }
        }
    }

    /// Puts the current summary of `room_id` in, on the runtime (a call that
    /// made the room known).
    pub(crate) fn refresh(&self, sdk: &matrix::Sdk, room_id: &str) {
        if let Some(summary) = matrix::summaries::of(sdk, room_id) {
            self.apply(Change::Upsert(vec![summary]));
        }
    }

    /// The rooms the user is in, invited to or knocked on.
    pub(crate) fn current(&self) -> Vec<RoomSummary> {
        self.lock()
            .values()
            .filter(|s| s.membership != Membership::Left)
            .cloned()
            .collect()
    }

    /// One known room's summary; `NotFound` if the client does not know it.
    pub(crate) fn get(&self, room_id: &str) -> CoreResult<RoomSummary> {
        let id = matrix::rooms::parse_room_id(room_id)?;
        self.lock()
            .get(id.as_str())
            .cloned()
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
