//! [`SessionEvents`]: a client's session listeners, told of each token
//! refresh and each refused token, in order, through their own lanes.
//!
//! Each subscription is registered with the client's [`Events`], whose end
//! (at the drain) queues its `on_closed()` as the lane's final call: a
//! change published after it is dropped, so `on_closed()` stays the last
//! call. The current session is a new listener's first call.

use std::sync::{Arc, Mutex, Weak};

use super::events::Events;
use super::subscription::{Delivery, Subscription};
use super::ClientCore;
use crate::api::{CoreResult, Session, SessionListener};
use crate::matrix::{self, session_refresh::SessionChange};

/// One session listener, and the access token it was last told of (a
/// digest, never the token), so that it is not told the same session twice.
struct Subscriber {
    delivery: Arc<Delivery>,
    told: Option<u64>,
}

/// The session listeners of one client.
#[derive(Default)]
pub(crate) struct SessionEvents {
    subscribers: Mutex<Vec<Subscriber>>,
    /// The server refused the session's token, and no refresh since made it
    /// good again: sync is not restarted on its own.
    refused: std::sync::atomic::AtomicBool,
}

impl SessionEvents {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Subscriber>> {
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a session listener; the session `current` gives (read under
    /// the list's lock, so that a refresh is either in it or published
    /// after it) is its first call. Its end signal comes with the client's others.
    /// `ClientClosed` once the client has ended.
    pub(crate) fn observe(
        &self,
        events: &Events,
        listener: Arc<dyn SessionListener>,
        current: impl FnOnce() -> Option<Session>,
    ) -> CoreResult<Arc<Subscription>> {
        let (subscription, delivery) = Subscription::for_listener(listener);
        let end = delivery
            .end_call::<dyn SessionListener>("SessionListener.on_closed", |l| l.on_closed());
        // Under the list's lock, so that no refresh published meanwhile
        // reaches the listener before its current session.
        let mut subscribers = self.lock();
        events.register(delivery.clone(), end)?;
        let mut told = None;
        if let Some(session) = current() {
            told = Some(digest(&session.access_token));
            delivery.post_call::<dyn SessionListener>("SessionListener.on_session_changed", |l| {
                l.on_session_changed(session)
            });
        }
        subscribers.retain(|s| !s.delivery.is_cancelled());
        subscribers.push(Subscriber { delivery, told });
        Ok(subscription)
    }

    /// Queues `call` for every listener, after its earlier calls; a listener
    /// whose end signal is queued gets nothing more.
    fn publish(
        &self,
        what: &'static str,
        call: impl Fn(&dyn SessionListener) + Clone + Send + 'static,
    ) {
        for s in self.lock().iter().filter(|s| !s.delivery.is_cancelled()) {
            let call = call.clone();
            s.delivery
                .post_call::<dyn SessionListener>(what, move |l| call(l));
        }
    }

    /// Tells every listener of the session's new tokens, unless it was
    /// already told of them (its first call, the current session, may have
    /// carried them).
    pub(crate) fn session_changed(&self, session: &Session) {
        self.refused
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let token = digest(&session.access_token);
        for s in self
            .lock()
            .iter_mut()
            .filter(|s| !s.delivery.is_cancelled())
        {
            if s.told == Some(token) {
                continue;
            }
            s.told = Some(token);
            let session = session.clone();
            s.delivery
                .post_call::<dyn SessionListener>("SessionListener.on_session_changed", move |l| {
                    l.on_session_changed(session)
                });
        }
    }

    /// Whether the server refused the token since the last refresh.
    pub(crate) fn refused(&self) -> bool {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Tells every listener that the server refused the token.
    pub(crate) fn auth_error(&self, soft_logout: bool) {
        self.refused
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.publish("SessionListener.on_auth_error", move |l| {
            l.on_auth_error(soft_logout)
        });
    }

    /// Forgets every listener (at the drain, once their end signals are
    /// queued), with no lock held while they are dropped.
    pub(crate) fn clear(&self) {
        let gone = std::mem::take(&mut *self.lock());
        drop(gone);
    }
}

/// A token kept as a digest (never the token itself).
fn digest(token: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    token.hash(&mut hasher);
    hasher.finish()
}

/// The token a refusal was told for, as a digest.
fn token_digest(sdk: &matrix::Sdk) -> Option<u64> {
    matrix::auth::session_of(sdk).map(|s| digest(&s.access_token))
}

/// The client's task that follows matrix-sdk's session changes until the
/// client can report no more (its group's cancellation ends it at the
/// drain): each refresh registers the new tokens with the log scrubber,
/// forgets the old ones, then tells the listeners. A refused token is told
/// once: matrix-sdk reports a refusal for each request the server refuses
/// (sync, sends, key uploads), and the same refusal of the same token again
/// is not news; a refusal after new tokens, or of another kind, is.
pub(super) async fn follow(
    mut changes: matrix::session_refresh::SessionChanges,
    sdk: matrix::Sdk,
    core: Weak<ClientCore>,
) {
    let mut told: Option<(bool, Option<u64>)> = None;
    while let Some(change) = changes.next().await {
        let Some(core) = core.upgrade() else {
            return;
        };
        match change {
            SessionChange::Refreshed => {
                // A refresh that raced a logout finds no session: nothing
                // to keep or to tell.
                let Some(session) = matrix::auth::session_of(&sdk) else {
                    continue;
                };
                // The new tokens are registered before the old are forgotten.
                let fresh = matrix::auth::token_guards(&session);
                let old = std::mem::replace(&mut core.inner().tokens, fresh);
                drop(old);
                told = None;
                core.listeners.sessions.session_changed(&session);
            }
            SessionChange::Refused { soft_logout } => {
                let refusal = (soft_logout, token_digest(&sdk));
                if told != Some(refusal) {
                    told = Some(refusal);
                    core.listeners.sessions.auth_error(soft_logout);
                }
            }
        }
    }
}
