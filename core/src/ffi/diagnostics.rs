//! No-op calls for `cargo xtask bench ffi`: the same empty work through each
//! layer of an exported async call, so that the benchmark can say where the
//! time of a round trip goes. Built only with the `diagnostics` feature,
//! which only the benchmark enables: no shipped library exports these.
//!
//! | function | what it adds |
//! |---|---|
//! | [`noop_sync`] | the FFI call itself |
//! | [`noop_async_bare`] | UniFFI's future machinery, polled in place |
//! | [`noop_async_spawn`] | a plain spawn on the owned runtime, and the wake-up of the foreign side from a worker |
//! | [`noop_async`] | the supervised call that every exported async function uses |
//! | [`noop_async_inline`] | the supervised call with its first poll on the caller's thread ([`FirstPoll::Inline`]) |

use crate::api::{CoreError, CoreResult};
use crate::runtime;
use crate::supervisor::FirstPoll;

/// A sync call that does nothing: the baseline of the FFI round trip.
#[uniffi::export]
pub fn noop_sync() {}

/// An async call that does nothing, through the supervised call path of every
/// exported async function: measures the FFI round trip.
#[uniffi::export]
pub async fn noop_async() -> CoreResult<()> {
    runtime::run("noop", async { Ok(()) }).await
}

/// [`noop_async`] with the work's first poll on the calling thread, inside
/// the runtime's context and through the supervisor's gate: work that is
/// ready at once never leaves the caller's thread.
#[uniffi::export]
pub async fn noop_async_inline() -> CoreResult<()> {
    runtime::run_with("noop-inline", FirstPoll::Inline, async { Ok(()) }).await
}

/// An async call that never touches the runtime: ready at its first poll.
#[uniffi::export]
pub async fn noop_async_bare() -> CoreResult<()> {
    Ok(())
}

/// An empty task spawned on the owned runtime without the supervisor, and
/// awaited. For the benchmark only: the task holds nothing and ends at its
/// first poll, so nothing can outlive a stop through it. `ShuttingDown` when
/// a shutdown ends the runtime first.
#[uniffi::export]
pub async fn noop_async_spawn() -> CoreResult<()> {
    let handle = runtime::ready().await?.handle;
    handle
        .spawn(async {})
        .await
        .map_err(|_| CoreError::ShuttingDown)
}
