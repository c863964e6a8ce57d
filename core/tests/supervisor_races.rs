//! Races of the supervisor and the runtime stop, each a regression test of a
//! hang or deadlock that the code once had. No homeserver needed.

use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use matrix_mobile_core::supervisor::{TaskGroup, TaskKind};
use matrix_mobile_core::{runtime, shutdown_blocking, ShutdownOptions};

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn private_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Regression: `spawn` held the task table's lock while tokio took the task;
/// a runtime that is gone drops the task at once, and the task's drop locked
/// the same table: a self-deadlock.
#[test]
fn spawn_onto_a_runtime_that_is_gone_returns_without_deadlock() {
    let rt = private_runtime();
    let handle = rt.handle().clone();
    rt.shutdown_timeout(Duration::from_secs(1));
    let group = TaskGroup::new("gone", None);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let join = group.spawn(&handle, "late", TaskKind::Finite, async { Ok(()) });
        tx.send((join.is_some(), group.is_empty())).unwrap();
    });
    let (_, empty) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("spawn deadlocked on a runtime that is gone");
    assert!(empty, "the dropped task is still listed");
}

/// Regression: `spawn` checked that the group was open outside the task
/// table's lock, so a task spawned while `stop` ran was never dropped or
/// aborted, and whoever awaited it waited forever.
#[test]
fn a_task_spawned_while_its_group_stops_always_ends() {
    let rt = private_runtime();
    for round in 0..200 {
        let group = TaskGroup::new(format!("round-{round}"), None);
        let (spawner_group, handle) = (group.clone(), rt.handle().clone());
        let spawner = std::thread::spawn(move || {
            let mut joins = Vec::new();
            while let Some(join) =
                spawner_group.spawn(&handle, "pending", TaskKind::Finite, async {
                    std::future::pending::<()>().await;
                    Ok(())
                })
            {
                joins.push(join);
            }
            joins
        });
        std::thread::sleep(Duration::from_micros(50 * (round % 7)));
        let report = group.stop(
            rt.handle(),
            Duration::ZERO,
            Instant::now() + Duration::from_secs(5),
        );
        let joins = spawner.join().unwrap();
        for join in joins {
            let ended =
                rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), join).await });
            assert!(
                ended.is_ok(),
                "round {round}: a task outlived its group's stop"
            );
        }
        assert!(
            report.abandoned.is_empty(),
            "round {round}: {:?}",
            report.abandoned
        );
        assert!(
            group.is_empty(),
            "round {round}: tasks left {:?}",
            group.task_names()
        );
    }
}

/// Regression: the stop computed how many runtime threads were left and
/// threw the figure away, so "threads joined" was never checked. A blocking
/// thread that outlives the stop's bound is now reported.
#[test]
fn a_runtime_thread_that_outlives_the_stop_is_reported() {
    let _s = serial();
    runtime::start().unwrap();
    runtime::spawn("sleeper", TaskKind::Finite, async {
        let _ = tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_secs(2))).await;
        Ok(())
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let outcome = runtime::stop(Duration::from_millis(200), false).unwrap();
    assert!(
        outcome.threads_left.is_some_and(|n| n >= 1),
        "threads_left: {:?}",
        outcome.threads_left
    );
    std::thread::sleep(Duration::from_secs(2));

    // A clean stop joins every thread, and the shutdown report says so.
    runtime::start().unwrap();
    let report = shutdown_blocking(ShutdownOptions { timeout_ms: 5000 }).unwrap();
    assert_eq!(report.threads_left, Some(0));
}
