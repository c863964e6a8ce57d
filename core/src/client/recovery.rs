//! The client's side of recovery: the recovery key kept out of the logs for
//! the client's life, and the recovery state delivered to a listener.

use std::sync::Arc;

use futures_util::StreamExt;

use super::subscription::Subscription;
use super::ClientCore;
use crate::api::{CoreResult, RecoveryState, RecoveryStateListener};
use crate::logging::scrub::Registered;
use crate::matrix;
use crate::supervisor::TaskKind;

impl ClientCore {
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
        let handle = self.handle()?;
        let (subscription, delivery) = Subscription::for_listener(listener);
        let end = delivery
            .end_call::<dyn RecoveryStateListener>("RecoveryStateListener.on_closed", |l| {
                l.on_closed()
            });
        self.events.register(delivery.clone(), end)?;
        // Subscribed before the current state is read, so no change is lost.
        let states = matrix::encryption::states(&sdk);
        let current = matrix::encryption::state(&sdk);
        drop(sdk);
        let emit = {
            let delivery = delivery.clone();
            move |state: RecoveryState| {
                // The latest state supersedes the ones not yet delivered.
                delivery.post_call_superseding::<dyn RecoveryStateListener>(
                    "RecoveryStateListener.on_state",
                    move |l| l.on_state(state),
                );
            }
        };
        emit(current);
        self.spawn(&handle, TaskKind::Finite, "recovery-state", async move {
            let cancelled = delivery.cancelled();
            let follow = async {
                let mut last = current;
                futures_util::pin_mut!(states);
                while let Some(state) = states.next().await {
                    if state != last {
                        last = state;
                        emit(state);
                    }
                }
            };
            tokio::select! {
                () = follow => {}
                () = cancelled => {}
            }
            Ok(())
        });
        Ok(subscription)
    }
}
