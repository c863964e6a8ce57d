//! Test hooks: named points where a test can hold the core still, and faults
//! a test can inject, to make a race or a failure that cannot be caused from
//! outside happen every time.
//!
//! The core calls [`pause_point`] and [`thread_spawn_fails`] at the places
//! named below. Outside the crate's own test build (`cfg(test)`) both are
//! empty inline functions: the released, benchmarked and FFI-loaded
//! libraries carry no hook, no global state and no extra export. The tests
//! that arm them (`core/tests/hooked/`) are a module of that test build
//! (`hooked_races`), run by `cargo xtask test rust` as a job of their own.
//!
//! In the test build, a test arms a point with [`pause_at`]: the next thread
//! that reaches it blocks there (with the core's locks it holds at that
//! point) until the test calls [`Pause::release`] or drops the [`Pause`].
//! [`Pause::wait_reached`] tells the test the thread is there. Every wait is
//! bounded, so a hook that is never released cannot wedge a test run.
//!
//! The points:
//! - `create.after_ready`: `Client::create`, after it has seen a running
//!   generation and before it leases one (on the caller's thread);
//! - `login.answered`: `login`, after the server has answered (the device
//!   exists) and before the session is installed (on a runtime worker);
//! - `registry.remove.visit`: `registry::remove`, at each client it looks at,
//!   with the registry's lock held (on the drain's thread);
//! - `with_sdk.picked`: a synchronous call (`session()`, `rooms()`), once it
//!   holds its clone of the matrix client (on the caller's thread);
//! - `drain.server_deadline`: a drain, once the deadline of the server steps
//!   (the key backup's wait, the server logout) is set (on the drain's
//!   thread);
//! - `bootstrap.begun`: `bootstrap_cross_signing`, before its first request
//!   (on a runtime worker);
//! - `recover.done`: `recover`, once the key was tried, right or wrong (on a
//!   runtime worker);
//! - `notification.claimed`: `get_notification`'s short-lived client, once
//!   it holds the `data_dir` (on a runtime worker);
//! - `recovery.enabled`: `enable_recovery`'s set-up, once the server holds
//!   the new secret store and before its key is handed out (on a runtime
//!   worker);
//! - `reaction.read`: `toggle_reaction`, once it has read this user's
//!   reaction and before it tries to take back a local echo (on a runtime
//!   worker);
//! - `shutdown.refusing`: `shutdown()`, once the runtime refuses new work
//!   and before it waits for creations and drains (on the shutdown's
//!   thread);
//! - `session.saving`: a refresh of the access token, once matrix-sdk has
//!   the new tokens and calls the save callback, with the refresh's lock
//!   held (on a runtime worker);
//! - `timeline.first_open`: a room's first timeline, once the room's event
//!   cache holds what sync carried and before it is emptied and the room
//!   subscribed (on a runtime worker).
//!
//! [`is_scrubbed`] tells whether the log scrubber holds a secret now.
//!
//! The counts ([`counted`]): `matrix_client.dropped_outside_runtime`, a
//! matrix client's inner state dropped on a thread outside any runtime's
//! context (`matrix/sentinel.rs`).
//!
//! The faults: [`fail_next_thread_spawn`] makes the next spawn of a core
//! thread of that name (`mmc-drain`) fail as the OS would refuse it.

/// A named point of the core where a test may hold the calling thread.
#[inline(always)]
pub(crate) fn pause_point(name: &'static str) {
    #[cfg(test)]
    armed::reached(name);
    #[cfg(not(test))]
    let _ = name;
}

/// Whether the spawn of the core thread `name` must fail (a test asked for it).
#[inline(always)]
pub(crate) fn thread_spawn_fails(name: &str) -> bool {
    #[cfg(test)]
    return armed::take_spawn_failure(name);
    #[cfg(not(test))]
    {
        let _ = name;
        false
    }
}

/// Counts an event named `name` when `happened()` says so; `happened` is
/// not even called outside the test build.
#[inline(always)]
pub(crate) fn count_if(name: &'static str, happened: impl FnOnce() -> bool) {
    #[cfg(test)]
    if happened() {
        armed::count(name);
    }
    #[cfg(not(test))]
    let _ = (name, happened);
}

