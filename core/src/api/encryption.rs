//! Recovery and key backup: what crosses the FFI.

/// Whether this account's secrets (cross-signing keys, the key backup key)
/// are stored on the server under a recovery key, as this device sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RecoveryState {
    /// Not yet known (before the first sync or the first check).
    Unknown,
    /// No recovery is set up for the account.
    Disabled,
    /// Recovery is set up, but this device does not hold all the secrets
    /// (call `recover` with the recovery key).
    Incomplete,
    /// Recovery is set up and this device holds every secret.
    Enabled,
}

/// Receives the recovery state: the current one first, then each change,
/// then `on_closed()` when the client ends.
#[uniffi::export(foreign)]
pub trait RecoveryStateListener: Send + Sync {
    fn on_state(&self, state: RecoveryState);
    /// The end signal, as for the other listeners.
    fn on_closed(&self);
}
