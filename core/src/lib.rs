//! matrix-mobile-core: a Rust core for Matrix chat apps on Android and iOS,
//! with lifecycle guarantees.
//!
//! The map of the crate:
//! - [`runtime`]: the one tokio runtime, its generations, stop and restart;
//! - [`supervisor`]: named, panic-catching task groups, stopped by signal,
//!   collect, drop;
//! - [`lifecycle`]: the client state machine, the logout/close drain, the
//!   process shutdown;
//! - `client`: one matrix client, its tasks and state;
//! - `matrix`: the only module that speaks matrix-sdk;
//! - [`ffi`]: what UniFFI exports, thin delegation only;
//! - [`logging`]: tracing-subscriber setup with secret scrubbing;
//! - [`platform`]: what the OS tells (open files, threads).
//!
//! When `logout()`, `close()` or `shutdown()` returns, sync has stopped, every
//! task has ended, the stores are closed, and (for the last client) the
//! runtime has restarted; each of these is measured in the report.

uniffi::setup_scaffolding!();

mod client;
pub mod error;
pub mod ffi;
pub mod lifecycle;
pub mod logging;
mod matrix;
pub mod platform;
pub mod runtime;
pub mod supervisor;

pub use error::{CoreError, CoreResult};
pub use ffi::client::Client;
pub use ffi::process::*;
pub use ffi::records::*;
pub use logging::LogConfig;
pub use runtime::{RuntimeConfig, RuntimeState};
