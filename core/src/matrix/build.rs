//! Building a matrix `Client` on its SQLite stores, after checking the input.

use std::path::{Path, PathBuf};
use std::time::Duration;

use matrix_sdk::config::RequestConfig;
use matrix_sdk::cross_process_lock::CrossProcessLockConfig;
use matrix_sdk::reqwest::Certificate;
use matrix_sdk::SqliteStoreConfig;
use url::Url;

use super::errors;
use super::sentinel::DropSentinel;
use super::tls;
use crate::api::ClientConfig;
use crate::api::{CoreError, CoreResult};

/// A checked client configuration. Checking changes nothing on disk.
pub(crate) struct CheckedConfig {
    pub homeserver_url: Url,
    pub data_dir: PathBuf,
    pub passphrase: Option<String>,
    /// `store_key`, checked to be 32 bytes.
    pub key: Option<Box<[u8; 32]>>,
    pub request_timeout: Duration,
    /// `additional_root_certificates`, parsed and checked (DER).
    pub root_certificates: Vec<Vec<u8>>,
    /// `shared_with_other_processes`, the platform's default applied.
    pub shared: bool,
}

/// Rejects a bad URL, a bad data_dir, a zero timeout or a malformed root
/// certificate with a typed error.
pub(crate) fn check(config: &ClientConfig) -> CoreResult<CheckedConfig> {
    let url = Url::parse(config.homeserver_url.trim()).map_err(|e| {
        CoreError::invalid_argument(format!("homeserver_url `{}`: {e}", config.homeserver_url))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(CoreError::invalid_argument(format!(
            "homeserver_url `{}` must be an http or https URL with a host",
            config.homeserver_url
        )));
    }
    if config.data_dir.trim().is_empty() {
        return Err(CoreError::invalid_argument("data_dir is empty"));
    }
    let data_dir = PathBuf::from(&config.data_dir);
    if !data_dir.is_absolute() {
        return Err(CoreError::invalid_argument(format!(
            "data_dir `{}` must be an absolute path",
            config.data_dir
        )));
    }
    // One look: a directory renamed away between two (a wipe under way)
    // would read as existing and not a directory.
    if std::fs::metadata(&data_dir).is_ok_and(|m| !m.is_dir()) {
        return Err(CoreError::invalid_argument(format!(
            "data_dir `{}` exists and is not a directory",
            config.data_dir
        )));
    }
    if config.request_timeout_ms == 0 {
        return Err(CoreError::invalid_argument(
            "request_timeout_ms must be above 0",
        ));
    }
    if config.store_passphrase.as_deref() == Some("") {
        return Err(CoreError::invalid_argument(
            "store_passphrase is empty; pass None for unencrypted stores",
        ));
    }
    let key = match &config.store_key {
        Some(_) if config.store_passphrase.is_some() => {
            return Err(CoreError::invalid_argument(
                "store_key and store_passphrase are both set; give one",
            ))
        }
        Some(key) => Some(Box::new(<[u8; 32]>::try_from(key.as_slice()).map_err(
            |_| {
                CoreError::invalid_argument(format!(
                    "store_key must be 32 bytes, not {}",
                    key.len()
                ))
            },
        )?)),
        None => None,
    };
    let root_certificates = tls::parse_roots(&config.additional_root_certificates)?;
    Ok(CheckedConfig {
        homeserver_url: url,
        data_dir,
        passphrase: config.store_passphrase.clone(),
        key,
        request_timeout: Duration::from_millis(config.request_timeout_ms.into()),
        root_certificates,
        shared: config
            .shared_with_other_processes
            .unwrap_or(!cfg!(target_os = "android")),
    })
}

/// Who opens a `data_dir`'s stores: they may be open in two processes at
/// once (the app, and its push handler or iOS notification extension), which
/// share them under matrix-sdk's cross-process store lock. Each process
/// holds that lock under a name of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The app's client (`Client.create`): holder name [`APP_LOCK_HOLDER`];
    /// refreshes its access token.
    App,
    /// `get_notification`, in whatever process: holder name
    /// `mmc-notification-<pid>`. Never refreshes the access token: a refresh
    /// rotates the refresh token, which would log the app out behind its back.
    Notification,
}

/// The cross-process lock holder name of the app's client. Two processes
/// must never hold the stores under one name.
pub(crate) const APP_LOCK_HOLDER: &str = "mmc-app";

impl Role {
    /// The stores' settings: a notification client reads a push or a few
    /// and is gone, in a process with little memory to spare (an iOS
    /// extension has about 24 MiB), so its pools and page caches are
    /// matrix-sdk's low-memory ones (a connection per core, 500 kB of cache).
    fn store_config(self, config: &CheckedConfig) -> SqliteStoreConfig {
        let stores = match self {
            Role::App => SqliteStoreConfig::new(&config.data_dir),
            Role::Notification => SqliteStoreConfig::with_low_memory_config(&config.data_dir),
        };
        match &config.key {
            Some(key) => stores.key(Some(key)),
            None => stores.passphrase(config.passphrase.as_deref()),
        }
    }

    /// matrix-sdk's cross-process lock: single-process for an app client
    /// whose stores no other process opens (`config.shared` false), else a
    /// holder name of the role's own.
    fn lock_config(self, config: &CheckedConfig) -> CrossProcessLockConfig {
        match self {
            Role::App if !config.shared => CrossProcessLockConfig::SingleProcess,
            Role::App => CrossProcessLockConfig::multi_process(APP_LOCK_HOLDER),
            Role::Notification => CrossProcessLockConfig::multi_process(format!(
                "mmc-notification-{}",
                std::process::id()
            )),
        }
    }
}

/// Opens the stores in `config.data_dir` (which exists) and builds the
/// client. Must run on the owned runtime. The caller keeps the passphrase
/// registered with the log scrubber for as long as the client lives.
pub(crate) async fn build(
    config: &CheckedConfig,
    sentinel: DropSentinel,
    role: Role,
) -> CoreResult<matrix_sdk::Client> {
    let requests = RequestConfig::new()
        .timeout(config.request_timeout)
        .retry_limit(2)
        .max_retry_time(config.request_timeout);
    let roots = config
        .root_certificates
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CoreError::invalid_argument(format!("additional_root_certificates: {e}")))?;
    let builder = matrix_sdk::Client::builder()
        .homeserver_url(config.homeserver_url.as_str())
        .sqlite_store_with_config_and_cache_path(role.store_config(config), None::<&Path>)
        .request_config(requests)
        .with_encryption_settings(encryption_settings())
        .add_root_certificates(roots)
        .cross_process_store_config(role.lock_config(config));
    // An expired access token is refreshed inside the request that met the
    // expiry, which then goes on (see `session_refresh`).
    let builder = match role {
        Role::App => builder.handle_refresh_tokens(),
        Role::Notification => builder,
    };
    // On Android matrix-sdk builds its own rustls verifier, which reads the
    // extra roots from here rather than from `add_root_certificates`.
    #[cfg(target_os = "android")]
    let builder = builder.add_raw_root_certificates(config.root_certificates.clone());
    let client = builder.build().await.map_err(|e| errors::from_build(&e))?;
    client.add_event_handler_context(sentinel);
    Ok(client)
}

/// A message whose room key this device lacks is looked up in the key
/// backup (after `recover`); a backup is created only by `enable_recovery`.
fn encryption_settings() -> matrix_sdk::encryption::EncryptionSettings {
    matrix_sdk::encryption::EncryptionSettings {
        backup_download_strategy:
            matrix_sdk::encryption::BackupDownloadStrategy::AfterDecryptionFailure,
        ..Default::default()
    }
}
