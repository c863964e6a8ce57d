//! The records of the chat surface: the room list, timelines and their
//! items, and the diffs that keep an app's lists in step.
//!
//! Every list is delivered as diffs with the variants of eyeball-im's
//! `VectorDiff`; a listener's first call is `Reset` with the current items.

use super::records::RoomSummary;

/// The user's membership of a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Membership {
    Joined,
    Invited,
    Left,
    Knocked,
    Banned,
}

/// The latest message of a room, for a room list row.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LatestMessage {
    pub sender: String,
    /// Plain English text for a row: the body of a message, or a short
    /// description of other content ("sent an image", "joined the room").
    /// An app that shows another language words it from `kind`.
    pub preview: String,
    pub timestamp_ms: u64,
    /// What the event is, with the parts a row shows, for an app's own words.
    pub kind: PreviewKind,
}

/// What a preview or a quote shows, in parts: an app words it in its own
/// language (the English `preview` beside it is the fallback). Bodies are
/// plain text, as sent.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PreviewKind {
    Text {
        body: String,
    },
    /// "/me waves": shown as an action of the sender.
    Emote {
        body: String,
    },
    Notice {
        body: String,
    },
    /// A caption is the text sent with the media, when it has one.
    Image {
        caption: Option<String>,
    },
    Video {
        caption: Option<String>,
    },
    Audio {
        caption: Option<String>,
    },
    File {
        filename: String,
        caption: Option<String>,
    },
    /// A location, or a live location shared.
    Location,
    Sticker,
    Poll {
        question: String,
    },
    /// A message deleted (redacted) since it was sent.
    Deleted,
    /// An encrypted message this device cannot read (yet).
    UnableToDecrypt,
    /// The user is invited to the room (the row's `sender` invited them).
    Invite,
    /// A membership or profile change of `user_id`, made by the row's
    /// `sender` (the same user, except for invites, kicks and bans).
    Member {
        user_id: String,
        change: MemberChange,
    },
    RoomCreated,
    RoomNamed {
        name: String,
    },
    RoomTopicChanged {
        topic: String,
    },
    RoomAvatarChanged,
    EncryptionEnabled,
    /// Anything else, by its Matrix event type.
    Other {
        event_type: String,
    },
}

/// How a member's state changed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum MemberChange {
    Joined,
    Left,
    Invited,
    /// The invited user declined the invite.
    InviteDeclined,
    /// The sender took the invite back.
    InviteRevoked,
    Kicked,
    Banned,
    Unbanned,
    Knocked,
    /// The user's display name changed (`None`: removed).
    DisplayNameChanged {
        display_name: Option<String>,
    },
    AvatarChanged,
    /// A change with no wording of its own (a knock withdrawn or denied,
    /// or a change the core does not know).
    Other,
}

/// Which rooms a room list shows.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum RoomListFilter {
    /// Every room but the ones left.
    All,
    /// Rooms with unread messages or a manual unread mark.
    Unread,
    Favourites,
    Invites,
    DirectMessages,
    /// Rooms that are not direct messages.
    Groups,
    /// Rooms whose name contains `pattern` (case and accents ignored).
    NameMatches {
        pattern: String,
    },
}

/// Options of `Client.observe_room_list`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RoomListOptions {
    /// Rooms per page; `load_more` adds a page. At least 1.
    #[uniffi(default = 50)]
    pub page_size: u32,
    pub filter: RoomListFilter,
}

impl Default for RoomListOptions {
    fn default() -> Self {
        Self {
            page_size: 50,
            filter: RoomListFilter::All,
        }
    }
}

/// One change of a room list, as eyeball-im's `VectorDiff`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum RoomListUpdate {
    Append { values: Vec<RoomSummary> },
    Clear,
    PushFront { value: RoomSummary },
    PushBack { value: RoomSummary },
    PopFront,
    PopBack,
    Insert { index: u32, value: RoomSummary },
    Set { index: u32, value: RoomSummary },
    Remove { index: u32 },
    Truncate { length: u32 },
    Reset { values: Vec<RoomSummary> },
}

/// One change of a timeline, as eyeball-im's `VectorDiff`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum TimelineUpdate {
    Append { values: Vec<TimelineItem> },
    Clear,
    PushFront { value: TimelineItem },
    PushBack { value: TimelineItem },
    PopFront,
    PopBack,
    Insert { index: u32, value: TimelineItem },
    Set { index: u32, value: TimelineItem },
    Remove { index: u32 },
    Truncate { length: u32 },
    Reset { values: Vec<TimelineItem> },
}

/// One row of a timeline. `item_id` is stable for the item's life: a local
/// echo keeps it when the server's copy replaces it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TimelineItem {
    pub item_id: String,
    pub kind: TimelineItemKind,
}

