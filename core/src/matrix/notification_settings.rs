//! Notification settings: each room's mode, the account's defaults for
//! direct messages and groups, and keywords, on matrix-sdk's
//! `NotificationSettings` (the homeserver's push rules, so pushes follow
//! them). One [`Settings`] per client: it keeps the rules current as it
//! changes them, where a fresh one would read the store's copy, which sync
//! brings back only later.

use matrix_sdk::notification_settings::{IsEncrypted, IsOneToOne, RoomNotificationMode as Sdk};
use matrix_sdk::NotificationSettingsError as E;

use std::time::Duration;

use crate::api::{CoreError, CoreResult, RoomNotificationMode as Mode};
use crate::matrix::rooms::{joined_room, parse_room_id};

/// The account's notification settings, as a client holds them.
pub(crate) type Settings = matrix_sdk::notification_settings::NotificationSettings;

/// The settings of `client`, from its store's push rules.
pub(crate) async fn open(client: &matrix_sdk::Client) -> Settings {
    client.notification_settings().await
}

pub(crate) fn mode_record(mode: Sdk) -> Mode {
    match mode {
        Sdk::AllMessages => Mode::AllMessages,
        Sdk::MentionsAndKeywordsOnly => Mode::MentionsAndKeywordsOnly,
        Sdk::Mute => Mode::Mute,
    }
}

fn mode_sdk(mode: Mode) -> Sdk {
    match mode {
        Mode::AllMessages => Sdk::AllMessages,
        Mode::MentionsAndKeywordsOnly => Sdk::MentionsAndKeywordsOnly,
        Mode::Mute => Sdk::Mute,
    }
}

/// matrix-sdk's errors of push rules lose the server's answer: a change
/// that did not reach the server reads as `Network`.
fn from_settings(error: E) -> CoreError {
    match error {
        E::InvalidParameter(p) => CoreError::invalid_argument(p),
        E::RuleNotFound(rule) => CoreError::NotFound {
            detail: format!("push rule `{rule}`"),
        },
        other => CoreError::Network {
            detail: format!("the push rules did not change: {other}"),
        },
    }
}

/// After a change made while sync runs, waits (at most `bound`) until a
/// copy of the rules that sync brought shows it (`shown`): the copies sync
/// brings replace the rules the settings hold, and one built before the
/// change would otherwise undo it there until the next. `changes` was
/// subscribed before the change was sent.
async fn await_echo<F, Fut>(
    settings: &Settings,
    mut changes: tokio::sync::broadcast::Receiver<()>,
    bound: Duration,
    shown: F,
) where
    F: Fn(Settings) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let echoed = async {
        while next_change(&mut changes).await {
            if shown(settings.clone()).await {
                return;
            }
        }
    };
    if tokio::time::timeout(bound, echoed).await.is_err() {
        tracing::debug!("a change of the push rules has not come back from sync yet");
    }
}

/// Brings every joined room's cached mode (what its summary shows) in line
/// with `settings`; the rooms whose mode changed. matrix-sdk's sliding
/// sync recomputes the cache from the store's copy of the rules when they
/// change, which can trail the rules it has just received: this runs after
/// `settings` have taken them, and has the last word.
pub(crate) async fn align_cached_modes(
    settings: &Settings,
    client: &matrix_sdk::Client,
) -> Vec<String> {
    let mut changed = Vec::new();
    for room in client.joined_rooms() {
        let mode = settings
            .get_user_defined_room_notification_mode(room.room_id())
            .await;
        if room.cached_user_defined_notification_mode() == mode {
            continue;
        }
        match mode {
            Some(mode) => room.update_cached_user_defined_notification_mode(mode),
            None => room.clear_user_defined_notification_mode(),
        }
        changed.push(room.room_id().to_string());
    }
    changed
}

/// Waits for the next change of the rules (the client's own, or one that
/// sync brought); `false` once `settings` are gone. A burst counts once.
pub(crate) async fn next_change(changes: &mut tokio::sync::broadcast::Receiver<()>) -> bool {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    match changes.recv().await {
        Ok(()) | Err(RecvError::Lagged(_)) => {}
        Err(RecvError::Closed) => return false,
    }
    while !matches!(
        changes.try_recv(),
        Err(TryRecvError::Empty | TryRecvError::Closed)
    ) {}
    true
}

/// The mode of the joined room `room_id`: its own, else the account's
/// default for a room like it (encrypted or not, of two people or more).
pub(crate) async fn room_mode(
    settings: &Settings,
    client: &matrix_sdk::Client,
    room_id: &str,
) -> CoreResult<Mode> {
    let room = joined_room(client, room_id)?;
    if let Some(mode) = settings
        .get_user_defined_room_notification_mode(room.room_id())
        .await
    {
        return Ok(mode_record(mode));
    }
    let encrypted = IsEncrypted::from(room.encryption_state().is_encrypted());
    let one_to_one = IsOneToOne::from(room.active_members_count() == 2);
    let mode = settings
        .get_default_room_notification_mode(encrypted, one_to_one)
        .await;
    Ok(mode_record(mode))
}

