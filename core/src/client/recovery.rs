//! The client's side of recovery: setting it up so that no key is lost to a
//! cancelled call, the recovery key kept out of the logs for the client's
//! life, and the recovery state delivered to a listener.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

use futures_util::StreamExt;

use super::followed::EndSignal;
use super::subscription::Subscription;
use super::ClientCore;
use crate::api::{CoreError, CoreResult, RecoveryState, RecoveryStateListener};
use crate::logging::scrub::Registered;
use crate::matrix;
use crate::supervisor::{TaskKind, WhenDropped};

/// The set-up of recovery in progress, and a key nobody was handed yet.
#[derive(Default)]
pub(crate) struct RecoveryKeys(Mutex<KeySlot>);

#[derive(Default)]
struct KeySlot {
    /// The outcome of the set-up that runs, once it is known.
    running: Option<watch::Receiver<Option<CoreResult<String>>>>,
    /// The key of a set-up whose callers all went away.
    unclaimed: Option<String>,
}

impl RecoveryKeys {
    fn lock(&self) -> MutexGuard<'_, KeySlot> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ClientCore {
    /// Sets up recovery, or joins the set-up that runs, or hands out the key
    /// of one whose caller went away. The set-up itself finishes whatever
    /// its callers do (`WhenDropped::Finish`), so a key the server now holds
    /// always reaches a caller: this one, or the next.
    pub(crate) async fn enable_recovery(
        self: &Arc<Self>,
        passphrase: Option<String>,
    ) -> CoreResult<String> {
        let (outcome, own) = {
            let mut slot = self.security.recovery_keys.lock();
            if let Some(key) = slot.unclaimed.take() {
                return Ok(key);
            }
            // A set-up whose future was dropped before it ran left a
            // receiver that will never hear.
            let joined = slot
                .running
                .clone()
                .filter(|rx| rx.borrow().is_some() || rx.has_changed().is_ok());
            match joined {
                Some(rx) => (rx, None),
                None => {
                    let (tx, rx) = watch::channel(None);
                    slot.running = Some(rx.clone());
                    (rx, Some(self.recovery_set_up(passphrase, tx)?))
                }
            }
        };
        let key = match own {
            Some(set_up) => {
                let done = set_up.await;
                let heard = outcome.borrow().clone();
                // No outcome: the call failed before its work ran.
                heard.unwrap_or_else(|| Err(done.err().unwrap_or(CoreError::ClientClosed)))
            }
            None => {
                let mut outcome = outcome;
                let heard = outcome.wait_for(Option::is_some).await.map(|o| o.clone());
                // The set-up was dropped unstarted (its client drained).
                heard.ok().flatten().unwrap_or(Err(CoreError::ClientClosed))
            }
        }?;
        // Handed out: no later call gets it again.
        let mut slot = self.security.recovery_keys.lock();
        if slot.unclaimed.as_deref() == Some(key.as_str()) {
            slot.unclaimed = None;
        }
        Ok(key)
    }

    /// The set-up as a call of this client that finishes once started; its
    /// outcome goes to `tx`, and its key, until a caller takes it, to the
    /// slot's `unclaimed`.
    fn recovery_set_up(
        self: &Arc<Self>,
        passphrase: Option<String>,
        tx: watch::Sender<Option<CoreResult<String>>>,
    ) -> CoreResult<impl std::future::Future<Output = CoreResult<()>> + use<>> {
        let sdk = self.sdk_with_stores()?;
        let core = self.clone();
        let guard = passphrase.as_deref().map(Registered::typed);
        let work = async move {
            let _guard = guard;
            let key = matrix::encryption::enable(&sdk, passphrase.as_deref()).await;
            crate::hooks::pause_point("recovery.enabled");
            if let Ok(key) = &key {
                core.keep_secret(Registered::new(key));
            }
            let mut slot = core.security.recovery_keys.lock();
            slot.running = None;
            slot.unclaimed = key.as_ref().ok().cloned();
            drop(slot);
            tx.send_replace(Some(key.clone()));
            key.map(drop)
        };
        let core = self.clone();
        Ok(async move {
            let done = core
                .store_call("enable_recovery", WhenDropped::Finish, work)
                .await;
            core.recheck_verified();
            done
        })
    }

    /// Keeps `secret` registered with the log scrubber until the client is
    /// drained (a recovery key handed out or typed in).
    pub(crate) fn keep_secret(&self, secret: Registered) {
        self.inner().secrets.push(secret);
    }

    /// Delivers the recovery state (the current one first, then each
    /// change) until the subscription is cancelled or the client ends
    /// (`on_closed()`).
    pub(crate) fn observe_recovery_state(
        &self,
        listener: Arc<dyn RecoveryStateListener>,
    ) -> CoreResult<Arc<Subscription>> {
        let sdk = self.logged_in_sdk()?;
        // Subscribed before the current state is read, so no change is lost.
        let states = matrix::encryption::states(&sdk);
        let current = matrix::encryption::state(&sdk);
        drop(sdk);
        let end: EndSignal<dyn RecoveryStateListener> =
            ("RecoveryStateListener.on_closed", |l| l.on_closed());
        let task = ("recovery-state", TaskKind::Finite);
        self.follow_for(listener, end, task, |delivery| {
            let emit = move |state: RecoveryState| {
                // The latest state supersedes the ones not yet delivered.
                delivery.post_call_superseding::<dyn RecoveryStateListener>(
                    "RecoveryStateListener.on_state",
                    move |l| l.on_state(state),
                );
            };
            emit(current);
            async move {
                let mut last = current;
                futures_util::pin_mut!(states);
                while let Some(state) = states.next().await {
                    if state != last {
                        last = state;
                        emit(state);
                    }
                }
                Ok(())
            }
        })
    }
}
