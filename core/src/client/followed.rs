//! [`ClientCore::follow_for`]: the one way a listener is fed from a task of
//! its client, used by every subscription that follows a stream (timelines,
//! typing, the room list, verification requests and states, the recovery
//! state).
//!
//! The guarantees, the same for each: the listener's end signal is
//! registered with the client's others before anything is spawned (so a
//! drain that begins meanwhile ends it, and a client that has ended gets
//! `ClientClosed`); its calls go through its own lane, never a runtime
//! worker; the task that feeds it is the client's (named, supervised,
//! cancelled by the drain) and ends as soon as the subscription is
//! cancelled.

use std::future::Future;
use std::sync::Arc;

use super::subscription::{Delivery, Subscription};
use super::ClientCore;
use crate::api::CoreResult;
use crate::supervisor::TaskKind;

/// A listener's end signal: the name of the call (for the logs) and the
/// call itself (its `on_closed`).
pub(crate) type EndSignal<L> = (&'static str, fn(&L));

impl ClientCore {
    /// Registers `listener`'s end signal `end`, then runs the future that
    /// `follow` makes of the listener's delivery as the client's task
    /// `task`, until it ends or the subscription is cancelled. `follow` runs
    /// on the caller's thread before the spawn: what it posts (a current
    /// state) is the listener's first call.
    pub(crate) fn follow_for<L, F, Fut>(
        &self,
        listener: Arc<L>,
        end: EndSignal<L>,
        (task, kind): (&'static str, TaskKind),
        follow: F,
    ) -> CoreResult<Arc<Subscription>>
    where
        L: ?Sized + Send + Sync + 'static,
        F: FnOnce(Arc<Delivery>) -> Fut,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let handle = self.handle()?;
        let (subscription, delivery) = Subscription::for_listener(listener);
        let (what, on_closed) = end;
        let end = delivery.end_call::<L>(what, on_closed);
        self.listeners.events.register(delivery.clone(), end)?;
        let cancelled = delivery.cancelled();
        let fed = follow(delivery);
        self.spawn(&handle, kind, task, async move {
            tokio::select! {
                ended = fed => ended,
                () = cancelled => Ok(()),
            }
        });
        Ok(subscription)
    }
}
