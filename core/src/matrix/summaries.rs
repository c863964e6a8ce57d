//! Every room's [`RoomSummary`], followed from matrix-sdk's notifications
//! (a room's info changed, a room became known), so that the core can keep
//! them in memory and answer `rooms()` and `room()` without reading or
//! parsing anything on the app's thread.

use std::collections::BTreeSet;

use eyeball_im::VectorDiff;
use futures_util::StreamExt;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::room_list::summary;
use super::Sdk;
use crate::api::RoomSummary;
use matrix_sdk::Room;

/// A room as the core keeps it in memory: its summary, and the users it
/// is a direct message with (for `dm_room`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Known {
    pub(crate) summary: RoomSummary,
    /// Empty for a room that is not a direct message.
    pub(crate) direct_with: Vec<String>,
}

/// What changed in the set of summaries.
pub(crate) enum Change {
    /// These rooms are new or changed.
    Upsert(Vec<Known>),
    /// These are all the rooms there are.
    Replace(Vec<Known>),
}

fn known(room: &Room) -> Known {
    let mut direct_with: Vec<String> = room
        .direct_targets()
        .iter()
        .map(|target| target.to_string())
        .collect();
    direct_with.sort();
    Known {
        summary: summary(room),
        direct_with,
    }
}

/// Every known room now, left rooms included.
pub(crate) fn all(client: &Sdk) -> Vec<Known> {
    client.rooms().iter().map(known).collect()
}

/// The room `room_id` now, if the client knows it.
pub(crate) fn of(client: &Sdk, room_id: &str) -> Option<Known> {
    let id = matrix_sdk::ruma::RoomId::parse(room_id).ok()?;
    client.get_room(&id).map(|room| known(&room))
}

/// Hands `apply` every change of the client's rooms until the client ends:
/// the rooms whose info changed (a burst is taken together) and the rooms
/// that became known. Waits without a timer: an idle or paused client
/// wakes this for nothing.
pub(crate) async fn follow(client: Sdk, apply: impl Fn(Change)) {
    let mut updates = client.room_info_notable_update_receiver();
    let (_, rooms) = client.rooms_stream();
    futures_util::pin_mut!(rooms);
    loop {
        tokio::select! {
            update = updates.recv() => {
                let first = match update {
                    Ok(update) => update.room_id,
                    Err(RecvError::Lagged(_)) => {
                        apply(Change::Replace(all(&client)));
                        continue;
                    }
                    Err(RecvError::Closed) => return,
                };
                let mut ids = BTreeSet::from([first]);
                let mut lagged = false;
                loop {
                    match updates.try_recv() {
                        Ok(update) => {
                            ids.insert(update.room_id);
                        }
                        Err(TryRecvError::Lagged(_)) => lagged = true,
                        Err(_) => break,
                    }
                }
                if lagged {
                    apply(Change::Replace(all(&client)));
                } else {
                    let changed = ids
                        .iter()
                        .filter_map(|id| client.get_room(id))
                        .map(|room| known(&room))
                        .collect();
                    apply(Change::Upsert(changed));
                }
            }
            diffs = rooms.next() => {
                let Some(diffs) = diffs else { return };
                let mut added = Vec::new();
                let mut removed = false;
                for diff in diffs {
                    match diff {
                        VectorDiff::Append { values } | VectorDiff::Reset { values } => {
                            added.extend(values.iter().map(known));
                        }
                        VectorDiff::PushFront { value }
                        | VectorDiff::PushBack { value }
                        | VectorDiff::Insert { value, .. }
                        | VectorDiff::Set { value, .. } => added.push(known(&value)),
                        VectorDiff::Clear
                        | VectorDiff::PopFront
                        | VectorDiff::PopBack
                        | VectorDiff::Remove { .. }
                        | VectorDiff::Truncate { .. } => removed = true,
                    }
                }
                if removed {
                    apply(Change::Replace(all(&client)));
                } else if !added.is_empty() {
                    apply(Change::Upsert(added));
                }
            }
        }
    }
}
