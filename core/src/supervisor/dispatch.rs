//! [`Dispatcher`]: the thread of its own that calls one listener (a drain's
//! phase listener, the task failure listener), in order, with no core lock
//! held. Subscriptions share threads instead ([`super::Lane`]).
//!
//! Core code only queues a call (a channel send); the dispatcher runs it. So a
//! listener may call any core function, and a slow or blocked listener delays
//! only its own later calls: never another listener, sync, a drain or a
//! shutdown.

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

/// A queued listener call.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// A lazily started thread that runs queued listener calls in order.
pub(crate) struct Dispatcher {
    name: &'static str,
    queue: Mutex<Queue>,
    finished: Arc<(Mutex<bool>, Condvar)>,
}

struct Queue {
    sender: Option<Sender<Job>>,
    closed: bool,
}

impl Dispatcher {
    pub(crate) fn new(name: &'static str) -> Self {
        Self {
            name,
            queue: Mutex::new(Queue {
                sender: None,
                closed: false,
            }),
            finished: Arc::new((Mutex::new(true), Condvar::new())),
        }
    }

    /// Queues `job`; starts the thread on first use. Dropped once closed.
    pub(crate) fn post(&self, job: Job) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if queue.closed {
            return;
        }
        if queue.sender.is_none() {
            let (sender, receiver) = mpsc::channel::<Job>();
            let finished = self.finished.clone();
            *finished.0.lock().unwrap_or_else(|p| p.into_inner()) = false;
            let spawned = std::thread::Builder::new()
                .name(self.name.into())
                .spawn(move || {
                    while let Ok(job) = receiver.recv() {
                        job();
                    }
                    *finished.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
                    finished.1.notify_all();
                });
            match spawned {
                Ok(_) => queue.sender = Some(sender),
                Err(e) => {
                    *self.finished.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
                    tracing::error!(%e, "could not start a listener thread; the call is dropped");
                    return;
                }
            }
        }
        if let Some(sender) = &queue.sender {
            let _ = sender.send(job);
        }
    }

    /// Accepts no more jobs, without waiting: the thread ends once it has run
    /// what is queued.
    pub(crate) fn release(&self) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.closed = true;
        queue.sender = None;
    }

    /// Accepts no more jobs and waits until the queued ones ran, or until
    /// `deadline`. Returns whether the queue ran dry in time.
    pub(crate) fn close(&self, deadline: Instant) -> bool {
        self.release();
        let (lock, done) = &*self.finished;
        let mut finished = lock.lock().unwrap_or_else(|p| p.into_inner());
        while !*finished {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            finished = done
                .wait_timeout(finished, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}
