//! Device verification on matrix-sdk's `Encryption`: cross-signing, the
//! request to verify this device with another of the same user, incoming
//! requests, and the emoji (SAS) flow mapped to [`VerificationState`].

use futures_util::StreamExt;
use matrix_sdk::encryption::identities::RequestVerificationError;
use matrix_sdk::encryption::verification::{
    SasState, SasVerification, VerificationRequest, VerificationRequestState,
};
use matrix_sdk::ruma::api::client::uiaa;
use matrix_sdk::ruma::events::key::verification::request::ToDeviceKeyVerificationRequestEvent;

use super::errors::from_sdk;
use super::Sdk;
use crate::api::{CoreError, CoreResult, Emoji, VerificationState};

/// A verification flow, as the rest of the core holds it.
pub(crate) type Request = VerificationRequest;

/// Creates cross-signing keys for the account if it has none. Without
/// interactive auth first (Synapse accepts a first upload without it); if
/// the server asks for it, once more with `password`.
pub(crate) async fn bootstrap_cross_signing(sdk: &Sdk, password: Option<String>) -> CoreResult<()> {
    let encryption = sdk.encryption();
    let Err(error) = encryption.bootstrap_cross_signing_if_needed(None).await else {
        return Ok(());
    };
    let (Some(uiaa), Some(password), Some(user)) =
        (error.as_uiaa_response(), password, sdk.user_id())
    else {
        return Err(from_sdk(&error));
    };
    let mut auth = uiaa::Password::new(
        uiaa::UserIdentifier::Matrix(uiaa::MatrixUserIdentifier::new(user.to_string())),
        password,
    );
    auth.session = uiaa.session.clone();
    encryption
        .bootstrap_cross_signing(Some(uiaa::AuthData::Password(auth)))
        .await
        .map_err(|e| from_sdk(&e))
}

/// Asks this user's other devices to verify this one.
pub(crate) async fn request_own(sdk: &Sdk) -> CoreResult<Request> {
    let user = sdk.user_id().ok_or(CoreError::ClientClosed)?.to_owned();
    let encryption = sdk.encryption();
    // Asked of the server: a device that just logged in may not have
    // queried its own keys yet.
    let identity = match encryption
        .get_user_identity(&user)
        .await
        .map_err(|e| CoreError::storage(e.to_string()))?
    {
        Some(identity) => Some(identity),
        None => encryption
            .request_user_identity(&user)
            .await
            .map_err(|e| from_sdk(&e))?,
    };
    let identity = identity.ok_or_else(|| {
        CoreError::invalid_state(
            "the account has no cross-signing identity yet (enable_recovery or \
                 bootstrap_cross_signing on a device first)",
        )
    })?;
    identity.request_verification().await.map_err(|e| match e {
        RequestVerificationError::Sdk(e) => from_sdk(&e),
        other => CoreError::internal(other.to_string()),
    })
}

/// Whether this device is cross-signed by its user; `None` when the store
/// cannot tell now (closed by a pause, or failing).
async fn own_device_verified(sdk: &Sdk) -> Option<bool> {
    match sdk.encryption().get_own_device().await {
        Ok(Some(device)) => Some(device.is_cross_signed_by_owner()),
        Ok(None) => Some(false),
        Err(_) => None,
    }
}

/// Tells `set` whether this device is cross-signed by its user: now, and
/// again after each change that matrix-sdk sees (its verification state,
/// this user's devices) or that `recheck` announces (the core's own calls
/// that sign). Reads the crypto store on the runtime, never on the app's
/// thread; waits without a timer.
pub(crate) async fn follow_own_verification(
    sdk: Sdk,
    recheck: std::sync::Arc<tokio::sync::Notify>,
    set: impl Fn(bool),
) {
    let mut state = sdk.encryption().verification_state();
    let own = sdk.user_id().map(ToOwned::to_owned);
    let devices = sdk.encryption().devices_stream().await.ok();
    let own_devices = futures_util::stream::iter(devices)
        .flatten()
        .filter(move |update| {
            let mine = own.as_ref().is_some_and(|own| {
                update.new.contains_key(own) || update.changed.contains_key(own)
            });
            std::future::ready(mine)
        });
    futures_util::pin_mut!(own_devices);
    let mut devices_live = true;
    loop {
        if let Some(verified) = own_device_verified(&sdk).await {
            set(verified);
        }
        tokio::select! {
            changed = state.next() => if changed.is_none() { return },
            update = own_devices.next(), if devices_live => devices_live = update.is_some(),
            () = recheck.notified() => {}
        }
    }
}

/// The verification requests that other devices send to this one, as they
/// arrive; the handler is removed when the stream is dropped.
pub(crate) fn incoming(sdk: &Sdk) -> impl futures_util::Stream<Item = Request> + Send + 'static {
    let observed = sdk.observe_events::<ToDeviceKeyVerificationRequestEvent, ()>();
    let sdk = sdk.clone();
    let events = observed.subscribe();
    // The handler lives as long as the stream: dropping `observed` removes it.
    events.filter_map(move |(event, ())| {
        let _ = &observed;
        let sdk = sdk.clone();
        async move {
            sdk.encryption()
                .get_verification_request(&event.sender, &event.content.transaction_id)
                .await
        }
    })
}

