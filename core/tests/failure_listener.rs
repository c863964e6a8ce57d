//! The task failure listener follows the listener rules of the contract: it
//! is called on a thread of the core's that is neither a runtime thread nor
//! the app's, with no core lock held, so that a listener that blocks (a hop
//! to the main thread) stalls no task, no group's stop and no shutdown.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use matrix_mobile_core::supervisor::TaskKind;
use matrix_mobile_core::{runtime, set_task_failure_listener, TaskFailure, TaskFailureListener};

/// Records where it was called, then blocks as a hop to a busy main thread would.
struct Blocking {
    calls: Mutex<Vec<(String, Option<String>)>>,
    block: Duration,
}

impl TaskFailureListener for Blocking {
    fn on_failure(&self, failure: TaskFailure) {
        let thread = std::thread::current().name().map(str::to_owned);
        self.calls.lock().unwrap().push((failure.task_name, thread));
        std::thread::sleep(self.block);
    }
}

#[test]
fn a_blocking_failure_listener_stalls_no_stop_and_runs_on_its_own_thread() {
    let listener = Arc::new(Blocking {
        calls: Mutex::new(Vec::new()),
        block: Duration::from_secs(4),
    });
    set_task_failure_listener(Some(listener.clone()));
    let test_thread = std::thread::current().name().map(str::to_owned);
    runtime::start().unwrap();
    runtime::spawn("panics-on-purpose", TaskKind::Finite, async {
        if std::hint::black_box(true) {
            panic!("on purpose");
        }
        Ok(())
    })
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while listener.calls.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the listener was never called");
        std::thread::sleep(Duration::from_millis(5));
    }

    // The listener is blocked now. Before the fix it blocked a worker inside
    // the failed task's poll: the stop ran to its deadline and left the
    // worker unjoined.
    let outcome = runtime::stop(Duration::from_secs(2), false).unwrap();
    assert!(outcome.tasks_abandoned.is_empty(), "{outcome:?}");
    assert_eq!(outcome.threads_left, Some(0), "{outcome:?}");

    let calls = listener.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (task, thread) = &calls[0];
    assert!(task.ends_with("panics-on-purpose"), "{task}");
    assert_eq!(thread.as_deref(), Some("mmc-failures"), "{calls:?}");
    assert_ne!(thread, &test_thread);
    set_task_failure_listener(None);
}
