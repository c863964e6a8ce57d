//! The account's devices (its sessions), and signing one of the others out.

use matrix_sdk::ruma::api::client::uiaa::{self, MatrixUserIdentifier, UserIdentifier};
use matrix_sdk::ruma::OwnedDeviceId;

use crate::api::{CoreError, CoreResult, Device};
use crate::logging::scrub;
use crate::matrix::errors;

/// The account's devices, as the server lists them, with whether this
/// device's crypto store knows each to be cross-signed by the user.
pub(crate) async fn devices(client: &matrix_sdk::Client) -> CoreResult<Vec<Device>> {
    let own = client.device_id().map(|d| d.to_owned());
    let user = client
        .user_id()
        .map(|u| u.to_owned())
        .ok_or_else(|| CoreError::invalid_state("log in or restore a session first"))?;
    let listed = client.devices().await.map_err(|e| errors::from_http(&e))?;
    let mut devices = Vec::with_capacity(listed.devices.len());
    for device in listed.devices {
        let known = client
            .encryption()
            .get_device(&user, &device.device_id)
            .await
            .map_err(|e| CoreError::storage(e.to_string()))?;
        devices.push(Device {
            is_current: own.as_ref() == Some(&device.device_id),
            is_verified: known.is_some_and(|d| d.is_cross_signed_by_owner()),
            device_id: device.device_id.to_string(),
            display_name: device.display_name,
            last_seen_ms: device.last_seen_ts.map(|t| u64::from(t.get())),
        });
    }
    Ok(devices)
}

/// Signs the device `device_id` out, answering the server's user-interactive
/// auth with `password` when it asks. This device is `InvalidArgument`
/// (that is `logout`); asked for a password and given none, `Auth`.
pub(crate) async fn delete(
    client: &matrix_sdk::Client,
    device_id: &str,
    password: Option<String>,
) -> CoreResult<()> {
    let device = OwnedDeviceId::from(device_id.trim());
    if device.as_str().is_empty() {
        return Err(CoreError::invalid_argument("device id is empty"));
    }
    if client.device_id() == Some(device.as_ref()) {
        return Err(CoreError::invalid_argument(
            "this is the client's own device: use logout()",
        ));
    }
    let _password = password.as_deref().map(scrub::Registered::typed);
    let devices = [device];
    let Err(first) = client.delete_devices(&devices, None).await else {
        return Ok(());
    };
    let Some(info) = first.as_uiaa_response() else {
        return Err(errors::from_http(&first));
    };
    let Some(password) = password else {
        return Err(CoreError::Auth {
            detail: "the server asks for the account's password to sign a device out".into(),
        });
    };
    let user = client
        .user_id()
        .map(|u| u.to_string())
        .ok_or_else(|| CoreError::invalid_state("log in or restore a session first"))?;
    let mut auth = uiaa::Password::new(
        UserIdentifier::Matrix(MatrixUserIdentifier::new(user)),
        password,
    );
    auth.session = info.session.clone();
    client
        .delete_devices(&devices, Some(uiaa::AuthData::Password(auth)))
        .await
        .map(drop)
        .map_err(|e| match e.as_uiaa_response() {
            // The server asked again: the password was not the account's.
            Some(_) => CoreError::Auth {
                detail: "the server refused the password".into(),
            },
            None => errors::from_http(&e),
        })
}
