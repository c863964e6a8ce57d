//! [`Fetcher`]: several pushes on one set of open stores, for a notification
//! extension handed a few at once, with the session the app's `SessionStore`
//! keeps (refreshed through it: see [`super::reader`]).
//!
//! - **Its own stores.** In a process without a client on `data_dir` (an iOS
//!   extension, an Android push handler whose app is not running), it holds
//!   a short-lived client from `open` to `close` (or its release, after
//!   which it closes in the background): one build, one key derivation, for
//!   every push. The directory is claimed for that time: a `Client.create`
//!   on it in this process asks the fetcher to give it up, which it does
//!   after the pushes already queued; later pushes go the way of
//!   `get_notification` (the new client answers them).
//! - **Through the app's client.** In a process whose client holds
//!   `data_dir`, each push is `get_notification`'s (that client answers),
//!   and the fetcher holds nothing.
//!
//! `close` reports the short-lived client's teardown with the drain's
//! guarantees (`short_lived`'s module says what holds then).

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::reader::Sessions;
use super::short_lived::{self, Job, Opening, ShortLived};
use crate::api::{
    ClientConfig, CloseReport, CoreError, CoreResult, NotificationItem, ServerLogout, Session,
    SessionStore,
};
use crate::client::{registry, SessionKeeper};
use crate::matrix;

/// Where a fetcher's pushes go.
enum State {
    /// Its own short-lived client, until it yields the directory.
    Reading(ShortLived),
    /// `get_notification`, each push.
    Delegating,
    Closed,
}

/// A notification fetcher (the exported `NotificationFetcher` delegates).
pub(crate) struct Fetcher {
    config: ClientConfig,
    /// The session in use, which the reader keeps current when it renews it.
    current: Arc<Mutex<Session>>,
    state: Mutex<State>,
}

impl Fetcher {
    /// Opens a fetcher on `config.data_dir` with the session `store` keeps.
    ///
    /// `InvalidArgument` for a bad `config`; `InvalidState` when the store
    /// keeps no session or `data_dir` holds no stores of it; `Storage` when
    /// the store throws; `Busy` while this process's client on `data_dir`
    /// is being built or closed.
    pub(crate) async fn open(
        config: ClientConfig,
        store: Arc<dyn SessionStore>,
    ) -> CoreResult<Self> {
        let checked = matrix::build::check(&config)?;
        let keeper = SessionKeeper::new(checked.request_timeout);
        keeper.set(store);
        let session = keeper.load_elsewhere().await?.ok_or_else(|| {
            CoreError::invalid_state(
                "the session store keeps no session: log in with Client.create first",
            )
        })?;
        matrix::auth::check_session(&session)?;
        let current = Arc::new(Mutex::new(session));
        let live = std::fs::canonicalize(&checked.data_dir)
            .ok()
            .and_then(|dir| registry::live_on(&dir));
        let state = match live {
            Some(_) => State::Delegating,
            None => {
                let opening = Opening {
                    config: checked,
                    sessions: Sessions::Kept {
                        keeper,
                        current: current.clone(),
                    },
                    lent: None,
                    yields: true,
                };
                State::Reading(short_lived::start(opening, None).await?)
            }
        };
        Ok(Self {
            config,
            current,
            state: Mutex::new(state),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The notification of one push, like `get_notification`'s.
    ///
    /// # Cancel safety
    /// A push handed to the client is answered in the background; dropping
    /// the future only drops the answer.
    pub(crate) async fn get(
        &self,
        room_id: String,
        event_id: String,
    ) -> CoreResult<Option<NotificationItem>> {
        let target = matrix::notification::target(&room_id, &event_id)?;
        let jobs = match &*self.state() {
            State::Reading(client) => Some(client.jobs.clone()),
            State::Delegating => None,
            State::Closed => return Err(CoreError::ClientClosed),
        };
        if let Some(jobs) = jobs {
            let (reply, answer) = oneshot::channel();
            if jobs.send(Job { target, reply }).await.is_ok() {
                if let Ok(outcome) = answer.await {
                    return outcome;
                }
            }
            // The client gave the directory up (or a shutdown ended it).
        }
        let session = self
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        super::get_notification(self.config.clone(), session, room_id, event_id).await
    }

    /// Ends the fetcher: its own client, if it has one, is taken apart and
    /// reported on. `ClientClosed` when it was closed already.
    ///
    /// # Cancel safety
    /// Once called, the teardown runs to its end; dropping the future only
    /// drops the report.
    pub(crate) async fn close(&self) -> CoreResult<CloseReport> {
        let state = std::mem::replace(&mut *self.state(), State::Closed);
        match state {
            State::Reading(ShortLived { jobs, closed }) => {
                drop(jobs);
                closed.await.unwrap_or_else(|_| {
                    Err(CoreError::internal(
                        "the notification client ended without a report",
                    ))
                })
            }
            State::Delegating => Ok(nothing_held()),
            State::Closed => Err(CoreError::ClientClosed),
        }
    }
}

/// The report of a fetcher that read through this process's client.
fn nothing_held() -> CloseReport {
    CloseReport {
        server_logout: ServerLogout::Skipped,
        phases: Vec::new(),
        total_ms: 0,
        tasks_drained: 0,
        store_files_open_after: None,
        client_dropped: true,
        tasks_left_behind: 0,
        data_wiped: false,
        runtime_restarted: false,
        runtime_generation: crate::runtime::generation(),
        warnings: vec!["the fetcher read through this process's client; it held nothing".into()],
        unsent_messages: 0,
    }
}
