//! The workload: per iteration, two or three worker threads run a seeded
//! random burst of calls on two or three clients, a fault may come and go,
//! and the iteration ends by keeping, draining, releasing or shutting down.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{json, Value};

use crate::api::{
    platform, runtime_stats, shutdown, shutdown_blocking, Client, ClientConfig, ClientState,
    CoreError, LogoutOptions, RuntimeState, ShutdownOptions,
};
use crate::drive::{drive, run_sync, CancelPlan, Outcome};
use crate::faults::{fault_name, FaultClock};
use crate::homeserver::{Fault, FaultProxy};
use crate::listeners::{PhaseProbe, Probe};
use crate::ops::{kind, Op, REQUEST_TIMEOUT};
use crate::rng::Rng;
use crate::tally::tally;
use crate::watchdog::Watchdog;

/// How many client slots the run has; each iteration uses two or three.
pub const SLOTS: usize = 3;

/// What a slot holds.
enum Slot {
    Empty,
    /// A `create` is under way; nobody else may create here.
    Creating,
    Live(Arc<Client>),
}

/// Everything the threads of the run share.
pub struct Run {
    pub seed: u64,
    /// User names (local parts), one per slot, registered up front.
    pub users: Vec<String>,
    pub password: String,
    /// A room every user has joined.
    pub room_id: String,
    pub proxy: FaultProxy,
    /// Parent of every data dir of the run.
    pub root: PathBuf,
    pub dog: Arc<Watchdog>,
    /// Threads of the process before the core was first used.
    pub baseline_threads: Option<u32>,
    slots: Vec<Mutex<(u64, Slot)>>,
    faults: FaultClock,
    /// Data dirs not yet removed.
    dirs: Mutex<Vec<PathBuf>>,
}

impl Run {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        seed: u64,
        users: Vec<String>,
        password: String,
        room_id: String,
        proxy: FaultProxy,
        root: PathBuf,
        dog: Arc<Watchdog>,
        baseline_threads: Option<u32>,
    ) -> Self {
        Self {
            seed,
            users,
            password,
            room_id,
            proxy,
            root,
            dog,
            baseline_threads,
            slots: (0..SLOTS).map(|_| Mutex::new((0, Slot::Empty))).collect(),
            faults: FaultClock::default(),
            dirs: Mutex::new(Vec::new()),
        }
    }

    fn slot(&self, j: usize) -> std::sync::MutexGuard<'_, (u64, Slot)> {
        self.slots[j].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Empties slot `j`; returns the client it held.
    fn take(&self, j: usize) -> Option<Arc<Client>> {
        let mut slot = self.slot(j);
        match std::mem::replace(&mut slot.1, Slot::Empty) {
            Slot::Live(c) => Some(c),
            Slot::Creating => {
                slot.1 = Slot::Creating;
                None
            }
            Slot::Empty => None,
        }
    }

    /// Removes the data dirs that nothing holds open any more.
    fn sweep_dirs(&self) {
        let mut dirs = self.dirs.lock().unwrap_or_else(|p| p.into_inner());
        dirs.retain(|dir| {
            if platform::open_files_under(dir).unwrap_or(0) > 0 {
                return true;
            }
            let _ = std::fs::remove_dir_all(dir);
            false
        });
    }
}

/// One thread's view: the run, its own generator, where it is.
struct Worker<'a> {
    run: &'a Run,
    rng: Rng,
    iteration: u64,
}

