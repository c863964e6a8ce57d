//! The exported `NotificationFetcher`: several pushes on one set of open
//! stores, for a notification extension. Each method only delegates.

use std::sync::Arc;

use crate::api::{ClientConfig, CloseReport, CoreResult, NotificationItem, SessionStore};
use crate::lifecycle::notification::fetcher::Fetcher;

/// Reads the notifications of several pushes with the session the app's
/// `SessionStore` keeps, on one set of open stores (one build, one store-key
/// derivation). Released without `close`, it closes in the background.
#[derive(uniffi::Object)]
pub struct NotificationFetcher {
    core: Fetcher,
}

/// Opens a fetcher on `config.data_dir` with the session `store.load()`
/// returns. An expired access token is refreshed through `store` (asked
/// first, under a lock shared by the app's processes, then saved before any
/// request uses it). In the process of a live client on `data_dir`, that
/// client answers each push and the fetcher holds nothing.
///
/// `InvalidArgument` for a bad `config`; `InvalidState` when the store keeps
/// no session or `data_dir` holds no stores of it; `Storage` when the store
/// throws.
#[uniffi::export]
pub async fn notification_fetcher(
    config: ClientConfig,
    store: Arc<dyn SessionStore>,
) -> CoreResult<Arc<NotificationFetcher>> {
    let core = Fetcher::open(config, store).await?;
    Ok(Arc::new(NotificationFetcher { core }))
}

#[uniffi::export]
impl NotificationFetcher {
    /// One push's notification, as `get_notification` answers it. Pushes
    /// asked at once are answered in turn. `ClientClosed` after `close`.
    pub async fn get(
        &self,
        room_id: String,
        event_id: String,
    ) -> CoreResult<Option<NotificationItem>> {
        self.core.get(room_id, event_id).await
    }

    /// Takes the fetcher's client apart: when it returns, its stores are
    /// closed, its matrix client dropped and its tasks ended (the report
    /// says so, looked at). `ClientClosed` when already closed.
    pub async fn close(&self) -> CoreResult<CloseReport> {
        self.core.close().await
    }
}
