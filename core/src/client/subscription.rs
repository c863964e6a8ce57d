//! [`Subscription`]: the handle of one listener registration, and
//! [`Delivery`], its shared state with the thread that calls the listener.
//!
//! Each subscription has its own lane of calls (`supervisor::Lane`), run in
//! order by a few listener threads shared by every subscription; a listener
//! that blocks holds up only its own later calls.
//!
//! One way to feed a listener, used by every subscription: the [`Delivery`]
//! holds the foreign listener, and every call is queued on its lane as a
//! closure that borrows the listener only when it runs
//! ([`Delivery::post_call`], [`Delivery::end_call`]). So a cancelled or
//! dropped subscription releases its listener at once (a Kotlin Fragment or
//! a Swift view model is not kept alive by calls still queued), and so does
//! one whose end signal was delivered.

use std::any::Any;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::api::listeners::call_foreign;
use crate::supervisor::{Job, Lane};

/// Longest time `cancel()` waits for a delivery that is in progress.
const CANCEL_WAIT: Duration = Duration::from_millis(100);

/// One registered listener. `cancel()` or dropping it stops delivery.
///
/// When `cancel` returns, no new call to the listener starts. A call that is
/// in progress is waited for, at most 100 ms (not at all from inside the
/// listener itself), so that a listener that waits for the cancelling
/// thread cannot deadlock it.
#[derive(uniffi::Object)]
pub struct Subscription {
    state: Arc<Delivery>,
}

/// Shared between a subscription and the thread that delivers to it.
pub(crate) struct Delivery {
    /// This listener's queue of calls, run in order by the shared listener
    /// threads.
    lane: Lane,
    cancelled: AtomicBool,
    /// Set by the core when its client ended and the listener is stuck:
    /// ordinary calls stop, the end signal still comes.
    silenced: AtomicBool,
    /// Cancelled with the subscription: the task that feeds it stops.
    token: tokio_util::sync::CancellationToken,
    /// Whether a listener call is in progress; guarded, never held during it.
    active: Mutex<bool>,
    idle: Condvar,
    /// The foreign listener (an `Arc<dyn …Listener>`), until the
    /// subscription is cancelled or its end signal has been delivered.
    listener: Mutex<Option<Box<dyn Any + Send + Sync>>>,
}

thread_local! {
    /// Whether this thread is inside a listener call right now.
    static DELIVERING: Cell<bool> = const { Cell::new(false) };
}

impl Delivery {
    fn new() -> Self {
        Self {
            lane: Lane::new(),
            cancelled: AtomicBool::new(false),
            silenced: AtomicBool::new(false),
            token: tokio_util::sync::CancellationToken::new(),
            active: Mutex::new(false),
            idle: Condvar::new(),
            listener: Mutex::new(None),
        }
    }