/// Gives the joined room `room_id` a mode of its own; its summary shows it
/// at once.
pub(crate) async fn set_room_mode(
    settings: &Settings,
    client: &matrix_sdk::Client,
    room_id: &str,
    mode: Mode,
    echo: Option<Duration>,
) -> CoreResult<()> {
    let room = joined_room(client, room_id)?;
    let id = room.room_id().to_owned();
    let changes = settings.subscribe_to_changes();
    let want = Some(mode_sdk(mode));
    let already = settings.get_user_defined_room_notification_mode(&id).await == want;
    settings
        .set_room_notification_mode(&id, mode_sdk(mode))
        .await
        .map_err(from_settings)?;
    room.update_cached_user_defined_notification_mode(mode_sdk(mode));
    if let (Some(bound), false) = (echo, already) {
        await_echo(settings, changes, bound, |s| {
            let id = id.clone();
            async move { s.get_user_defined_room_notification_mode(&id).await == want }
        })
        .await;
        // The alignment of a copy from before the echo may have landed meanwhile.
        room.update_cached_user_defined_notification_mode(mode_sdk(mode));
    }
    Ok(())
}

/// Returns the room `room_id` to the account's default.
pub(crate) async fn reset_room_mode(
    settings: &Settings,
    client: &matrix_sdk::Client,
    room_id: &str,
    echo: Option<Duration>,
) -> CoreResult<()> {
    let id = parse_room_id(room_id)?;
    let changes = settings.subscribe_to_changes();
    let already = settings
        .get_user_defined_room_notification_mode(&id)
        .await
        .is_none();
    settings
        .delete_user_defined_room_rules(&id)
        .await
        .map_err(from_settings)?;
    if let Some(room) = client.get_room(&id) {
        room.clear_user_defined_notification_mode();
    }
    if let (Some(bound), false) = (echo, already) {
        await_echo(settings, changes, bound, |s| {
            let id = id.clone();
            async move {
                s.get_user_defined_room_notification_mode(&id)
                    .await
                    .is_none()
            }
        })
        .await;
    }
    Ok(())
}

/// The account's default for direct messages (`is_direct`: rooms of two
/// people, as the server's rules count them) or for groups.
pub(crate) async fn default_mode(settings: &Settings, is_direct: bool) -> Mode {
    let mode = settings
        .get_default_room_notification_mode(IsEncrypted::Yes, IsOneToOne::from(is_direct))
        .await;
    mode_record(mode)
}

/// Whether both of the account's defaults for direct messages or groups,
/// encrypted rooms and others, are `mode`.
async fn defaults_are(settings: &Settings, is_direct: bool, mode: Mode) -> bool {
    let one_to_one = IsOneToOne::from(is_direct);
    for encrypted in [IsEncrypted::Yes, IsEncrypted::No] {
        let now = settings
            .get_default_room_notification_mode(encrypted, one_to_one)
            .await;
        if mode_record(now) != mode {
            return false;
        }
    }
    true
}

/// Sets the account's default for direct messages or groups, encrypted
/// rooms and others alike. `Mute` is no default (the server's rules for
/// mentions come first): mute rooms one by one.
pub(crate) async fn set_default_mode(
    settings: &Settings,
    is_direct: bool,
    mode: Mode,
    echo: Option<Duration>,
) -> CoreResult<()> {
    if mode == Mode::Mute {
        return Err(CoreError::invalid_argument(
            "Mute cannot be a default: mute rooms one by one",
        ));
    }
    let changes = settings.subscribe_to_changes();
    let already = defaults_are(settings, is_direct, mode).await;
    for encrypted in [IsEncrypted::Yes, IsEncrypted::No] {
        settings
            .set_default_room_notification_mode(
                encrypted,
                IsOneToOne::from(is_direct),
                mode_sdk(mode),
            )
            .await
            .map_err(from_settings)?;
    }
    if let (Some(bound), false) = (echo, already) {
        await_echo(settings, changes, bound, |s| async move {
            defaults_are(&s, is_direct, mode).await
        })
        .await;
    }
    Ok(())
}

/// The enabled keywords, sorted.
pub(crate) async fn keywords(settings: &Settings) -> Vec<String> {
    let mut keywords: Vec<String> = settings.enabled_keywords().await.into_iter().collect();
    keywords.sort();
    keywords
}

fn checked_keyword(keyword: &str) -> CoreResult<String> {
    let keyword = keyword.trim();
    if keyword.is_empty() {
        return Err(CoreError::invalid_argument("the keyword is blank"));
    }
    Ok(keyword.to_owned())
}

/// Adds a keyword that notifies like a mention.
pub(crate) async fn add_keyword(
    settings: &Settings,
    keyword: &str,
    echo: Option<Duration>,
) -> CoreResult<()> {
    change_keyword(settings, keyword, true, echo).await
}

/// Removes a keyword (nothing if it is not there).
pub(crate) async fn remove_keyword(
    settings: &Settings,
    keyword: &str,
    echo: Option<Duration>,
) -> CoreResult<()> {
    change_keyword(settings, keyword, false, echo).await
}

async fn change_keyword(
    settings: &Settings,
    keyword: &str,
    enabled: bool,
    echo: Option<Duration>,
) -> CoreResult<()> {
    let keyword = checked_keyword(keyword)?;
    let changes = settings.subscribe_to_changes();
    let has = |s: Settings, k: String| async move { s.enabled_keywords().await.contains(&k) };
    let already = has(settings.clone(), keyword.clone()).await == enabled;
    if enabled {
        settings.add_keyword(keyword.clone()).await
    } else {
        settings.remove_keyword(&keyword).await
    }
    .map_err(from_settings)?;
    if let (Some(bound), false) = (echo, already) {
        await_echo(settings, changes, bound, |s| {
            let keyword = keyword.clone();
            async move { has(s, keyword).await == enabled }
        })
        .await;
    }
    Ok(())
}
