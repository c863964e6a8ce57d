//! [`Events`]: a client's listeners, its sync state, and the messages that
//! sync delivers, fanned out to each listener's own lane of calls.
//!
//! Every listener call is queued under this module's lock (so that calls
//! reach each listener in the order of the changes) and run later by that
//! listener's thread, with no lock held. When the client ends, [`Events::end`] sends
//! each listener its end signal as its last call. The listeners themselves
//! are held by their subscriptions ([`Delivery`]), which let go of them when
//! cancelled, never under this module's lock.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::subscription::{Delivery, Subscription};
use crate::api::{CoreError, CoreResult, Message, MessageListener, SyncState, SyncStateListener};
use crate::supervisor::Job;

struct Subscribers {
    /// Set by [`Events::end`]: no subscription is accepted afterwards.
    ended: bool,
    state: SyncState,
    sync: Vec<Arc<Delivery>>,
    messages: Vec<Arc<Delivery>>,
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

fn post_state(delivery: &Arc<Delivery>, state: SyncState) {
    const WHAT: &str = "SyncStateListener.on_state";
    if state == SyncState::Terminated {
        let end = delivery.end_call::<dyn SyncStateListener>(WHAT, move |l| l.on_state(state));
        delivery.post_end(end);
    } else {
        delivery.post_call::<dyn SyncStateListener>(WHAT, move |l| l.on_state(state));
    }
}

/// Takes the cancelled subscribers out of `list` (their listeners were
/// released when they were cancelled).
fn drop_cancelled(list: &mut Vec<Arc<Delivery>>) {
    list.retain(|d| !d.is_cancelled());
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
        drop_cancelled(&mut subs.sync);
        for subscriber in &subs.sync {
            post_state(subscriber, state);
        }
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
        drop_cancelled(&mut subs.sync);
        let (subscription, delivery) = Subscription::for_listener(listener);
        post_state(&delivery, subs.state);
        subs.sync.push(delivery);
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
        drop_cancelled(&mut subs.messages);
        let (subscription, delivery) = Subscription::for_listener(listener);
        subs.messages.push(delivery);
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
        // Their end jobs go with no lock held.
        drop(cancelled);
        Ok(())
    }

    /// Queues `message` for every message listener.
    fn publish(&self, message: Message) {
        let mut subs = self.lock();
        if subs.ended {
            return;
        }
        drop_cancelled(&mut subs.messages);
        for delivery in &subs.messages {
            let message = message.clone();
            delivery.post_call::<dyn MessageListener>("MessageListener.on_message", move |l| {
                l.on_message(message)
            });
        }
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
        for delivery in sync {
            post_state(&delivery, SyncState::Terminated);
            deliveries.push(delivery);
        }
        for delivery in messages {
            let end = delivery
                .end_call::<dyn MessageListener>("MessageListener.on_closed", |l| l.on_closed());
            delivery.post_end(end);
            deliveries.push(delivery);
        }
        for (delivery, end) in others {
            delivery.post_end(end);
            deliveries.push(delivery);
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
