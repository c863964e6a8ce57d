//! [`TimelineCore`]: one room's timeline of a [`ClientCore`].
//!
//! The client keeps a weak list of its timelines (a `Handed`); its drain takes each one's
//! matrix-sdk-ui `Timeline` away (so a call afterwards gets `ClientClosed`)
//! and drops them inside the runtime before the stores close. A timeline the
//! app releases drops its matrix-sdk-ui `Timeline`, and with it the tasks
//! that follow the room, inside the runtime too.

use std::sync::{Arc, Mutex};

use super::feed::ListFeed;
use super::followed::EndSignal;
use super::handed::{Handed, Holds, Slot};
use super::subscription::Subscription;
use super::ClientCore;
use crate::api::{CoreError, CoreResult, TimelineListener, TimelineUpdate, TypingListener};
use crate::matrix;
use crate::matrix::timeline::{self, compose, items, Timeline};
use crate::supervisor::{TaskKind, WhenDropped};

/// A call's work with its type erased.
type BoxedCall<T> = std::pin::Pin<Box<dyn std::future::Future<Output = CoreResult<T>> + Send>>;

/// One room's timeline; the exported `Timeline` delegates here.
pub(crate) struct TimelineCore {
    pub(crate) client: Arc<ClientCore>,
    own: matrix::UserId,
    room_id: String,
    sdk: Slot<Arc<Timeline>>,
}

impl Holds for TimelineCore {
    type Sdk = Arc<Timeline>;
    fn slot(&self) -> &Slot<Arc<Timeline>> {
        &self.sdk
    }
}

/// The timelines a client has handed out, and the rooms whose history they
/// paginated, for its drain.
#[derive(Default)]
pub(crate) struct Timelines {
    /// Every timeline handed out.
    pub(crate) open: Handed<TimelineCore>,
    /// The rooms a back-pagination was started in since the last drain.
    paginated: Mutex<std::collections::BTreeSet<String>>,
}

impl Timelines {
    /// The rooms a back-pagination was started in, once.
    pub(crate) fn take_paginated(&self) -> Vec<String> {
        let rooms = std::mem::take(&mut *self.paginated.lock().unwrap_or_else(|p| p.into_inner()));
        rooms.into_iter().collect()
    }
}

impl ClientCore {
    /// Builds the live timeline of the joined room `room_id`.
    pub(crate) async fn timeline(
        self: &Arc<Self>,
        room_id: String,
    ) -> CoreResult<Arc<TimelineCore>> {
        let sdk = self.sdk_with_stores()?;
        let own = sdk
            .user_id()
            .map(ToOwned::to_owned)
            .ok_or(CoreError::ClientClosed)?;
        // Boxed: matrix-sdk-ui's build future nests too deep for the type
        // layout of every caller (the compiler's recursion limit).
        let id = room_id.clone();
        let core = self.clone();
        // While every joined room is subscribed (`observe_messages`), sync
        // answered for this room already: nothing to empty or wait for.
        let every_room = self.sync.shown.borrow().every_joined_room;
        let sync = match every_room {
            true => None,
            false => self.inner().sync.clone(),
        };
        let work: BoxedCall<Arc<Timeline>> = Box::pin(async move {
            let room = matrix::rooms::joined_room(&sdk, &id)?;
            let show = || core.show_room(&id);
            let paginated = core.sync.answers.first_open(&room, sync.as_deref(), show);
            if paginated.await? {
                core.note_paginated(&id);
            }
            timeline::build(&sdk, &id).await.map(Arc::new)
        });
        let built = self
            .store_call("timeline", WhenDropped::Abort, work)
            .await?;
        let core = Arc::new(TimelineCore {
            client: self.clone(),
            own,
            room_id: built.room().room_id().to_string(),
            sdk: Slot::new(built),
        });
        self.chat.timelines.open.adopt(self, core)
    }
}

impl ClientCore {
    /// Records that `room_id`'s history is being paginated, for the drain.
    fn note_paginated(&self, room_id: &str) {
        let mut rooms = self
            .chat
            .timelines
            .paginated
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        rooms.insert(room_id.to_owned());
    }

    /// Tells sync to subscribe `room_id` (its timeline opens).
    fn show_room(&self, room_id: &str) {
        self.sync
            .shown
            .send_if_modified(|shown| shown.rooms.insert(room_id.to_owned()));
    }
}

impl TimelineCore {
    /// The matrix-sdk-ui timeline, if the client is usable and has not
    /// taken it back.
    pub(crate) fn sdk(&self) -> CoreResult<Arc<Timeline>> {
        self.client.sdk_with_stores()?;
        self.sdk.get()
    }

    /// Drops the matrix-sdk-ui timeline inside the runtime, if it is still
    /// here. Its room stays subscribed (matrix-sdk keeps a subscription).
    fn release(&self) {
        self.sdk.release(self.client.generation);
    }

