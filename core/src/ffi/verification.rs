//! The exported `Verification` object, the listener of incoming requests,
//! and the verification methods of `Client`. Each method only delegates.
//!
//! `VerificationRequestListener` lives here, not in `api`, because it takes
//! the exported object.

use std::sync::Arc;

use super::client::Client;
use crate::api::{CoreResult, VerificationListener};
use crate::client::{OnRequest, RequestListener, Subscription, VerificationCore};

/// One device verification by emoji. Calls after its client ended get
/// `ClientClosed`. Releasing it ends the tasks that follow it.
#[derive(uniffi::Object)]
pub struct Verification {
    core: Arc<VerificationCore>,
}

/// Receives each verification request another device of this user sends.
#[uniffi::export(foreign)]
pub trait VerificationRequestListener: Send + Sync {
    fn on_request(&self, verification: Arc<Verification>);
    /// The end signal: the client ended. The last call; not sent after
    /// `cancel()`.
    fn on_closed(&self);
}

#[uniffi::export]
impl Verification {
    /// The id of this verification's flow: the same on both devices (match
    /// an incoming request to one this app sent), and kept after the client
    /// ended. Answered from memory.
    pub fn flow_id(&self) -> String {
        self.core.flow_id().to_owned()
    }

    /// Calls `listener` with the current state, then each change;
    /// `on_closed()` when the client ends.
    pub fn observe(
        &self,
        listener: Arc<dyn VerificationListener>,
    ) -> CoreResult<Arc<Subscription>> {
        self.core.observe(listener)
    }

    /// Accepts a request another device sent (`Ready` follows).
    pub async fn accept(&self) -> CoreResult<()> {
        self.core
            .call("verification_accept", |r| async move {
                crate::matrix::verification::accept(&r).await
            })
            .await
    }

    /// Starts the emoji comparison, or accepts the one the other device
    /// started (an observed verification accepts it by itself).
    pub async fn start_sas(&self) -> CoreResult<()> {
        self.core
            .call("verification_start_sas", |r| async move {
                crate::matrix::verification::start_sas(&r).await
            })
            .await
    }

    /// Confirms that the emojis match the other device's.
    pub async fn confirm(&self) -> CoreResult<()> {
        self.core
            .call("verification_confirm", |r| async move {
                crate::matrix::verification::confirm(&r).await
            })
            .await
    }

    /// Cancels the verification; the other device sees `Cancelled`.
    pub async fn cancel(&self) -> CoreResult<()> {
        self.core
            .call("verification_cancel", |r| async move {
                crate::matrix::verification::cancel(&r).await
            })
            .await
    }
}

#[uniffi::export]
impl Client {
    /// Asks this user's other devices to verify this one by emoji.
    pub async fn request_verification(&self) -> CoreResult<Arc<Verification>> {
        let core = self.core.request_verification().await?;
        Ok(Arc::new(Verification { core }))
    }

    /// Calls `listener.on_request` for each request another device of this
    /// user sends; `on_closed()` when the client ends.
    pub fn observe_verification_requests(
        &self,
        listener: Arc<dyn VerificationRequestListener>,
    ) -> CoreResult<Arc<Subscription>> {
        let on_request: OnRequest = {
            let listener = listener.clone();
            Box::new(move |core| listener.on_request(Arc::new(Verification { core })))
        };
        let on_closed = Box::new(move || listener.on_closed());
        self.core.observe_verification_requests(RequestListener {
            on_request,
            on_closed,
        })
    }

    /// Whether this device is cross-signed by its user, from memory (a task
    /// of the client keeps it current); `false` without a session.
    pub fn is_verified(&self) -> bool {
        self.core.is_verified()
    }

    /// Creates the account's cross-signing keys if it has none yet (also
    /// done by `enable_recovery`). The server may ask for the `password`
    /// (interactive auth); it is used once, never logged or stored.
    pub async fn bootstrap_cross_signing(&self, password: Option<String>) -> CoreResult<()> {
        self.core.bootstrap_cross_signing(password).await
    }
}
