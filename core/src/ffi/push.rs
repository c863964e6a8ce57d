//! Push notifications on the exported `Client`: its HTTP pushers. Each
//! method only delegates.

use super::client::Client;
use crate::api::{CoreResult, PusherConfig};
use crate::matrix;
use crate::supervisor::WhenDropped;

#[uniffi::export]
impl Client {
    /// Creates or replaces this device's HTTP pusher: the homeserver then
    /// posts each notification of the account to `gateway_url`. Bad input
    /// (an empty `pushkey` or `app_id`, a `gateway_url` that is not
    /// `http(s)://…/_matrix/push/v1/notify`, a `default_payload_json` that
    /// is not a JSON object) gets `InvalidArgument` before any request.
    pub async fn set_pusher(&self, pusher: PusherConfig) -> CoreResult<()> {
        let pusher = matrix::push::checked(&pusher)?;
        let sdk = self.core.logged_in_sdk()?;
        let work = async move { matrix::push::set(&sdk, pusher).await };
        self.core.call("set_pusher", WhenDropped::Abort, work).await
    }

    /// The account's HTTP pushers (this device's and the others'), as the
    /// homeserver holds them: what `set_pusher` was given, read back.
    pub async fn pushers(&self) -> CoreResult<Vec<PusherConfig>> {
        let sdk = self.core.logged_in_sdk()?;
        let work = async move { matrix::push::list(&sdk).await };
        self.core.call("pushers", WhenDropped::Abort, work).await
    }

    /// Removes the account's pushers with `pushkey` (whatever their app id);
    /// the homeserver stops posting to them. Succeeds when there is none.
    pub async fn remove_pusher(&self, pushkey: String) -> CoreResult<()> {
        matrix::push::check_pushkey(&pushkey)?;
        let sdk = self.core.logged_in_sdk()?;
        let work = async move { matrix::push::remove(&sdk, &pushkey).await };
        self.core
            .call("remove_pusher", WhenDropped::Abort, work)
            .await
    }
}
