//! [`Reader`]: the matrix client of a short-lived notification client, on
//! stores it has claimed. It is restored for the first push's room only
//! (the account's other rooms are not loaded: a push in another room is
//! found by matrix-sdk-ui's own short sliding sync), asked once per push,
//! and, for a session the app's `SessionStore` keeps, refreshed when the
//! server says the access token expired:
//! 1. under the `data_dir`'s [`process_lock::SESSION_REFRESH`] lock,
//!    shared by the app's processes, the store is asked first
//!    ([`SessionKeeper::load`]);
//! 2. a session that another process refreshed meanwhile is taken up (the
//!    client is rebuilt on it: matrix-sdk 0.18 cannot swap a live client's
//!    tokens), and the fetcher never spends a refresh token again;
//! 3. otherwise it refreshes, and saves the new session through the store
//!    before any request uses it. A save that fails leaves the new tokens
//!    unused for good (the store's refresh token stays valid until they are
//!    used), and every later push gets that `Storage` error.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api::{CoreError, CoreResult, NotificationItem, Session};
use crate::client::process_lock::{self, FileLock, Mode};
use crate::client::SessionKeeper;
use crate::logging::scrub::Registered;
use crate::matrix::{self, build::CheckedConfig, notification::Target, sentinel::DropWatch};

use super::super::steps;

/// How long the reader waits to see a replaced matrix client dropped.
const DROP_BOUND: Duration = Duration::from_secs(1);

/// Where a short-lived client's session comes from.
pub(crate) enum Sessions {
    /// Given with the call (`get_notification`): never refreshed; an expired
    /// token is `Auth`.
    Given(Session),
    /// Kept by the app's store (a fetcher): refreshed through it.
    Kept {
        keeper: Arc<SessionKeeper>,
        /// The session in use, shared with the fetcher's handle.
        current: Arc<Mutex<Session>>,
    },
}

impl Sessions {
    /// The session in use.
    pub(crate) fn current(&self) -> Session {
        match self {
            Sessions::Given(session) => session.clone(),
            Sessions::Kept { current, .. } => {
                current.lock().unwrap_or_else(|p| p.into_inner()).clone()
            }
        }
    }
}

/// The matrix client of a short-lived notification client.
pub(crate) struct Reader {
    config: CheckedConfig,
    sessions: Sessions,
    sdk: Option<matrix::Sdk>,
    /// The watch of the matrix client in use.
    watch: DropWatch,
    /// Whether every client replaced on the way was seen dropped.
    replaced_dropped: bool,
    restored: bool,
    /// The tokens in use, out of every log line.
    _tokens: Vec<Registered>,
    /// Why the client may send no request any more.
    poisoned: Option<CoreError>,
}

impl Reader {
    /// Builds the client on the claimed stores of `config.data_dir`.
    pub(crate) async fn build(config: CheckedConfig, sessions: Sessions) -> CoreResult<Self> {
        let (sentinel, watch) = matrix::sentinel::sentinel();
        let sdk =
            matrix::build::build(&config, sentinel, matrix::build::Role::Notification).await?;
        let tokens = matrix::auth::token_guards(&sessions.current());
        Ok(Self {
            config,
            sessions,
            sdk: Some(sdk),
            watch,
            replaced_dropped: true,
            restored: false,
            _tokens: tokens,
            poisoned: None,
        })
    }

    /// The notification of `target` (see `matrix::notification::fetch`);
    /// with a kept session, an expired token is refreshed (or another
    /// process's refresh taken up) and the fetch tried once more.
    pub(crate) async fn answer(&mut self, target: &Target) -> CoreResult<Option<NotificationItem>> {
        if let Some(e) = &self.poisoned {
            return Err(e.clone());
        }
        let (outcome, refused) = self.fetch(target).await;
        if !matches!(self.sessions, Sessions::Kept { .. }) || refused != Some(true) {
            return outcome;
        }
        tracing::info!("the notification client's access token expired; renewing it");
        let renewed = self.renew().await;
        match (outcome, renewed) {
            // Found on the way (a fallback succeeded): a failed renewal
            // shows at the next push.
            (Ok(Some(item)), _) => Ok(Some(item)),
            (_, Err(e)) => Err(e),
            (_, Ok(())) => self.fetch(target).await.0,
        }
    }

