//! The records of rooms and the people in them: creating a room, its
//! members, profiles and the account's devices.

use super::chat::{MediaSource, Membership};

/// Who may find and join a new room through the server's directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
pub enum RoomVisibility {
    /// Not in the room directory.
    #[default]
    Private,
    /// Asks the server to list the room in its directory (a server may
    /// refuse to list rooms, as Synapse does unless its
    /// `room_list_publication_rules` allow it; the room is made anyway).
    Public,
}

/// The server's preset for a new room's join rules and power levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
pub enum RoomPreset {
    /// Invite only; history visible to members.
    #[default]
    PrivateChat,
    /// As `PrivateChat`, and everyone invited gets the creator's power.
    TrustedPrivateChat,
    /// Anyone may join.
    PublicChat,
}

/// What `Client.create_room_with` makes. The defaults (also of
/// `Default`): private, encrypted, not direct, nobody invited.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CreateRoomOptions {
    pub visibility: RoomVisibility,
    pub preset: RoomPreset,
    #[uniffi(default = None)]
    pub name: Option<String>,
    #[uniffi(default = None)]
    pub topic: Option<String>,
    /// User ids to invite.
    #[uniffi(default = [])]
    pub invite: Vec<String>,
    /// A direct message with the invited users (recorded in the account's
    /// `m.direct`).
    #[uniffi(default = false)]
    pub is_direct: bool,
    #[uniffi(default = true)]
    pub encrypted: bool,
    /// The local part of a new alias (`#{alias_local_part}:server`).
    #[uniffi(default = None)]
    pub alias_local_part: Option<String>,
    /// An unencrypted image already on the server (`media_source_from_url`).
    #[uniffi(default = None)]
    pub avatar: Option<MediaSource>,
}

impl Default for CreateRoomOptions {
    fn default() -> Self {
        Self {
            visibility: RoomVisibility::Private,
            preset: RoomPreset::PrivateChat,
            name: None,
            topic: None,
            invite: Vec::new(),
            is_direct: false,
            encrypted: true,
            alias_local_part: None,
            avatar: None,
        }
    }
}

/// A member's role, from their power level: 100 and above (and a room
/// version 12 creator) `Administrator`, 50 and above `Moderator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MemberRole {
    Administrator,
    Moderator,
    User,
}

/// One member of a room.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Member {
    pub user_id: String,
    pub display_name: Option<String>,
    pub avatar: Option<MediaSource>,
    pub membership: Membership,
    /// A room version 12 creator, whose power has no bound, reads
    /// `i64::MAX`.
    pub power_level: i64,
    pub role: MemberRole,
}

/// A user's public profile.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Profile {
    pub user_id: String,
    pub display_name: Option<String>,
    pub avatar: Option<MediaSource>,
}

/// One of the account's devices (sessions).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Device {
    pub device_id: String,
    pub display_name: Option<String>,
    pub last_seen_ms: Option<u64>,
    /// Cross-signed by its user, as far as this device's crypto store knows.
    pub is_verified: bool,
    /// The device this client is.
    pub is_current: bool,
}

/// When a room notifies (the homeserver's push rules, so pushes follow it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RoomNotificationMode {
    AllMessages,
    MentionsAndKeywordsOnly,
    /// No notification and no push.
    Mute,
}