#[cfg(test)]
pub use armed::{counted, fail_next_thread_spawn, pause_at, Pause};

/// Whether the log scrubber holds `secret` now (it replaces it in every
/// line the core writes).
#[cfg(test)]
pub fn is_scrubbed(secret: &str) -> bool {
    crate::logging::scrub::is_registered(secret)
}

#[cfg(test)]
mod armed {
    use std::sync::{Arc, Condvar, Mutex, MutexGuard};
    use std::time::{Duration, Instant};

    /// How long a thread stays held at a point nobody releases.
    const HOLD_AT_MOST: Duration = Duration::from_secs(120);

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Stage {
        Armed,
        Reached,
        Released,
    }

    struct Point {
        stage: Mutex<Stage>,
        changed: Condvar,
    }

    impl Point {
        fn stage(&self) -> MutexGuard<'_, Stage> {
            self.stage.lock().unwrap_or_else(|p| p.into_inner())
        }

        /// Waits until `done` or `deadline`; whether `done` holds.
        fn wait(&self, deadline: Instant, done: impl Fn(Stage) -> bool) -> bool {
            let mut stage = self.stage();
            while !done(*stage) {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return false;
                }
                stage = self
                    .changed
                    .wait_timeout(stage, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            true
        }

        fn set(&self, to: Stage) {
            *self.stage() = to;
            self.changed.notify_all();
        }
    }

    struct Armed {
        pauses: Vec<(&'static str, Arc<Point>)>,
        spawn_failures: Vec<String>,
        counts: Vec<(&'static str, u64)>,
    }

    static ARMED: Mutex<Armed> = Mutex::new(Armed {
        pauses: Vec::new(),
        spawn_failures: Vec::new(),
        counts: Vec::new(),
    });

    pub(super) fn count(name: &'static str) {
        let mut armed = armed();
        match armed.counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, n)) => *n += 1,
            None => armed.counts.push((name, 1)),
        }
    }

    /// How many times the event `name` happened in this process.
    pub fn counted(name: &str) -> u64 {
        armed()
            .counts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, n)| *n)
    }

    fn armed() -> MutexGuard<'static, Armed> {
        ARMED.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A point armed by a test; the thread held there goes on when this is
    /// released or dropped.
    pub struct Pause {
        point: Arc<Point>,
    }

    /// Arms `name`: the next thread that reaches it is held there. One
    /// thread per arming.
    pub fn pause_at(name: &'static str) -> Pause {
        let point = Arc::new(Point {
            stage: Mutex::new(Stage::Armed),
            changed: Condvar::new(),
        });
        armed().pauses.push((name, point.clone()));
        Pause { point }
    }

    impl Pause {
        /// Waits, at most `timeout`, until a thread is held at the point.
        pub fn wait_reached(&self, timeout: Duration) -> bool {
            self.point
                .wait(Instant::now() + timeout, |s| s != Stage::Armed)
        }

        /// Lets the held thread (or the next one to arrive) go on.
        pub fn release(&self) {
            self.point.set(Stage::Released);
        }
    }

    impl Drop for Pause {
        fn drop(&mut self) {
            armed().pauses.retain(|(_, p)| !Arc::ptr_eq(p, &self.point));
            self.release();
        }
    }

    pub(super) fn reached(name: &'static str) {
        let point = {
            let mut armed = armed();
            let Some(at) = armed.pauses.iter().position(|(n, _)| *n == name) else {
                return;
            };
            armed.pauses.remove(at).1
        };
        if *point.stage() == Stage::Released {
            return;
        }
        point.set(Stage::Reached);
        if !point.wait(Instant::now() + HOLD_AT_MOST, |s| s == Stage::Released) {
            tracing::error!(name, "a test hook held this thread too long; going on");
        }
    }

    /// Makes the next spawn of the core thread `name` fail.
    pub fn fail_next_thread_spawn(name: &str) {
        armed().spawn_failures.push(name.to_owned());
    }

    pub(super) fn take_spawn_failure(name: &str) -> bool {
        let mut armed = armed();
        match armed.spawn_failures.iter().position(|n| n == name) {
            Some(at) => {
                armed.spawn_failures.remove(at);
                true
            }
            None => false,
        }
    }
}
