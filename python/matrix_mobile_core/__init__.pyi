# Type hints for matrix_mobile_core, the public contract (API.md) as UniFFI 0.32
# renders it in Python:
# - records are dataclasses whose constructors take keywords only;
# - fieldless enums are `enum.Enum` with SHOUTY_CASE members;
# - enums with data are classes whose variants are nested SHOUTY_CASE subclasses;
# - CoreError variants keep their Rust names (`CoreError.ClientClosed`);
# - a foreign trait (listener) is an abstract class to subclass;
# - an exported object `X` also has a structural `XProtocol`.
# Kept by hand: python/tests/test_package_layout.py checks that every name exported by
# the generated bindings is declared here, and the reverse. The hand-written streams
# (`_streams.py`: `CoreStream`, `RoomListController`, `apply_diffs`; `_security.py`:
# `SessionEvent`; and the methods they attach to `Client`, `Timeline` and
# `Verification`) are declared here too, and checked the same way.

import enum
from typing import Any, AsyncIterator, Iterable, List, Optional, Protocol, Sequence, TypeVar, Union

_T = TypeVar("_T")

__all__: List[str]

class InternalError(Exception): ...

# --- records ----------------------------------------------------------------------

class RuntimeConfig:
    worker_threads: int
    thread_name: str
    def __init__(self, *, worker_threads: int = 0, thread_name: str = "matrix-core") -> None: ...

class LogConfig:
    filter: str
    to_stdout: bool
    file_dir: Optional[str]
    def __init__(
        self, *, filter: str = "info", to_stdout: bool = True, file_dir: Optional[str] = None
    ) -> None: ...

class ShutdownOptions:
    timeout_ms: int
    def __init__(self, *, timeout_ms: int = 5000) -> None: ...

class ClientConfig:
    homeserver_url: str
    data_dir: str
    store_passphrase: Optional[str]
    store_key: Optional[bytes]
    """32 bytes that encrypt the stores as they are (no key derivation at each
    open); not with `store_passphrase`."""
    request_timeout_ms: int
    additional_root_certificates: List[str]
    shared_with_other_processes: Optional[bool]
    """Whether another process of the app opens these stores (an iOS extension
    does). None: False on Android, True elsewhere. A client that shares nothing
    takes single-process locks (an idle one writes nothing) and keeps other
    processes' notification clients out while its stores are open."""
    def __init__(
        self,
        *,
        homeserver_url: str,
        data_dir: str,
        store_passphrase: Optional[str] = None,
        store_key: Optional[bytes] = None,
        request_timeout_ms: int = 30000,
        additional_root_certificates: List[str] = [],
        shared_with_other_processes: Optional[bool] = None,
    ) -> None: ...

class Session:
    user_id: str
    device_id: str
    access_token: str
    refresh_token: Optional[str]
    homeserver_url: str
    def __init__(
        self,
        *,
        user_id: str,
        device_id: str,
        access_token: str,
        refresh_token: Optional[str],
        homeserver_url: str,
    ) -> None: ...

class PushFormat(enum.Enum):
    """What a push carries: `EVENT_ID_ONLY` sends the event's ids alone."""

    EVENT_ID_ONLY = 0

class PusherConfig:
    """An HTTP pusher: where the homeserver posts this account's notifications.
    `format=PushFormat.EVENT_ID_ONLY` keeps message content out of the push;
    `default_payload_json` (a JSON object) is merged into every push by the
    gateway."""

    app_id: str
    pushkey: str
    gateway_url: str
    device_name: str
    lang: str
    format: Optional[PushFormat]
    default_payload_json: Optional[str]
    def __init__(
        self,
        *,
        app_id: str,
        pushkey: str,
        gateway_url: str,
        device_name: str,
        lang: str,
        format: Optional[PushFormat] = None,
        default_payload_json: Optional[str] = None,
    ) -> None: ...

class NotificationKind:
    """What a notification is about: a message (or an event this device could
    not decrypt), an invite, or another event by its type."""

    class MESSAGE(NotificationKind):
        def __init__(self) -> None: ...

    class INVITE(NotificationKind):
        def __init__(self) -> None: ...

    class OTHER(NotificationKind):
        event_type: str
        def __init__(self, event_type: str) -> None: ...

    def is_message(self) -> bool: ...
    def is_invite(self) -> bool: ...
    def is_other(self) -> bool: ...

class NotificationItem:
    """What a push notification shows (`get_notification`); `body` is None when
    the event did not decrypt on this device or carries no text. An invite is
    `NotificationKind.INVITE` with the invite's own timestamp."""

    room_id: str
    event_id: str
    room_name: str
    room_avatar: Optional[MediaSource]
    sender: str
    sender_name: Optional[str]
    sender_avatar: Optional[MediaSource]
    body: Optional[str]
    kind: NotificationKind
    is_dm: bool
    has_mention: bool
    is_encrypted: bool
    is_noisy: bool
    timestamp_ms: int
    def __init__(
        self,
        *,
        room_id: str,
        event_id: str,
        room_name: str,
        room_avatar: Optional[MediaSource],
        sender: str,
        sender_name: Optional[str],
        sender_avatar: Optional[MediaSource],
        body: Optional[str],
        kind: NotificationKind,
        is_dm: bool,
        has_mention: bool,
        is_encrypted: bool,
        is_noisy: bool,
        timestamp_ms: int,
    ) -> None: ...

class LogoutOptions:
    server_timeout_ms: int
    wipe_local_data: bool
    def __init__(self, *, server_timeout_ms: int = 5000, wipe_local_data: bool = True) -> None: ...

class RoomSummary:
    room_id: str
    name: Optional[str]
    is_encrypted: bool
    joined_members: int
    membership: Membership
    is_direct: bool
    is_favourite: bool
    topic: Optional[str]
    avatar_url: Optional[str]
    unread_messages: int
    unread_mentions: int
    latest: Optional[LatestMessage]
    avatar: Optional[MediaSource]
    """The room's avatar, for `Client.download_thumbnail` or `download_media`."""
    notification_mode: Optional[RoomNotificationMode]
    """The room's own notification mode; None: the account's default
    (`Client.room_notification_mode` says which)."""
    is_marked_unread: bool
    """The user marked the room unread (`Client.set_marked_unread`); the `UNREAD`
    filter shows it."""
    notification_count: int
    """Unread messages that notify (the push rules' count)."""
    def __init__(
        self,
        *,
        room_id: str,
        name: Optional[str],
        is_encrypted: bool,
        joined_members: int,
        membership: Membership,
        is_direct: bool,
        is_favourite: bool,
        topic: Optional[str],
        avatar_url: Optional[str],
        unread_messages: int,
        unread_mentions: int,
        latest: Optional[LatestMessage],
        avatar: Optional[MediaSource] = None,
        notification_mode: Optional[RoomNotificationMode] = None,
        is_marked_unread: bool = False,
        notification_count: int = 0,
    ) -> None: ...

class Message:
    event_id: str
    room_id: str
    sender: str
    body: str
    timestamp_ms: int
    def __init__(
        self, *, event_id: str, room_id: str, sender: str, body: str, timestamp_ms: int
    ) -> None: ...

class PhaseTiming:
    phase: LifecyclePhase
    elapsed_ms: int
    def __init__(self, *, phase: LifecyclePhase, elapsed_ms: int) -> None: ...

