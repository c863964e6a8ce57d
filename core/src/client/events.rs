//! [`Events`]: a client's listeners, its sync state, and the messages that
//! sync delivers, fanned out to each listener's own lane of calls.
//!
//! Every listener call is queued under this module's lock (so that calls
//! reach each listener in the order of the changes) and run later by that
//! listener's thread, with no lock held. When the client ends, [`Events::end`] sends
//! each listener its end signal as its last call. A listener's last
//! reference is never dropped under the lock.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::subscription::{Delivery, Subscription};
use crate::api::{CoreError, CoreResult, Message, MessageListener, SyncState, SyncStateListener};
use crate::supervisor::Job;

type SyncSubscriber = (Arc<Delivery>, Arc<dyn SyncStateListener>);
type MessageSubscriber = (Arc<Delivery>, Arc<dyn MessageListener>);

struct Subscribers {
    /// Set by [`Events::end`]: no subscription is accepted afterwards.
    ended: bool,
    state: SyncState,
    sync: Vec<SyncSubscriber>,
    messages: Vec<MessageSubscriber>,
    /// The chat surface's subscriptions (room lists, timelines, typing):
    /// each with the end signal that [`Events::end`] queues for it.
    others: Vec<(Arc<Delivery>, Job)>,
}

/// The listeners of one client and what they are told.
pub(crate) struct Events {
    subscribers: Mutex<Subscribers>,
    /// The sync state, for the core's own tasks.
    state: tokio::sync::watch::Sender<SyncState>,
}

impl Default for Events {
    fn default() -> Self {
        Self {
            subscribers: Mutex::new(Subscribers {
                ended: false,
                state: SyncState::Idle,
                sync: Vec::new(),
                messages: Vec::new(),
                others: Vec::new(),
            }),
            state: tokio::sync::watch::Sender::new(SyncState::Idle),
        }
    }
}

fn post_state((delivery, listener): &SyncSubscriber, state: SyncState) {
    let (lane, delivery, listener) = (delivery.clone(), delivery.clone(), listener.clone());
    lane.post(Box::new(move || {
        let call = || listener.on_state(state);
        if state == SyncState::Terminated {
            delivery.deliver_end("SyncStateListener.on_state", call);
        } else {
            delivery.deliver("SyncStateListener.on_state", call);
        }
    }));
}

/// Takes the cancelled subscribers out of `list`, for the caller to drop
/// once the lock is released.
fn without_cancelled<L: ?Sized>(
    list: &mut Vec<(Arc<Delivery>, Arc<L>)>,
) -> Vec<(Arc<Delivery>, Arc<L>)> {
    let (kept, cancelled) = std::mem::take(list)
        .into_iter()
        .partition(|(d, _)| !d.is_cancelled());
    *list = kept;
    cancelled
}

impl Events {
    fn lock(&self) -> MutexGuard<'_, Subscribers> {
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current sync state.
    pub(crate) fn sync_state(&self) -> SyncState {
        self.lock().state
    }

    /// The sync state as it changes, for the core's own tasks.
    pub(crate) fn watch_sync_state(&self) -> tokio::sync::watch::Receiver<SyncState> {
        self.state.subscribe()
    }

    /// Records a sync state and tells every sync listener, if it changed.
    pub(crate) fn set_sync_state(&self, state: SyncState) {
        let mut subs = self.lock();
        if subs.ended || subs.state == state {
            return;
        }
        subs.state = state;
        self.state.send_replace(state);
        let cancelled = without_cancelled(&mut subs.sync);
        for subscriber in &subs.sync {
            post_state(subscriber, state);
        }
        drop(subs);
        // A foreign listener's last reference goes here, with no lock held:
        // its release (a Swift `deinit`, a Kotlin cleaner) may call the core.
        drop(cancelled);
    }

