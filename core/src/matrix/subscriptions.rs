//! Sliding sync's room subscriptions: which rooms sync carries in full (up
//! to 20 new events a response), and a room's first timeline built on its
//! subscription's first answer.
//!
//! Only the rooms the app shows are subscribed (a timeline opened, or every
//! joined room while `observe_messages` listens); the room list carries the
//! others with their latest event, so an account's size does not decide what
//! each sync response carries.
//!
//! Before a room is subscribed, its event cache holds what the room list
//! sent: the latest event, behind a gap (a previous-batch token). The
//! subscription's first answer is a batch of up to 20 events behind a gap of
//! its own, which matrix-sdk 0.18 appends after the first. That first gap is
//! then stale: it sits before events older than its token. Back-paginating it
//! returns events the cache holds; matrix-sdk 0.18 drops such a batch only
//! when one of its events is someone else's (`non_empty_all_duplicates` in
//! `event_cache/deduplicator.rs`), so a stretch of the user's own messages is
//! moved to the stale gap's place and the history is misordered (`chat.rs`
//! saw 9..28, 0..8, 29, one run in about ten). So a room's first timeline
//! empties the room's event cache before the subscription and waits
//! (bounded) for the answer to be in it: [`Answers::first_open`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, RoomId};
use matrix_sdk_ui::room_list_service::{RoomListService, State as RoomListState};
use matrix_sdk_ui::sync_service::{State as SyncServiceState, SyncService};
use tokio::sync::watch;

use crate::api::{CoreError, CoreResult};

/// The rooms the app shows, which sliding sync subscribes to: the rooms
/// whose timeline was opened, and every joined room while the app listens to
/// every message (`observe_messages`). matrix-sdk keeps a subscription once
/// made, so `rooms` only grows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Shown {
    pub(crate) every_joined_room: bool,
    pub(crate) rooms: BTreeSet<String>,
}

/// What sync has answered of a room's subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// Subscribed on a first open, not answered yet; `stale` once an update
    /// of the room's latest event alone came in meanwhile (a response to a
    /// request made before the subscription).
    Awaited { stale: bool },
    /// Answered with these events; `stale` as above.
    Sent {
        events: Vec<OwnedEventId>,
        stale: bool,
    },
    /// Answered and in the event cache, or no longer waited for.
    Settled,
}

/// The subscriptions' first answers, per room, for one client, and the
/// latest event sync carried of each room. Reset when the sync service's
/// subscription task (re)starts.
#[derive(Default)]
pub(crate) struct Answers {
    answers: watch::Sender<BTreeMap<OwnedRoomId, Answer>>,
    latest: Mutex<HashMap<OwnedRoomId, OwnedEventId>>,
}

/// The longest wait of a first open: for sync to have answered once, then
/// for the subscription's answer.
const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// The longest wait, and the size, of the page that fills a cache no
/// answer filled. matrix-sdk runs the page on a task of its own: past the
/// wait it still lands, and the timeline shows it as it does.
const FILL_WAIT: Duration = Duration::from_secs(1);
const FILL_EVENTS: u16 = 20;

