//! HTTP pushers: where the homeserver posts this account's notifications.

use matrix_sdk::ruma::api::client::push::{get_pushers, PusherIds, PusherInit, PusherKind};
use matrix_sdk::ruma::push::{HttpPusherData, PushFormat as SdkPushFormat};
use url::Url;

use super::errors;
use crate::api::{CoreError, CoreResult, PushFormat, PusherConfig};

/// The path of a push gateway's notify endpoint (Push Gateway API).
const NOTIFY_PATH: &str = "/_matrix/push/v1/notify";

/// The key of the pusher's data that gateways (Sygnal) merge into each push.
const DEFAULT_PAYLOAD: &str = "default_payload";

/// The spec's bounds on a pusher's ids, in bytes.
const MAX_APP_ID: usize = 64;
const MAX_PUSHKEY: usize = 512;

/// `InvalidArgument` unless `pushkey` is 1 to 512 bytes.
pub(crate) fn check_pushkey(pushkey: &str) -> CoreResult<()> {
    if pushkey.is_empty() {
        return Err(CoreError::invalid_argument("pushkey is empty"));
    }
    if pushkey.len() > MAX_PUSHKEY {
        return Err(CoreError::invalid_argument(format!(
            "pushkey is longer than {MAX_PUSHKEY} bytes"
        )));
    }
    Ok(())
}

/// Checks a pusher's configuration and makes the request's pusher of it.
/// Runs before any request, so that bad input gets `InvalidArgument`.
pub(crate) fn checked(config: &PusherConfig) -> CoreResult<PusherInit> {
    check_pushkey(&config.pushkey)?;
    if config.app_id.is_empty() || config.app_id.len() > MAX_APP_ID {
        return Err(CoreError::invalid_argument(format!(
            "app_id must be 1 to {MAX_APP_ID} bytes"
        )));
    }
    let url = Url::parse(config.gateway_url.trim()).map_err(|e| {
        CoreError::invalid_argument(format!("gateway_url `{}`: {e}", config.gateway_url))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(CoreError::invalid_argument(format!(
            "gateway_url `{}` is not an http(s) URL",
            config.gateway_url
        )));
    }
    if url.path() != NOTIFY_PATH {
        return Err(CoreError::invalid_argument(format!(
            "gateway_url `{}` must end in {NOTIFY_PATH}",
            config.gateway_url
        )));
    }
    if config.lang.trim().is_empty() {
        return Err(CoreError::invalid_argument("lang is empty"));
    }
    let mut data = HttpPusherData::new(url.to_string());
    data.format = config
        .format
        .map(|PushFormat::EventIdOnly| SdkPushFormat::EventIdOnly);
    if let Some(json) = &config.default_payload_json {
        let payload: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            CoreError::invalid_argument(format!("default_payload_json is not JSON: {e}"))
        })?;
        if !payload.is_object() {
            return Err(CoreError::invalid_argument(
                "default_payload_json must be a JSON object",
            ));
        }
        data.data.insert(DEFAULT_PAYLOAD.to_owned(), payload);
    }
    Ok(PusherInit {
        ids: PusherIds::new(config.pushkey.clone(), config.app_id.clone()),
        kind: PusherKind::Http(data),
        app_display_name: config.app_id.clone(),
        device_display_name: config.device_name.clone(),
        profile_tag: None,
        lang: config.lang.clone(),
    })
}

/// Creates or replaces the pusher (`append: false`: the same pushkey under
/// another user of this homeserver is removed, as the spec advises).
pub(crate) async fn set(client: &matrix_sdk::Client, pusher: PusherInit) -> CoreResult<()> {
    client
        .pusher()
        .set(pusher.into(), false)
        .await
        .map_err(|e| errors::from_sdk(&e))
}

/// The account's HTTP pushers, as `set` was given them (an email pusher is
/// left out).
pub(crate) async fn list(client: &matrix_sdk::Client) -> CoreResult<Vec<PusherConfig>> {
    let pushers = client
        .send(get_pushers::v3::Request::new())
        .await
        .map_err(|e| errors::from_http(&e))?
        .pushers;
    Ok(pushers
        .into_iter()
        .filter_map(|pusher| {
            let PusherKind::Http(data) = pusher.kind else {
                return None;
            };
            Some(PusherConfig {
                app_id: pusher.ids.app_id,
                pushkey: pusher.ids.pushkey,
                gateway_url: data.url,
                device_name: pusher.device_display_name,
                lang: pusher.lang,
                format: data.format.and_then(|f| match f {
                    SdkPushFormat::EventIdOnly => Some(PushFormat::EventIdOnly),
                    _ => None,
                }),
                default_payload_json: data.data.get(DEFAULT_PAYLOAD).map(|p| p.to_string()),
            })
        })
        .collect())
}

/// Removes every pusher of this account with `pushkey`, whatever its app
/// id. Removing a pushkey that has no pusher succeeds.
pub(crate) async fn remove(client: &matrix_sdk::Client, pushkey: &str) -> CoreResult<()> {
    let pushers = client
        .send(get_pushers::v3::Request::new())
        .await
        .map_err(|e| errors::from_http(&e))?
        .pushers;
    for pusher in pushers.into_iter().filter(|p| p.ids.pushkey == pushkey) {
        client
            .pusher()
            .delete(pusher.ids)
            .await
            .map_err(|e| errors::from_sdk(&e))?;
    }
    Ok(())
}
