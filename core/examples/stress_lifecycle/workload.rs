//! The workload: per iteration, two or three worker threads run a seeded
//! random burst of calls on two or three clients, a fault may come and go,
//! and the iteration ends by keeping, draining, releasing or shutting down.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::json;

use crate::api::{
    runtime_stats, shutdown, shutdown_blocking, Client, ClientConfig, ClientState, CoreError,
    LogoutOptions, ShutdownOptions,
};
use crate::drive::{drive, run_sync, CancelPlan, Outcome};
use crate::faults::{fault_name, FaultClock};
use crate::homes::Homes;
use crate::homeserver::{Fault, FaultProxy};
use crate::listeners::{PhaseProbe, Probe};
use crate::ops::{kind, Op, REQUEST_TIMEOUT};
use crate::rng::Rng;
use crate::tally::tally;
use crate::watchdog::Watchdog;

/// How many client slots the run has; each iteration uses two or three.
pub const SLOTS: usize = 3;

/// What a slot holds.
pub(crate) enum Slot {
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
    /// Per slot: creations so far, the client, and the data dir of its
    /// latest client.
    slots: Vec<Mutex<(u64, Slot, PathBuf)>>,
    faults: FaultClock,
    /// Each slot's data dir, reused, and the session its stores hold.
    pub(crate) homes: Homes,
    /// The run's image in its room (setup sent it), for thumbnails.
    pub image: Option<crate::api::MediaSource>,
    /// Timelines, room lists and subscriptions left open until the
    /// iteration's end.
    pub(crate) held: crate::chat::Held,
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
            image: None,
            seed,
            users,
            password,
            room_id,
            proxy,
            dog,
            baseline_threads,
            slots: (0..SLOTS)
                .map(|_| Mutex::new((0, Slot::Empty, PathBuf::new())))
                .collect(),
            faults: FaultClock::default(),
            homes: Homes::new(&root, SLOTS),
            held: Default::default(),
            root,
        }
    }

    /// A small file to upload, written once under the run's root.
    pub(crate) fn upload_file(&self) -> String {
        let path = self.root.join("upload.bin");
        if !path.exists() {
            let _ = std::fs::write(&path, vec![0x5a; 16 * 1024]);
        }
        path.to_string_lossy().into_owned()
    }

    pub(crate) fn slot(&self, j: usize) -> std::sync::MutexGuard<'_, (u64, Slot, PathBuf)> {
        self.slots[j].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Empties slot `j`; returns the client it held.
    pub(crate) fn take(&self, j: usize) -> Option<Arc<Client>> {
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
}

/// One thread's view: the run, its own generator, where it is.
pub(crate) struct Worker<'a> {
    pub(crate) run: &'a Run,
    pub(crate) rng: Rng,
    pub(crate) iteration: u64,
    /// The error kind of the last call, if it failed.
    last_error: Option<&'static str>,
}

impl<'a> Worker<'a> {
    pub(crate) fn new(run: &'a Run, rng: Rng, iteration: u64) -> Self {
        Self {
            run,
            rng,
            iteration,
            last_error: None,
        }
    }

    /// Drives an async call to its end, its bound, or (one time in five,
    /// where `may_cancel`) its cancellation half way; records the outcome.
    pub(crate) fn call<T, F>(&mut self, op: Op, fut: F, may_cancel: bool) -> Option<T>
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
    pub(crate) fn call_sync<T>(
        &mut self,
        op: Op,
        call: impl FnOnce() -> Result<T, CoreError>,
    ) -> Option<T> {
        let started = Instant::now();
        let ticket = self.run.dog.enter(op.name(), self.iteration, op.bound());
        let outcome = run_sync(call);
        drop(ticket);
        self.record(op, outcome, started)
    }

