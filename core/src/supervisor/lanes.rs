//! [`Lane`]: the listener calls of one subscription, in order, run by a small
//! pool of threads shared by every subscription of the process.
//!
//! Guarantees:
//! - a lane's calls run one at a time, in the order they were posted, never
//!   on a runtime thread and never under a core lock;
//! - a listener that blocks holds up only its own lane's later calls: while
//!   no listener blocks, at most [`BASE`] threads serve every lane; when every
//!   thread is inside a call that has run for [`STALL`] and other lanes wait,
//!   a spare thread starts (at most [`MAX`] in all);
//! - a thread that has had nothing to do for [`IDLE_EXIT`] ends, so an idle
//!   process keeps no listener thread;
//! - a lane's last call is its final one ([`Lane::post_final`]): nothing
//!   posted afterwards runs, and a superseding post never drops it;
//! - a post that supersedes what is queued ([`Lane::post_superseding`], a
//!   `Reset` of a list) drops the calls still waiting, so a stalled
//!   listener's queue does not grow with the changes it missed.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::dispatch::Job;

/// Threads that serve every lane while no listener blocks.
pub(crate) const BASE: usize = 4;
/// Most threads ever, blocked listeners included.
pub(crate) const MAX: usize = 64;
/// How long every thread must have been in its call before a spare starts.
pub(crate) const STALL: Duration = Duration::from_millis(50);
/// How long a thread waits for work before it ends.
pub(crate) const IDLE_EXIT: Duration = Duration::from_millis(250);

const THREAD_NAME: &str = "mmc-listeners";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One subscription's queue of listener calls.
pub(crate) struct Lane {
    inner: Arc<LaneInner>,
}

struct LaneInner {
    pool: &'static Pool,
    state: Mutex<LaneState>,
    /// Notified when the lane has nothing queued and nothing running.
    settled: Condvar,
}

#[derive(Default)]
struct LaneState {
    queue: VecDeque<Job>,
    /// In the pool's ready queue or running: at most once at a time.
    scheduled: bool,
    /// Takes no more calls.
    closed: bool,
    /// The final call is queued (the last of `queue`): takes no more calls,
    /// and a superseding post drops nothing.
    ended: bool,
}

impl Default for Lane {
    fn default() -> Self {
        Self::new()
    }
}

impl Lane {
    /// A lane served by the process's listener threads.
    pub(crate) fn new() -> Self {
        Self::in_pool(&POOL)
    }

    fn in_pool(pool: &'static Pool) -> Self {
        Self {
            inner: Arc::new(LaneInner {
                pool,
                state: Mutex::new(LaneState::default()),
                settled: Condvar::new(),
            }),
        }
    }

    /// Queues `job` after the lane's earlier calls. Dropped once closed or
    /// once the final call is queued.
    pub(crate) fn post(&self, job: Job) {
        self.push(job, false, false);
    }

    /// Queues `job` in place of the calls still waiting (the one running
    /// finishes), which are dropped: for a call that makes them moot (a
    /// list's `Reset`). Never drops the final call; dropped like
    /// [`Lane::post`] once the lane is closed or ended.
    pub(crate) fn post_superseding(&self, job: Job) {
        self.push(job, true, false);
    }

    /// Queues `job` as the lane's last call (an end signal): what is posted
    /// afterwards is dropped. Dropped itself once the lane is closed.
    pub(crate) fn post_final(&self, job: Job) {
        self.push(job, false, true);
    }

    /// Calls waiting in the lane (the one running not counted).
    pub(crate) fn backlog(&self) -> usize {
        lock(&self.inner.state).queue.len()
    }

    fn push(&self, job: Job, superseding: bool, last: bool) {
        let mut state = lock(&self.inner.state);
        if state.closed || state.ended {
            return;
        }
        let superseded = if superseding {
            std::mem::take(&mut state.queue)
        } else {
            VecDeque::new()
        };
        state.queue.push_back(job);
        state.ended = last;
        if !state.scheduled {
            state.scheduled = true;
            drop(state);
            self.inner.pool.schedule(self.inner.clone());
        } else {
            drop(state);
        }
        // The superseded calls' captures (a listener's data) go with no
        // lock held.
        drop(superseded);
    }