    /// The listener, while the subscription holds it.
    fn listener<L: ?Sized + Send + Sync + 'static>(&self) -> Option<Arc<L>> {
        let slot = self.listener.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref()?.downcast_ref::<Arc<L>>().cloned()
    }

    /// Lets go of the listener (its last reference, if the app holds none),
    /// with no lock held.
    fn release_listener(&self) {
        let taken = self
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(taken);
    }

    /// Queues `call` on the listener `L`, after the earlier calls; it runs
    /// unless the subscription was cancelled or silenced by then.
    pub(crate) fn post_call<L: ?Sized + Send + Sync + 'static>(
        self: &Arc<Self>,
        what: &'static str,
        call: impl FnOnce(&L) + Send + 'static,
    ) {
        self.lane.post(self.call_job(what, call));
    }

    /// [`Delivery::post_call`] for a call that makes the waiting ones moot
    /// (a list's `Reset`): they are dropped.
    pub(crate) fn post_call_superseding<L: ?Sized + Send + Sync + 'static>(
        self: &Arc<Self>,
        what: &'static str,
        call: impl FnOnce(&L) + Send + 'static,
    ) {
        self.lane.post_superseding(self.call_job(what, call));
    }

    fn call_job<L: ?Sized + Send + Sync + 'static>(
        self: &Arc<Self>,
        what: &'static str,
        call: impl FnOnce(&L) + Send + 'static,
    ) -> Job {
        let delivery = self.clone();
        Box::new(move || {
            if let Some(listener) = delivery.listener::<L>() {
                delivery.deliver(what, || call(&listener));
            }
        })
    }

    /// The end signal `call` of the listener `L`, as a job for the client's
    /// end: it runs even when the listener was silenced (not when
    /// cancelled), then the listener is released.
    pub(crate) fn end_call<L: ?Sized + Send + Sync + 'static>(
        self: &Arc<Self>,
        what: &'static str,
        call: impl FnOnce(&L) + Send + 'static,
    ) -> Job {
        let delivery = self.clone();
        Box::new(move || {
            if let Some(listener) = delivery.listener::<L>() {
                delivery.deliver_end(what, || call(&listener));
            }
            delivery.release_listener();
        })
    }

    /// Queues `end` (from [`Delivery::end_call`]) as the listener's last
    /// call: nothing posted afterwards runs.
    pub(crate) fn post_end(&self, end: Job) {
        self.lane.post_final(end);
    }

    /// Calls waiting in this listener's lane.
    pub(crate) fn backlog(&self) -> usize {
        self.lane.backlog()
    }

    /// A delivery to `listener` that no `Subscription` owns (an upload's
    /// progress: the app holds no handle to cancel). It takes calls until
    /// [`Delivery::release`]; the listener goes with its last queued call.
    pub(crate) fn detached<L: ?Sized + Send + Sync + 'static>(listener: Arc<L>) -> Arc<Self> {
        let delivery = Self::new();
        *delivery.listener.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(listener));
        Arc::new(delivery)
    }

    /// Takes no more calls, without waiting: what is queued still runs.
    pub(crate) fn release(&self) {
        self.lane.release();
    }

    /// Takes no more calls and waits until the queued ones ran, or until
    /// `deadline`; returns whether they did.
    pub(crate) fn close(&self, deadline: std::time::Instant) -> bool {
        self.lane.close(deadline)
    }

    /// Calls the listener through `deliver` unless cancelled or silenced,
    /// containing a throw; returns `false` when it did not call. No lock is
    /// held during the call.
    pub(crate) fn deliver(&self, what: &str, deliver: impl FnOnce()) -> bool {
        if self.silenced.load(Ordering::SeqCst) {
            return false;
        }
        self.deliver_end(what, deliver)
    }

    /// [`Delivery::deliver`] for the end signal: only a cancel stops it.
    pub(crate) fn deliver_end(&self, what: &str, deliver: impl FnOnce()) -> bool {
        {
            let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
            if self.cancelled.load(Ordering::SeqCst) {
                return false;
            }
            *active = true;
        }
        let outer = DELIVERING.with(|d| d.replace(true));
        call_foreign(what, deliver);
        DELIVERING.with(|d| d.set(outer));
        *self.active.lock().unwrap_or_else(|p| p.into_inner()) = false;
        self.idle.notify_all();
        true
    }

    /// Starts no further ordinary call (the end signal still comes), without
    /// waiting: for a listener that did not finish its queue in time.
    pub(crate) fn silence(&self) {
        self.silenced.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Resolves once the subscription is cancelled or dropped.
    pub(crate) fn cancelled(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.token.clone().cancelled_owned()
    }

    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.token.cancel();
        // Queued calls see `cancelled` and skip; the thread then ends.
        self.lane.release();
        // Queued calls fetch the listener when they run: released now, it
        // is not kept alive by them.
        self.release_listener();
        if DELIVERING.with(|d| d.get()) {
            return;
        }
        let active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self
            .idle
            .wait_timeout_while(active, CANCEL_WAIT, |active| *active);
    }
}

impl Subscription {
    pub(crate) fn new() -> (Arc<Self>, Arc<Delivery>) {
        let state = Arc::new(Delivery::new());
        (
            Arc::new(Self {
                state: state.clone(),
            }),
            state,
        )
    }

    /// A subscription that holds `listener` until it is cancelled or its
    /// end signal is delivered; its calls go through
    /// [`Delivery::post_call`] and [`Delivery::end_call`].
    pub(crate) fn for_listener<L: ?Sized + Send + Sync + 'static>(
        listener: Arc<L>,
    ) -> (Arc<Self>, Arc<Delivery>) {
        let (subscription, delivery) = Self::new();
        *delivery.listener.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(listener));
        (subscription, delivery)
    }
}