/// What a timeline row shows.
// It crosses the FFI by value, where a boxed variant has no shape.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum TimelineItemKind {
    Event {
        /// `None` for a local echo that the server has not acknowledged yet.
        event_id: Option<String>,
        sender: String,
        sender_name: Option<String>,
        /// The sender's avatar in the room, for `download_thumbnail` or
        /// `download_media`; `None` without one, or while the profile loads.
        sender_avatar: Option<MediaSource>,
        is_own: bool,
        timestamp_ms: u64,
        content: MessageContent,
        /// `None` for events that came from the server.
        send_state: Option<SendState>,
        edited: bool,
        /// The event id this message replies to.
        in_reply_to: Option<String>,
        reactions: Vec<Reaction>,
        /// Users whose read receipt is at this event.
        read_by: Vec<String>,
        /// The message replied to, once the core has it (asked of the
        /// server when the timeline does not hold it); `in_reply_to` has its
        /// id from the start.
        reply: Option<ReplyDetails>,
        /// The message mentions the user: by name in its intentional
        /// mentions, `@room`, or as the server's push rules highlight it
        /// (keywords included).
        mentions_me: bool,
    },
    DayDivider {
        timestamp_ms: u64,
    },
    ReadMarker,
    TimelineStart,
}

/// Where a local echo is on its way to the server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SendState {
    /// Queued or being sent (an upload included).
    Sending,
    Sent {
        event_id: String,
    },
    /// `retriable`: the send queue retries it itself once the server is
    /// reachable (or `retry_send` does); otherwise (the server refused it)
    /// it waits for `retry_send`, once what was refused is fixed, or
    /// `cancel_send`.
    Failed {
        detail: String,
        retriable: bool,
    },
}

/// The reactions of one key on an event.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reaction {
    pub key: String,
    pub count: u32,
    pub by_me: bool,
}

/// The content of a timeline event.
// The media variant is the large one; the enum crosses the FFI field by
// field (a `Box` is no UniFFI type), and lives in timeline items, not in
// hot loops.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum MessageContent {
    Text {
        body: String,
        formatted_html: Option<String>,
    },
    Emote {
        body: String,
        formatted_html: Option<String>,
    },
    Notice {
        body: String,
        formatted_html: Option<String>,
    },
    Media {
        kind: MediaKind,
        /// The caption, or the file name.
        body: String,
        source: MediaSource,
        mimetype: Option<String>,
        size: Option<u64>,
        /// What the sender said of the file besides its size.
        info: MediaInfo,
    },
    Redacted,
    UnableToDecrypt,
    Membership {
        user_id: String,
        /// `joined`, `left`, `invited`, `banned`, `kicked`, `profile`, ...
        change: String,
    },
    Other {
        event_type: String,
    },
}

/// The kind of a media message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    File,
}

/// What a media message says of its file, as its sender gave it (each
/// `None` when the sender did not say).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MediaInfo {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    /// A BlurHash of the image or video's first frame, to draw while it
    /// downloads.
    pub blurhash: Option<String>,
    /// The sender's own thumbnail, for `download_media` (an encrypted
    /// room's files have no server thumbnail).
    pub thumbnail: Option<MediaSource>,
    /// The file's name, when the message has a caption besides it.
    pub filename: Option<String>,
}

/// Where a media file is. Pass it back to `download_media` unchanged.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct MediaSource {
    /// The `mxc://` URI.
    pub url: String,
    /// Whether the file is encrypted (its keys are in `descriptor`).
    pub encrypted: bool,
    /// What the core needs to fetch and decrypt it; opaque to the app.
    pub descriptor: String,
}

/// Leaves the descriptor out: it holds an encrypted file's key.
impl std::fmt::Debug for MediaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaSource")
            .field("url", &self.url)
            .field("encrypted", &self.encrypted)
            .finish_non_exhaustive()
    }
}

/// What `Timeline.send_media` sends with a file: its type and caption, and
/// what the receiver shows before downloading it. Every field may be left
/// out; the type is then guessed from the file's name.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct UploadInfo {
    #[uniffi(default = None)]
    pub mimetype: Option<String>,
    #[uniffi(default = None)]
    pub caption: Option<String>,
    /// Pixels, for an image or a video.
    #[uniffi(default = None)]
    pub width: Option<u32>,
    #[uniffi(default = None)]
    pub height: Option<u32>,
    /// For a video or an audio file.
    #[uniffi(default = None)]
    pub duration_ms: Option<u64>,
    /// A BlurHash of an image or a video's first frame.
    #[uniffi(default = None)]
    pub blurhash: Option<String>,
    /// A small image of the media (JPEG or PNG, by its name), shown before
    /// the file is downloaded; taken to have the media's aspect ratio.
    #[uniffi(default = None)]
    pub thumbnail_path: Option<String>,
}

/// The message an event item replies to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReplyDetails {
    pub event_id: String,
    pub sender: String,
    pub sender_name: Option<String>,
    /// Plain English text for a quote: the body, or a short description of
    /// other content.
    pub preview: String,
    /// What the message is, in parts, for an app's own words.
    pub kind: PreviewKind,
}

/// The kind of a message the app sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OutgoingKind {
    Text,
    /// "/me waves": shown as an action of the sender.
    Emote,
    /// A notice, as bots send: shown quieter, never notifies by default.
    Notice,
}

/// A message to send or to replace an earlier one with.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OutgoingMessage {
    pub body: String,
    /// Read `body` as Markdown and send its HTML too (`formatted_body`);
    /// plain text that Markdown leaves as is is sent without HTML.
    #[uniffi(default = false)]
    pub markdown: bool,
    pub kind: OutgoingKind,
    /// User ids mentioned on purpose (`m.mentions`): they are notified.
    #[uniffi(default = [])]
    pub mentions: Vec<String>,
    /// Mentions the whole room (`@room`).
    #[uniffi(default = false)]
    pub mention_room: bool,
}
