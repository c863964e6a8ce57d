//! The watchdog: every call registers itself with its bound, and a thread
//! looks for calls that stay inside the core past it (a poll or a sync call
//! that blocks, which the poll loop cannot see).
//!
//! A call past its bound counts as a hang when it returns. A call still stuck
//! [`WEDGED_AFTER`] past its bound will never return: the watchdog then hands
//! the stuck calls to its `on_wedged` callback, which writes the report and
//! ends the process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long past its bound a stuck call may stay before the run is declared wedged.
pub const WEDGED_AFTER: Duration = Duration::from_secs(45);

/// Name of the watchdog's thread, left out of the final thread count.
pub const THREAD_NAME: &str = "stress-watchdog";

struct InFlight {
    op: &'static str,
    iteration: u64,
    thread: String,
    started: Instant,
    bound: Duration,
    reported: bool,
}

/// The table of calls in flight, and the thread that watches it.
pub struct Watchdog {
    calls: Mutex<HashMap<u64, InFlight>>,
    next: AtomicU64,
    stop: AtomicBool,
}

/// Held for the length of one call; dropping it ends the registration.
pub struct Ticket<'a> {
    dog: &'a Watchdog,
    id: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.dog.lock().remove(&self.id);
    }
}

impl Watchdog {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            calls: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, InFlight>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a call that should return within `bound`.
    pub fn enter(&self, op: &'static str, iteration: u64, bound: Duration) -> Ticket<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let thread = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_owned();
        self.lock().insert(
            id,
            InFlight {
                op,
                iteration,
                thread,
                started: Instant::now(),
                bound,
                reported: false,
            },
        );
        Ticket { dog: self, id }
    }

    /// Calls past their bound right now, as report entries.
    pub fn stuck(&self) -> Vec<Value> {
        self.lock()
            .values()
            .filter(|c| c.started.elapsed() > c.bound)
            .map(describe)
            .collect()
    }

    /// Starts the watching thread.
    pub fn spawn(
        self: &Arc<Self>,
        on_wedged: impl Fn(Vec<Value>) + Send + 'static,
    ) -> JoinHandle<()> {
        let dog = self.clone();
        std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || {
                while !dog.stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(100));
                    let mut wedged = false;
                    for call in dog.lock().values_mut() {
                        let over = call.started.elapsed().saturating_sub(call.bound);
                        if over > Duration::ZERO && !call.reported {
                            call.reported = true;
                            eprintln!(
                                "stress: HANG? {} (iteration {}, thread {}) is past its bound of {:?}",
                                call.op, call.iteration, call.thread, call.bound
                            );
                        }
                        wedged |= over > WEDGED_AFTER;
                    }
                    if wedged {
                        on_wedged(dog.stuck());
                    }
                }
            })
            .expect("spawn the watchdog thread")
    }

    /// Asks the watching thread to end (join its handle afterwards).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn describe(call: &InFlight) -> Value {
    json!({
        "op": call.op,
        "iteration": call.iteration,
        "thread": call.thread,
        "bound_ms": call.bound.as_millis() as u64,
        "elapsed_ms": call.started.elapsed().as_millis() as u64,
        "returned": false,
    })
}
