//! Rooms beyond the list: creating them with options, direct messages, and
//! one room's summary followed (`observe_room`).

use std::sync::Arc;

use super::followed::EndSignal;
use super::subscription::Subscription;
use super::ClientCore;
use crate::api::{CoreError, CoreResult, CreateRoomOptions, RoomListener, RoomSummary, SyncState};
use crate::matrix::{self, rooms::create};
use crate::supervisor::{TaskKind, WhenDropped};

impl ClientCore {
    /// How long a call waits for sync to bring back what it changed (a new
    /// room's state, an unread mark): only while sync runs, since nothing
    /// else brings it.
    pub(crate) fn new_room_wait(&self) -> Option<std::time::Duration> {
        (self.sync_state() == SyncState::Running).then_some(create::NEW_ROOM_STATE_WAIT)
    }

    /// Creates a room as `options` say and puts its summary in before it
    /// returns; returns its id.
    pub(crate) async fn create_room_with(&self, options: CreateRoomOptions) -> CoreResult<String> {
        let sdk = self.sdk_with_stores()?;
        let wait = self.new_room_wait();
        let summaries = self.chat.summaries.clone();
        let work = async move {
            let id = create::create_room_with(&sdk, &options, wait).await?;
            summaries.refresh(&sdk, &id);
            Ok(id)
        };
        self.store_call("create_room", WhenDropped::Abort, work)
            .await
    }

    /// The joined direct message with `user_id`, or a new one. One start at
    /// a time per client, so that two quick taps make one room, not two.
    pub(crate) async fn start_dm(&self, user_id: String) -> CoreResult<String> {
        let user = matrix::rooms::parse_user_id(&user_id)?.to_string();
        let sdk = self.sdk_with_stores()?;
        if sdk.user_id().map(|u| u.as_str()) == Some(user.as_str()) {
            return Err(CoreError::invalid_argument(
                "a direct message is with another user",
            ));
        }
        let wait = self.new_room_wait();
        let summaries = self.chat.summaries.clone();
        let starting = self.chat.starting_dm.clone();
        let work = async move {
            let _one_at_a_time = starting.lock().await;
            if let Some(id) = summaries.dm_room(&user) {
                return Ok(id);
            }
            // An unknown user is `NotFound` before a room is made for them.
            matrix::people::profiles::profile(&sdk, &user).await?;
            let options = create::direct_options(&user);
            let id = create::create_room_with(&sdk, &options, wait).await?;
            summaries.made_dm(&sdk, &user, &id);
            Ok(id)
        };
        // Once begun it finishes: a room made on the server is recorded, so
        // that the next start finds it instead of making another.
        self.store_call("start_dm", WhenDropped::Finish, work).await
    }

    /// The joined direct message with `user_id`, from memory.
    pub(crate) fn dm_room(&self, user_id: &str) -> CoreResult<Option<String>> {
        let user = matrix::rooms::parse_user_id(user_id)?;
        self.with_logged_in_sdk(|_| self.chat.summaries.dm_room(user.as_str()))
    }

    /// Follows the summary of a known room: the current one first, then
    /// each one that differs from the last delivered, until cancelled or
    /// the client ends. `NotFound` for a room the client does not know.
    pub(crate) fn observe_room(
        &self,
        room_id: String,
        listener: Arc<dyn RoomListener>,
    ) -> CoreResult<Arc<Subscription>> {
        let summaries = self.chat.summaries.clone();
        // Subscribed before the current summary is read: no change is lost.
        let mut changes = summaries.changes();
        let current = self.with_logged_in_sdk(|_| summaries.get(&room_id))??;
        let end: EndSignal<dyn RoomListener> = ("RoomListener.on_closed", |l| l.on_closed());
        let task = ("room-observer", TaskKind::Finite);
        self.follow_for(listener, end, task, |delivery| {
            let emit = move |summary: RoomSummary| {
                // The latest summary supersedes the ones not yet delivered.
                delivery.post_call_superseding::<dyn RoomListener>(
                    "RoomListener.on_update",
                    move |l| l.on_update(summary),
                );
            };
            emit(current.clone());
            async move {
                let mut last = current;
                while changes.changed().await.is_ok() {
                    let Ok(now) = summaries.get(&room_id) else {
                        continue;
                    };
                    if now != last {
                        last = now.clone();
                        emit(now);
                    }
                }
                Ok(())
            }
        })
    }
}