class LogoutReport:
    server_logout: ServerLogout
    phases: List[PhaseTiming]
    total_ms: int
    tasks_drained: int
    store_files_open_after: Optional[int]
    client_dropped: bool
    tasks_left_behind: int
    data_wiped: bool
    runtime_restarted: bool
    runtime_generation: int
    warnings: List[str]
    unsent_messages: int
    keys_backed_up: Optional[bool]
    def __init__(
        self,
        *,
        server_logout: ServerLogout,
        phases: List[PhaseTiming],
        total_ms: int,
        tasks_drained: int,
        store_files_open_after: Optional[int],
        client_dropped: bool,
        tasks_left_behind: int,
        data_wiped: bool,
        runtime_restarted: bool,
        runtime_generation: int,
        warnings: List[str],
        unsent_messages: int,
        keys_backed_up: Optional[bool],
    ) -> None: ...

class CloseReport:
    server_logout: ServerLogout
    phases: List[PhaseTiming]
    total_ms: int
    tasks_drained: int
    store_files_open_after: Optional[int]
    client_dropped: bool
    tasks_left_behind: int
    data_wiped: bool
    runtime_restarted: bool
    runtime_generation: int
    warnings: List[str]
    unsent_messages: int
    def __init__(
        self,
        *,
        server_logout: ServerLogout,
        phases: List[PhaseTiming],
        total_ms: int,
        tasks_drained: int,
        store_files_open_after: Optional[int],
        client_dropped: bool,
        tasks_left_behind: int,
        data_wiped: bool,
        runtime_restarted: bool,
        runtime_generation: int,
        warnings: List[str],
        unsent_messages: int,
    ) -> None: ...

class ShutdownReport:
    clients_closed: int
    tasks_drained: int
    tasks_abandoned: List[str]
    total_ms: int
    runtime_generation: int
    already_shut_down: bool
    threads_left: Optional[int]
    def __init__(
        self,
        *,
        clients_closed: int,
        tasks_drained: int,
        tasks_abandoned: List[str],
        total_ms: int,
        runtime_generation: int,
        already_shut_down: bool,
        threads_left: Optional[int],
    ) -> None: ...

class RuntimeStats:
    generation: int
    state: RuntimeState
    alive_tasks: int
    supervised_tasks: List[str]
    worker_threads: int
    live_clients: int
    def __init__(
        self,
        *,
        generation: int,
        state: RuntimeState,
        alive_tasks: int,
        supervised_tasks: List[str],
        worker_threads: int,
        live_clients: int,
    ) -> None: ...

class TaskFailure:
    task_name: str
    reason: TaskFailureReason
    def __init__(self, *, task_name: str, reason: TaskFailureReason) -> None: ...

# The chat surface's records.

class LatestMessage:
    sender: str
    preview: str
    """Plain English text for a row; an app in another language words `kind`."""
    timestamp_ms: int
    kind: PreviewKind
    """What the event is, with the parts a row shows."""
    def __init__(
        self, *, sender: str, preview: str, timestamp_ms: int, kind: PreviewKind
    ) -> None: ...

class RoomListOptions:
    page_size: int
    filter: RoomListFilter
    def __init__(self, *, page_size: int = 50, filter: RoomListFilter) -> None: ...

class UploadInfo:
    """What `Timeline.send_media` sends with a file; every field may be left out."""

    mimetype: Optional[str]
    caption: Optional[str]
    width: Optional[int]
    height: Optional[int]
    duration_ms: Optional[int]
    blurhash: Optional[str]
    thumbnail_path: Optional[str]
    def __init__(
        self,
        *,
        mimetype: Optional[str] = None,
        caption: Optional[str] = None,
        width: Optional[int] = None,
        height: Optional[int] = None,
        duration_ms: Optional[int] = None,
        blurhash: Optional[str] = None,
        thumbnail_path: Optional[str] = None,
    ) -> None: ...

class TimelineItem:
    """`item_id` is stable for the item's life, a local echo included."""

    item_id: str
    kind: TimelineItemKind
    def __init__(self, *, item_id: str, kind: TimelineItemKind) -> None: ...

class Reaction:
    key: str
    count: int
    by_me: bool
    def __init__(self, *, key: str, count: int, by_me: bool) -> None: ...

class MediaSource:
    """Pass it back to `Client.download_media` or `download_thumbnail` unchanged;
    `media_source_from_url` makes one of an avatar's `mxc://` URL."""

    url: str
    encrypted: bool
    descriptor: str
    def __init__(self, *, url: str, encrypted: bool, descriptor: str) -> None: ...

class MediaInfo:
    """What a media message says of its file, as its sender gave it (each `None`
    when the sender did not say)."""

    width: Optional[int]
    height: Optional[int]
    duration_ms: Optional[int]
    blurhash: Optional[str]
    thumbnail: Optional[MediaSource]
    """The sender's own thumbnail, for `Client.download_media`."""
    filename: Optional[str]
    """The file's name, when the message has a caption besides it."""
    def __init__(
        self,
        *,
        width: Optional[int],
        height: Optional[int],
        duration_ms: Optional[int],
        blurhash: Optional[str],
        thumbnail: Optional[MediaSource],
        filename: Optional[str],
    ) -> None: ...

# The composing surface's records.

class ReplyDetails:
    """The message an event item replies to (`TimelineItemKind.EVENT.reply`)."""

    event_id: str
    sender: str
    sender_name: Optional[str]
    preview: str
    """Plain English text for a quote: the body, or a short description of other content."""
    kind: PreviewKind
    """What the message is, in parts, for an app's own words."""
    def __init__(
        self,
        *,
        event_id: str,
        sender: str,
        sender_name: Optional[str],
        preview: str,
        kind: PreviewKind,
    ) -> None: ...

class OutgoingMessage:
    """A message for `Timeline.send_message`, or to replace one with
    (`Timeline.edit_message`)."""

    body: str
    markdown: bool
    """Read `body` as Markdown and send its HTML too; plain text that Markdown
    leaves as is is sent without HTML."""
    kind: OutgoingKind
    mentions: List[str]
    """User ids mentioned on purpose (`m.mentions`): they are notified."""
    mention_room: bool
    """Mentions the whole room (`@room`)."""
    def __init__(
        self,
        *,
        body: str,
        markdown: bool = False,
        kind: OutgoingKind,
        mentions: List[str] = [],
        mention_room: bool = False,
    ) -> None: ...

# The rooms-and-people surface's records.

class CreateRoomOptions:
    """What `Client.create_room_with` makes: private, encrypted, not direct and
    nobody invited unless said otherwise."""

    visibility: RoomVisibility
    preset: RoomPreset
    name: Optional[str]
    topic: Optional[str]
    invite: List[str]
    """User ids to invite."""
    is_direct: bool
    """A direct message with the invited users (recorded in the account's `m.direct`)."""
    encrypted: bool
    alias_local_part: Optional[str]
    """The local part of a new alias (`#{alias_local_part}:server`)."""
    avatar: Optional[MediaSource]
    """An unencrypted image already on the server (`media_source_from_url`)."""
    def __init__(
        self,
        *,
        visibility: RoomVisibility,
        preset: RoomPreset,
        name: Optional[str] = None,
        topic: Optional[str] = None,
        invite: List[str] = [],
        is_direct: bool = False,
        encrypted: bool = True,
        alias_local_part: Optional[str] = None,
        avatar: Optional[MediaSource] = None,
    ) -> None: ...

