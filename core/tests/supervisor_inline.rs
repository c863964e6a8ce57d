//! The supervised call with its first poll on the caller's thread
//! (`FirstPoll::Inline`): work that is ready at once never leaves the caller;
//! work that waits moves to a worker and keeps every guarantee of a call.

use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use futures_executor::block_on;
use matrix_mobile_core::runtime::{self, run_with};
use matrix_mobile_core::supervisor::FirstPoll;
use matrix_mobile_core::{runtime_stats, CoreError};

/// Waits (bounded) until no supervised task of the process is left.
fn wait_no_tasks() {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !runtime_stats().supervised_tasks.is_empty() {
        assert!(
            Instant::now() < deadline,
            "tasks left: {:?}",
            runtime_stats().supervised_tasks
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn ready_work_runs_on_the_callers_thread_and_leaves_no_task() {
    let caller = std::thread::current().id();
    let ran_on: Arc<Mutex<Option<ThreadId>>> = Arc::default();
    let seen = ran_on.clone();
    let result = block_on(run_with("inline-ready", FirstPoll::Inline, async move {
        *seen.lock().unwrap() = Some(std::thread::current().id());
        // Inside the runtime's context, as on a worker.
        Ok(tokio::runtime::Handle::try_current().is_ok())
    }));
    assert_eq!(result, Ok(true));
    assert_eq!(*ran_on.lock().unwrap(), Some(caller));
    wait_no_tasks();
}

#[test]
fn waiting_work_moves_to_a_worker_and_answers() {
    let caller = std::thread::current().id();
    let result = block_on(run_with(
        "inline-then-worker",
        FirstPoll::Inline,
        async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(std::thread::current().id())
        },
    ));
    let finished_on = result.unwrap();
    assert_ne!(
        finished_on, caller,
        "the rest of the work ran on the caller"
    );
    wait_no_tasks();
}

#[test]
fn a_panic_in_the_inline_poll_is_an_internal_error_not_an_unwind() {
    let result: Result<(), CoreError> =
        block_on(run_with("inline-panic", FirstPoll::Inline, async {
            panic!("boom in the first poll")
        }));
    assert!(
        matches!(result, Err(CoreError::Internal { .. })),
        "got {result:?}"
    );
    wait_no_tasks();
}

/// Sets its flag when dropped: shows that the work's future was dropped.
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn dropping_the_call_after_the_inline_poll_aborts_the_work() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = DropFlag(dropped.clone());
    let mut call = Box::pin(run_with(
        "inline-abandoned",
        FirstPoll::Inline,
        async move {
            let _flag = flag;
            std::future::pending::<()>().await;
            Ok(())
        },
    ));
    // One poll: the work runs inline, waits, and is handed to a worker.
    let first = block_on(poll_fn(|cx| {
        Poll::Ready(call.as_mut().poll(cx).is_pending())
    }));
    assert!(first, "the call ended although its work never does");
    drop(call);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !dropped.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the work outlived its call");
        std::thread::sleep(Duration::from_millis(2));
    }
    wait_no_tasks();
    assert!(runtime::start().is_ok());
}