impl Answers {
    /// Prepares `room` for its first timeline and has `subscribe` subscribe
    /// it. Once per room and sync service (a second open while the first is
    /// under way waits for it). Offline (`sync` not running, or `None` when
    /// the room is subscribed anyway) it only subscribes, keeping what the
    /// cache holds. While sync runs:
    /// - it waits for the room list's first response since sync started and
    ///   for the event cache to hold what sync carried of the room so far;
    /// - it empties the room's event cache and subscribes, then waits for the
    ///   answer to be in the cache (at most [`ANSWER_WAIT`] in all).
    ///
    /// An update of the room's latest event alone that came in between (a
    /// long poll answered as the subscription began) may have put a stale
    /// gap back: the cache is then emptied once more after the answer, and
    /// the first back-pagination starts from the room's end.
    ///
    /// A cache left empty (no answer within the wait: the server may not
    /// send again what its list already carried) is filled by one
    /// back-pagination from the room's end, waited for at most
    /// [`FILL_WAIT`] more, so that the timeline never stays empty on a room
    /// with history. Returns
    /// whether it paginated (matrix-sdk runs that on a task of its own,
    /// which the drain waits for).
    pub(crate) async fn first_open(
        &self,
        room: &matrix_sdk::Room,
        sync: Option<&SyncService>,
        subscribe: impl FnOnce(),
    ) -> CoreResult<bool> {
        let room_id = room.room_id().to_owned();
        let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
        let sync = sync.filter(|s| matches!(s.state().get(), SyncServiceState::Running));
        let Some(sync) = sync else {
            subscribe();
            return Ok(false);
        };
        if !self.claim(&room_id, deadline).await {
            subscribe();
            return Ok(false);
        }
        // A call cancelled before the end leaves the room to the next open.
        let mut unsettled = Unsettled {
            open: Some((self, room_id.clone())),
            subscribed: false,
        };
        let (cache, _handles) = room.event_cache().await.map_err(cache_error)?;
        let _ = tokio::time::timeout_at(deadline, sync_answered_once(sync)).await;
        // Until the cache holds the latest update sync carried of the room
        // and none came in meanwhile. From the mark on, an update of the
        // room is one that may reach the cache after it was emptied.
        loop {
            let latest = self.latest_of(&room_id);
            let _ = tokio::time::timeout_at(deadline, in_cache(&cache, &latest)).await;
            self.answers.send_modify(|a| {
                a.insert(room_id.clone(), Answer::Awaited { stale: false });
            });
            if self.latest_of(&room_id) == latest || tokio::time::Instant::now() >= deadline {
                break;
            }
        }
        crate::hooks::pause_point("timeline.first_open");
        // A cancelled open ends here at the latest, with the cache as it was.
        tokio::task::yield_now().await;
        cache.clear().await.map_err(cache_error)?;
        subscribe();
        unsettled.subscribed = true;
        let mut answers = self.answers.subscribe();
        let answered = tokio::time::timeout_at(
            deadline,
            answers.wait_for(|a| !matches!(a.get(&room_id), Some(Answer::Awaited { .. }))),
        )
        .await
        .ok()
        .and_then(|seen| seen.ok().and_then(|a| a.get(&room_id).cloned()));
        if let Some(Answer::Sent { events, stale }) = answered {
            let held = tokio::time::timeout_at(deadline, in_cache(&cache, &events)).await;
            if stale && held.is_ok() {
                cache.clear().await.map_err(cache_error)?;
            }
        }
        unsettled.open = None;
        self.answers.send_modify(|a| {
            a.insert(room_id, Answer::Settled);
        });
        let empty = cache.events().await.is_ok_and(|events| events.is_empty());
        if empty {
            tracing::debug!(room = %room.room_id(), "no answer filled the emptied cache: paginating");
            let pagination = cache.pagination();
            match tokio::time::timeout(FILL_WAIT, pagination.run_backwards_once(FILL_EVENTS)).await
            {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::debug!(%e, "the first page of an emptied cache failed"),
                Err(_) => tracing::debug!("the first page of an emptied cache is still coming"),
            }
        }
        Ok(empty)
    }

    /// Claims `room_id`'s first open; `false` once it is settled. While
    /// another call's first open of the room is under way, waits for it
    /// (until `deadline`, then `false`): it may end early, and then this
    /// call starts over.
    async fn claim(&self, room_id: &OwnedRoomId, deadline: tokio::time::Instant) -> bool {
        let mut answers = self.answers.subscribe();
        loop {
            let claimed = self.answers.send_if_modified(|a| {
                let free = !a.contains_key(room_id);
                if free {
                    a.insert(room_id.clone(), Answer::Awaited { stale: false });
                }
                free
            });
            if claimed {
                return true;
            }
            let under_way = |a: &BTreeMap<OwnedRoomId, Answer>| {
                matches!(
                    a.get(room_id),
                    Some(Answer::Awaited { .. } | Answer::Sent { .. })
                )
            };
            if !under_way(&self.answers.borrow()) {
                return false;
            }
            let ended = tokio::time::timeout_at(deadline, answers.wait_for(|a| !under_way(a)));
            if ended.await.is_err() {
                return false;
            }
        }
    }

    /// The latest event sync carried of `room_id`, if any.
    fn latest_of(&self, room_id: &RoomId) -> Vec<OwnedEventId> {
        let latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        latest.get(room_id).cloned().into_iter().collect()
    }
}

/// Settles a first open that ends early (cancelled, or failed). Before its
/// subscription the room's mark is forgotten, so that the next open starts
/// over; after it, the cache was emptied and the answer lands in it, so the
/// room is settled.
struct Unsettled<'a> {
    open: Option<(&'a Answers, OwnedRoomId)>,
    subscribed: bool,
}

impl Drop for Unsettled<'_> {
    fn drop(&mut self) {
        let Some((answers, room_id)) = self.open.take() else {
            return;
        };
        answers.answers.send_if_modified(|a| {
            if matches!(a.get(&room_id), Some(Answer::Settled) | None) {
                return false;
            }
            if self.subscribed {
                a.insert(room_id, Answer::Settled);
            } else {
                a.remove(&room_id);
            }
            true
        });
    }
}

/// Returns once the room list has had a response since sync (re)started:
/// its first response, carrying every room's latest event, is then in and
/// no longer on its way.
async fn sync_answered_once(sync: &SyncService) {
    let mut states = sync.room_list_service().state();
    loop {
        if matches!(states.get(), RoomListState::Running) {
            return;
        }
        if states.next().await.is_none() {
            return;
        }
    }
}

/// The event cache's errors in the core's terms, as a timeline's are: its
/// stores closed under it (a `pause`) is `Storage`, which a paused
/// client's call turns into "call resume() first".
fn cache_error(e: matrix_sdk::event_cache::EventCacheError) -> CoreError {
    use matrix_sdk::event_cache::EventCacheError as E;
    match e {
        E::PaginationError(e) => super::errors::from_sdk(&e),
        E::ClientDropped => CoreError::ClientClosed,
        other => CoreError::storage(format!("the room's event cache: {other}")),
    }
}