class Member:
    """One member of a room (`Client.members`). A room version 12 creator, whose
    power has no bound, has `power_level` 2**63 - 1."""

    user_id: str
    display_name: Optional[str]
    avatar: Optional[MediaSource]
    membership: Membership
    power_level: int
    role: MemberRole
    def __init__(
        self,
        *,
        user_id: str,
        display_name: Optional[str],
        avatar: Optional[MediaSource],
        membership: Membership,
        power_level: int,
        role: MemberRole,
    ) -> None: ...

class Profile:
    """A user's public profile (`Client.profile`, `search_users`)."""

    user_id: str
    display_name: Optional[str]
    avatar: Optional[MediaSource]
    def __init__(
        self, *, user_id: str, display_name: Optional[str], avatar: Optional[MediaSource]
    ) -> None: ...

class Device:
    """One of the account's devices (`Client.devices`)."""

    device_id: str
    display_name: Optional[str]
    last_seen_ms: Optional[int]
    is_verified: bool
    """Cross-signed by its user, as far as this device's crypto store knows."""
    is_current: bool
    """The device this client is."""
    def __init__(
        self,
        *,
        device_id: str,
        display_name: Optional[str],
        last_seen_ms: Optional[int],
        is_verified: bool,
        is_current: bool,
    ) -> None: ...

# --- enums ------------------------------------------------------------------------

class RuntimeState(enum.Enum):
    NOT_STARTED = 0
    RUNNING = 1
    SHUTTING_DOWN = 2
    SHUT_DOWN = 3

class ClientState(enum.Enum):
    CREATED = 0
    LOGGED_IN = 1
    LOGGING_OUT = 2
    CLOSING = 3
    CLOSED = 4

class SyncState(enum.Enum):
    IDLE = 0
    RUNNING = 1
    OFFLINE = 2
    ERROR = 3
    TERMINATED = 4

class LifecyclePhase(enum.Enum):
    STOPPING_SYNC = 0
    SERVER_LOGOUT = 1
    CANCELLING_TASKS = 2
    DROPPING_CLIENT = 3
    CLOSING_STORES = 4
    WIPING_DATA = 5
    RESTARTING_RUNTIME = 6
    DONE = 7

class RecoveryState(enum.Enum):
    """Whether the account's secrets are stored on the server under a recovery key."""

    UNKNOWN = 1
    DISABLED = 2
    INCOMPLETE = 3
    ENABLED = 4

class ServerLogout:
    class REVOKED(ServerLogout):
        def __init__(self) -> None: ...

    class TOKEN_ALREADY_INVALID(ServerLogout):
        def __init__(self) -> None: ...

    class FAILED(ServerLogout):
        reason: str
        def __init__(self, reason: str) -> None: ...

    class TIMED_OUT(ServerLogout):
        def __init__(self) -> None: ...

    class SKIPPED(ServerLogout):
        def __init__(self) -> None: ...

    def is_revoked(self) -> bool: ...
    def is_token_already_invalid(self) -> bool: ...
    def is_failed(self) -> bool: ...
    def is_timed_out(self) -> bool: ...
    def is_skipped(self) -> bool: ...

class TaskFailureReason:
    class PANIC(TaskFailureReason):
        message: str
        def __init__(self, message: str) -> None: ...

    class ERROR(TaskFailureReason):
        message: str
        def __init__(self, message: str) -> None: ...

    class EARLY_TERMINATION(TaskFailureReason):
        def __init__(self) -> None: ...

    def is_panic(self) -> bool: ...
    def is_error(self) -> bool: ...
    def is_early_termination(self) -> bool: ...

# The chat surface's enums.

class Membership(enum.Enum):
    JOINED = 0
    INVITED = 1
    LEFT = 2
    KNOCKED = 3
    BANNED = 4

class MediaKind(enum.Enum):
    IMAGE = 0
    VIDEO = 1
    AUDIO = 2
    FILE = 3

# The rooms-and-people surface's enums.

class RoomVisibility(enum.Enum):
    """Who may find a new room: `PUBLIC` lists it in the server's room directory."""

    PRIVATE = 0
    PUBLIC = 1

class RoomPreset(enum.Enum):
    """The server's preset for a new room's join rules and power levels:
    `TRUSTED_PRIVATE_CHAT` gives everyone invited the creator's power,
    `PUBLIC_CHAT` lets anyone join."""

    PRIVATE_CHAT = 0
    TRUSTED_PRIVATE_CHAT = 1
    PUBLIC_CHAT = 2

class MemberRole(enum.Enum):
    """From the power level: 100 and above (and a room version 12 creator)
    `ADMINISTRATOR`, 50 and above `MODERATOR`."""

    ADMINISTRATOR = 0
    MODERATOR = 1
    USER = 2

# The composing and notification settings' enums.

class OutgoingKind(enum.Enum):
    """`EMOTE`: "/me waves", shown as an action of the sender; `NOTICE`: as bots
    send, shown quieter, never notifies by default."""

    TEXT = 0
    EMOTE = 1
    NOTICE = 2

class RoomNotificationMode(enum.Enum):
    """When a room notifies: the homeserver's push rules, so pushes follow it
    (`MUTE`: no notification and no push)."""

    ALL_MESSAGES = 0
    MENTIONS_AND_KEYWORDS_ONLY = 1
    MUTE = 2

class RoomListFilter:
    class ALL(RoomListFilter):
        def __init__(self) -> None: ...

    class UNREAD(RoomListFilter):
        def __init__(self) -> None: ...

    class FAVOURITES(RoomListFilter):
        def __init__(self) -> None: ...

    class INVITES(RoomListFilter):
        def __init__(self) -> None: ...

    class DIRECT_MESSAGES(RoomListFilter):
        def __init__(self) -> None: ...

    class GROUPS(RoomListFilter):
        def __init__(self) -> None: ...

    class NAME_MATCHES(RoomListFilter):
        pattern: str
        def __init__(self, pattern: str) -> None: ...

    def is_all(self) -> bool: ...
    def is_unread(self) -> bool: ...
    def is_favourites(self) -> bool: ...
    def is_invites(self) -> bool: ...
    def is_direct_messages(self) -> bool: ...
    def is_groups(self) -> bool: ...
    def is_name_matches(self) -> bool: ...

class RoomListUpdate:
    """One change of a list, as eyeball-im's `VectorDiff`; the first is `RESET`."""

    class APPEND(RoomListUpdate):
        values: List[RoomSummary]
        def __init__(self, values: List[RoomSummary]) -> None: ...

    class CLEAR(RoomListUpdate):
        def __init__(self) -> None: ...

    class PUSH_FRONT(RoomListUpdate):
        value: RoomSummary
        def __init__(self, value: RoomSummary) -> None: ...

    class PUSH_BACK(RoomListUpdate):
        value: RoomSummary
        def __init__(self, value: RoomSummary) -> None: ...

    class POP_FRONT(RoomListUpdate):
        def __init__(self) -> None: ...

    class POP_BACK(RoomListUpdate):
        def __init__(self) -> None: ...

    class INSERT(RoomListUpdate):
        index: int
        value: RoomSummary
        def __init__(self, index: int, value: RoomSummary) -> None: ...

    class SET(RoomListUpdate):
        index: int
        value: RoomSummary
        def __init__(self, index: int, value: RoomSummary) -> None: ...

    class REMOVE(RoomListUpdate):
        index: int
        def __init__(self, index: int) -> None: ...

    class TRUNCATE(RoomListUpdate):
        length: int
        def __init__(self, length: int) -> None: ...

    class RESET(RoomListUpdate):
        values: List[RoomSummary]
        def __init__(self, values: List[RoomSummary]) -> None: ...

    def is_append(self) -> bool: ...
    def is_clear(self) -> bool: ...
    def is_push_front(self) -> bool: ...
    def is_push_back(self) -> bool: ...
    def is_pop_front(self) -> bool: ...
    def is_pop_back(self) -> bool: ...
    def is_insert(self) -> bool: ...
    def is_set(self) -> bool: ...
    def is_remove(self) -> bool: ...
    def is_truncate(self) -> bool: ...
    def is_reset(self) -> bool: ...

