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

/// What changed in the set of summaries.
pub(crate) enum Change {
    /// These rooms' summaries are new or changed.
    Upsert(Vec<RoomSummary>),
    /// These are all the summaries there are.
    Replace(Vec<RoomSummary>),
}

/// Every known room's summary now, left rooms included.
pub(crate) fn all(client: &Sdk) -> Vec<RoomSummary> {
    client.rooms().iter().map(summary).collect()
}

/// The summary of the room `room_id` now, if the client knows it.
pub(crate) fn of(client: &Sdk, room_id: &str) -> Option<RoomSummary> {
    let id = matrix_sdk::ruma::RoomId::parse(room_id).ok()?;
    client.get_room(&id).map(|room| summary(&room))
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
                        .map(|room| summary(&room))
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
                            added.extend(values.iter().map(summary));
                        }
                        VectorDiff::PushFront { value }
                        | VectorDiff::PushBack { value }
                        | VectorDiff::Insert { value, .. }
                        | VectorDiff::Set { value, .. } => added.push(summary(&value)),
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
