//! The records and the listener of device verification.

/// One emoji of the seven that both devices show.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Emoji {
    pub symbol: String,
    pub description: String,
}

/// Where a verification stands.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum VerificationState {
    /// Sent by us, or received and not yet accepted.
    Requested,
    /// Both devices agreed; either may call `start_sas()`.
    Ready,
    /// The seven emojis to compare with the other device's.
    Emojis { emojis: Vec<Emoji> },
    /// Both devices confirmed: each trusts the other.
    Done,
    /// Either side cancelled, or the flow failed.
    Cancelled { reason: String },
}

/// Receives a verification's states: the current one first, then each
/// change.
#[uniffi::export(foreign)]
pub trait VerificationListener: Send + Sync {
    fn on_state(&self, state: VerificationState);
    /// The end signal: the verification's client ended. The last call; not
    /// sent after `cancel()`.
    fn on_closed(&self);
}
