//! The supervisor: every task the core runs is named, panic-catching,
//! cancellable and awaitable as a group.
//!
//! Tasks belong to a [`TaskGroup`]: the process group of the current runtime
//! generation, or one group per client. Stopping a group follows three
//! steps: signal (cancel the token), collect (close the gate and wait until no
//! poll is running), drop (drop every remaining future inside the runtime).
//! No task's code runs while another task's data is being dropped.
//!
//! The supervisor knows nothing of the runtime's life: callers hand it the
//! runtime handle to spawn on.

mod call;
mod dispatch;
pub mod failure;
mod gate;
mod group;
mod lanes;

pub use call::FirstPoll;
pub(crate) use call::{call_with, WhenDropped};
pub(crate) use dispatch::{Dispatcher, Job};
pub use group::{StopReport, TaskGroup, TaskKind, TaskName};
pub(crate) use lanes::Lane;
