//! [`VerificationCore`]: one device verification of a [`ClientCore`].
//!
//! Like the timelines, the client keeps a weak list of its verifications;
//! its drain takes each one's matrix-sdk request away (a call afterwards gets
//! `ClientClosed`) and drops it inside the runtime before the stores close.
//! The task that follows a verification ends when the subscription is
//! cancelled, when the verification is released, or at the drain.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::followed::EndSignal;
use super::handed::{Holds, Slot};
use super::subscription::Subscription;
use super::ClientCore;
use crate::api::{CoreResult, VerificationListener};
use crate::matrix;
use crate::matrix::verification::{self as ops, Request};
use crate::supervisor::{TaskKind, WhenDropped};

/// A call's work with its type erased.
type BoxedCall<T> = std::pin::Pin<Box<dyn std::future::Future<Output = CoreResult<T>> + Send>>;

/// Hands a new verification to the app's listener (the FFI layer wraps it).
pub(crate) type OnRequest = Box<dyn Fn(Arc<VerificationCore>) + Send + Sync>;

/// The app's verification request listener as the FFI layer wraps it: held
/// by its subscription like every listener.
pub(crate) struct RequestListener {
    pub(crate) on_request: OnRequest,
    pub(crate) on_closed: Box<dyn Fn() + Send + Sync>,
}

/// One verification; the exported `Verification` delegates here.
pub(crate) struct VerificationCore {
    client: Arc<ClientCore>,
    /// The flow's id, which both devices share; kept after a drain.
    flow_id: String,
    sdk: Slot<Request>,
    /// Cancelled when the verification is released: its tasks end.
    released: tokio_util::sync::CancellationToken,
}

impl Holds for VerificationCore {
    type Sdk = Request;
    fn slot(&self) -> &Slot<Request> {
        &self.sdk
    }
}

/// Whether this device is cross-signed, kept in memory for `is_verified()`
/// by a task of the client (the app's thread reads no store).
#[derive(Default)]
pub(crate) struct OwnVerification {
    verified: AtomicBool,
    /// Wakes the task to look again.
    recheck: Arc<tokio::sync::Notify>,
}

impl ClientCore {
    /// Wraps a matrix-sdk request; `ClientClosed` if a drain began meanwhile.
    fn adopt(self: &Arc<Self>, request: Request) -> CoreResult<Arc<VerificationCore>> {
        let core = Arc::new(VerificationCore {
            client: self.clone(),
            flow_id: request.flow_id().to_owned(),
            sdk: Slot::new(request),
            released: tokio_util::sync::CancellationToken::new(),
        });
        self.security.verifications.adopt(self, core)
    }

    /// Asks this user's other devices to verify this one.
    pub(crate) async fn request_verification(
        self: &Arc<Self>,
    ) -> CoreResult<Arc<VerificationCore>> {
        let sdk = self.sdk_with_stores()?;
        let work: BoxedCall<Request> = Box::pin(async move { ops::request_own(&sdk).await });
        let request = self
            .store_call("request_verification", WhenDropped::Abort, work)
            .await?;
        self.adopt(request)
    }

    /// Creates the account's cross-signing keys if it has none.
    pub(crate) async fn bootstrap_cross_signing(&self, password: Option<String>) -> CoreResult<()> {
        let sdk = self.sdk_with_stores()?;
        // What the user typed: scrubbed whatever its length while in use.
        let secret = password
            .as_deref()
            .map(crate::logging::scrub::Registered::typed);
        let work: BoxedCall<()> = Box::pin(async move {
            crate::hooks::pause_point("bootstrap.begun");
            let done = ops::bootstrap_cross_signing(&sdk, password).await;
            drop(secret);
            done
        });
        let done = self
            .store_call("bootstrap_cross_signing", WhenDropped::Finish, work)
            .await;
        self.recheck_verified();
        done
    }

    /// Whether this device is cross-signed by its user, from memory: a task
    /// of the client keeps it current (see [`OwnVerification`]). `false`
    /// without a session.
    pub(crate) fn is_verified(&self) -> bool {
        self.security
            .own_verification
            .verified
            .load(Ordering::SeqCst)
    }