class Emoji:
    """One of the seven emojis both devices show."""

    symbol: str
    description: str
    def __init__(self, *, symbol: str, description: str) -> None: ...

class VerificationState:
    """Where a device verification stands."""

    class REQUESTED(VerificationState):
        def __init__(self) -> None: ...

    class READY(VerificationState):
        def __init__(self) -> None: ...

    class EMOJIS(VerificationState):
        emojis: List[Emoji]
        def __init__(self, emojis: List[Emoji]) -> None: ...

    class DONE(VerificationState):
        def __init__(self) -> None: ...

    class CANCELLED(VerificationState):
        reason: str
        def __init__(self, reason: str) -> None: ...

class TimelineUpdate:
    """One change of a list, as eyeball-im's `VectorDiff`; the first is `RESET`."""

    class APPEND(TimelineUpdate):
        values: List[TimelineItem]
        def __init__(self, values: List[TimelineItem]) -> None: ...

    class CLEAR(TimelineUpdate):
        def __init__(self) -> None: ...

    class PUSH_FRONT(TimelineUpdate):
        value: TimelineItem
        def __init__(self, value: TimelineItem) -> None: ...

    class PUSH_BACK(TimelineUpdate):
        value: TimelineItem
        def __init__(self, value: TimelineItem) -> None: ...

    class POP_FRONT(TimelineUpdate):
        def __init__(self) -> None: ...

    class POP_BACK(TimelineUpdate):
        def __init__(self) -> None: ...

    class INSERT(TimelineUpdate):
        index: int
        value: TimelineItem
        def __init__(self, index: int, value: TimelineItem) -> None: ...

    class SET(TimelineUpdate):
        index: int
        value: TimelineItem
        def __init__(self, index: int, value: TimelineItem) -> None: ...

    class REMOVE(TimelineUpdate):
        index: int
        def __init__(self, index: int) -> None: ...

    class TRUNCATE(TimelineUpdate):
        length: int
        def __init__(self, length: int) -> None: ...

    class RESET(TimelineUpdate):
        values: List[TimelineItem]
        def __init__(self, values: List[TimelineItem]) -> None: ...

    def is_append(self) -> bool: ...
    def is_clear(self) -> bool: ...
    def is_push_front(self) -> bool: ...
    def is_push_back(self) -> bool: ...
    def is_pop_front(self) -> bool: ...
    def is_pop_back(self) -> bool: ...
    def is_insert(self) -> bool: ...
    def is_set(self) -> bool: ...
    def is_remove(self) -> bool: ...
    def is_truncate(self) -> bool: ...
    def is_reset(self) -> bool: ...

class TimelineItemKind:
    class EVENT(TimelineItemKind):
        event_id: Optional[str]
        sender: str
        sender_name: Optional[str]
        sender_avatar: Optional[MediaSource]
        is_own: bool
        timestamp_ms: int
        content: MessageContent
        send_state: Optional[SendState]
        edited: bool
        in_reply_to: Optional[str]
        reactions: List[Reaction]
        read_by: List[str]
        reply: Optional[ReplyDetails]
        """The message replied to, once the core has it (asked of the server when
        the timeline does not hold it); `in_reply_to` has its id from the start."""
        mentions_me: bool
        """The message mentions the user: in its intentional mentions, `@room`,
        or as the server's push rules highlight it (keywords included)."""
        def __init__(
            self,
            event_id: Optional[str],
            sender: str,
            sender_name: Optional[str],
            sender_avatar: Optional[MediaSource],
            is_own: bool,
            timestamp_ms: int,
            content: MessageContent,
            send_state: Optional[SendState],
            edited: bool,
            in_reply_to: Optional[str],
            reactions: List[Reaction],
            read_by: List[str],
            reply: Optional[ReplyDetails],
            mentions_me: bool,
        ) -> None: ...

    class DAY_DIVIDER(TimelineItemKind):
        timestamp_ms: int
        def __init__(self, timestamp_ms: int) -> None: ...

    class READ_MARKER(TimelineItemKind):
        def __init__(self) -> None: ...

    class TIMELINE_START(TimelineItemKind):
        def __init__(self) -> None: ...

    def is_event(self) -> bool: ...
    def is_day_divider(self) -> bool: ...
    def is_read_marker(self) -> bool: ...
    def is_timeline_start(self) -> bool: ...

class SendState:
    class SENDING(SendState):
        def __init__(self) -> None: ...

    class SENT(SendState):
        event_id: str
        def __init__(self, event_id: str) -> None: ...

    class FAILED(SendState):
        detail: str
        retriable: bool
        def __init__(self, detail: str, retriable: bool) -> None: ...

    def is_sending(self) -> bool: ...
    def is_sent(self) -> bool: ...
    def is_failed(self) -> bool: ...

class MessageContent:
    class TEXT(MessageContent):
        body: str
        formatted_html: Optional[str]
        def __init__(self, body: str, formatted_html: Optional[str]) -> None: ...

    class EMOTE(MessageContent):
        body: str
        formatted_html: Optional[str]
        def __init__(self, body: str, formatted_html: Optional[str]) -> None: ...

    class NOTICE(MessageContent):
        body: str
        formatted_html: Optional[str]
        def __init__(self, body: str, formatted_html: Optional[str]) -> None: ...

    class MEDIA(MessageContent):
        kind: MediaKind
        body: str
        source: MediaSource
        mimetype: Optional[str]
        size: Optional[int]
        info: MediaInfo
        def __init__(
            self,
            kind: MediaKind,
            body: str,
            source: MediaSource,
            mimetype: Optional[str],
            size: Optional[int],
            info: MediaInfo,
        ) -> None: ...

    class REDACTED(MessageContent):
        def __init__(self) -> None: ...

    class UNABLE_TO_DECRYPT(MessageContent):
        def __init__(self) -> None: ...

    class MEMBERSHIP(MessageContent):
        user_id: str
        change: str
        def __init__(self, user_id: str, change: str) -> None: ...

    class OTHER(MessageContent):
        event_type: str
        def __init__(self, event_type: str) -> None: ...

    def is_text(self) -> bool: ...
    def is_emote(self) -> bool: ...
    def is_notice(self) -> bool: ...
    def is_media(self) -> bool: ...
    def is_redacted(self) -> bool: ...
    def is_unable_to_decrypt(self) -> bool: ...
    def is_membership(self) -> bool: ...
    def is_other(self) -> bool: ...