impl Worker<'_> {
    /// Drives an async call to its end, its bound, or (one time in five,
    /// where `may_cancel`) its cancellation half way; records the outcome.
    fn call<T, F>(&mut self, op: Op, fut: F, may_cancel: bool) -> Option<T>
    where
        F: Future<Output = Result<T, CoreError>>,
    {
        let plan = (may_cancel && self.rng.chance(0.2)).then(|| CancelPlan {
            after_polls: self.rng.range(1, 6) as u32,
            after: self.rng.millis(0, 300),
        });
        let started = Instant::now();
        let ticket = self.run.dog.enter(op.name(), self.iteration, op.bound());
        let outcome = drive(fut, op.bound(), plan);
        drop(ticket);
        self.record(op, outcome, started)
    }

    /// Runs a synchronous call under the watchdog; records the outcome.
    fn call_sync<T>(&mut self, op: Op, call: impl FnOnce() -> Result<T, CoreError>) -> Option<T> {
        let started = Instant::now();
        let ticket = self.run.dog.enter(op.name(), self.iteration, op.bound());
        let outcome = run_sync(call);
        drop(ticket);
        self.record(op, outcome, started)
    }

    fn record<T>(
        &self,
        op: Op,
        outcome: Outcome<Result<T, CoreError>>,
        started: Instant,
    ) -> Option<T> {
        let elapsed = started.elapsed();
        let faulted = self.run.faults.faulted_since(started);
        let example = |what: String| {
            json!({
                "iteration": self.iteration,
                "op": op.name(),
                "thread": std::thread::current().name().unwrap_or("unnamed"),
                "elapsed_ms": elapsed.as_millis() as u64,
                "faulted": faulted,
                "error": what,
            })
        };
        let mut t = tally();
        let count = t.op(op.name(), elapsed);
        let over = elapsed > op.bound() || matches!(outcome, Outcome::OverBound);
        let value = match outcome {
            Outcome::Done(Ok(value)) => {
                count.ok += 1;
                Some(value)
            }
            Outcome::Done(Err(error)) => {
                let allowed = op.allowed(&error, faulted);
                t.error(
                    op.name(),
                    kind(&error),
                    allowed,
                    example(format!("{error:?}")),
                );
                None
            }
            Outcome::Cancelled => {
                count.cancelled += 1;
                None
            }
            Outcome::OverBound => None,
            Outcome::Panicked(message) => {
                t.unexpected("panic", example(format!("the call panicked: {message}")));
                None
            }
        };
        if over {
            t.hang(
                op.name(),
                example(format!("past its bound of {} ms", op.bound().as_millis())),
            );
        }
        value
    }

    fn client(&mut self, j: usize) -> Option<Arc<Client>> {
        match &self.run.slot(j).1 {
            Slot::Live(c) => Some(c.clone()),
            _ => None,
        }
    }

    fn config(&self, dir: &std::path::Path) -> ClientConfig {
        ClientConfig {
            homeserver_url: self.run.proxy.url.clone(),
            data_dir: dir.to_string_lossy().into_owned(),
            store_passphrase: None,
            request_timeout_ms: REQUEST_TIMEOUT.as_millis() as u32,
            additional_root_certificates: Vec::new(),
        }
    }

    /// One random call on one of `slots`.
    fn step(&mut self, slots: &[usize]) {
        let j = slots[self.rng.range(0, slots.len() as u64 - 1) as usize];
        if self.rng.chance(1.0 / 60.0) {
            return self.shutdown();
        }
        let Some(client) = self.client(j) else {
            return if self.rng.chance(0.85) {
                self.create(j)
            } else {
                self.read(None)
            };
        };
        let state = self.call_sync(Op::Read, || Ok(client.state()));
        let login = if state == Some(ClientState::Created) {
            30
        } else {
            2
        };
        // login start stop send recent rooms obs_m obs_s read logout close pause resume release
        let weights = [login, 8, 3, 8, 3, 4, 4, 3, 3, 3, 3, 3, 4, 5];
        match self.rng.weighted(&weights) {
            0 => {
                let user = self.run.users[j].clone();
                let password = self.run.password.clone();
                let device = Some(format!("stress-{}", self.iteration));
                self.call(Op::Login, client.login(user, password, device), true);
            }
            1 => {
                self.call(Op::StartSync, client.start_sync(), true);
            }
            2 => {
                self.call(Op::StopSync, client.stop_sync(), true);
            }
            3 => {
                let body = format!("stress {} {}", self.iteration, self.rng.next() % 1000);
                let room = self.run.room_id.clone();
                self.call(Op::SendText, client.send_text(room, body), true);
            }
            4 => {
                let room = self.run.room_id.clone();
                self.call(Op::RecentMessages, client.recent_messages(room, 10), true);
            }
            5 => {
                self.call_sync(Op::Rooms, || client.rooms());
            }
            6 => self.observe(&client, true),
            7 => self.observe(&client, false),
            8 => self.read(Some(&client)),
            9 => {
                let options = LogoutOptions {
                    server_timeout_ms: 2000,
                    wipe_local_data: self.rng.chance(0.5),
                };
                let listener = self
                    .rng
                    .chance(0.3)
                    .then(|| Arc::new(PhaseProbe) as Arc<dyn crate::api::LifecycleListener>);
                self.call(Op::Logout, client.logout(options, listener), true);
            }
            10 => {
                let listener = self
                    .rng
                    .chance(0.3)
                    .then(|| Arc::new(PhaseProbe) as Arc<dyn crate::api::LifecycleListener>);
                self.call(Op::Close, client.close(listener), true);
            }
            11 => {
                self.call(Op::Pause, client.pause(), true);
            }
            12 => {
                self.call(Op::Resume, client.resume(), true);
            }
            _ => self.release(j, client),
        }
    }

    fn create(&mut self, j: usize) {
        let dir = {
            let mut slot = self.run.slot(j);
            if !matches!(slot.1, Slot::Empty) {
                return;
            }
            slot.0 += 1;
            slot.1 = Slot::Creating;
            self.run.root.join(format!("slot{j}-gen{}", slot.0))
        };
        self.run
            .dirs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(dir.clone());
        let created = self.call(Op::Create, Client::create(self.config(&dir)), true);
        self.run.slot(j).1 = match created {
            Some(client) => Slot::Live(client),
            None => Slot::Empty,
        };
    }

    /// Observes messages or sync states for a while, then cancels or drops
    /// the subscription.
    fn observe(&mut self, client: &Arc<Client>, messages: bool) {
        let probe = Probe::new(
            client,
            self.rng.chance(0.5),
            self.rng.chance(0.2),
            self.iteration,
        );
        let subscription = if messages {
            let listener = probe.clone();
            self.call_sync(Op::ObserveMessages, || client.observe_messages(listener))
        } else {
            let listener = probe.clone();
            self.call_sync(Op::ObserveSyncState, || client.observe_sync_state(listener))
        };
        let Some(subscription) = subscription else {
            return;
        };
        probe.attach(&subscription);
        std::thread::sleep(self.rng.millis(0, 150));
        if self.rng.chance(0.5) {
            self.call_sync(Op::Unsubscribe, || {
                subscription.cancel();
                Ok(())
            });
            drop(subscription);
        } else {
            self.call_sync(Op::Unsubscribe, move || {
                drop(subscription);
                Ok(())
            });
        }
        probe.cancel_returned();
    }

    fn read(&mut self, client: Option<&Arc<Client>>) {
        self.call_sync(Op::Read, || {
            if let Some(c) = client {
                let _ = (c.state(), c.sync_state(), c.session());
            }
            let _ = runtime_stats();
            Ok(())
        });
    }

    /// Lets go of slot `j`'s client, as an app that forgets it would.
    fn release(&mut self, j: usize, ours: Arc<Client>) {
        let held = self.run.take(j);
        self.call_sync(Op::Release, move || {
            drop(held);
            drop(ours);
            Ok(())
        });
    }

    fn release_all(&mut self) {
        for j in 0..SLOTS {
            if let Some(client) = self.run.take(j) {
                self.call_sync(Op::Release, move || {
                    drop(client);
                    Ok(())
                });
            }
        }
    }

    /// A process shutdown, async (perhaps cancelled half way) or blocking.
    fn shutdown(&mut self) {
        let options = ShutdownOptions { timeout_ms: 5000 };
        if self.rng.chance(0.5) {
            self.call(Op::Shutdown, shutdown(options), true);
        } else {
            self.call_sync(Op::ShutdownBlocking, || shutdown_blocking(options));
        }
    }

    /// Drains every client: logout (wiping) where logged in, close otherwise.
    fn drain_all(&mut self) {
        for j in 0..SLOTS {
            let Some(client) = self.client(j) else {
                continue;
            };
            if self.call_sync(Op::Read, || Ok(client.state())) == Some(ClientState::LoggedIn) {
                let options = LogoutOptions {
                    server_timeout_ms: 2000,
                    wipe_local_data: true,
                };
                self.call(Op::Logout, client.logout(options, None), false);
            } else {
                self.call(Op::Close, client.close(None), false);
            }
            self.release(j, client);
        }
    }
}