    fn record<T>(
        &mut self,
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
        self.last_error = match &outcome {
            Outcome::Done(Err(error)) => Some(kind(error)),
            _ => None,
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

    pub(crate) fn client(&mut self, j: usize) -> Option<Arc<Client>> {
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
            store_key: None,
            request_timeout_ms: REQUEST_TIMEOUT.as_millis() as u32,
            additional_root_certificates: Vec::new(),
            shared_with_other_processes: None,
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
        let kept = self.run.homes.get(j).session.clone();
        // A created client on stores of a session restores it; else logs in.
        let (login, restore) = match (state, &kept) {
            (Some(ClientState::Created), Some(_)) => (2, 30),
            (Some(ClientState::Created), None) => (30, 0),
            _ => (2, 1),
        };
        // A logged-in client spends more of its turns on the chat surface,
        // so that every run covers it (the verdict asks for a floor).
        let chat = if state == Some(ClientState::LoggedIn) {
            14
        } else {
            4
        };
        // restore login start stop send recent rooms obs_m obs_s read logout close pause resume chat release
        let weights = [restore, login, 8, 3, 8, 3, 4, 4, 3, 3, 3, 3, 3, 4, chat, 5];
        match self.rng.weighted(&weights).wrapping_sub(1) {
            usize::MAX => {
                if let Some(session) = kept {
                    self.call(Op::Restore, client.restore(session), true);
                }
            }
            0 => self.login(j, &client, kept.is_none()),
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
                let wipe = self.rng.chance(0.5);
                let options = LogoutOptions {
                    server_timeout_ms: 2000,
                    wipe_local_data: wipe,
                };
                let listener = self.phase_probe();
                self.run.homes.logged_out(j, wipe);
                if let Some(report) = self.call(Op::Logout, client.logout(options, listener), true)
                {
                    self.check_drain(j, &client, Op::Logout, wipe, (&report).into());
                }
            }
            10 => {
                let listener = self.phase_probe();
                if let Some(report) = self.call(Op::Close, client.close(listener), true) {
                    self.check_drain(j, &client, Op::Close, false, (&report).into());
                }
            }
            11 => {
                self.call(Op::Pause, client.pause(), true);
            }
            12 => {
                self.call(Op::Resume, client.resume(), true);
            }
            13 => self.chat(&client),
            _ => self.release(j, client),
        }
    }

    /// Logs slot `j`'s client in; records the session its stores now hold.
    pub(crate) fn login(&mut self, j: usize, client: &Arc<Client>, none_kept: bool) {
        let user = self.run.users[j].clone();
        let password = self.run.password.clone();
        let device = Some(format!("stress-{}", self.iteration));
        self.call(Op::Login, client.login(user, password, device), true);
        if let Some(session) = client.session() {
            self.run.homes.get(j).session = Some(session);
        } else if self.last_error == Some("InvalidState") && none_kept {
            self.run.homes.unknown_session(j);
        }
    }

    /// A phase listener, three times in ten; it may block or panic.
    fn phase_probe(&mut self) -> Option<Arc<dyn crate::api::LifecycleListener>> {
        self.rng.chance(0.3).then(|| {
            let misbehave = self.rng.range(0, 9);
            Arc::new(PhaseProbe::new(misbehave == 0, misbehave == 1)) as Arc<_>
        })
    }

    pub(crate) fn create(&mut self, j: usize) {
        let dir = {
            let mut slot = self.run.slot(j);
            if !matches!(slot.1, Slot::Empty) {
                return;
            }
            slot.0 += 1;
            slot.1 = Slot::Creating;
            slot.2 = self.run.homes.dir(j);
            slot.2.clone()
        };
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
        // One listener in ten blocks in its calls, one in ten panics.
        match self.rng.range(0, 9) {
            0 => probe.block_for(self.rng.millis(50, 800)),
            1 => probe.panic_in_calls(),
            _ => {}
        }
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
    pub(crate) fn release(&mut self, j: usize, ours: Arc<Client>) {
        let held = self.run.take(j);
        self.call_sync(Op::Release, move || {
            drop(held);
            drop(ours);
            Ok(())
        });
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
                    let mut worker = Worker::new(run, rng, it);
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
    let mut main = Worker::new(run, rng, it);
    match end {
        End::Keep => {}
        End::Drain => main.drain_all(),
        End::Release => main.release_all(),
        End::Shutdown => {
            crate::endings::shutdown_and_check(&mut main, &format!("end of iteration {it}"))
        }
    }
    // The screens close after the drains, releases and shutdowns met them.
    run.held.release_all();
    // Between bursts, one time in three, a scripted visit to the chat
    // surface: what the run covers does not hang on the dice alone.
    if !last && main.rng.chance(1.0 / 3.0) {
        let mut visitor = Worker::new(run, Rng::derive(run.seed, &[it, 1_000]), it);
        visitor.visit(slots[0]);
        run.held.release_all();
    }
    let fault = fault.map_or("none", |(f, _, _)| fault_name(f));
    format!("{clients} clients, {threads} threads, fault {fault}, end {end:?}")
}
