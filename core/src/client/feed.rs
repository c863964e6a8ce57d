//! [`ListFeed`]: a live list's diffs on their way to the app's listener,
//! bounded whatever the listener does.
//!
//! Batches of diffs queue on the subscription's lane in order. A batch that
//! holds a `Reset` replaces the batches still waiting (they describe a list
//! the `Reset` throws away). A listener that falls [`MAX_BACKLOG`] batches
//! behind gets, instead of the next batch, a `Reset` of the whole current
//! list in place of everything waiting: so a stalled listener costs at most
//! that many batches and one list, and when it wakes it sees the list as it
//! is, never a diff against a state it did not see.

use std::sync::Arc;

use super::subscription::Delivery;

/// Batches waiting for a listener before the feed resets it instead.
pub(crate) const MAX_BACKLOG: usize = 32;

type Call<L, U> = Arc<dyn Fn(&L, Vec<U>) + Send + Sync>;

/// The diffs of one list subscription.
pub(crate) struct ListFeed<L: ?Sized, U> {
    delivery: Arc<Delivery>,
    what: &'static str,
    call: Call<L, U>,
    is_reset: fn(&U) -> bool,
}

impl<L: ?Sized + Send + Sync + 'static, U: Send + 'static> ListFeed<L, U> {
    /// A feed that calls `call` (the listener's `on_update`) on `delivery`'s
    /// lane; `is_reset` tells a `Reset` diff.
    pub(crate) fn new(
        delivery: &Arc<Delivery>,
        what: &'static str,
        is_reset: fn(&U) -> bool,
        call: impl Fn(&L, Vec<U>) + Send + Sync + 'static,
    ) -> Self {
        Self {
            delivery: delivery.clone(),
            what,
            call: Arc::new(call),
            is_reset,
        }
    }

    /// Queues a batch of diffs; from its last `Reset` on, in place of the
    /// batches still waiting.
    pub(crate) fn post(&self, mut updates: Vec<U>) {
        if updates.is_empty() {
            return;
        }
        let call = self.call.clone();
        match updates.iter().rposition(|u| (self.is_reset)(u)) {
            Some(last_reset) => {
                updates.drain(..last_reset);
                self.delivery
                    .post_call_superseding(self.what, move |l: &L| call(l, updates));
            }
            None => self
                .delivery
                .post_call(self.what, move |l: &L| call(l, updates)),
        }
    }

    /// Whether the listener is [`MAX_BACKLOG`] batches behind: the caller
    /// then posts a `Reset` of the current list rather than more diffs.
    pub(crate) fn lagging(&self) -> bool {
        self.delivery.backlog() >= MAX_BACKLOG
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::subscription::Subscription;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    trait Sink: Send + Sync {
        fn on_update(&self, updates: Vec<i32>);
    }

    /// A listener that blocks on its first call until told, and records
    /// every batch; a `Reset` is a negative number.
    #[derive(Default)]
    struct Recorder {
        batches: Mutex<Vec<Vec<i32>>>,
        hold: AtomicBool,
    }

    impl Sink for Recorder {
        fn on_update(&self, updates: Vec<i32>) {
            while self.hold.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5)); // allowed: test-only
            }
            self.batches.lock().unwrap().push(updates); // allowed: test-only
        }
    }

    /// A stalled listener: its queue stops at the bound, a `Reset` drops what
    /// waits before it, and when it wakes it gets the `Reset` and what came
    /// after, never the diffs the `Reset` threw away.
    #[test]
    fn a_stalled_listener_costs_a_bounded_queue_and_wakes_to_a_reset() {
        let recorder = Arc::new(Recorder::default());
        recorder.hold.store(true, Ordering::SeqCst);
        let listener: Arc<dyn Sink> = recorder.clone();
        let (_subscription, delivery) = Subscription::for_listener(listener);
        let feed =
            ListFeed::<dyn Sink, i32>::new(&delivery, "test", |u| *u < 0, |l, u| l.on_update(u));
        feed.post(vec![-1]);
        // The first call is in progress (the listener holds it).
        let deadline = Instant::now() + Duration::from_secs(5);
        while delivery.backlog() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1)); // allowed: test-only
        }
        let mut resets = 0;
        for i in 1..=1000 {
            if feed.lagging() {
                resets += 1;
                feed.post(vec![-(i + 1)]);
            } else {
                feed.post(vec![i]);
            }
            assert!(
                delivery.backlog() <= MAX_BACKLOG + 1,
                "{}",
                delivery.backlog()
            );
        }
        feed.post(vec![2000, 2001]);
        feed.post(vec![3000, -3001, 3002]);
        recorder.hold.store(false, Ordering::SeqCst);
        assert!(delivery.close(Instant::now() + Duration::from_secs(5)));
        let batches = recorder.batches.lock().unwrap().clone(); // allowed: test-only
        assert!(resets > 0);
        // The first call was in progress; then only the last Reset and after.
        assert_eq!(batches.len(), 2, "{batches:?}");
        assert_eq!(batches[0], vec![-1]);
        assert_eq!(batches[1], vec![-3001, 3002]);
    }
}
