//! [`PushRules`]: the client's one `NotificationSettings` of matrix-sdk,
//! opened at its first use and kept (a fresh one would read the store's
//! copy of the rules, which trails the client's own changes until sync
//! brings them back). It holds the matrix client: the drain takes it out
//! and drops it inside the runtime before the stores close, and one opened
//! while the drain takes it is dropped at once (`ClientClosed`).

use std::sync::Mutex;

use super::ClientCore;
use crate::api::{CoreError, CoreResult};
use crate::matrix::summaries::Change;
use crate::matrix::{self, notification_settings::Settings};
use crate::supervisor::TaskKind;

#[derive(Default)]
struct Held {
    settings: Option<Settings>,
    /// Set by the drain's take: nothing is kept after it.
    taken: bool,
}

/// The client's notification settings, opened once.
#[derive(Default)]
pub(crate) struct PushRules {
    held: Mutex<Held>,
    /// Held by each call on the settings, so that none reads or changes
    /// them while another's change is on its way back from sync.
    calls: tokio::sync::Mutex<()>,
}

impl PushRules {
    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for the calls before this one; held for the whole call.
    pub(crate) async fn one_at_a_time(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.calls.lock().await
    }

    /// The settings, opened from `sdk`'s store at the first call; on the
    /// runtime. `ClientClosed` once the drain took them.
    pub(crate) async fn get(&self, sdk: &matrix::Sdk) -> CoreResult<Settings> {
        {
            let held = self.lock();
            if held.taken {
                return Err(CoreError::ClientClosed);
            }
            if let Some(settings) = &held.settings {
                return Ok(settings.clone());
            }
        }
        let opened = matrix::notification_settings::open(sdk).await;
        let mut held = self.lock();
        if held.taken {
            drop(held);
            drop(opened);
            return Err(CoreError::ClientClosed);
        }
        Ok(held.settings.get_or_insert(opened).clone())
    }

    /// Takes the settings out for good, for the drain to drop inside the
    /// runtime.
    pub(crate) fn take(&self) -> Option<Settings> {
        let mut held = self.lock();
        held.taken = true;
        held.settings.take()
    }
}

impl ClientCore {
    /// Keeps each room's notification mode (on its summary) in line with
    /// the rules, the client's own changes and those sync brings, until the
    /// client drains. Opens the settings; at the session's start. Waits on
    /// the rules' changes alone: a paused client's task sleeps.
    pub(super) fn follow_push_rules(&self, sdk: &matrix::Sdk) {
        let Ok(handle) = self.handle() else { return };
        let rules = self.chat.push_rules.clone();
        let summaries = std::sync::Arc::downgrade(&self.chat.summaries);
        let sdk = sdk.clone();
        self.spawn(&handle, TaskKind::Finite, "push-rules", async move {
            let Ok(settings) = rules.get(&sdk).await else {
                return Ok(());
            };
            let mut changes = settings.subscribe_to_changes();
            loop {
                let changed =
                    matrix::notification_settings::align_cached_modes(&settings, &sdk).await;
                let Some(summaries) = summaries.upgrade() else {
                    return Ok(());
                };
                let known = changed
                    .iter()
                    .filter_map(|id| matrix::summaries::of(&sdk, id))
                    .collect::<Vec<_>>();
                if !known.is_empty() {
                    summaries.apply(Change::Upsert(known));
                }
                drop(summaries);
                if !matrix::notification_settings::next_change(&mut changes).await {
                    return Ok(());
                }
            }
        });
    }
}
