//! Notification settings on the exported `Client`: each room's mode, the
//! account's defaults, keywords. The homeserver's push rules, so pushes
//! follow them: a muted room sends none. One call at a time per client;
//! while sync runs, a change returns once sync has brought it back (10 s at
//! most), so that what is read next shows it. A change that has begun runs
//! to its end when the caller cancels: matrix-sdk sends a change as several
//! requests and updates its own copy of the rules only after the last, so
//! one cut short would leave that copy wrong for the next. Each method only
//! delegates.

use std::future::Future;

use crate::api::{CoreResult, RoomNotificationMode};
use crate::matrix::notification_settings::{self as settings, Settings};
use crate::matrix::Sdk;
use crate::supervisor::WhenDropped;

use super::client::Client;

#[uniffi::export]
impl Client {
    /// A joined room's mode: its own, else the account's default for a
    /// room like it.
    pub async fn room_notification_mode(
        &self,
        room_id: String,
    ) -> CoreResult<RoomNotificationMode> {
        let work = move |s: Settings, sdk: Sdk| async move {
            settings::room_mode(&s, &sdk, &room_id).await
        };
        self.settings_call("room_notification_mode", WhenDropped::Abort, work)
            .await
    }

    /// Gives a joined room a mode of its own; its summary's
    /// `notification_mode` shows it when this returns.
    pub async fn set_room_notification_mode(
        &self,
        room_id: String,
        mode: RoomNotificationMode,
    ) -> CoreResult<()> {
        let summaries = self.core.chat.summaries.clone();
        let echo = self.core.new_room_wait();
        let work = move |s: Settings, sdk: Sdk| async move {
            settings::set_room_mode(&s, &sdk, &room_id, mode, echo).await?;
            summaries.refresh(&sdk, &room_id);
            Ok(())
        };
        self.settings_call("set_room_notification_mode", WhenDropped::Finish, work)
            .await
    }

    /// Returns a room to the account's default; its summary's
    /// `notification_mode` is `None` when this returns.
    pub async fn reset_room_notification_mode(&self, room_id: String) -> CoreResult<()> {
        let summaries = self.core.chat.summaries.clone();
        let echo = self.core.new_room_wait();
        let work = move |s: Settings, sdk: Sdk| async move {
            settings::reset_room_mode(&s, &sdk, &room_id, echo).await?;
            summaries.refresh(&sdk, &room_id);
            Ok(())
        };
        self.settings_call("reset_room_notification_mode", WhenDropped::Finish, work)
            .await
    }

    /// The account's default for direct messages (`is_direct`) or groups.
    pub async fn default_notification_mode(
        &self,
        is_direct: bool,
    ) -> CoreResult<RoomNotificationMode> {
        let work =
            move |s: Settings, _| async move { Ok(settings::default_mode(&s, is_direct).await) };
        self.settings_call("default_notification_mode", WhenDropped::Abort, work)
            .await
    }

    /// Sets the account's default for direct messages or groups. `Mute` is
    /// `InvalidArgument`: mute rooms one by one.
    pub async fn set_default_notification_mode(
        &self,
        is_direct: bool,
        mode: RoomNotificationMode,
    ) -> CoreResult<()> {
        let echo = self.core.new_room_wait();
        let work = move |s: Settings, _| async move {
            settings::set_default_mode(&s, is_direct, mode, echo).await
        };
        self.settings_call("set_default_notification_mode", WhenDropped::Finish, work)
            .await
    }

    /// The keywords that notify like a mention, sorted.
    pub async fn notification_keywords(&self) -> CoreResult<Vec<String>> {
        let work = move |s: Settings, _| async move { Ok(settings::keywords(&s).await) };
        self.settings_call("notification_keywords", WhenDropped::Abort, work)
            .await
    }

    /// Adds a keyword that notifies like a mention; blank is
    /// `InvalidArgument`.
    pub async fn add_notification_keyword(&self, keyword: String) -> CoreResult<()> {
        let echo = self.core.new_room_wait();
        let work =
            move |s: Settings, _| async move { settings::add_keyword(&s, &keyword, echo).await };
        self.settings_call("add_notification_keyword", WhenDropped::Finish, work)
            .await
    }

    /// Removes a keyword (nothing if it is not there).
    pub async fn remove_notification_keyword(&self, keyword: String) -> CoreResult<()> {
        let echo = self.core.new_room_wait();
        let work =
            move |s: Settings, _| async move { settings::remove_keyword(&s, &keyword, echo).await };
        self.settings_call("remove_notification_keyword", WhenDropped::Finish, work)
            .await
    }
}

impl Client {
    /// Runs `work` with the client's notification settings (opened at the
    /// first call) as a store call.
    async fn settings_call<T, F, Fut>(
        &self,
        name: &'static str,
        when_dropped: WhenDropped,
        work: F,
    ) -> CoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Settings, Sdk) -> Fut + Send + 'static,
        Fut: Future<Output = CoreResult<T>> + Send,
    {
        let rules = self.core.chat.push_rules.clone();
        let call = |sdk: Sdk| async move {
            let _one_at_a_time = rules.one_at_a_time().await;
            let settings = rules.get(&sdk).await?;
            work(settings, sdk).await
        };
        let sdk = self.core.sdk_with_stores()?;
        self.core.store_call(name, when_dropped, call(sdk)).await
    }
}
