//! Recovery and key backup, through matrix-sdk's `recovery()` and
//! `backups()`. The recovery key and a passphrase cross this module only as
//! arguments and results: nothing here logs or stores them.

use std::time::Duration;

use matrix_sdk::encryption::backups::{futures::SteadyStateError, BackupState};
use matrix_sdk::encryption::recovery::{RecoveryError, RecoveryState as SdkState};
use matrix_sdk::encryption::secret_storage::SecretStorageError;

use super::errors::from_sdk;
use super::Sdk;
use crate::api::{CoreError, CoreResult, RecoveryState};

/// Sets up cross-signing, a key backup and secret storage; returns the new
/// recovery key. Creates the cross-signing keys if the account has none.
/// Waits for the room keys known so far to be uploaded.
pub(crate) async fn enable(sdk: &Sdk, passphrase: Option<&str>) -> CoreResult<String> {
    // Recovery stores the cross-signing keys: they must exist first (a
    // server that asks for the password again for that is not supported).
    sdk.encryption()
        .bootstrap_cross_signing_if_needed(None)
        .await
        .map_err(|e| from_sdk(&e))?;
    let recovery = sdk.encryption().recovery();
    let enable = recovery.enable().wait_for_backups_to_upload();
    let enable = match passphrase {
        Some(p) => enable.with_passphrase(p),
        None => enable,
    };
    enable.await.map_err(|e| from_recovery(&e))
}

/// Imports the secrets stored under `key` (a recovery key or its
/// passphrase): cross-signing keys and the key backup's key, so that the
/// room keys in the backup are downloaded as messages need them.
pub(crate) async fn recover(sdk: &Sdk, key: &str) -> CoreResult<()> {
    if key.trim().is_empty() {
        return Err(CoreError::invalid_argument("recovery_key is empty"));
    }
    sdk.encryption()
        .recovery()
        .recover(key)
        .await
        .map_err(|e| from_recovery(&e))
}

/// The recovery state as this device sees it now.
pub(crate) fn state(sdk: &Sdk) -> RecoveryState {
    map_state(sdk.encryption().recovery().state())
}

/// The recovery states from now on (the current one first).
pub(crate) fn states(sdk: &Sdk) -> impl futures_util::Stream<Item = RecoveryState> + use<> {
    use futures_util::StreamExt;
    sdk.encryption().recovery().state_stream().map(map_state)
}

/// Waits, within `timeout`, for the key backup to hold every room key this
/// device has: `None` without an active backup, `Some(false)` when the
/// backup was disabled meanwhile or the upload did not finish in time (a
/// failed request or a missed progress update is tried again meanwhile).
pub(crate) async fn wait_backed_up(sdk: &Sdk, timeout: Duration) -> Option<bool> {
    let backups = sdk.encryption().backups();
    if !matches!(
        backups.state(),
        BackupState::Enabled | BackupState::Creating | BackupState::Resuming
    ) {
        return None;
    }
    if !backups.are_enabled().await {
        return None;
    }
    // A missed progress update or a failed request is not the end: the
    // wait starts again (and with it the upload) until the deadline.
    let settled = async {
        loop {
            match backups.wait_for_steady_state().await {
                Ok(()) => return true,
                Err(SteadyStateError::BackupDisabled) => {
                    tracing::warn!("the key backup was disabled while it uploaded");
                    return false;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "the key backup's upload goes on");
                    tokio::time::sleep(BACKUP_RETRY).await;
                }
            }
        }
    };
    match tokio::time::timeout(timeout, settled).await {
        Ok(done) => Some(done),
        Err(_) => {
            tracing::warn!("the key backup did not finish uploading in time");
            Some(false)
        }
    }
}

/// The pause before the key backup's upload is tried again.
const BACKUP_RETRY: Duration = Duration::from_millis(200);

fn map_state(state: SdkState) -> RecoveryState {
    match state {
        SdkState::Unknown => RecoveryState::Unknown,
        SdkState::Enabled => RecoveryState::Enabled,
        SdkState::Disabled => RecoveryState::Disabled,
        SdkState::Incomplete => RecoveryState::Incomplete,
    }
}

/// A recovery error in the core's terms: a key that does not open the
/// secret store is the caller's mistake.
fn from_recovery(error: &RecoveryError) -> CoreError {
    match error {
        RecoveryError::BackupExistsOnServer => CoreError::invalid_state(
            "a key backup already exists on the server: recover with its key instead",
        ),
        RecoveryError::Sdk(e) => from_sdk(e),
        RecoveryError::SecretStorage(e) => match e {
            SecretStorageError::SecretStorageKey(_) => CoreError::invalid_argument(
                "the recovery key (or passphrase) does not open this account's secret storage",
            ),
            SecretStorageError::MissingKeyInfo { .. } => {
                CoreError::invalid_state("recovery is not set up for this account")
            }
            SecretStorageError::Sdk(e) => from_sdk(e),
            SecretStorageError::Storage(e) => CoreError::storage(e.to_string()),
            other => CoreError::internal(other.to_string()),
        },
    }
}