    /// Takes no more calls, without waiting: what is queued still runs.
    pub(crate) fn release(&self) {
        lock(&self.inner.state).closed = true;
    }

    /// Takes no more calls and waits until the queued ones ran, or until
    /// `deadline`. Returns whether the lane ran dry in time.
    pub(crate) fn close(&self, deadline: Instant) -> bool {
        let mut state = lock(&self.inner.state);
        state.closed = true;
        while state.scheduled {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .inner
                .settled
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}

/// The threads shared by every lane.
struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

#[derive(Default)]
struct PoolState {
    ready: VecDeque<Arc<LaneInner>>,
    workers: usize,
    idle: usize,
    /// When each busy thread began its current call.
    running: HashMap<u64, Instant>,
    next_id: u64,
    watching: bool,
}

static POOL: LazyLock<Pool> = LazyLock::new(Pool::new);

impl Pool {
    fn new() -> Self {
        Self {
            state: Mutex::new(PoolState::default()),
            work: Condvar::new(),
        }
    }

    /// Threads alive now.
    #[cfg(test)]
    fn threads(&self) -> usize {
        lock(&self.state).workers
    }

    fn schedule(&'static self, lane: Arc<LaneInner>) {
        let mut state = lock(&self.state);
        state.ready.push_back(lane);
        if state.idle > 0 {
            self.work.notify_one();
        } else if state.workers < BASE {
            self.start_worker(&mut state);
        } else if !state.watching {
            state.watching = true;
            let spawned = std::thread::Builder::new()
                .name(THREAD_NAME.into())
                .spawn(move || self.watch());
            if let Err(e) = spawned {
                state.watching = false;
                tracing::error!(%e, "could not start the listener pool's watch");
            }
        }
    }

    fn start_worker(&'static self, state: &mut PoolState) {
        let id = state.next_id;
        state.next_id += 1;
        let spawned = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || self.work(id));
        match spawned {
            Ok(_) => state.workers += 1,
            Err(e) => tracing::error!(%e, "could not start a listener thread; calls wait"),
        }
    }

    /// Starts a spare thread while lanes wait and every thread has been
    /// inside its call for [`STALL`]; ends once no lane waits.
    fn watch(&'static self) {
        loop {
            // A stall is the absence of an event (no call ends), so only time
            // passing can show it; this thread runs only while lanes wait and
            // every pool thread is inside a call.
            std::thread::sleep(STALL / 2); // allowed: a stall has no event to wait on
            let mut state = lock(&self.state);
            if state.ready.is_empty() {
                state.watching = false;
                return;
            }
            let stalled = state.idle == 0
                && state.workers < MAX
                && state.running.values().all(|t| t.elapsed() >= STALL);
            if stalled {
                self.start_worker(&mut state);
            }
        }
    }

    fn work(&'static self, id: u64) {
        loop {
            let lane = {
                let mut state = lock(&self.state);
                loop {
                    if let Some(lane) = state.ready.pop_front() {
                        break lane;
                    }
                    state.idle += 1;
                    let (next, waited) = self
                        .work
                        .wait_timeout(state, IDLE_EXIT)
                        .unwrap_or_else(|p| p.into_inner());
                    state = next;
                    state.idle -= 1;
                    if waited.timed_out() && state.ready.is_empty() {
                        state.workers -= 1;
                        return;
                    }
                }
            };
            lock(&self.state).running.insert(id, Instant::now());
            let job = lock(&lane.state).queue.pop_front();
            if let Some(job) = job {
                // Listener calls contain their own failures; this keeps the
                // thread alive whatever a job does.
                let _ = catch_unwind(AssertUnwindSafe(job));
            }
            lock(&self.state).running.remove(&id);
            let mut lane_state = lock(&lane.state);
            if lane_state.queue.is_empty() {
                lane_state.scheduled = false;
                drop(lane_state);
                lane.settled.notify_all();
            } else {
                // One call per turn: a busy lane goes to the back.
                drop(lane_state);
                let mut state = lock(&self.state);
                state.ready.push_back(lane);
                if state.idle > 0 {
                    self.work.notify_one();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A pool of the test's own, so that other tests' lanes do not count.
    fn pool() -> &'static Pool {
        Box::leak(Box::new(Pool::new()))
    }

    #[test]
    fn a_lane_runs_its_calls_in_order() {
        let lane = Lane::in_pool(pool());
        let seen = Arc::new(Mutex::new(Vec::new()));
        for i in 0..200 {
            let seen = seen.clone();
            lane.post(Box::new(move || seen.lock().unwrap().push(i))); // allowed: test-only
        }
        assert!(lane.close(Instant::now() + Duration::from_secs(10)));
        assert_eq!(*seen.lock().unwrap(), (0..200).collect::<Vec<_>>()); // allowed: test-only
    }

    /// More blocked listeners than the pool's base threads: another lane's
    /// call still runs, on a spare thread, and the blocked lanes' later
    /// calls wait for their own listener only.
    #[test]
    fn blocked_listeners_hold_up_only_their_own_lanes() {
        let pool = pool();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        let blocked: Vec<Lane> = (0..BASE + 2).map(|_| Lane::in_pool(pool)).collect();
        for lane in &blocked {
            let rx = release_rx.clone();
            lane.post(Box::new(move || {
                let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
                let _ = rx.recv_timeout(Duration::from_secs(20));
            }));
        }
        let other = Lane::in_pool(pool);
        let (ran_tx, ran_rx) = mpsc::channel();
        other.post(Box::new(move || ran_tx.send(()).unwrap())); // allowed: test-only
        let ran = ran_rx.recv_timeout(Duration::from_secs(5));
        let spares = pool.threads();
        for _ in 0..blocked.len() {
            let _ = release_tx.send(());
        }
        assert!(ran.is_ok(), "a free lane waited for blocked ones");
        assert!(spares > BASE, "no spare thread started ({spares})");
        for lane in &blocked {
            assert!(lane.close(Instant::now() + Duration::from_secs(20)));
        }
    }

    /// Many lanes with quick calls share the base threads: the threads do
    /// not grow with the number of subscriptions.
    #[test]
    fn many_quick_lanes_share_a_few_threads() {
        let pool = pool();
        let lanes: Vec<Lane> = (0..300).map(|_| Lane::in_pool(pool)).collect();
        let most = Arc::new(Mutex::new(0usize));
        for _ in 0..5 {
            for lane in &lanes {
                let most = most.clone();
                lane.post(Box::new(move || {
                    let mut m = most.lock().unwrap(); // allowed: test-only
                    *m = (*m).max(pool.threads());
                }));
            }
        }
        for lane in &lanes {
            assert!(lane.close(Instant::now() + Duration::from_secs(10)));
        }
        let most = *most.lock().unwrap(); // allowed: test-only
                                          // BASE, plus a spare or two if the machine stalled every thread.
        assert!(most <= BASE + 2, "{most} threads for 300 quick lanes");
    }

    #[test]
    fn idle_threads_end_and_a_panicking_call_does_not_stop_the_lane() {
        let pool = pool();
        let lane = Lane::in_pool(pool);
        lane.post(Box::new(|| panic!("a job that panics")));
        let (tx, rx) = mpsc::channel();
        lane.post(Box::new(move || tx.send(()).unwrap())); // allowed: test-only
        assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok());
        assert!(lane.close(Instant::now() + Duration::from_secs(5)));
        let deadline = Instant::now() + Duration::from_secs(5);
        while pool.threads() > 0 && Instant::now() < deadline {
            // A pool thread's exit sends no notification.
            std::thread::sleep(Duration::from_millis(20)); // allowed: test-only
        }
        assert_eq!(pool.threads(), 0, "an idle pool kept its threads");
    }
}
