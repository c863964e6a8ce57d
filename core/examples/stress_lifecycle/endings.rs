//! How an iteration ends (drain every client, release them, or shut the
//! process down), and the check of every drain's report.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::api::{
    runtime_stats, shutdown, shutdown_blocking, Client, ClientState, LogoutOptions, RuntimeState,
    ShutdownOptions,
};
use crate::ops::Op;
use crate::reports::{self, Drained};
use crate::rng::Rng;
use crate::tally::tally;
use crate::workload::{Run, Slot, Worker, SLOTS};

impl Worker<'_> {
    /// Checks a drain's report against the process now. The directory is
    /// looked at only while the slot still holds this client (the slot's lock
    /// held: no other client can be created on it meanwhile).
    pub(crate) fn check_drain(
        &self,
        j: usize,
        client: &Arc<Client>,
        op: Op,
        wipe: bool,
        report: Drained,
    ) {
        let slot = self.run.slot(j);
        let ours = matches!(&slot.1, Slot::Live(c) if Arc::ptr_eq(c, client));
        let wrong = reports::problems(&report, ours.then_some(slot.2.as_path()), wipe);
        drop(slot);
        if !wrong.is_empty() {
            eprintln!("stress: a wrong {} report: {wrong:?}", op.name());
            let example = reports::example(self.iteration, op.name(), &report, wrong);
            tally().unexpected("drain_report", example);
        }
        tally().drains_checked += 1;
    }

    pub(crate) fn release_all(&mut self) {
        for j in 0..SLOTS {
            if let Some(client) = self.run.take(j) {
                self.call_sync(Op::Release, move || {
                    drop(client);
                    Ok(())
                });
            }
        }
    }

    /// Drains every client: logout (wiping) where logged in, close otherwise.
    pub(crate) fn drain_all(&mut self) {
        for j in 0..SLOTS {
            let Some(client) = self.client(j) else {
                continue;
            };
            if self.call_sync(Op::Read, || Ok(client.state())) == Some(ClientState::LoggedIn) {
                let options = LogoutOptions {
                    server_timeout_ms: 2000,
                    wipe_local_data: true,
                };
                self.run.homes.logged_out(j, true);
                if let Some(report) = self.call(Op::Logout, client.logout(options, None), false) {
                    self.check_drain(j, &client, Op::Logout, true, (&report).into());
                }
            } else if let Some(report) = self.call(Op::Close, client.close(None), false) {
                self.check_drain(j, &client, Op::Close, false, (&report).into());
            }
            self.release(j, client);
        }
    }
}

/// Shuts the process down at the end of an iteration (some clients released
/// before, the others after), then checks that it is clean.
pub fn shutdown_and_check(main: &mut Worker, when: &str) {
    for j in 0..SLOTS {
        if main.rng.chance(0.5) {
            if let Some(client) = main.run.take(j) {
                main.call_sync(Op::Release, move || {
                    drop(client);
                    Ok(())
                });
            }
        }
    }
    let options = ShutdownOptions { timeout_ms: 5000 };
    if main.rng.chance(0.5) {
        main.call(Op::Shutdown, shutdown(options), false);
    } else {
        main.call_sync(Op::ShutdownBlocking, || shutdown_blocking(options));
    }
    main.release_all();
    let (clean, state) = main.run.clean_state();
    let mut t = tally();
    t.shutdowns_checked += 1;
    if !clean {
        eprintln!("stress: not clean after the shutdown at the {when}: {state}");
        t.dirty_shutdown(json!({"when": when, "state": state}));
    }
}

/// The final shutdown of the run, and the check that the process is clean.
pub fn finish(run: &Run, iterations: u64) -> (bool, Value) {
    let mut main = Worker::new(run, Rng::derive(run.seed, &[u64::MAX]), iterations);
    main.release_all();
    let done = main.call_sync(Op::ShutdownBlocking, || {
        shutdown_blocking(ShutdownOptions { timeout_ms: 10_000 })
    });
    let (clean, mut state) = run.clean_state();
    state["final_shutdown_ok"] = json!(done.is_some());
    if let Some(report) = &done {
        state["final_shutdown_report"] = json!(format!("{report:?}"));
    }
    let clean = clean && done.is_some() && runtime_stats().state != RuntimeState::Running;
    (clean, state)
}
