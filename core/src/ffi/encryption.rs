//! Recovery and key backup on the exported `Client`. Each method only
//! delegates.

use std::sync::Arc;

use super::client::Client;
use crate::api::{CoreResult, RecoveryState, RecoveryStateListener};
use crate::client::Subscription;
use crate::logging::scrub;
use crate::matrix;
use crate::supervisor::WhenDropped;

#[uniffi::export]
impl Client {
    /// Sets up cross-signing, key backup and secret storage; returns the
    /// recovery key. The core never logs nor stores it: it stays registered
    /// with the log scrubber until the client is drained. Cancel-safe: a
    /// call the app stops awaiting finishes on its own, and the next call
    /// on this client returns its key (calls at once share one set-up).
    pub async fn enable_recovery(&self, passphrase: Option<String>) -> CoreResult<String> {
        self.core.enable_recovery(passphrase).await
    }

    /// On a new device: imports the secrets and the key backup's key, so that
    /// older encrypted messages decrypt. A wrong key gets `InvalidArgument`.
    /// The key is scrubbed from the log while the call runs, and, once it
    /// proved right, until the client is drained; a wrong one is forgotten.
    pub async fn recover(&self, recovery_key: String) -> CoreResult<()> {
        let sdk = self.core.sdk_with_stores()?;
        let in_use = scrub::Registered::typed(&recovery_key);
        let work = async move {
            let done = matrix::encryption::recover(&sdk, &recovery_key).await;
            crate::hooks::pause_point("recover.done");
            done.map(|()| in_use)
        };
        let done = self
            .core
            .store_call("recover", WhenDropped::Abort, work)
            .await;
        self.core.recheck_verified();
        self.core.keep_secret(done?);
        Ok(())
    }

    /// The recovery state as this device sees it now.
    /// `Unknown` when the client is not logged in.
    pub fn recovery_state(&self) -> RecoveryState {
        self.core
            .with_logged_in_sdk(matrix::encryption::state)
            .unwrap_or(RecoveryState::Unknown)
    }

    /// Calls `listener` with the recovery state: the current one first, then
    /// each change; `on_closed()` when the client ends.
    pub fn observe_recovery_state(
        &self,
        listener: Arc<dyn RecoveryStateListener>,
    ) -> CoreResult<Arc<Subscription>> {
        self.core.observe_recovery_state(listener)
    }
}