    /// One fetch, restoring the session first if not yet done; whether the
    /// server refused the token meanwhile (and its `soft_logout`).
    async fn fetch(
        &mut self,
        target: &Target,
    ) -> (CoreResult<Option<NotificationItem>>, Option<bool>) {
        let Some(sdk) = self.sdk.clone() else {
            return (Err(CoreError::ClientClosed), None);
        };
        if !self.restored {
            let session = self.sessions.current();
            if let Err(e) = matrix::auth::restore_for_room(&sdk, &session, &target.room_id).await {
                return (Err(e), None);
            }
            self.restored = true;
        }
        let mut changes = matrix::session_refresh::changes(&sdk);
        let outcome = matrix::notification::fetch(&sdk, target, None).await;
        (outcome, changes.refused())
    }

    /// Under the refresh lock: takes up the session the store keeps if
    /// another process refreshed it, else refreshes and saves.
    async fn renew(&mut self) -> CoreResult<()> {
        let Sessions::Kept { keeper, current } = &self.sessions else {
            return Err(CoreError::internal("a given session is never renewed"));
        };
        let (keeper, current) = (keeper.clone(), current.clone());
        let _lock = FileLock::take(
            &self.config.data_dir,
            process_lock::SESSION_REFRESH,
            Mode::Exclusive,
            self.config.request_timeout,
        )?;
        let now = self.sessions.current();
        let kept = keeper.load()?.ok_or_else(|| CoreError::Auth {
            detail: "the app's session store holds no session (the app logged out)".into(),
        })?;
        if (&kept.user_id, &kept.device_id) != (&now.user_id, &now.device_id) {
            return Err(CoreError::Auth {
                detail: "the app's session store holds another session: open a new fetcher".into(),
            });
        }
        let fresh =
            if kept.access_token != now.access_token || kept.refresh_token != now.refresh_token {
                tracing::info!("another process refreshed the session; taking it up");
                self.rebuild().await?;
                kept
            } else {
                let sdk = self.sdk.clone().ok_or(CoreError::ClientClosed)?;
                let fresh = matrix::session_refresh::refresh(&sdk).await?;
                if let Err(e) = keeper.save(fresh.clone()) {
                    let e = CoreError::storage(format!(
                        "the refreshed session could not be saved, so it is never used ({e}); \
                     close this fetcher and open a new one"
                    ));
                    self.poisoned = Some(e.clone());
                    return Err(e);
                }
                fresh
            };
        self._tokens = matrix::auth::token_guards(&fresh);
        *current.lock().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// Takes the client apart and builds another on the same stores, to be
    /// restored with the session in use at the next fetch.
    async fn rebuild(&mut self) -> CoreResult<()> {
        // Logged by the close; a client that did not close is still
        // replaced, and its drop is waited for.
        let (_, replaced) = self.close_client(&mut Vec::new()).await;
        self.replaced_dropped &= wait_dropped(&replaced).await;
        let (sentinel, watch) = matrix::sentinel::sentinel();
        let sdk =
            matrix::build::build(&self.config, sentinel, matrix::build::Role::Notification).await?;
        self.sdk = Some(sdk);
        self.watch = watch;
        self.restored = false;
        Ok(())
    }

    /// Closes the stores and drops the client, here inside the runtime;
    /// whether the stores closed (`warnings` says why not), and the
    /// client's watch.
    async fn close_client(&mut self, warnings: &mut Vec<String>) -> (bool, DropWatch) {
        let closed = match self.sdk.take() {
            Some(sdk) => steps::close_stores(&sdk, warnings).await,
            None => true,
        };
        (closed, self.watch.clone())
    }

    /// Takes the client apart; whether its stores closed, and what tells
    /// whether every matrix client it built is dropped.
    pub(crate) async fn close(mut self, warnings: &mut Vec<String>) -> (bool, Dropped) {
        let (closed, watch) = self.close_client(warnings).await;
        (
            closed,
            Dropped {
                watch,
                replaced: self.replaced_dropped,
            },
        )
    }
}

/// Whether every matrix client of a reader was dropped.
pub(crate) struct Dropped {
    watch: DropWatch,
    replaced: bool,
}

impl Dropped {
    /// Waits, at most [`DROP_BOUND`], for the last client; whether all are.
    pub(crate) async fn wait(&self) -> bool {
        wait_dropped(&self.watch).await && self.replaced
    }
}

/// Waits, at most [`DROP_BOUND`], until the matrix client's inner state is
/// gone; whether it is.
async fn wait_dropped(watch: &DropWatch) -> bool {
    let deadline = tokio::time::Instant::now() + DROP_BOUND;
    while !watch.dropped() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    watch.dropped()
}
