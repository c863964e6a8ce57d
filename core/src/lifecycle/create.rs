//! `Client.create`, cancel-safe at every await point.
//!
//! The creation runs as one task of the process group that always reaches
//! its end. It takes the client's lease before it is spawned and hands the
//! built client over as an [`Owner`]: if the caller is gone by then (its
//! future was dropped), or a shutdown has begun, dropping that owner closes
//! the half-built client in the background with the same drain. So a
//! cancelled creation leaves no live client and no claimed `data_dir`.

use tokio::sync::oneshot;

use super::coordinator;
use super::Owner;
use crate::api::{ClientConfig, CoreError, CoreResult};
use crate::client::{self, registry};
use crate::matrix;
use crate::runtime;
use crate::supervisor::TaskKind;

/// Builds a client on its stores and returns its owner.
pub(crate) async fn create(config: ClientConfig) -> CoreResult<Owner> {
    let checked = matrix::build::check(&config)?;
    let (process, creating, handle, lease) = loop {
        runtime::ready().await?;
        crate::hooks::pause_point("create.after_ready");
        // From here to the spawn, nothing awaits: a cancellation cannot split it.
        let creating = coordinator::begin_create()?;
        // The generation leased, its handle and its process group, together:
        // a restart that completed since `ready` is simply the one leased.
        match runtime::lease_client("client") {
            Ok((handle, process, lease)) => break (process, creating, handle, lease),
            // A restart began since `ready`: wait for the next generation.
            Err(CoreError::Busy { .. }) => continue,
            Err(e) => return Err(e),
        }
    };
    let (tx, rx) = oneshot::channel::<CoreResult<Owner>>();
    let task_handle = handle.clone();
    let task = async move {
        let _creating = creating;
        let built = client::build(checked, task_handle, lease).await;
        let owned = built.and_then(|core| {
            let owner = Owner(core);
            // Once a shutdown began it will not see this client: close it.
            registry::add(&owner).map(|()| owner)
        });
        // A caller that is gone leaves the owner here; dropping it closes
        // the client in the background.
        let _ = tx.send(owned);
        Ok(())
    };
    process
        .spawn(&handle, "create", TaskKind::Finite, task)
        .ok_or(CoreError::ShuttingDown)?;
    rx.await.unwrap_or(Err(CoreError::ShuttingDown))
}
