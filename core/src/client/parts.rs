//! The parts of a [`ClientCore`](super::ClientCore) beside its lifecycle
//! state, each with what it owns. The drain (`lifecycle/drain.rs`, through
//! `client/teardown.rs`) takes them apart in one order: sync stops (under
//! [`SyncParts::lock`]), then the tasks, then the chat surface's and the
//! security objects handed out ([`Chat::timelines`],
//! [`Security::verifications`], [`Chat::push_rules`], dropped inside the
//! runtime), then the stores, and the listeners' end signals last
//! ([`Listeners::events`]).

use std::sync::Arc;

use tokio::sync::watch;

use super::events::Events;
use super::handed::Handed;
use super::push_rules::PushRules;
use super::recovery::RecoveryKeys;
use super::session_events::SessionEvents;
use super::session_store::SessionKeeper;
use super::summaries::Summaries;
use super::timeline::Timelines;
use super::verification::{OwnVerification, VerificationCore};
use crate::matrix::subscriptions::{Answers, Shown};

/// Who hears from the client: its listeners (sync state, messages, the chat
/// surface's end signals), its session listeners, and the app's session
/// store, asked to save each refreshed session.
pub(crate) struct Listeners {
    pub(crate) events: Arc<Events>,
    pub(crate) sessions: Arc<SessionEvents>,
    pub(crate) session_store: Arc<SessionKeeper>,
}

/// What sync does and carries.
#[derive(Default)]
pub(crate) struct SyncParts {
    /// Serialises start/stop/pause/resume of sync, and the drain's stop.
    pub(crate) lock: tokio::sync::Mutex<()>,
    /// The rooms the app shows (each whose timeline opened; every joined
    /// room once it listens to every message), which sync subscribes to.
    pub(crate) shown: watch::Sender<Shown>,
    /// What sync has answered of those subscriptions, for a room's first
    /// timeline.
    pub(crate) answers: Arc<Answers>,
}

/// The chat surface's state.
#[derive(Default)]
pub(crate) struct Chat {
    /// The timelines handed out; the drain takes them back.
    pub(crate) timelines: Timelines,
    /// Every room's summary, for the synchronous getters.
    pub(crate) summaries: Arc<Summaries>,
    /// Held by `start_dm` from its look for a room to its creation.
    pub(crate) starting_dm: Arc<tokio::sync::Mutex<()>>,
    /// The notification settings, opened once; the drain takes them.
    pub(crate) push_rules: Arc<PushRules>,
}

/// The device's trust and the keys' recovery.
#[derive(Default)]
pub(crate) struct Security {
    /// Whether this device is cross-signed, for `is_verified()`.
    pub(crate) own_verification: Arc<OwnVerification>,
    /// `enable_recovery`'s set-up in progress, and a key not yet handed out.
    pub(crate) recovery_keys: RecoveryKeys,
    /// The verifications handed out; the drain takes them back.
    pub(crate) verifications: Handed<VerificationCore>,
}
