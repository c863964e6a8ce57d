"""Rooms and people against the test homeserver: a room created with options, direct
messages, one room followed (a listener, and `async for` over
`Client.room_summaries`), a room's settings, members with their power and
moderation, profiles and the user directory, ignoring and reporting, the account's
devices. Each bad input gets its typed error; the server's refusal for want of
power is `CoreError.Server` with status 403, not `Auth`.

The Python twin of `core/tests/people/*.rs`, with what Python adds: the record
defaults of `CreateRoomOptions`, `start_dm` from several coroutines at once, the
stream form of `observe_room`, a moderator made through the power levels, and the
server's own view (room directory, a signed-out device's token) where it can be
asked.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
import urllib.error
from pathlib import Path
from typing import Awaitable, Callable, List, Optional, TypeVar

import pytest
from _mirrors import TimelineMirror, body_of
from _support import client_api, path_segment, wait_no_live_clients, wait_until

from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    CreateRoomOptions,
    LogoutOptions,
    Member,
    MemberRole,
    Membership,
    RoomListener,
    RoomPreset,
    RoomSummary,
    RoomVisibility,
    media_source_from_url,
    runtime_stats,
)

T = TypeVar("T")

#: The 64 x 64 PNG the Rust tests use.
AVATAR_PNG = Path(__file__).resolve().parents[2] / "core" / "tests" / "support" / "avatar.png"

#: The descriptor of an encrypted file (keys of zeros), as in core/tests/people/rooms.rs.
ENCRYPTED_SOURCE = (
    '{"file":{"url":"mxc://localhost/file","key":{"kty":"oct","key_ops":["encrypt",'
    '"decrypt"],"alg":"A256CTR","k":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",'
    '"ext":true},"iv":"AAAAAAAAAAAAAAAAAAAAAA","hashes":{"sha256":'
    '"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"v":"v2"}}'
)


# --- helpers --------------------------------------------------------------------------


async def _logged_in(
    clients: List[Client], homeserver_url: str, user, data_dir: str, device_name: Optional[str] = None
) -> Client:
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    clients.append(client)
    await client.login(user.username, user.password, device_name)
    return client


def _server(user_id: str) -> str:
    return user_id.split(":", 1)[1]


def _fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _summary(client: Client, room_id: str) -> Optional[RoomSummary]:
    try:
        return client.room(room_id)
    except CoreError.NotFound:
        return None


async def _membership(client: Client, room_id: str, membership: Membership) -> RoomSummary:
    """Waits until `client` knows `room_id` with `membership`."""

    def reached() -> Optional[RoomSummary]:
        summary = _summary(client, room_id)
        return summary if summary is not None and summary.membership == membership else None

    return await wait_until(reached, 30, what=f"{room_id} {membership}")


async def _eventually(check: Callable[[], Awaitable[T]], what: str, timeout: float = 30.0) -> T:
    """Awaits `check()` until it returns something truthy; fails the test at the
    deadline (`wait_until` for checks that call the core)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not reached within {timeout} s: {what} (last: {value!r})")
        await asyncio.sleep(0.2)


def _member(members: List[Member], user_id: str) -> Optional[Member]:
    return next((m for m in members if m.user_id == user_id), None)


def _png(tmp_path: Path) -> str:
    path = tmp_path / "avatar.png"
    path.write_bytes(AVATAR_PNG.read_bytes())
    return str(path)


def _text_file(tmp_path: Path) -> str:
    path = tmp_path / "notes.txt"
    path.write_text("not an image")
    return str(path)


def _all_differ(summaries: List[RoomSummary]) -> bool:
    """Whether no summary is the same as the one before it. Compared by their
    text: the generated `__eq__` of a record raises AttributeError when a field
    holds a record on one side and None on the other (see
    `test_records_compare_with_none_fields`)."""
    texts = [str(s) for s in summaries]
    return all(a != b for a, b in zip(texts, texts[1:]))


def _tasks_named(suffix: str) -> List[str]:
    return [name for name in runtime_stats().supervised_tasks if name.endswith("::" + suffix)]