#[uniffi::export]
impl Subscription {
    /// Stops delivery. Idempotent. Waits at most 100 ms for a call in progress.
    pub fn cancel(&self) {
        self.state.cancel();
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.state.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Regression: `cancel` used to wait without a bound for a delivery in
    /// progress, so a listener that waited for the cancelling thread (a hop
    /// to the main thread) deadlocked both.
    #[test]
    fn cancel_waits_at_most_its_bound_for_a_blocked_listener(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let (subscription, delivery) = Subscription::new();
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let deliverer = std::thread::spawn(move || {
            delivery.deliver("test", || {
                let _ = entered_tx.send(());
                // Waits for the thread that cancels: a main-thread hop.
                let _ = release_rx.recv_timeout(Duration::from_secs(10));
            })
        });
        entered_rx.recv()?;
        let started = Instant::now();
        subscription.cancel();
        let waited = started.elapsed();
        release_tx.send(())?;
        assert!(deliverer.join().is_ok_and(|delivered| delivered));
        assert!(waited < Duration::from_secs(5), "cancel waited {waited:?}");
        Ok(())
    }

    #[test]
    fn nothing_is_delivered_after_cancel() {
        let (subscription, delivery) = Subscription::new();
        subscription.cancel();
        let mut called = false;
        assert!(!delivery.deliver("test", || called = true));
        assert!(!called);
    }

    trait Counter: Send + Sync {
        fn hit(&self);
    }

    #[derive(Default)]
    struct Hits(std::sync::atomic::AtomicU32);

    impl Counter for Hits {
        fn hit(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Regression: queued calls held the listener (and the client's lists
    /// held it until the next registration), so a cancelled subscription
    /// kept a Kotlin Fragment or a Swift view model alive.
    #[test]
    fn a_cancelled_subscription_releases_its_listener_at_once(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let hits = Arc::new(Hits::default());
        let listener: Arc<dyn Counter> = hits.clone();
        let (subscription, delivery) = Subscription::for_listener(listener);
        // A call in progress holds up the lane, so the next ones wait in it.
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        delivery.post_call::<dyn Counter>("test", move |l| {
            l.hit();
            let _ = entered_tx.send(());
            let _ = release_rx.recv_timeout(Duration::from_secs(10));
        });
        entered_rx.recv_timeout(Duration::from_secs(5))?;
        for _ in 0..10 {
            delivery.post_call::<dyn Counter>("test", |l| l.hit());
        }
        subscription.cancel();
        // Only the call in progress holds the listener now.
        assert_eq!(Arc::strong_count(&hits), 2);
        release_tx.send(())?;
        assert!(delivery.close(Instant::now() + Duration::from_secs(5)));
        assert_eq!(Arc::strong_count(&hits), 1, "the listener was kept");
        assert_eq!(hits.0.load(Ordering::SeqCst), 1, "a call ran after cancel");
        Ok(())
    }

    /// The end signal is the last call, and the listener goes with it.
    #[test]
    fn nothing_runs_after_the_end_signal_and_the_listener_goes_with_it() {
        let hits = Arc::new(Hits::default());
        let listener: Arc<dyn Counter> = hits.clone();
        let (_subscription, delivery) = Subscription::for_listener(listener);
        let end = delivery.end_call::<dyn Counter>("end", |l| l.hit());
        delivery.post_end(end);
        delivery.post_call::<dyn Counter>("late", |l| l.hit());
        assert!(delivery.close(Instant::now() + Duration::from_secs(5)));
        assert_eq!(hits.0.load(Ordering::SeqCst), 1);
        assert_eq!(Arc::strong_count(&hits), 1, "the listener was kept");
    }

    #[test]
    fn a_listener_may_cancel_its_own_subscription() {
        let (subscription, delivery) = Subscription::new();
        let sub = subscription.clone();
        assert!(delivery.deliver("test", move || sub.cancel()));
        assert!(delivery.is_cancelled());
    }
}