    /// Asks the task that keeps [`ClientCore::is_verified`] current to look
    /// again: after a call of the core that may have signed this device.
    pub(crate) fn recheck_verified(&self) {
        self.security.own_verification.recheck.notify_one();
    }

    /// Starts keeping [`ClientCore::is_verified`] current, until the client
    /// drains. At the session's start, on the runtime.
    pub(super) fn follow_own_verification(&self, sdk: &matrix::Sdk) {
        let Ok(handle) = self.handle() else { return };
        let own = self.security.own_verification.clone();
        let follow = ops::follow_own_verification(sdk.clone(), own.recheck.clone(), move |v| {
            own.verified.store(v, Ordering::SeqCst);
        });
        self.spawn(&handle, TaskKind::Finite, "own-verification", async move {
            follow.await;
            Ok(())
        });
    }

    /// Hands each incoming verification request to `on_request`, until the
    /// subscription is cancelled or the client ends (`on_closed`).
    pub(crate) fn observe_verification_requests(
        self: &Arc<Self>,
        listener: RequestListener,
    ) -> CoreResult<Arc<Subscription>> {
        let sdk = self.sdk_with_stores()?;
        let core = Arc::downgrade(self);
        let end: EndSignal<RequestListener> =
            ("VerificationRequestListener.on_closed", |l| (l.on_closed)());
        let task = ("verification-requests", TaskKind::Finite);
        self.follow_for(Arc::new(listener), end, task, |delivery| async move {
            use futures_util::StreamExt;
            let incoming = ops::incoming(&sdk);
            drop(sdk);
            futures_util::pin_mut!(incoming);
            while let Some(request) = incoming.next().await {
                let Some(Ok(verification)) = core.upgrade().map(|c| c.adopt(request)) else {
                    break;
                };
                delivery.post_call::<RequestListener>(
                    "VerificationRequestListener.on_request",
                    move |l| (l.on_request)(verification),
                );
            }
            Ok(())
        })
    }
}

impl VerificationCore {
    /// The id of the flow, the same on both devices.
    pub(crate) fn flow_id(&self) -> &str {
        &self.flow_id
    }

    /// The matrix-sdk request, if the client is usable and has not taken
    /// it back.
    fn sdk(&self) -> CoreResult<Request> {
        self.client.sdk_with_stores()?;
        self.sdk.get()
    }

    /// Drops the matrix-sdk request inside the runtime, and ends its tasks.
    fn release(&self) {
        self.released.cancel();
        self.sdk.release(self.client.generation);
    }

    /// Runs `work` on the request as a call of its client.
    pub(crate) async fn call<F, Fut>(&self, name: &'static str, work: F) -> CoreResult<()>
    where
        F: FnOnce(Request) -> Fut,
        Fut: std::future::Future<Output = CoreResult<()>> + Send + 'static,
    {
        let request = self.sdk()?;
        let work: BoxedCall<()> = Box::pin(work(request));
        let done = self.client.store_call(name, WhenDropped::Abort, work).await;
        self.client.recheck_verified();
        done
    }

    /// Delivers the current state, then each change, until the flow ends,
    /// the subscription is cancelled, the verification is released or the
    /// client ends (`on_closed()`).
    pub(crate) fn observe(
        &self,
        listener: Arc<dyn VerificationListener>,
    ) -> CoreResult<Arc<Subscription>> {
        let request = self.sdk()?;
        let released = self.released.clone().cancelled_owned();
        let end: EndSignal<dyn VerificationListener> =
            ("VerificationListener.on_closed", |l| l.on_closed());
        let task = ("verification-states", TaskKind::Finite);
        self.client
            .follow_for(listener, end, task, |delivery| async move {
                let emit = |state| {
                    delivery.post_call::<dyn VerificationListener>(
                        "VerificationListener.on_state",
                        move |l| l.on_state(state),
                    );
                };
                tokio::select! {
                    () = ops::follow(request, emit) => {}
                    () = released => {}
                }
                Ok(())
            })
    }
}

impl Drop for VerificationCore {
    fn drop(&mut self) {
        self.release();
    }
}