/// Returns once every one of `events` is in the event cache, which takes
/// sync's answers in on a task of its own.
async fn in_cache(cache: &matrix_sdk::event_cache::RoomEventCache, events: &[OwnedEventId]) {
    loop {
        let Ok(held) = cache.events().await else {
            return;
        };
        let held: HashSet<OwnedEventId> = held.iter().filter_map(|e| e.event_id()).collect();
        if events.iter().all(|e| held.contains(e)) {
            return;
        }
        // allowed: the event cache has no signal for "this sync response is
        // in"; the wait is once per room and bounded by ANSWER_WAIT.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Keeps the room list service's subscriptions on the rooms the app shows
/// (`shown`) and notes each new subscription's first answer in `answers`.
/// Subscriptions change only when the set does. Runs until `shown` or the
/// client's updates end.
pub(crate) fn keep_rooms_subscribed(
    client: matrix_sdk::Client,
    sync: &SyncService,
    shown: watch::Receiver<Shown>,
    answers: std::sync::Arc<Answers>,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let rooms = sync.room_list_service();
    async move { keep_subscribed(&client, &rooms, shown, &answers).await }
}

async fn keep_subscribed(
    client: &matrix_sdk::Client,
    rooms: &RoomListService,
    mut shown: watch::Receiver<Shown>,
    answers: &Answers,
) {
    use tokio::sync::broadcast::error::RecvError;
    // Before the first subscription, so that no answer is missed.
    let mut updates = client.subscribe_to_all_room_updates();
    answers.answers.send_replace(BTreeMap::new());
    answers
        .latest
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
    // matrix-sdk keeps a subscription once made, so this only grows.
    let mut subscribed: BTreeSet<OwnedRoomId> = BTreeSet::new();
    loop {
        let now = shown.borrow_and_update().clone();
        let mut wanted: BTreeSet<OwnedRoomId> = now
            .rooms
            .iter()
            .filter_map(|id| RoomId::parse(id).ok())
            .collect();
        if now.every_joined_room {
            wanted.extend(client.joined_rooms().iter().map(|r| r.room_id().to_owned()));
        }
        if !wanted.is_subset(&subscribed) {
            let ids: Vec<&RoomId> = wanted.iter().map(|id| id.as_ref()).collect();
            rooms.subscribe_to_rooms(&ids).await;
            // Subscribed here, not by a first open: nothing to wait for
            // (and nothing to empty) when their timeline opens.
            answers.answers.send_if_modified(|a| {
                let before = a.len();
                for id in &wanted {
                    a.entry(id.clone()).or_insert(Answer::Settled);
                }
                a.len() != before
            });
            subscribed.extend(wanted);
        }
        loop {
            tokio::select! {
                changed = shown.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    break;
                }
                update = updates.recv() => match update {
                    Ok(update) => {
                        note_answers(answers, &update);
                        // The joined set matters only while every joined
                        // room is shown.
                        if now.every_joined_room {
                            break;
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        // Answers may have gone by unseen: the waits end.
                        answers.answers.send_modify(|a| {
                            for answer in a.values_mut() {
                                if matches!(answer, Answer::Awaited { .. }) {
                                    *answer = Answer::Settled;
                                }
                            }
                        });
                        if now.every_joined_room {
                            break;
                        }
                    }
                    Err(RecvError::Closed) => return,
                },
            }
        }
    }
}

/// Notes what `update` answers of the rooms a first open waits for. A
/// list's update carries at most one event of a room (its timeline limit);
/// a subscription's first answer carries up to 20, so more than one marks
/// it. A room whose whole visible history is one event is never marked: its
/// first open waits out [`ANSWER_WAIT`] (the cache it starts from is right).
fn note_answers(answers: &Answers, update: &matrix_sdk::sync::RoomUpdates) {
    {
        let mut latest = answers.latest.lock().unwrap_or_else(|p| p.into_inner());
        for (id, joined) in &update.joined {
            if let Some(last) = joined
                .timeline
                .events
                .iter()
                .rev()
                .find_map(|e| e.event_id())
            {
                latest.insert(id.clone(), last);
            }
        }
    }
    answers.answers.send_if_modified(|a| {
        let mut modified = false;
        for (id, joined) in &update.joined {
            let Some(Answer::Awaited { stale }) = a.get(id) else {
                continue;
            };
            let stale = *stale;
            let answer = if joined.timeline.events.len() < 2 {
                Answer::Awaited { stale: true }
            } else {
                let events = joined
                    .timeline
                    .events
                    .iter()
                    .filter_map(|e| e.event_id())
                    .collect();
                Answer::Sent { events, stale }
            };
            a.insert(id.clone(), answer);
            modified = true;
        }
        modified
    });
}