class PreviewKind:
    """What a room list row's preview or a reply's quote shows, in parts."""

    class TEXT(PreviewKind):
        body: str
        def __init__(self, body: str) -> None: ...

    class EMOTE(PreviewKind):
        body: str
        def __init__(self, body: str) -> None: ...

    class NOTICE(PreviewKind):
        body: str
        def __init__(self, body: str) -> None: ...

    class IMAGE(PreviewKind):
        caption: Optional[str]
        def __init__(self, caption: Optional[str]) -> None: ...

    class VIDEO(PreviewKind):
        caption: Optional[str]
        def __init__(self, caption: Optional[str]) -> None: ...

    class AUDIO(PreviewKind):
        caption: Optional[str]
        def __init__(self, caption: Optional[str]) -> None: ...

    class FILE(PreviewKind):
        filename: str
        caption: Optional[str]
        def __init__(self, filename: str, caption: Optional[str]) -> None: ...

    class LOCATION(PreviewKind):
        def __init__(self) -> None: ...

    class STICKER(PreviewKind):
        def __init__(self) -> None: ...

    class POLL(PreviewKind):
        question: str
        def __init__(self, question: str) -> None: ...

    class DELETED(PreviewKind):
        def __init__(self) -> None: ...

    class UNABLE_TO_DECRYPT(PreviewKind):
        def __init__(self) -> None: ...

    class INVITE(PreviewKind):
        def __init__(self) -> None: ...

    class MEMBER(PreviewKind):
        user_id: str
        change: MemberChange
        def __init__(self, user_id: str, change: MemberChange) -> None: ...

    class ROOM_CREATED(PreviewKind):
        def __init__(self) -> None: ...

    class ROOM_NAMED(PreviewKind):
        name: str
        def __init__(self, name: str) -> None: ...

    class ROOM_TOPIC_CHANGED(PreviewKind):
        topic: str
        def __init__(self, topic: str) -> None: ...

    class ROOM_AVATAR_CHANGED(PreviewKind):
        def __init__(self) -> None: ...

    class ENCRYPTION_ENABLED(PreviewKind):
        def __init__(self) -> None: ...

    class OTHER(PreviewKind):
        event_type: str
        def __init__(self, event_type: str) -> None: ...

    def is_text(self) -> bool: ...
    def is_emote(self) -> bool: ...
    def is_notice(self) -> bool: ...
    def is_image(self) -> bool: ...
    def is_video(self) -> bool: ...
    def is_audio(self) -> bool: ...
    def is_file(self) -> bool: ...
    def is_location(self) -> bool: ...
    def is_sticker(self) -> bool: ...
    def is_poll(self) -> bool: ...
    def is_deleted(self) -> bool: ...
    def is_unable_to_decrypt(self) -> bool: ...
    def is_invite(self) -> bool: ...
    def is_member(self) -> bool: ...
    def is_room_created(self) -> bool: ...
    def is_room_named(self) -> bool: ...
    def is_room_topic_changed(self) -> bool: ...
    def is_room_avatar_changed(self) -> bool: ...
    def is_encryption_enabled(self) -> bool: ...
    def is_other(self) -> bool: ...

class MemberChange:
    """How a member's state changed (`PreviewKind.MEMBER.change`)."""

    class JOINED(MemberChange):
        def __init__(self) -> None: ...

    class LEFT(MemberChange):
        def __init__(self) -> None: ...

    class INVITED(MemberChange):
        def __init__(self) -> None: ...

    class INVITE_DECLINED(MemberChange):
        def __init__(self) -> None: ...

    class INVITE_REVOKED(MemberChange):
        def __init__(self) -> None: ...

    class KICKED(MemberChange):
        def __init__(self) -> None: ...

    class BANNED(MemberChange):
        def __init__(self) -> None: ...

    class UNBANNED(MemberChange):
        def __init__(self) -> None: ...

    class KNOCKED(MemberChange):
        def __init__(self) -> None: ...

    class DISPLAY_NAME_CHANGED(MemberChange):
        display_name: Optional[str]
        def __init__(self, display_name: Optional[str]) -> None: ...

    class AVATAR_CHANGED(MemberChange):
        def __init__(self) -> None: ...

    class OTHER(MemberChange):
        def __init__(self) -> None: ...

    def is_joined(self) -> bool: ...
    def is_left(self) -> bool: ...
    def is_invited(self) -> bool: ...
    def is_invite_declined(self) -> bool: ...
    def is_invite_revoked(self) -> bool: ...
    def is_kicked(self) -> bool: ...
    def is_banned(self) -> bool: ...
    def is_unbanned(self) -> bool: ...
    def is_knocked(self) -> bool: ...
    def is_display_name_changed(self) -> bool: ...
    def is_avatar_changed(self) -> bool: ...
    def is_other(self) -> bool: ...

# --- errors -----------------------------------------------------------------------