class Heard(RoomListener):
    """Records every summary a `RoomListener` is given, and its end signals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._updates: List[RoomSummary] = []
        self._closed = 0

    def on_update(self, summary: RoomSummary) -> None:
        with self._lock:
            self._updates.append(summary)

    def on_closed(self) -> None:
        with self._lock:
            self._closed += 1

    @property
    def updates(self) -> List[RoomSummary]:
        with self._lock:
            return list(self._updates)

    @property
    def last(self) -> Optional[RoomSummary]:
        updates = self.updates
        return updates[-1] if updates else None

    @property
    def closed(self) -> int:
        with self._lock:
            return self._closed


# --- records --------------------------------------------------------------------------


def test_records_compare_with_none_fields():
    """Two summaries of one room, one with an avatar (or a latest message) and one
    without, are different, not an AttributeError: what an app comparing the
    summaries `room_summaries()` yields runs into."""
    avatar = media_source_from_url("mxc://localhost/avatar")
    fields = dict(
        room_id="!r:localhost",
        name="room",
        is_encrypted=False,
        joined_members=1,
        membership=Membership.JOINED,
        is_direct=False,
        is_favourite=False,
        topic=None,
        avatar_url=None,
        unread_messages=0,
        unread_mentions=0,
        latest=None,
    )
    without = RoomSummary(**fields, avatar=None)
    with_avatar = RoomSummary(**fields, avatar=avatar)
    assert with_avatar != without
    assert without != with_avatar
    assert avatar != None  # noqa: E711  (what the summaries' comparison does)
    assert RoomSummary(**fields, avatar=None) == without
    assert RoomSummary(**fields, avatar=avatar) == with_avatar


# --- rooms ----------------------------------------------------------------------------


async def test_a_room_created_with_options_reads_back_as_asked(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice_user, bob_user, carol_user = register("opts-alice"), register("opts-bob"), register("opts-carol")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    carol = await _logged_in(clients, homeserver_url, carol_user, str(tmp_path / "carol"))
    alice_id, bob_id = alice_user.user_id, bob_user.user_id
    await alice.start_sync()

    # The record's defaults: private, encrypted, not direct, nobody invited.
    defaults = CreateRoomOptions(visibility=RoomVisibility.PRIVATE, preset=RoomPreset.PRIVATE_CHAT)
    assert (defaults.name, defaults.topic, defaults.invite) == (None, None, [])
    assert (defaults.is_direct, defaults.encrypted) == (False, True)
    assert (defaults.alias_local_part, defaults.avatar) == (None, None)
    plain = await alice.create_room_with(defaults)
    summary = alice.room(plain)
    assert summary.membership == Membership.JOINED
    assert summary.is_encrypted and not summary.is_direct, summary
    assert summary.topic is None and summary.avatar is None, summary

    # The avatar: the user's own, already on the server, through its profile.
    await alice.set_avatar(_png(tmp_path), None)
    avatar = (await alice.profile(alice_id)).avatar
    assert avatar is not None and avatar.url.startswith("mxc://"), avatar
    alias = _fresh("opts")
    room_id = await alice.create_room_with(
        CreateRoomOptions(
            visibility=RoomVisibility.PUBLIC,
            preset=RoomPreset.PUBLIC_CHAT,
            name="Options",
            topic="what the room is for",
            invite=[bob_id],
            encrypted=False,
            alias_local_part=alias,
            avatar=avatar,
        )
    )
    # Name and encryption at once (sync runs); topic and avatar as sync brings them.
    summary = alice.room(room_id)
    assert summary.name == "Options", summary
    assert not summary.is_encrypted and not summary.is_direct, summary

    def topic_and_avatar() -> bool:
        s = alice.room(room_id)
        return s.topic == "what the room is for" and s.avatar is not None and s.avatar.url == avatar.url

    await wait_until(topic_and_avatar, 30, what="the topic and the avatar")
    assert alice.room(room_id).avatar == media_source_from_url(avatar.url)
    members = await alice.members(room_id)
    invited = _member(members, bob_id)
    assert invited is not None and invited.membership == Membership.INVITED, members

    # The alias and the public preset: carol, never invited, joins by the alias.
    joined = await carol.join_room(f"#{alias}:{_server(alice_id)}")
    assert joined == room_id
    # `RoomVisibility.PUBLIC` is not checked in the server's directory: the test
    # Synapse leaves `room_list_publication_rules` unset, which denies every
    # publication, and Synapse then creates the room unlisted without an error.

    # A direct room made with options is the one dm_room finds.
    direct = await alice.create_room_with(
        CreateRoomOptions(
            visibility=RoomVisibility.PRIVATE,
            preset=RoomPreset.TRUSTED_PRIVATE_CHAT,
            invite=[bob_id],
            is_direct=True,
        )
    )
    assert alice.room(direct).is_direct, alice.room(direct)
    assert alice.dm_room(bob_id) == direct

    # Bad input is refused before the server hears of it.
    for bad in ["", "has space", "with:colon", "#hash"]:
        with pytest.raises(CoreError.InvalidArgument):
            await alice.create_room_with(
                CreateRoomOptions(
                    visibility=RoomVisibility.PRIVATE,
                    preset=RoomPreset.PRIVATE_CHAT,
                    alias_local_part=bad,
                )
            )
    with pytest.raises(CoreError.InvalidArgument):
        await alice.create_room_with(
            CreateRoomOptions(
                visibility=RoomVisibility.PRIVATE,
                preset=RoomPreset.PRIVATE_CHAT,
                invite=["not a user id"],
            )
        )
    encrypted_avatar = media_source_from_url(avatar.url)
    encrypted_avatar.descriptor = ENCRYPTED_SOURCE
    with pytest.raises(CoreError.InvalidArgument):
        await alice.create_room_with(
            CreateRoomOptions(
                visibility=RoomVisibility.PRIVATE,
                preset=RoomPreset.PRIVATE_CHAT,
                avatar=encrypted_avatar,
            )
        )
    # An alias already taken: the server's refusal, typed.
    with pytest.raises(CoreError.Server) as taken:
        await alice.create_room_with(
            CreateRoomOptions(
                visibility=RoomVisibility.PRIVATE,
                preset=RoomPreset.PRIVATE_CHAT,
                alias_local_part=alias,
            )
        )
    assert taken.value.status == 400, taken.value

    await alice.logout(LogoutOptions(), None)
    with pytest.raises(CoreError.ClientClosed):
        await alice.create_room_with(defaults)
    await carol.logout(LogoutOptions(), None)


async def test_start_dm_makes_one_direct_room_dm_room_finds_it_and_bad_users_are_typed(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice_user, bob_user = register("dm-alice"), register("dm-bob")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    alice_id, bob_id = alice_user.user_id, bob_user.user_id
    await alice.start_sync()
    await bob.start_sync()
    assert alice.dm_room(bob_id) is None

    # Three taps at once, from three coroutines: one room.
    ids = await asyncio.gather(*(alice.start_dm(bob_id) for _ in range(3)))
    room_id = ids[0]
    assert ids == [room_id] * 3, ids
    summary = alice.room(room_id)
    assert summary.is_direct and summary.is_encrypted, summary
    assert alice.dm_room(bob_id) == room_id
    assert await alice.start_dm(bob_id) == room_id

    # A trusted private chat: bob, invited, has the creator's power.
    members = await alice.members(room_id)
    invited = _member(members, bob_id)
    assert invited is not None, members
    assert invited.membership == Membership.INVITED
    assert invited.power_level >= 100 and invited.role == MemberRole.ADMINISTRATOR, invited

    # Bob is invited to a direct room; once he joins, it is his direct room with alice.
    await _membership(bob, room_id, Membership.INVITED)
    await bob.join_room(room_id)
    await wait_until(lambda: bob.room(room_id).is_direct, 30, what="bob's side reads direct")
    await wait_until(lambda: bob.dm_room(alice_id) == room_id, 30, what="bob's dm_room(alice)")

    # Bad users, typed; an unknown one before any room is made for him.
    rooms_before = {s.room_id for s in alice.rooms()}
    unknown = f"@{_fresh('nobody')}:{_server(bob_id)}"
    with pytest.raises(CoreError.NotFound):
        await alice.start_dm(unknown)
    assert {s.room_id for s in alice.rooms()} == rooms_before, "a room was made for nobody"
    assert alice.dm_room(unknown) is None
    with pytest.raises(CoreError.InvalidArgument):
        await alice.start_dm(alice_id)
    with pytest.raises(CoreError.InvalidArgument):
        await alice.start_dm("bob")
    with pytest.raises(CoreError.InvalidArgument):
        alice.dm_room("bob")

    # A direct room left is no longer the one: start_dm makes a new one.
    await alice.leave_room(room_id)
    await wait_until(lambda: alice.dm_room(bob_id) is None, 30, what="the left room forgotten")
    again = await alice.start_dm(bob_id)
    assert again != room_id
    assert alice.dm_room(bob_id) == again

    await alice.logout(LogoutOptions(), None)
    with pytest.raises(CoreError.ClientClosed):
        alice.dm_room(bob_id)
    with pytest.raises(CoreError.ClientClosed):
        await alice.start_dm(bob_id)
    await bob.logout(LogoutOptions(), None)


async def test_a_declined_invite_is_gone_or_left_and_a_joined_room_is_not_declined(
    homeserver_url, register, tmp_path: Path, clients
):
    """matrix-sdk forgets a declined invite: `room()` raises NotFound, unless sync's
    leave arrives after the forget and brings the room back as LEFT (the Kotlin
    helper saw it). Either way, it is no longer an invite, nor listed as one."""
    await wait_no_live_clients()
    alice_user, bob_user = register("decl-alice"), register("decl-bob")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    await bob.start_sync()
    room_id = await alice.create_room("declined", [bob_user.user_id], False)
    await _membership(bob, room_id, Membership.INVITED)
    await bob.decline_invite(room_id)

    def declined() -> bool:
        summary = _summary(bob, room_id)
        return summary is None or summary.membership == Membership.LEFT

    await wait_until(declined, 30, what="the invite declined (NotFound or LEFT)")
    # Still declined a moment later: sync does not bring the invite back.
    await asyncio.sleep(1)
    assert declined(), _summary(bob, room_id)
    assert room_id not in [s.room_id for s in bob.rooms() if s.membership == Membership.INVITED]
    # Declining again: NotFound once forgotten, InvalidState if back as LEFT.
    with pytest.raises((CoreError.NotFound, CoreError.InvalidState)):
        await bob.decline_invite(room_id)
    # Alice's side: bob is no member, and her joined room is no invite to decline.
    assert _member(await alice.members(room_id), bob_user.user_id) is None
    with pytest.raises(CoreError.InvalidState):
        await alice.decline_invite(room_id)
    await alice.logout(LogoutOptions(), None)
    await bob.logout(LogoutOptions(), None)


async def test_observe_room_hears_the_current_summary_then_each_change_and_ends_at_logout(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice_user, bob_user = register("watch-alice"), register("watch-bob")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    await alice.start_sync()
    await bob.start_sync()
    room_id = await alice.create_room("before", [bob_user.user_id], False)

    heard, cancelled = Heard(), Heard()
    subscription = alice.observe_room(room_id, heard)
    other = alice.observe_room(room_id, cancelled)
    await wait_until(lambda: heard.updates and cancelled.updates, 10, what="the current summary")
    first = heard.updates[0]
    assert first.room_id == room_id and first.name == "before", first
    other.cancel()
    heard_by_cancelled = len(cancelled.updates)

    await alice.set_room_name(room_id, "after")
    await wait_until(lambda: heard.last.name == "after", 30, what="the new name")
    await alice.set_room_topic(room_id, "a topic")
    await wait_until(lambda: heard.last.topic == "a topic", 30, what="the topic")
    await alice.set_room_avatar(room_id, _png(tmp_path), "image/png")
    await wait_until(lambda: heard.last.avatar is not None, 30, what="the avatar")
    avatar = heard.last.avatar
    assert media_source_from_url(avatar.url) == avatar
    # A member joins: the count moves.
    await _membership(bob, room_id, Membership.INVITED)
    await bob.join_room(room_id)
    await wait_until(lambda: heard.last.joined_members == 2, 30, what="bob counted")
    await alice.set_room_topic(room_id, "")
    await wait_until(lambda: not heard.last.topic, 30, what="the topic cleared")
    await alice.set_room_avatar(room_id, None, None)
    await wait_until(lambda: heard.last.avatar is None, 30, what="the avatar removed")
    updates = heard.updates
    assert _all_differ(updates), "an update repeated the one before"
    assert [u.room_id for u in updates] == [room_id] * len(updates)
    assert len(cancelled.updates) == heard_by_cancelled, "a cancelled subscription heard more"

    # Bob has no power to change the room: the server's 403, typed.
    await _membership(bob, room_id, Membership.JOINED)
    for change in (
        bob.set_room_name(room_id, "bob's"),
        bob.set_room_topic(room_id, "bob's"),
        bob.set_room_avatar(room_id, _png(tmp_path), None),
    ):
        with pytest.raises(CoreError.Server) as refused:
            await change
        assert refused.value.status == 403, refused.value
    assert alice.room(room_id).name == "after"
    # Not an image, no such file: refused before any upload.
    with pytest.raises(CoreError.InvalidArgument):
        await alice.set_room_avatar(room_id, _text_file(tmp_path), None)
    with pytest.raises(CoreError.InvalidArgument):
        await alice.set_room_avatar(room_id, str(tmp_path / "nope.png"), None)
    # Unknown rooms, a bad id.
    with pytest.raises(CoreError.NotFound):
        alice.observe_room("!nowhere:example.org", Heard())
    with pytest.raises(CoreError.NotFound):
        await alice.set_room_name("!nowhere:example.org", "x")
    with pytest.raises(CoreError.InvalidArgument):
        alice.observe_room("bad", Heard())

    assert heard.closed == 0
    await alice.logout(LogoutOptions(), None)
    assert heard.closed == 1, "the end signal, once, by the time logout returns"
    assert cancelled.closed == 0, "no end signal after cancel()"
    with pytest.raises(CoreError.ClientClosed):
        alice.observe_room(room_id, Heard())
    subscription.cancel()
    await bob.logout(LogoutOptions(), None)


async def test_room_summaries_streams_a_room_until_break_or_logout(
    homeserver_url, user, data_dir, clients
):
    await wait_no_live_clients()
    client = await _logged_in(clients, homeserver_url, user, data_dir)
    await client.start_sync()
    room_id = await client.create_room("first", [], False)

    async def follow() -> List[RoomSummary]:
        seen: List[RoomSummary] = []
        topic_set = False
        async for summary in client.room_summaries(room_id):
            seen.append(summary)
            if len(seen) == 1:
                assert _tasks_named("room-observer"), runtime_stats().supervised_tasks
                await client.set_room_name(room_id, "second")
            elif summary.name == "second" and not topic_set:
                topic_set = True
                await client.set_room_topic(room_id, "streamed")
            elif summary.topic == "streamed":
                break
        return seen

    seen = await asyncio.wait_for(follow(), 60)
    assert seen[0].room_id == room_id and seen[0].name == "first", seen[0]
    assert seen[-1].name == "second" and seen[-1].topic == "streamed", seen[-1]
    assert _all_differ(seen), seen
    # `break` let the stream go: the subscription is cancelled, its task ends.
    await wait_until(lambda: not _tasks_named("room-observer"), 10, what="no room-observer left")

    # A room the client does not know: the first `__anext__` raises.
    with pytest.raises(CoreError.NotFound):
        await asyncio.wait_for(client.room_summaries("!nowhere:example.org").__anext__(), 10)

    # A stream that runs at logout ends there, after the current summary.
    started = asyncio.Event()

    async def until_the_end() -> List[RoomSummary]:
        got: List[RoomSummary] = []
        async for summary in client.room_summaries(room_id):
            got.append(summary)
            started.set()
        return got

    running = asyncio.ensure_future(until_the_end())
    await asyncio.wait_for(started.wait(), 10)
    await client.logout(LogoutOptions(), None)
    got = await asyncio.wait_for(running, 10)
    assert got and got[0].name == "second" and got[0].topic == "streamed", got

    # On a client that has ended, the stream is empty.
    async def after_the_end() -> List[RoomSummary]:
        return [s async for s in client.room_summaries(room_id)]

    assert await asyncio.wait_for(after_the_end(), 10) == []


async def test_a_timeline_opened_right_after_messages_were_sent_shows_them(
    homeserver_url, user, data_dir, clients
):
    """`Client.timeline` promises, while sync runs, the room's latest events in its
    first timeline. A room made and written to just before (what a new direct
    message or a room made with options is) is opened: its messages must show
    without paging back. (They once did not: the timeline's only batch was an empty
    RESET, and the messages came with `paginate_backwards`; the core now fills a
    first open that no answer filled with one back-pagination.)"""
    await wait_no_live_clients()
    client = await _logged_in(clients, homeserver_url, user, data_dir)
    await client.start_sync()
    missing = []
    for n in range(3):
        room_id = await client.create_room(f"fresh {n}", [], False)
        await client.send_text(room_id, f"hello {n}")
        timeline = await client.timeline(room_id)
        items = TimelineMirror()
        subscription = timeline.observe(items)
        try:
            await wait_until(
                lambda: f"hello {n}" in [body_of(i) for i in items.items], 10, what=f"hello {n}"
            )
        except AssertionError:
            missing.append((n, len(items.batches), len(items.items)))
        subscription.cancel()
    await client.logout(LogoutOptions(), None)
    assert missing == [], f"(room, batches, items) whose message never showed: {missing}"


# --- people ---------------------------------------------------------------------------


async def test_members_carry_power_and_roles_and_moderation_needs_power(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice_user, bob_user, carol_user = register("mem-alice"), register("mem-bob"), register("mem-carol")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    carol = await _logged_in(clients, homeserver_url, carol_user, str(tmp_path / "carol"))
    alice_id, bob_id, carol_id = alice_user.user_id, bob_user.user_id, carol_user.user_id
    await alice.start_sync()
    await bob.start_sync()
    await carol.start_sync()
    room_id = await alice.create_room_with(
        CreateRoomOptions(
            visibility=RoomVisibility.PRIVATE,
            preset=RoomPreset.PRIVATE_CHAT,
            name="members",
            invite=[bob_id],
            encrypted=False,
        )
    )
    await alice.invite(room_id, carol_id)

    members = await alice.members(room_id)
    me = _member(members, alice_id)
    assert me is not None, members
    assert (me.membership, me.role) == (Membership.JOINED, MemberRole.ADMINISTRATOR), me
    assert me.power_level >= 100, me
    invited = _member(members, bob_id)
    assert invited is not None, members
    assert invited.membership == Membership.INVITED
    assert (invited.power_level, invited.role) == (0, MemberRole.USER), invited
    assert _member(members, carol_id) is not None, members

    # Bob joins; he has no power to kick, ban or unban: the server's 403.
    await _membership(bob, room_id, Membership.INVITED)
    await bob.join_room(room_id)
    for moderation in (
        bob.kick(room_id, carol_id, None),
        bob.ban(room_id, alice_id, "no"),
        bob.unban(room_id, carol_id, None),
    ):
        with pytest.raises(CoreError.Server) as refused:
            await moderation
        assert refused.value.status == 403, refused.value
    assert _member(await alice.members(room_id), carol_id) is not None, "carol's invite stands"

    # Alice makes bob a moderator through the power levels: his role follows, and
    # he may now kick.
    token = alice.session().access_token
    state = f"/_matrix/client/v3/rooms/{path_segment(room_id)}/state/m.room.power_levels"
    levels = client_api(homeserver_url, "GET", state, token)
    levels.setdefault("users", {})[bob_id] = 50
    client_api(homeserver_url, "PUT", state, token, levels)

    async def bobs_role() -> Optional[Member]:
        m = _member(await alice.members(room_id), bob_id)
        return m if m is not None and m.role == MemberRole.MODERATOR else None

    moderator = await _eventually(bobs_role, "bob a moderator")
    assert (moderator.power_level, moderator.membership) == (50, Membership.JOINED), moderator
    await _membership(carol, room_id, Membership.INVITED)
    await bob.kick(room_id, carol_id, "not now")

    def withdrawn() -> bool:
        summary = _summary(carol, room_id)
        return summary is None or summary.membership == Membership.LEFT

    await wait_until(withdrawn, 30, what="carol's invite withdrawn")

    async def carol_gone() -> bool:
        return _member(await alice.members(room_id), carol_id) is None

    await _eventually(carol_gone, "carol gone from alice's members")

    # Alice bans bob: he cannot come back until the ban is lifted.
    await alice.ban(room_id, bob_id, None)
    await _membership(bob, room_id, Membership.BANNED)
    with pytest.raises(CoreError):
        await bob.join_room(room_id)
    with pytest.raises(CoreError.Server):
        await alice.invite(room_id, bob_id)
    await alice.unban(room_id, bob_id, None)

    async def gone() -> bool:
        current = await alice.members(room_id)
        return _member(current, bob_id) is None and _member(current, carol_id) is None

    await _eventually(gone, "bob's ban lifted, carol's invite gone")
    # The ban lifted: bob may be invited again, and join.
    await alice.invite(room_id, bob_id)
    await _membership(bob, room_id, Membership.INVITED)
    await bob.join_room(room_id)
    await _membership(bob, room_id, Membership.JOINED)

    # Bad input.
    with pytest.raises(CoreError.InvalidArgument):
        await alice.kick(room_id, "carol", None)
    with pytest.raises(CoreError.NotFound):
        await alice.members("!nowhere:example.org")
    await alice.logout(LogoutOptions(), None)
    with pytest.raises(CoreError.ClientClosed):
        await alice.members(room_id)
    await bob.logout(LogoutOptions(), None)
    await carol.logout(LogoutOptions(), None)


async def test_profiles_are_set_read_shown_on_members_and_found_in_the_directory(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice_user, bob_user = register("prof-alice"), register("prof-bob")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    alice_id, bob_id = alice_user.user_id, bob_user.user_id
    shown = _fresh("Alice Liddell")
    await alice.set_display_name(shown)
    await alice.set_avatar(_png(tmp_path), "image/png")
    for reader in (alice, bob):
        profile = await reader.profile(alice_id)
        assert profile.user_id == alice_id
        assert profile.display_name == shown, profile
        assert profile.avatar is not None, profile
        assert profile.avatar.url.startswith("mxc://") and not profile.avatar.encrypted, profile
    avatar = profile.avatar

    # In a room they share, alice's member carries her name and avatar, and the
    # directory finds her.
    room_id = await alice.create_room("dir", [bob_id], False)
    await bob.join_room(room_id)
    member = _member(await bob.members(room_id), alice_id)
    assert member is not None and member.display_name == shown, member
    assert member.avatar is not None and member.avatar.url == avatar.url, member

    async def found(term: str, limit: int) -> bool:
        return any(
            p.user_id == alice_id
            and p.display_name == shown
            and p.avatar is not None
            and p.avatar.url == avatar.url
            for p in await bob.search_users(term, limit)
        )

    await _eventually(lambda: found(shown, 10), "alice in bob's directory")
    assert await found(alice_user.username, 10), "not found by her user id"
    assert len(await bob.search_users("prof", 1)) <= 1, "the limit not kept"

    # The avatar removed.
    await alice.set_avatar(None, None)
    assert (await bob.profile(alice_id)).avatar is None

    # Bad input.
    with pytest.raises(CoreError.NotFound):
        await bob.profile(f"@{_fresh('nobody')}:{_server(alice_id)}")
    with pytest.raises(CoreError.InvalidArgument):
        await bob.profile("alice")
    with pytest.raises(CoreError.InvalidArgument):
        await alice.set_display_name("  ")
    for limit in (0, 101):
        with pytest.raises(CoreError.InvalidArgument):
            await bob.search_users("a", limit)
    with pytest.raises(CoreError.InvalidArgument):
        await alice.set_avatar(_text_file(tmp_path), None)
    assert (await bob.profile(alice_id)).display_name == shown, "a refused name changed nothing"
    await alice.logout(LogoutOptions(), None)
    with pytest.raises(CoreError.ClientClosed):
        await alice.profile(alice_id)
    await bob.logout(LogoutOptions(), None)


async def test_an_ignored_user_leaves_the_timeline_and_reports_reach_the_server(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice_user, bob_user, carol_user = register("ign-alice"), register("ign-bob"), register("ign-carol")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    carol = await _logged_in(clients, homeserver_url, carol_user, str(tmp_path / "carol"))
    alice_id, bob_id = alice_user.user_id, bob_user.user_id
    await alice.start_sync()
    room_id = await alice.create_room("ignore", [bob_id], False)
    await bob.join_room(room_id)
    event_id = await bob.send_text(room_id, "from bob")
    await alice.send_text(room_id, "from alice")
    timeline = await alice.timeline(room_id)
    items = TimelineMirror()
    subscription = timeline.observe(items)

    def bodies() -> List[Optional[str]]:
        return [body_of(item) for item in items.items]

    async def paged_back(present: str, absent: str) -> bool:
        """Pages back as an app does on an empty view (a timeline opened right
        after the messages were sent may start empty: see
        `test_a_timeline_opened_right_after_messages_were_sent_shows_them`)."""
        if present not in bodies():
            await timeline.paginate_backwards(20)
        return present in bodies() and absent not in bodies()

    await _eventually(lambda: paged_back("from bob", "never sent"), "bob's message")
    assert "from alice" in bodies(), bodies()

    # Reports: the server checks what it is told (an unknown event, an unknown
    # room are its 404s), and a room may be reported from outside.
    await alice.report_event(room_id, event_id, "spam")
    await alice.report_event(room_id, event_id, None)
    await alice.report_room(room_id, "a room of spam")
    await carol.report_room(room_id, "reported from outside")
    with pytest.raises(CoreError.NotFound):
        await alice.report_event(room_id, f"${secrets.token_hex(8)}", None)
    with pytest.raises(CoreError.NotFound):
        await carol.report_room(f"!{secrets.token_hex(8)}:{_server(alice_id)}", "nothing here")

    # Ignoring: bob's message leaves alice's open timeline. matrix-sdk empties the
    # timeline when the ignore list changes (alice's own message goes too); paging
    # back brings alice's message again, never bob's.
    assert await alice.ignored_users() == []
    await alice.ignore_user(bob_id)
    assert await alice.ignored_users() == [bob_id]

    await _eventually(lambda: paged_back("from alice", "from bob"), "bob's message gone, alice's back")
    recent = [(m.sender, m.body) for m in await alice.recent_messages(room_id, 20)]
    assert (alice_id, "from alice") in recent and all(sender != bob_id for sender, _ in recent), recent

    # Unignored, bob's message comes back with the history.
    await alice.unignore_user(bob_id)
    await alice.unignore_user(bob_id)  # not ignored: nothing
    assert await alice.ignored_users() == []
    await _eventually(lambda: paged_back("from bob", "never sent"), "bob's message back")

    # Bad input.
    with pytest.raises(CoreError.InvalidArgument):
        await alice.ignore_user(alice_id)
    with pytest.raises(CoreError.InvalidArgument):
        await alice.ignore_user("bob")
    with pytest.raises(CoreError.InvalidArgument):
        await alice.report_event(room_id, "not-an-event", None)
    with pytest.raises(CoreError.InvalidArgument):
        await alice.report_room(room_id, " ")
    with pytest.raises(CoreError.NotFound):
        await alice.report_event("!nowhere:example.org", "$e", None)
    items.check()
    subscription.cancel()
    del timeline
    await alice.logout(LogoutOptions(), None)
    with pytest.raises(CoreError.ClientClosed):
        await alice.ignored_users()
    await bob.logout(LogoutOptions(), None)
    await carol.logout(LogoutOptions(), None)


async def test_devices_are_listed_and_another_is_signed_out_only_with_the_password(
    homeserver_url, user, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice = await _logged_in(clients, homeserver_url, user, str(tmp_path / "alice"))
    phone = await _logged_in(clients, homeserver_url, user, str(tmp_path / "phone"), "phone")
    own = alice.session().device_id
    phone_session = phone.session()

    # Registration made a device too (conftest's `register` logs in).
    devices = await alice.devices()
    ids = {d.device_id for d in devices}
    assert {own, phone_session.device_id, user.device_id} <= ids, devices
    assert len(devices) == 3, devices
    current = [d for d in devices if d.is_current]
    assert [d.device_id for d in current] == [own], devices
    listed_phone = next(d for d in devices if d.device_id == phone_session.device_id)
    assert listed_phone.display_name == "phone" and not listed_phone.is_current, listed_phone
    assert not listed_phone.is_verified, listed_phone
    assert [d.device_id for d in await phone.devices() if d.is_current] == [phone_session.device_id]

    # This device is logout's; another needs the password, and it is checked.
    with pytest.raises(CoreError.InvalidArgument):
        await alice.delete_device(own, user.password)
    with pytest.raises(CoreError.Auth):
        await alice.delete_device(phone_session.device_id, None)
    with pytest.raises(CoreError.Auth):
        await alice.delete_device(phone_session.device_id, "wrong " + user.password)
    assert len(await alice.devices()) == 3, "nothing signed out yet"
    client_api(homeserver_url, "GET", "/_matrix/client/v3/account/whoami", phone_session.access_token)

    await alice.delete_device(phone_session.device_id, user.password)
    left = {d.device_id for d in await alice.devices()}
    assert left == {own, user.device_id}, left
    # The server no longer takes the phone's token.
    with pytest.raises(urllib.error.HTTPError) as refused:
        client_api(homeserver_url, "GET", "/_matrix/client/v3/account/whoami", phone_session.access_token)
    assert refused.value.code == 401, refused.value
    with pytest.raises(CoreError.InvalidArgument):
        await alice.delete_device(" ", None)
    report = await phone.close(None)  # its token is gone; the close is local
    assert report.store_files_open_after == 0, report
    await alice.logout(LogoutOptions(), None)
    with pytest.raises(CoreError.ClientClosed):
        await alice.devices()