    /// Back-paginates up to `events` events; `true` at the room's start.
    pub(crate) async fn paginate_backwards(&self, events: u16) -> CoreResult<bool> {
        self.note_pagination();
        self.call(
            "paginate_backwards",
            WhenDropped::Abort,
            move |t| async move { timeline::paginate_backwards(&t, events).await },
        )
        .await
    }

    /// Records that this room's history is being paginated: matrix-sdk runs
    /// the pagination as a task of its own, which the drain waits for.
    fn note_pagination(&self) {
        self.client.note_paginated(&self.room_id);
    }

    /// Runs `work` on the timeline as a call of its client.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        name: &'static str,
        when_dropped: WhenDropped,
        work: F,
    ) -> CoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Timeline>) -> Fut,
        Fut: std::future::Future<Output = CoreResult<T>> + Send + 'static,
    {
        let timeline = self.sdk()?;
        let work: BoxedCall<T> = Box::pin(work(timeline));
        self.client.store_call(name, when_dropped, work).await
    }

    /// Follows a queued upload's progress as a task of the client, until
    /// the upload ends or the client drains.
    pub(crate) fn follow_upload(&self, progress: timeline::media::Progress) {
        if let Ok(handle) = self.client.handle() {
            self.client
                .spawn(&handle, TaskKind::Finite, "upload-progress", async move {
                    progress.await;
                    Ok(())
                });
        }
    }

    /// Delivers the timeline's items to `listener`: a `Reset` first, then
    /// every change, until the subscription is cancelled or the client ends
    /// (`on_closed()`).
    pub(crate) fn observe(
        &self,
        listener: Arc<dyn TimelineListener>,
    ) -> CoreResult<Arc<Subscription>> {
        let timeline = self.sdk()?;
        let own = self.own.clone();
        let end: EndSignal<dyn TimelineListener> =
            ("TimelineListener.on_closed", |l| l.on_closed());
        let task = ("timeline-items", TaskKind::Finite);
        self.client
            .follow_for(listener, end, task, |delivery| async move {
                use futures_util::StreamExt;
                let (initial, stream) = timeline.subscribe().await;
                // Held weakly: a timeline the app releases goes, whatever
                // its subscriptions.
                let weak = Arc::downgrade(&timeline);
                drop(timeline);
                let feed = ListFeed::<dyn TimelineListener, _>::new(
                    &delivery,
                    "TimelineListener.on_update",
                    |u| matches!(u, TimelineUpdate::Reset { .. }),
                    |l, updates| l.on_update(updates),
                );
                // The list as the listener will see it once its queue ran:
                // what a lagging listener is reset to.
                let mut current = initial;
                feed.post(vec![items::reset(&current, &own)]);
                // The replied-to messages the timeline does not hold are
                // asked of the server, once each, beside the updates.
                let mut asked = std::collections::BTreeSet::new();
                let mut loads = futures_util::stream::FuturesUnordered::new();
                let first = [eyeball_im::VectorDiff::Reset {
                    values: current.clone(),
                }];
                let mut load =
                    |batch: &[eyeball_im::VectorDiff<_>],
                     loads: &mut futures_util::stream::FuturesUnordered<_>| {
                        for event_id in compose::replies_to_load(batch, &mut asked) {
                            let weak = weak.clone();
                            loads.push(async move {
                                if let Some(timeline) = weak.upgrade() {
                                    compose::load_reply(&timeline, &event_id).await;
                                }
                            });
                        }
                    };
                load(&first, &mut loads);
                futures_util::pin_mut!(stream);
                loop {
                    tokio::select! {
                        batch = stream.next() => {
                            let Some(batch) = batch else { break };
                            load(&batch, &mut loads);
                            feed.post(items::follow(batch, &mut current, || feed.lagging(), &own));
                        }
                        Some(()) = loads.next(), if !loads.is_empty() => {}
                    }
                }
                Ok(())
            })
    }

    /// Delivers who is typing in the room, until the subscription is
    /// cancelled or the client ends (`on_closed()`).
    pub(crate) fn observe_typing(
        &self,
        listener: Arc<dyn TypingListener>,
    ) -> CoreResult<Arc<Subscription>> {
        let room = self.sdk()?.room().clone();
        let end: EndSignal<dyn TypingListener> = ("TypingListener.on_closed", |l| l.on_closed());
        let task = ("typing", TaskKind::Finite);
        self.client
            .follow_for(listener, end, task, |delivery| async move {
                let emit = |users: Vec<String>| {
                    // Who types now supersedes who typed before.
                    delivery.post_call_superseding::<dyn TypingListener>(
                        "TypingListener.on_typing",
                        move |l| l.on_typing(users),
                    );
                };
                timeline::follow_typing(room, emit).await;
                Ok(())
            })
    }
}

impl Drop for TimelineCore {
    fn drop(&mut self) {
        self.release();
    }
}
