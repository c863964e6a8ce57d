//! [`ClientLease`]: a client's claim on the running generation.
//!
//! The live-client count is the number of leases not yet released. A lease
//! is taken synchronously before a client's creation is spawned, and it is
//! given back exactly once: by [`ClientLease::release`] at the end of the
//! client's drain, or by its `Drop` wherever the client's creation failed or
//! was abandoned. So no cancellation can leave the count behind.

use std::time::Duration;

use tokio::runtime::Handle;

use super::stop::{begin_locked, finish, StopOutcome, GRACE};
use super::{slot, RuntimeState};
use crate::api::{CoreError, CoreResult};
use crate::supervisor::TaskGroup;

/// One live client of one generation, with the task group it spawns into.
pub(crate) struct ClientLease {
    generation: u64,
    group: TaskGroup,
    released: bool,
}

/// What releasing a lease did.
pub(crate) enum Release {
    /// Other clients are live: the runtime keeps running.
    NotLast,
    /// A process shutdown is under way: it stops the runtime, not the release.
    ShutdownPending,
    /// It was the last client: the runtime was restarted (or the restart failed).
    Restarted(CoreResult<StopOutcome>),
}

impl Release {
    /// Whether the runtime was restarted, and the generation now running;
    /// what a restart left behind, or why it failed, goes to `warnings`.
    pub(crate) fn outcome(self, warnings: &mut Vec<String>) -> (bool, u64) {
        match self {
            Release::NotLast | Release::ShutdownPending => (false, super::generation()),
            Release::Restarted(Ok(outcome)) => {
                if !outcome.tasks_abandoned.is_empty() {
                    warnings.push(format!(
                        "runtime restart abandoned: {}",
                        outcome.tasks_abandoned.join(", ")
                    ));
                }
                if let Some(n) = outcome.threads_left.filter(|n| *n > 0) {
                    warnings.push(format!("{n} threads of the old runtime were not joined"));
                }
                (true, outcome.generation)
            }
            Release::Restarted(Err(e)) => {
                warnings.push(format!("runtime restart failed: {e}"));
                (false, super::generation())
            }
        }
    }
}

/// Takes a lease on the running generation for a client named `name`, and
/// returns that generation's handle and process group with it (read under
/// one lock, so that a restart in between cannot pair them with another
/// generation). `ShuttingDown` during a process shutdown, `Busy` during a
/// restart.
pub(crate) fn lease_client(name: &str) -> CoreResult<(Handle, TaskGroup, ClientLease)> {
    let mut slot = slot();
    if slot.refusing {
        return Err(CoreError::ShuttingDown);
    }
    let (Some(handle), Some(process), RuntimeState::Running) =
        (slot.handle.clone(), slot.process.clone(), slot.state)
    else {
        return Err(CoreError::busy("the runtime is restarting"));
    };
    let group = TaskGroup::new(name, Some(process.token()));
    slot.clients.retain(|g| g.is_open() || !g.is_empty());
    slot.clients.push(group.clone());
    slot.foreign_tasks = true;
    slot.live_clients += 1;
    let lease = ClientLease {
        generation: slot.generation,
        group,
        released: false,
    };
    Ok((handle, process, lease))
}

impl ClientLease {
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The client's task group.
    pub(crate) fn group(&self) -> &TaskGroup {
        &self.group
    }

    /// Gives the lease back. When it was the last live client of the running
    /// generation and `restart_if_last`, restarts the runtime (bounded by
    /// `timeout`); `on_restart` runs once the restart is decided, before it
    /// begins, with no lock held. Call it from a thread that is not one of
    /// the runtime's.
    pub(crate) fn release(
        mut self,
        restart_if_last: bool,
        timeout: Duration,
        on_restart: impl FnOnce(),
    ) -> Release {
        self.released = true;
        let parts = {
            let mut slot = slot();
            if slot.generation == self.generation {
                slot.live_clients = slot.live_clients.saturating_sub(1);
            }
            if slot.refusing {
                return Release::ShutdownPending;
            }
            let last = restart_if_last
                && slot.generation == self.generation
                && slot.live_clients == 0
                && slot.state == RuntimeState::Running;
            if !last {
                return Release::NotLast;
            }
            begin_locked(&mut slot, true)
        };
        on_restart();
        let outcome = match parts {
            Some(parts) => finish(parts, GRACE, timeout),
            None => Err(CoreError::internal("running runtime without its parts")),
        };
        Release::Restarted(outcome)
    }
}

impl Drop for ClientLease {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        self.group.close();
        let mut slot = slot();
        if slot.generation == self.generation {
            slot.live_clients = slot.live_clients.saturating_sub(1);
        }
    }
}
