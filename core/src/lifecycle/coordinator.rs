//! The one coordinator of creations, drains and the process shutdown.
//!
//! A shutdown must not stop the runtime under a client that is being built
//! or drained: it would drop stores with no runtime to close them. So every
//! creation and every drain holds a token here, and a shutdown waits until
//! each of them has either ended or *parked*. A drain parks when its stores
//! are closed and only the runtime's end is missing: the shutdown then stops
//! the runtime, which drops matrix-sdk's last tasks, and the parked drain
//! observes the client's drop before it returns.
//!
//! Every wait here is on a condition variable, bounded by a deadline, and
//! runs on a core thread (a drain or shutdown thread), never a foreign one.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crate::api::{CoreError, CoreResult};
use crate::runtime::RefuseGuard;

#[derive(Default)]
struct Counts {
    creates: u32,
    drains: u32,
    parked: u32,
    /// Bumped when a shutdown ends (whatever its outcome).
    epoch: u64,
    /// Until when the shutdown under way waits for drains.
    drains_deadline: Option<Instant>,
}

static COUNTS: Mutex<Counts> = Mutex::new(Counts {
    creates: 0,
    drains: 0,
    parked: 0,
    epoch: 0,
    drains_deadline: None,
});
static CHANGED: Condvar = Condvar::new();

fn counts() -> MutexGuard<'static, Counts> {
    COUNTS.lock().unwrap_or_else(|p| p.into_inner())
}

fn wait(deadline: Instant, mut done: impl FnMut(&Counts) -> bool) -> bool {
    let mut counts = counts();
    loop {
        if done(&counts) {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        counts = CHANGED
            .wait_timeout(counts, left)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

/// Held by a client's creation from its first step to its hand-over.
pub(crate) struct CreateToken(());

/// Counts a creation; `ShuttingDown` once a shutdown has begun.
pub(crate) fn begin_create() -> CoreResult<CreateToken> {
    let mut counts = counts();
    if RefuseGuard::active() {
        return Err(CoreError::ShuttingDown);
    }
    counts.creates += 1;
    Ok(CreateToken(()))
}

impl Drop for CreateToken {
    fn drop(&mut self) {
        counts().creates -= 1;
        CHANGED.notify_all();
    }
}

/// Held by a drain from its start to its report.
pub(crate) struct DrainToken(());

/// Counts a drain. Always accepted: a shutdown starts drains itself.
pub(crate) fn begin_drain() -> DrainToken {
    counts().drains += 1;
    CHANGED.notify_all();
    DrainToken(())
}

impl DrainToken {
    /// Waits, parked, until the shutdown that began before `epoch` was read
    /// has ended. Every shutdown ends within its own bound.
    pub(crate) fn park(&self, epoch: u64) {
        counts().parked += 1;
        CHANGED.notify_all();
        let mut counts = counts();
        while counts.epoch == epoch {
            counts = CHANGED.wait(counts).unwrap_or_else(|p| p.into_inner());
        }
        counts.parked -= 1;
        drop(counts);
        CHANGED.notify_all();
    }
}

impl Drop for DrainToken {
    fn drop(&mut self) {
        counts().drains -= 1;
        CHANGED.notify_all();
    }
}

/// The current shutdown epoch, read by a drain before it releases its lease.
pub(crate) fn epoch() -> u64 {
    counts().epoch
}

/// Whether a creation or a drain is under way.
pub(crate) fn busy() -> bool {
    let counts = counts();
    counts.creates > 0 || counts.drains > 0
}

/// Waits until no creation runs and every drain has ended or parked.
pub(crate) fn wait_settled(deadline: Instant) -> bool {
    wait(deadline, |c| c.creates == 0 && c.drains == c.parked)
}

/// Waits until every drain has ended.
pub(crate) fn wait_drained(deadline: Instant) -> bool {
    wait(deadline, |c| c.drains == 0)
}

/// A shutdown begins that waits for drains until `deadline`.
pub(crate) fn shutdown_began(deadline: Instant) {
    counts().drains_deadline = Some(deadline);
}

/// Until when the shutdown under way waits for drains, if one is under way.
pub(crate) fn drains_deadline() -> Option<Instant> {
    counts().drains_deadline
}

/// A shutdown ended: parked drains carry on.
pub(crate) fn shutdown_ended() {
    let mut counts = counts();
    counts.epoch += 1;
    counts.drains_deadline = None;
    drop(counts);
    CHANGED.notify_all();
}
