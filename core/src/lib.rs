//! matrix-mobile-core: a Rust core for Matrix chat apps on Android and iOS,
//! with lifecycle guarantees.
//!
//! The map of the crate, bottom to top (each module uses only those above it
//! in this list, and no two top-level modules import each other):
//! - [`api`]: what crosses the FFI: records, enums, [`CoreError`], listener traits;
//! - [`platform`]: what the OS tells (open files, threads);
//! - [`logging`]: tracing-subscriber setup with secret scrubbing;
//! - [`supervisor`]: named, panic-catching task groups, stopped by signal,
//!   collect, drop;
//! - [`runtime`]: the one tokio runtime, its generations, leases, stop and restart;
//! - `matrix`: the only module that speaks matrix-sdk;
//! - `client`: one matrix client, its tasks, listeners and state;
//! - `lifecycle`: creation, the logout/close drain, the process shutdown,
//!   and the coordinator that orders them;
//! - `ffi`: what UniFFI exports, thin delegation only;
//! - [`hooks`]: named pause points and injected faults for the core's own
//!   race tests; empty outside the crate's own test build (used by every
//!   module, uses none).
//!
//! When `logout()`, `close()` or `shutdown()` returns, sync has stopped, every
//! task has ended, the stores are closed, and (for the last client) the
//! runtime has restarted; each of these is measured in the report.

// matrix-sdk-ui's timeline futures nest deeper than the default limit of
// the layout query allows (they are boxed where they leave the crate).
#![recursion_limit = "256"]

uniffi::setup_scaffolding!();

pub mod api;
mod client;
mod ffi;
pub mod hooks;
mod lifecycle;
pub mod logging;
mod matrix;
pub mod platform;
pub mod runtime;
pub mod supervisor;

pub use api::*;
pub use client::{RoomListHandle, Subscription};
pub use ffi::chat::media_source_from_url;
pub use ffi::client::Client;
#[cfg(feature = "diagnostics")]
pub use ffi::diagnostics::*;
pub use ffi::notification::{notification_fetcher, NotificationFetcher};
pub use ffi::process::*;
pub use ffi::timeline::Timeline;
pub use ffi::verification::{Verification, VerificationRequestListener};

// The race tests that arm the hooks (`tests/hooked/`): written against the
// public API as `matrix_mobile_core`, built only into this crate's own test
// binary, the one build with the hooks armed.
#[cfg(test)]
extern crate self as matrix_mobile_core;
#[cfg(test)]
#[path = "../tests/hooked/mod.rs"]
mod hooked_races;