/// How an iteration ends.
#[derive(Clone, Copy, Debug)]
enum End {
    /// The clients live on into the next iteration.
    Keep,
    Drain,
    Release,
    Shutdown,
}

/// One iteration. `last` forces a shutdown at its end. Returns what it was
/// (its fault and its end), for the log of slow iterations.
pub fn iteration(run: &Run, it: u64, last: bool) -> String {
    let mut rng = Rng::derive(run.seed, &[it]);
    let mut order: Vec<usize> = (0..SLOTS).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.range(0, i as u64) as usize);
    }
    let clients = rng.range(2, 3) as usize;
    let slots = &order[..clients];
    let threads = rng.range(2, 3);
    // A black hole costs a request timeout to every call caught in it: rarer.
    let fault = rng.chance(0.25).then(|| {
        let fault = [Fault::Refuse, Fault::Blackhole, Fault::Delay][rng.weighted(&[2, 1, 2])];
        (fault, rng.millis(0, 200), rng.millis(100, 600))
    });

    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for t in 0..threads {
            let rng = Rng::derive(run.seed, &[it, t + 1]);
            let ops = Rng::derive(run.seed, &[it, t + 100]).range(2, 5);
            let spawned = std::thread::Builder::new()
                .name(format!("stress-worker-{t}"))
                .spawn_scoped(scope, move || {
                    let mut worker = Worker {
                        run,
                        rng,
                        iteration: it,
                    };
                    for _ in 0..ops {
                        worker.step(slots);
                        let pause = worker.rng.millis(0, 30);
                        std::thread::sleep(pause);
                    }
                });
            handles.extend(spawned.ok());
        }
        if let Some((fault, after, hold)) = fault {
            let spawned = std::thread::Builder::new()
                .name("stress-fault".into())
                .spawn_scoped(scope, move || {
                    std::thread::sleep(after);
                    *tally().faults.entry(fault_name(fault)).or_default() += 1;
                    run.faults.set(&run.proxy, fault);
                    std::thread::sleep(hold);
                    run.faults.set(&run.proxy, Fault::Pass);
                });
            handles.extend(spawned.ok());
        }
        for handle in handles {
            // A panic here was counted by the panic hook.
            let _ = handle.join();
        }
    });
    run.faults.set(&run.proxy, Fault::Pass);

    let end = if last || it % 8 == 7 {
        End::Shutdown
    } else {
        [End::Keep, End::Drain, End::Release, End::Shutdown][rng.weighted(&[40, 30, 10, 20])]
    };
    let mut main = Worker {
        run,
        rng,
        iteration: it,
    };
    match end {
        End::Keep => {}
        End::Drain => main.drain_all(),
        End::Release => main.release_all(),
        End::Shutdown => shutdown_and_check(&mut main, &format!("end of iteration {it}")),
    }
    let fault = fault.map_or("none", |(f, _, _)| fault_name(f));
    format!("{clients} clients, {threads} threads, fault {fault}, end {end:?}")
}

/// Shuts the process down at the end of an iteration (some clients released
/// before, the others after), then checks that it is clean.
fn shutdown_and_check(main: &mut Worker, when: &str) {
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
    drop(t);
    main.run.sweep_dirs();
}

/// The final shutdown of the run, and the check that the process is clean.
pub fn finish(run: &Run, iterations: u64) -> (bool, Value) {
    let mut main = Worker {
        run,
        rng: Rng::derive(run.seed, &[u64::MAX]),
        iteration: iterations,
    };
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
    run.sweep_dirs();
    (clean, state)
}