    /// Registers a sync state listener; the current state is queued first.
    /// `ClientClosed` once the client has ended.
    pub(crate) fn observe_sync_state(
        &self,
        listener: Arc<dyn SyncStateListener>,
    ) -> CoreResult<Arc<Subscription>> {
        let mut subs = self.lock();
        if subs.ended {
            return Err(CoreError::ClientClosed);
        }
        let (subscription, delivery) = Subscription::new();
        let subscriber = (delivery, listener);
        post_state(&subscriber, subs.state);
        subs.sync.push(subscriber);
        Ok(subscription)
    }

    /// Registers a message listener. `ClientClosed` once the client has ended.
    pub(crate) fn observe_messages(
        &self,
        listener: Arc<dyn MessageListener>,
    ) -> CoreResult<Arc<Subscription>> {
        let mut subs = self.lock();
        if subs.ended {
            return Err(CoreError::ClientClosed);
        }
        let (subscription, delivery) = Subscription::new();
        subs.messages.push((delivery, listener));
        Ok(subscription)
    }

    /// Registers a subscription of the chat surface, whose end signal is
    /// `end` (a call that goes through `delivery.deliver_end`).
    /// `ClientClosed` once the client has ended.
    pub(crate) fn register(&self, delivery: Arc<Delivery>, end: Job) -> CoreResult<()> {
        let mut subs = self.lock();
        if subs.ended {
            return Err(CoreError::ClientClosed);
        }
        let (kept, cancelled): (Vec<_>, Vec<_>) = std::mem::take(&mut subs.others)
            .into_iter()
            .partition(|(d, _)| !d.is_cancelled());
        subs.others = kept;
        subs.others.push((delivery, end));
        drop(subs);
        drop(cancelled);
        Ok(())
    }

    /// Queues `message` for every message listener.
    fn publish(&self, message: Message) {
        let mut subs = self.lock();
        if subs.ended {
            return;
        }
        let cancelled = without_cancelled(&mut subs.messages);
        for (delivery, listener) in &subs.messages {
            let (lane, delivery, listener, message) = (
                delivery.clone(),
                delivery.clone(),
                listener.clone(),
                message.clone(),
            );
            lane.post(Box::new(move || {
                delivery.deliver("MessageListener.on_message", || {
                    listener.on_message(message)
                });
            }));
        }
        drop(subs);
        drop(cancelled);
    }

    /// Registers the event handler that publishes text messages; it holds
    /// only this hub, never the matrix client.
    pub(crate) fn attach(self: &Arc<Self>, sdk: &crate::matrix::Sdk) {
        let events = Arc::downgrade(self);
        crate::matrix::rooms::on_text_messages(sdk, move |message| {
            if let Some(events) = events.upgrade() {
                events.publish(message);
            }
        });
    }

    /// Ends every subscription: each listener's last call is its end signal
    /// (`on_state(Terminated)`, `on_closed()`), then its lane closes.
    /// Waits for the queued calls until `deadline`; returns whether they all
    /// ran.
    pub(crate) fn end(&self, deadline: Instant) -> bool {
        let (sync, messages, others) = {
            let mut subs = self.lock();
            subs.ended = true;
            subs.state = SyncState::Terminated;
            (
                std::mem::take(&mut subs.sync),
                std::mem::take(&mut subs.messages),
                std::mem::take(&mut subs.others),
            )
        };
        let mut deliveries: Vec<Arc<Delivery>> = Vec::new();
        for subscriber in &sync {
            deliveries.push(subscriber.0.clone());
            post_state(subscriber, SyncState::Terminated);
        }
        for (delivery, listener) in messages {
            deliveries.push(delivery.clone());
            let lane = delivery.clone();
            lane.post(Box::new(move || {
                delivery.deliver_end("MessageListener.on_closed", || listener.on_closed());
            }));
        }
        for (delivery, end) in others {
            deliveries.push(delivery.clone());
            delivery.post(end);
        }
        let mut finished = true;
        for delivery in deliveries {
            if !delivery.close(deadline) {
                // This listener is stuck: what is still queued for it is
                // dropped, but its end signal, so that it hears that the
                // client ended and no ordinary call starts afterwards.
                delivery.silence();
                finished = false;
            }
        }
        finished
    }
}