/// The SAS flow a request turned into, if any.
fn sas_of(request: &Request) -> Option<SasVerification> {
    match request.state() {
        VerificationRequestState::Transitioned { verification, .. } => verification.sas(),
        _ => None,
    }
}

/// Accepts an incoming request.
pub(crate) async fn accept(request: &Request) -> CoreResult<()> {
    request.accept().await.map_err(|e| from_sdk(&e))
}

/// Starts the emoji comparison, or accepts the one the other device started.
pub(crate) async fn start_sas(request: &Request) -> CoreResult<()> {
    if let Some(sas) = sas_of(request) {
        return sas.accept().await.map_err(|e| from_sdk(&e));
    }
    match request.start_sas().await.map_err(|e| from_sdk(&e))? {
        Some(_) => Ok(()),
        None => Err(CoreError::invalid_state(
            "the request is not ready for an emoji comparison",
        )),
    }
}

/// Confirms that the emojis match.
pub(crate) async fn confirm(request: &Request) -> CoreResult<()> {
    let sas = sas_of(request)
        .ok_or_else(|| CoreError::invalid_state("no emoji comparison in progress"))?;
    sas.confirm().await.map_err(|e| from_sdk(&e))
}

/// Cancels the flow (the other device sees `Cancelled`).
pub(crate) async fn cancel(request: &Request) -> CoreResult<()> {
    match sas_of(request) {
        Some(sas) => sas.cancel().await.map_err(|e| from_sdk(&e)),
        None => request.cancel().await.map_err(|e| from_sdk(&e)),
    }
}

/// The state of a request, for the app; `None` for a step it does not see.
fn of_request(state: &VerificationRequestState) -> Option<VerificationState> {
    match state {
        VerificationRequestState::Created { .. } | VerificationRequestState::Requested { .. } => {
            Some(VerificationState::Requested)
        }
        VerificationRequestState::Ready { .. } => Some(VerificationState::Ready),
        VerificationRequestState::Done => Some(VerificationState::Done),
        VerificationRequestState::Cancelled(info) => Some(VerificationState::Cancelled {
            reason: info.reason().to_owned(),
        }),
        VerificationRequestState::Transitioned { .. } => None,
    }
}

fn of_sas(state: &SasState) -> Option<VerificationState> {
    match state {
        SasState::KeysExchanged {
            emojis: Some(short),
            ..
        } => Some(VerificationState::Emojis {
            emojis: short
                .emojis
                .iter()
                .map(|e| Emoji {
                    symbol: e.symbol.to_owned(),
                    description: e.description.to_owned(),
                })
                .collect(),
        }),
        SasState::KeysExchanged { emojis: None, .. } => Some(VerificationState::Cancelled {
            reason: "the other device cannot compare emojis".into(),
        }),
        SasState::Done { .. } => Some(VerificationState::Done),
        SasState::Cancelled(info) => Some(VerificationState::Cancelled {
            reason: info.reason().to_owned(),
        }),
        _ => None,
    }
}

fn is_final(state: &VerificationState) -> bool {
    matches!(
        state,
        VerificationState::Done | VerificationState::Cancelled { .. }
    )
}

/// Calls `emit` with the request's current state, then with each change,
/// until the flow is done or cancelled. An emoji comparison the other
/// device started is accepted here: the user already agreed to the flow.
pub(crate) async fn follow(request: Request, emit: impl Fn(VerificationState)) {
    let mut last: Option<VerificationState> = None;
    let mut send = |state: VerificationState| {
        if last.as_ref() != Some(&state) {
            last = Some(state.clone());
            emit(state);
        }
    };
    let changes = request.changes();
    futures_util::pin_mut!(changes);
    loop {
        if let Some(sas) = sas_of(&request) {
            follow_sas(sas, &mut send).await;
            return;
        }
        if let Some(state) = of_request(&request.state()) {
            let done = is_final(&state);
            send(state);
            if done {
                return;
            }
        }
        if changes.next().await.is_none() {
            return;
        }
    }
}

async fn follow_sas(sas: SasVerification, send: &mut impl FnMut(VerificationState)) {
    let changes = sas.changes();
    futures_util::pin_mut!(changes);
    loop {
        let state = sas.state();
        // `Started`: the other device proposed the comparison (matrix-sdk's
        // `we_started` names who sent the request, not the start).
        if matches!(state, SasState::Started { .. }) {
            if let Err(error) = sas.accept().await {
                tracing::warn!(%error, "could not accept the other device's emoji comparison");
            }
        }
        if let Some(state) = of_sas(&state) {
            let done = is_final(&state);
            send(state);
            if done {
                return;
            }
        }
        if changes.next().await.is_none() {
            return;
        }
    }
}
