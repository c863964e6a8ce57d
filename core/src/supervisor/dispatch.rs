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
use std::thread::JoinHandle;
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
    /// The thread, joined by `close` once it has run dry, so that a closed
    /// dispatcher has no thread left (not merely one about to end).
    thread: Option<JoinHandle<()>>,
}

impl Dispatcher {
    pub(crate) fn new(name: &'static str) -> Self {
        Self {
            name,
            queue: Mutex::new(Queue {
                sender: None,
                closed: false,
                thread: None,
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
                Ok(thread) => {
                    queue.sender = Some(sender);
                    queue.thread = Some(thread);
                }
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
    /// `deadline`. Returns whether the queue ran dry in time; then the thread
    /// has ended too (joined: it had nothing left to do but return).
    pub(crate) fn close(&self, deadline: Instant) -> bool {
        self.release();
        {
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
        }
        let thread = self
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .thread
            .take();
        // Never the dispatcher's own thread (a listener that closes it).
        if let Some(thread) = thread.filter(|t| t.thread().id() != std::thread::current().id()) {
            let _ = thread.join();
        }
        true
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Threads of this process named `name` that the OS still lists.
    fn threads_named(name: &str) -> usize {
        std::fs::read_dir("/proc/self/task")
            .map(|tasks| {
                tasks
                    .flatten()
                    .filter(|t| {
                        std::fs::read_to_string(t.path().join("comm"))
                            .is_ok_and(|comm| comm.trim_end() == name)
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    /// A dispatcher that closed in time has no thread left, not one still
    /// ending (the lifecycle stress run saw `mmc-phases` listed right after
    /// a shutdown returned): its thread's last act, the destructors of its
    /// thread-locals, has run when `close` returns, and the kernel unlists
    /// it soon after (it may list a joined thread for a moment longer).
    #[test]
    fn a_closed_dispatcher_leaves_no_thread() {
        use std::cell::RefCell;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;

        struct SetWhenDropped(Arc<AtomicBool>);
        impl Drop for SetWhenDropped {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        thread_local! {
            static AT_EXIT: RefCell<Option<SetWhenDropped>> = const { RefCell::new(None) };
        }

        for _ in 0..300 {
            let ended = Arc::new(AtomicBool::new(false));
            let flag = SetWhenDropped(ended.clone());
            let dispatcher = Dispatcher::new("mmc-test-disp");
            dispatcher.post(Box::new(move || {
                AT_EXIT.with(|slot| *slot.borrow_mut() = Some(flag));
            }));
            assert!(dispatcher.close(Instant::now() + Duration::from_secs(5)));
            assert!(
                ended.load(Ordering::SeqCst),
                "close returned before its thread ended"
            );
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while threads_named("mmc-test-disp") != 0 {
            assert!(
                Instant::now() < deadline,
                "a closed dispatcher's thread is still listed"
            );
            // The OS has no notification for a thread leaving its list.
            std::thread::sleep(Duration::from_millis(1)); // allowed: a test
        }
    }
}
