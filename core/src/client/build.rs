//! Building a [`ClientCore`] inside its creation task, on the runtime.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Handle;

use super::events::Events;
use super::parts::Listeners;
use super::{process_lock, registry, store_dir, ClientCore, Inner};
use crate::api::{ClientState, CoreError, CoreResult};
use crate::matrix::{self, build::CheckedConfig};
use crate::runtime::ClientLease;

/// Claims `data_dir`, prepares it (finishing an owed wipe before any store
/// opens), opens the stores and builds the client.
///
/// # Cancel safety
/// Whatever was built is dropped with the future (inside the runtime, as the
/// task's future), the claim and the lease with it: nothing is left counted.
pub(crate) async fn build(
    checked: CheckedConfig,
    handle: Handle,
    lease: ClientLease,
) -> CoreResult<Arc<ClientCore>> {
    let dir = checked.data_dir.clone();
    // Claimed before anything inside is touched: a drain of this directory
    // still under way (a logout the app stopped awaiting) keeps its claim
    // until its wipe is done, and this creation gets `Busy`. A push being
    // read from it (`get_notification`, its fetch bounded) is waited for.
    let data_dir = tokio::task::block_in_place(|| store_dir::canonical(&dir))?;
    let claim = claim_after_notification(&data_dir).await?;
    tokio::task::block_in_place(|| store_dir::prepare(&data_dir))?;
    let alone = process_lock::hold_alone(&data_dir, checked.shared)?;
    let checked = CheckedConfig {
        data_dir: data_dir.clone(),
        ..checked
    };
    // Out of every log line while the client lives; forgotten when it drains.
    let passphrase = checked
        .passphrase
        .as_deref()
        .map(crate::logging::scrub::Registered::typed);
    let (sentinel, dropped) = matrix::sentinel::sentinel();
    let events = Arc::new(Events::default());
    let sdk = matrix::build::build(&checked, sentinel, matrix::build::Role::App).await?;
    events.attach(&sdk);
    let keeper = super::session_store::SessionKeeper::new(checked.request_timeout);
    let saver = keeper.clone();
    matrix::session_save::install(&sdk, move |session| saver.save(session));
    let core = Arc::new(ClientCore {
        generation: lease.generation(),
        group: lease.group().clone(),
        lease: Mutex::new(Some(lease)),
        data_dir,
        request_timeout: checked.request_timeout,
        dropped,
        // Only the rooms with an open timeline (and every joined room while
        // `observe_messages` listens): the room list carries the rest.
        sync: Default::default(),
        install: Arc::default(),
        inner: Mutex::new(Inner {
            state: ClientState::Created,
            sdk: Some(sdk.clone()),
            sync: None,
            sync_wanted: false,
            paused: false,
            pauses: 0,
            exclusive: None,
            secrets: passphrase.into_iter().collect(),
            tokens: Vec::new(),
        }),
        paused_watch: tokio::sync::watch::Sender::new(false),
        listeners: Listeners {
            events,
            sessions: Default::default(),
            session_store: keeper,
        },
        chat: Default::default(),
        security: Default::default(),
        claim: Mutex::new(Some(claim)),
        shares_stores: checked.shared,
        alone: Mutex::new(alone),
    });
    core.spawn_background(&handle, &sdk);
    Ok(core)
}

/// How long a creation waits for a `get_notification` reading its
/// `data_dir`: the fetch's bound and its teardown's.
const NOTIFICATION_WAIT: Duration = Duration::from_secs(35);

/// Claims `data_dir` for a client, waiting (at most [`NOTIFICATION_WAIT`])
/// while a `get_notification` or a `NotificationFetcher` of this process
/// reads it (a fetcher gives it up after its fetch under way): a user who
/// taps the app while its push handler runs gets the app, not `Busy`.
async fn claim_after_notification(data_dir: &Path) -> CoreResult<registry::DataDirClaim> {
    let deadline = tokio::time::Instant::now() + NOTIFICATION_WAIT;
    loop {
        match registry::claim_data_dir(data_dir, registry::Holder::Client) {
            Err(CoreError::Busy { .. })
                if registry::want_from_notification(data_dir)
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            claimed => return claimed,
        }
    }
}