class CoreError(Exception):
    class ClientClosed(CoreError): ...
    class ShuttingDown(CoreError): ...

    class Busy(CoreError):
        operation: str
        def __init__(self, operation: str) -> None: ...

    class InvalidState(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

    class InvalidArgument(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

    class Auth(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

    class Network(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

    class Server(CoreError):
        status: int
        errcode: str
        detail: str
        def __init__(self, status: int, errcode: str, detail: str) -> None: ...

    class NotFound(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

    class Storage(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

    class Timeout(CoreError):
        operation: str
        def __init__(self, operation: str) -> None: ...

    class Internal(CoreError):
        detail: str
        def __init__(self, detail: str) -> None: ...

# --- listeners (subclass these; called on the core's threads) ---------------------

class TaskFailureListener:
    def on_failure(self, failure: TaskFailure) -> None: ...

class SyncStateListener:
    """The current state first, then every change. The last call is
    `on_state(SyncState.TERMINATED)` when the client closes, logs out or is shut
    down (not after `Subscription.cancel()`)."""

    def on_state(self, state: SyncState) -> None: ...

class MessageListener:
    """Every text message that sync delivers. The last call is `on_closed()`."""

    def on_message(self, message: Message) -> None: ...
    def on_closed(self) -> None:
        """The end signal: the client closed, logged out or was shut down. Not
        sent after `Subscription.cancel()`."""

class SessionListener:
    """Each token refresh (`on_session_changed`: store the new session), each
    token the server refuses (`on_auth_error`), then `on_closed()`."""

    def on_session_changed(self, session: Session) -> None: ...
    def on_auth_error(self, soft_logout: bool) -> None: ...
    def on_closed(self) -> None: ...

class SessionStore:
    """The app's keeper of the session (Keychain, Keystore), given to
    `Client.set_session_store` before `login` or `restore`: `save` is called
    after each token refresh, before the client's requests go on with the new
    tokens, on a core thread, bounded by `request_timeout_ms`. An exception
    is logged as `Storage`; the session is offered again at the next refresh.
    `notification_fetcher` takes its session from `load`, asks it again before
    it refreshes, and saves what it refreshed before using it."""

    def save(self, session: Session) -> None: ...
    def load(self) -> Optional[Session]: ...

class RecoveryStateListener:
    """The current recovery state first, then each change, then `on_closed()`."""

    def on_state(self, state: RecoveryState) -> None: ...
    def on_closed(self) -> None: ...

class LifecycleListener:
    def on_phase(self, phase: LifecyclePhase, elapsed_ms: int) -> None: ...

class RoomListListener:
    """A room list's changes: `RESET` first. The last call is `on_closed()`."""

    def on_update(self, updates: List[RoomListUpdate]) -> None: ...
    def on_closed(self) -> None:
        """The end signal: the client closed, logged out or was shut down. Not
        sent after `RoomListHandle.cancel()`."""

class TimelineListener:
    """A timeline's changes: `RESET` first. The last call is `on_closed()`."""

    def on_update(self, updates: List[TimelineUpdate]) -> None: ...
    def on_closed(self) -> None:
        """The end signal: the client closed, logged out or was shut down. Not
        sent after `Subscription.cancel()`."""

class RoomListener:
    """One room's summary (`Client.observe_room`): the current one first, then
    each time its name, topic, avatar, members, unread counts or flags change
    (never the same summary twice in a row). The last call is `on_closed()`."""

    def on_update(self, summary: RoomSummary) -> None: ...
    def on_closed(self) -> None:
        """The end signal, as for the other listeners."""

class TypingListener:
    """Who is typing in a room (the own user left out). The last call is `on_closed()`."""

    def on_typing(self, user_ids: List[str]) -> None: ...
    def on_closed(self) -> None:
        """The end signal, as for the other listeners."""

class VerificationListener:
    """A verification's states, the current one first. The last call is `on_closed()`."""

    def on_state(self, state: VerificationState) -> None: ...
    def on_closed(self) -> None:
        """The end signal, as for the other listeners."""

class VerificationRequestListener:
    """Each request another device of this user sends. The last call is `on_closed()`."""

    def on_request(self, verification: Verification) -> None: ...
    def on_closed(self) -> None:
        """The end signal, as for the other listeners."""

class ProgressListener:
    """An upload's progress, in bytes."""

    def on_progress(self, sent: int, total: int) -> None: ...

# The same listeners when implemented in Rust (handed out by the core, if ever).
class TaskFailureListenerImpl(TaskFailureListener): ...
class SyncStateListenerImpl(SyncStateListener): ...
class MessageListenerImpl(MessageListener): ...
class SessionListenerImpl(SessionListener): ...
class SessionStoreImpl(SessionStore): ...
class RecoveryStateListenerImpl(RecoveryStateListener): ...
class LifecycleListenerImpl(LifecycleListener): ...
class RoomListListenerImpl(RoomListListener): ...
class TimelineListenerImpl(TimelineListener): ...
class RoomListenerImpl(RoomListener): ...
class TypingListenerImpl(TypingListener): ...
class ProgressListenerImpl(ProgressListener): ...
class VerificationListenerImpl(VerificationListener): ...
class VerificationRequestListenerImpl(VerificationRequestListener): ...

# --- objects ----------------------------------------------------------------------

class SubscriptionProtocol(Protocol):
    def cancel(self) -> None: ...

class Subscription:
    """Delivers nothing once cancelled or garbage-collected."""

    def cancel(self) -> None: ...


class RoomListHandleProtocol(Protocol):
    def set_filter(self, filter: RoomListFilter) -> None: ...
    def load_more(self) -> None: ...
    def cancel(self) -> None: ...

class RoomListHandle:
    """A live room list. `set_filter` resets it (`RESET`), `load_more` adds a
    page; `cancel()` or garbage collection stops it."""

    def set_filter(self, filter: RoomListFilter) -> None: ...
    def load_more(self) -> None: ...
    def cancel(self) -> None: ...

class NotificationFetcherProtocol(Protocol):
    async def get(self, room_id: str, event_id: str) -> Optional[NotificationItem]: ...
    async def close(self) -> CloseReport: ...

class NotificationFetcher:
    """Several pushes on one set of open stores (`notification_fetcher`).
    Garbage-collected without `close`, it closes in the background."""

    async def get(self, room_id: str, event_id: str) -> Optional[NotificationItem]:
        """As `get_notification` answers; pushes asked at once take turns.
        `CoreError.ClientClosed` after `close`."""
    async def close(self) -> CloseReport:
        """Its stores closed, its client dropped, its tasks ended, as reported.
        `CoreError.ClientClosed` when closed already."""

class TimelineProtocol(Protocol):
    def observe(self, listener: TimelineListener) -> Subscription: ...
    async def paginate_backwards(self, events: int) -> bool: ...
    async def send_text(self, body: str, in_reply_to: Optional[str]) -> None: ...
    async def send_file(
        self,
        path: str,
        mimetype: Optional[str],
        caption: Optional[str],
        progress: Optional[ProgressListener],
    ) -> None:
        """Uploads as part of the call; the last progress comes before it returns."""
    async def send_media(
        self, path: str, info: UploadInfo, progress: Optional[ProgressListener]
    ) -> None:
        """Queues the file in the send queue; returns once its local echo is there.
        The upload's progress continues afterwards; `cancel_send` takes it back."""
    async def edit(self, item_id: str, body: str) -> None: ...
    async def toggle_reaction(self, item_id: str, key: str) -> None: ...
    async def redact(self, item_id: str, reason: Optional[str]) -> None: ...
    async def retry_send(self, item_id: str) -> None: ...
    async def cancel_send(self, item_id: str) -> bool: ...
    async def mark_as_read(self) -> None: ...
    async def set_typing(self, typing: bool) -> None: ...
    def observe_typing(self, listener: TypingListener) -> Subscription: ...
    async def send_message(
        self, message: OutgoingMessage, in_reply_to_item: Optional[str]
    ) -> None:
        """Queues `message`, a reply to the item `in_reply_to_item` when given; its
        local echo is in the timeline when this returns. A blank body or a
        mention that is no user id is `CoreError.InvalidArgument`, an unknown
        item `CoreError.NotFound` (nothing queued). A reply to a local echo waits
        for it to reach the server (30 s at most: `CoreError.Timeout`; one that
        failed: `CoreError.InvalidState`)."""
    async def edit_message(self, item_id: str, message: OutgoingMessage) -> None:
        """Replaces the message `item_id` with `message` (formatted, mentions)."""
    async def mark_as_read_privately(self) -> None:
        """A private read receipt (others do not see it) and the fully-read marker
        at the latest event."""

class Timeline(TimelineProtocol):
    """A room's live timeline. Every call raises `CoreError.ClientClosed` once
    its client has ended."""

    # Streams (`_streams.py`): `async for`, on the running loop, until the end signal.
    def items(self) -> CoreStream[List[TimelineItem]]:
        """The timeline as a list, oldest first, after each batch of diffs."""
    def updates(self) -> CoreStream[List[TimelineUpdate]]:
        """The raw diff batches, the first a `RESET`."""
    def typing(self) -> CoreStream[List[str]]:
        """Who is typing, at each change (nothing yet means nobody)."""

class VerificationProtocol(Protocol):
    def flow_id(self) -> str:
        """The flow's id, the same on both devices; kept after the client ended."""
    def observe(self, listener: VerificationListener) -> Subscription: ...
    async def accept(self) -> None: ...
    async def start_sas(self) -> None: ...
    async def confirm(self) -> None: ...
    async def cancel(self) -> None: ...

class Verification(VerificationProtocol):
    """A device verification by emoji. Every call raises `CoreError.ClientClosed`
    once its client has ended."""

    # Stream (`_streams.py`): `async for`, on the running loop.
    def states(self) -> CoreStream[VerificationState]:
        """The current state first, then each change; ends after `DONE` or `CANCELLED`."""

class ClientProtocol(Protocol):
    async def login(
        self, username: str, password: str, device_name: Optional[str]
    ) -> Session:
        """On a data_dir holding this user's session, asks for its device again
        (its keys and history stay); `CoreError.InvalidState` on another user's."""
    async def restore(self, session: Session) -> None: ...
    def session(self) -> Optional[Session]: ...
    def user_id(self) -> Optional[str]: ...
    def state(self) -> ClientState: ...
    async def start_sync(self) -> None: ...
    async def stop_sync(self) -> None: ...
    def sync_state(self) -> SyncState: ...
    def observe_sync_state(self, listener: SyncStateListener) -> Subscription:
        """Raises `CoreError.ClientClosed` once the client is closing or closed."""
    async def create_room(self, name: str, invite: List[str], encrypted: bool) -> str: ...
    async def join_room(self, room_id_or_alias: str) -> str: ...
    def rooms(self) -> List[RoomSummary]: ...
    async def send_text(self, room_id: str, body: str) -> str: ...
    async def recent_messages(self, room_id: str, limit: int) -> List[Message]: ...
    def observe_messages(self, listener: MessageListener) -> Subscription:
        """Raises `CoreError.ClientClosed` once the client is closing or closed."""
    async def logout(
        self, options: LogoutOptions, listener: Optional[LifecycleListener]
    ) -> LogoutReport: ...
    async def close(self, listener: Optional[LifecycleListener]) -> CloseReport: ...
    async def pause(self) -> None: ...
    async def resume(self) -> None: ...
    def observe_room_list(
        self, options: RoomListOptions, listener: RoomListListener
    ) -> RoomListHandle:
        """Raises `CoreError.ClientClosed` once the client is closing or closed."""
    def room(self, room_id: str) -> RoomSummary:
        """Raises `CoreError.NotFound` for a room the account does not know."""
    async def leave_room(self, room_id: str) -> None: ...
    async def invite(self, room_id: str, user_id: str) -> None: ...
    async def set_favourite(self, room_id: str, favourite: bool) -> None: ...
    async def timeline(self, room_id: str) -> Timeline:
        """Raises `CoreError.NotFound` unless the room is joined. The room's
        first timeline while sync runs returns once sync has answered the
        room's subscription (at most 5 s), with its latest events in it."""
    async def download_media(self, source: MediaSource, dest_path: str) -> int:
        """Streams the file to `dest_path` (a temporary file of its own, renamed
        into place); memory does not grow with the file."""
    async def download_thumbnail(
        self, source: MediaSource, width: int, height: int, dest_path: str
    ) -> int:
        """The server's thumbnail of an unencrypted file, scaled to fit `width` x
        `height` (1 to 2048 pixels), written to `dest_path`; kept in the media
        store, so the same size again asks no server. An encrypted file is
        `CoreError.InvalidArgument`: download its message's `info.thumbnail`."""
    async def max_upload_size(self) -> int:
        """The server's upload limit in bytes; a larger file given to `send_file` is
        `CoreError.InvalidArgument` before it is read."""
    async def request_verification(self) -> Verification:
        """Raises `CoreError.InvalidState` while the account has no cross-signing keys."""
    def observe_verification_requests(
        self, listener: VerificationRequestListener
    ) -> Subscription: ...
    def is_verified(self) -> bool: ...
    async def bootstrap_cross_signing(self, password: Optional[str]) -> None: ...
    async def enable_recovery(self, passphrase: Optional[str]) -> str:
        """Returns the recovery key; the core never logs nor stores it. A call
        cancelled once the set-up has begun finishes on its own, and the next call
        returns its key."""
    async def recover(self, recovery_key: str) -> None:
        """Raises `CoreError.InvalidArgument` for a wrong recovery key."""
    def recovery_state(self) -> RecoveryState: ...
    def observe_recovery_state(self, listener: RecoveryStateListener) -> Subscription:
        """Raises `CoreError.ClientClosed` once the client is closing or closed."""
    def observe_session(self, listener: SessionListener) -> Subscription:
        """Raises `CoreError.ClientClosed` once the client is closing or closed."""
    def set_session_store(self, store: SessionStore) -> None:
        """Before `login` or `restore`; raises `CoreError.InvalidState` after."""
    async def set_pusher(self, pusher: PusherConfig) -> None:
        """Raises `CoreError.InvalidArgument` for an empty pushkey or app_id, or a
        gateway_url that is not `http(s)://…/_matrix/push/v1/notify`."""
    async def remove_pusher(self, pushkey: str) -> None: ...
    async def pushers(self) -> List[PusherConfig]:
        """The account's HTTP pushers, as the homeserver holds them."""
    # Rooms beyond the list.
    async def create_room_with(self, options: CreateRoomOptions) -> str:
        """Creates a room as `options` say; returns its id. While sync runs, returns
        once sync has brought what was asked (name, encryption, direct; 10 s at
        most), so that `room()` reads right at once. A bad alias, invitee or an
        encrypted avatar is `CoreError.InvalidArgument`; an alias taken the
        server's `CoreError.Server` (400)."""
    async def start_dm(self, user_id: str) -> str:
        """The joined direct message with `user_id`, else a new encrypted one with
        the user invited; calls at once make one room. An unknown user is
        `CoreError.NotFound`, the user's own id `CoreError.InvalidArgument`."""
    def dm_room(self, user_id: str) -> Optional[str]:
        """The joined direct message with `user_id`, from memory (the latest active
        of several), or None."""
    def observe_room(self, room_id: str, listener: RoomListener) -> Subscription:
        """The room's summary, the current one first, then each change.
        `CoreError.NotFound` for a room the client does not know,
        `CoreError.ClientClosed` once the client is closing or closed."""
    async def set_room_name(self, room_id: str, name: str) -> None:
        """`CoreError.Server` (403) without the power."""
    async def set_room_topic(self, room_id: str, topic: str) -> None:
        """An empty topic clears it. `CoreError.Server` (403) without the power."""
    async def set_room_avatar(
        self, room_id: str, path: Optional[str], mimetype: Optional[str]
    ) -> None:
        """The image at `path` (its type `mimetype`, else guessed from the name),
        or None to remove it. Not an image, or no such file, is
        `CoreError.InvalidArgument`; `CoreError.Server` (403) without the power."""
    async def decline_invite(self, room_id: str) -> None:
        """The invite is forgotten: `room()` then raises `CoreError.NotFound`, or,
        should sync's leave arrive after the forget, shows the room `LEFT`. A
        room the user is not invited to is `CoreError.InvalidState`."""
    # People.
    async def members(self, room_id: str) -> List[Member]:
        """The joined and invited members of a joined room, with power and role.

        Loaded from the server the first time; `CoreError.Timeout` after
        twice the client's request timeout, and the next call loads again."""
    async def kick(self, room_id: str, user_id: str, reason: Optional[str]) -> None:
        """`CoreError.Server` (403) without the power."""
    async def ban(self, room_id: str, user_id: str, reason: Optional[str]) -> None:
        """`CoreError.Server` (403) without the power."""
    async def unban(self, room_id: str, user_id: str, reason: Optional[str]) -> None:
        """`CoreError.Server` (403) without the power."""
    async def profile(self, user_id: str) -> Profile:
        """`CoreError.NotFound` for a user the server does not know."""
    async def set_display_name(self, name: str) -> None:
        """A blank name is `CoreError.InvalidArgument`."""
    async def set_avatar(self, path: Optional[str], mimetype: Optional[str]) -> None:
        """The user's own avatar: the image at `path`, or None to remove it."""
    async def search_users(self, term: str, limit: int) -> List[Profile]:
        """The server's user directory: up to `limit` (1 to 100) users whose id or
        name matches `term`."""
    async def ignore_user(self, user_id: str) -> None:
        """Their events stop and leave the open timelines; oneself is
        `CoreError.InvalidArgument`."""
    async def unignore_user(self, user_id: str) -> None:
        """Nothing if the user was not ignored."""
    async def ignored_users(self) -> List[str]: ...
    async def report_event(self, room_id: str, event_id: str, reason: Optional[str]) -> None:
        """To the server's administrators; the room must be joined."""
    async def report_room(self, room_id: str, reason: str) -> None:
        """To the server's administrators; a blank reason is `CoreError.InvalidArgument`."""
    async def devices(self) -> List[Device]: ...
    async def delete_device(self, device_id: str, password: Optional[str]) -> None:
        """Signs another device out with the account's password (`CoreError.Auth`
        when wrong or missing); this device is `CoreError.InvalidArgument`: use
        `logout`."""
    # Read state.
    async def set_marked_unread(self, room_id: str, unread: bool) -> None:
        """Marks a room unread, or clears the mark. While sync runs, returns once
        sync has brought it back (10 s at most), so that `room()` shows it
        (`is_marked_unread`). An unknown room is `CoreError.NotFound`."""
    # Notification settings (the homeserver's push rules: pushes follow them).
    async def room_notification_mode(self, room_id: str) -> RoomNotificationMode:
        """A joined room's mode: its own, else the account's default for a room
        like it. A malformed room id is `CoreError.InvalidArgument`."""
    async def set_room_notification_mode(
        self, room_id: str, mode: RoomNotificationMode
    ) -> None:
        """Gives a joined room a mode of its own; its summary's `notification_mode`
        shows it when this returns. An unknown room is `CoreError.NotFound`."""
    async def reset_room_notification_mode(self, room_id: str) -> None:
        """Returns a room to the account's default; its summary's
        `notification_mode` is None when this returns."""
    async def default_notification_mode(self, is_direct: bool) -> RoomNotificationMode:
        """The account's default for direct messages (`is_direct`) or groups.
        "Direct" as the server's push rules count it: a room of two people,
        marked direct or not; `room_notification_mode` follows the same count."""
    async def set_default_notification_mode(
        self, is_direct: bool, mode: RoomNotificationMode
    ) -> None:
        """`MUTE` is no default (`CoreError.InvalidArgument`): mute rooms one by one."""
    async def notification_keywords(self) -> List[str]:
        """The keywords that notify like a mention, sorted."""
    async def add_notification_keyword(self, keyword: str) -> None:
        """Adding one twice keeps one; blank is `CoreError.InvalidArgument`."""
    async def remove_notification_keyword(self, keyword: str) -> None:
        """Nothing if it is not there."""

class Client(ClientProtocol):
    """A Matrix client. Calls that fail raise `CoreError`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        """Raises ValueError: use `await Client.create(config)`."""
    @classmethod
    async def create(cls, config: ClientConfig) -> Client: ...

    # Streams (`_streams.py`): `async for`, on the running loop, until the end signal.
    def sync_states(self) -> CoreStream[SyncState]:
        """The current state first, then each change, `TERMINATED` last."""
    def messages(self) -> CoreStream[Message]:
        """Every text message that sync delivers."""
    def room_list(
        self,
        options: Optional[RoomListOptions] = None,
        controller: Optional[RoomListController] = None,
    ) -> CoreStream[List[RoomSummary]]:
        """The room list as a list, newest activity first, after each batch of diffs."""
    def room_list_updates(
        self,
        options: Optional[RoomListOptions] = None,
        controller: Optional[RoomListController] = None,
    ) -> CoreStream[List[RoomListUpdate]]:
        """The raw diff batches, the first a `RESET`."""
    def room_summaries(self, room_id: str) -> CoreStream[RoomSummary]:
        """One room's summary: the current one first, then each change."""
    def verification_requests(self) -> CoreStream[Verification]:
        """Each verification request another device of this user sends."""
    def recovery_states(self) -> CoreStream[RecoveryState]:
        """The current recovery state first, then each change."""
    def session_events(self) -> CoreStream[Union[SessionEvent.Refreshed, SessionEvent.AuthError]]:
        """The current session first, then each token refresh and each refused token."""

# --- streams (hand-written, `_streams.py`) ----------------------------------------

class SessionEvent:
    """What `Client.session_events()` yields (`_security.py`)."""

    class Refreshed:
        """New tokens: store `session`; its repr leaves the tokens out."""
        session: Session
        def __init__(self, session: Session) -> None: ...

    class AuthError:
        """The server refused the token; once per refused token."""
        soft_logout: bool
        def __init__(self, soft_logout: bool) -> None: ...

class CoreStream(AsyncIterator[_T]):
    """One subscription as an async iterator on the running loop. Ends at the
    end signal; `break`, `aclose()`, `async with` or a cancelled `__anext__`
    cancels the subscription."""

    def __aiter__(self) -> CoreStream[_T]: ...
    async def __anext__(self) -> _T: ...
    async def aclose(self) -> None: ...
    async def __aenter__(self) -> CoreStream[_T]: ...
    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None: ...

class RoomListController:
    """Changes the filter of, and loads more rooms into, the room lists iterated
    with it. Thread-safe."""

    @property
    def filter(self) -> Optional[RoomListFilter]: ...
    @property
    def active_lists(self) -> int: ...
    def set_filter(self, filter: RoomListFilter) -> None: ...
    def load_more(self) -> bool: ...

def apply_diffs(
    items: Sequence[_T], updates: Iterable[Union[RoomListUpdate, TimelineUpdate]]
) -> List[_T]:
    """A new list: `items` with one batch of diffs applied; `items` is unchanged."""

# --- process-wide functions -------------------------------------------------------

def configure_runtime(config: RuntimeConfig) -> None: ...
def media_source_from_url(url: str) -> MediaSource:
    """A `MediaSource` for an unencrypted `mxc://` URL; anything else is
    `CoreError.InvalidArgument`."""
def init_logging(config: LogConfig) -> None: ...
def set_task_failure_listener(listener: Optional[TaskFailureListener]) -> None: ...
def runtime_stats() -> RuntimeStats: ...
async def shutdown(options: ShutdownOptions) -> ShutdownReport: ...
def shutdown_blocking(options: ShutdownOptions) -> ShutdownReport: ...
async def get_notification(
    config: ClientConfig, session: Session, room_id: str, event_id: str
) -> Optional[NotificationItem]:
    """One event for a push handler, from the app's stores in `config.data_dir`
    (which the app may have open in another process), decrypted where keys allow.
    None when it does not notify; `CoreError.NotFound` for an unknown room or event.
    In this process, a live client on `data_dir` answers; calls at once take turns.
    `CoreError.InvalidState` while that client is paused or another session's,
    `CoreError.Busy` while it is being built or closed."""
async def notification_fetcher(config: ClientConfig, store: SessionStore) -> NotificationFetcher:
    """A fetcher on `config.data_dir` with the session `store.load()` returns, for
    a notification extension handed several pushes: one client, one set of open
    stores. An expired access token is renewed through `store` under a lock the
    app's processes share. In the process of a live client on `data_dir`, that
    client answers each push. A `Client.create` on `data_dir` in this process
    makes it give its stores up after the pushes queued.
    `CoreError.InvalidState` when the store keeps no session or `data_dir` holds
    none of its stores; `CoreError.Storage` when the store raises."""
