"""The chat surface against the test homeserver: a timeline (local echo, a reply, an
edit, a reaction, history), the room list (an invite, filters), typing, a file up and
down, an image with its info (size, BlurHash, encrypted thumbnail), and a logout with
all of it open.

Every list is kept in step the way an app's adapter would: a `Mirror` applies each
diff to a plain Python list. Listeners are called on the core's threads, so the
mirrors guard their state with a lock and the tests read snapshots; a diff the
mirror cannot apply (an index out of range) is recorded and fails the test, since
the core only logs an exception raised by a listener.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from pathlib import Path
from typing import Any, Callable, List, Optional

import pytest
from _mirrors import Mirror, RoomListMirror, TimelineMirror, body_of, by_body, by_id, is_remote
from _support import wait_no_live_clients, wait_until

from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    LogoutOptions,
    MediaKind,
    Membership,
    ProgressListener,
    RoomListFilter,
    RoomListListener,
    RoomListOptions,
    RoomSummary,
    TimelineItem,
    TimelineListener,
    TypingListener,
    UploadInfo,
)

class Typing(TypingListener):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: List[List[str]] = []
        self._closed = 0

    def on_typing(self, user_ids: List[str]) -> None:
        with self._lock:
            self._seen.append(list(user_ids))

    def on_closed(self) -> None:
        with self._lock:
            self._closed += 1

    @property
    def seen(self) -> List[List[str]]:
        with self._lock:
            return list(self._seen)

    @property
    def closed(self) -> int:
        with self._lock:
            return self._closed


class Progress(ProgressListener):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: List[tuple] = []

    def on_progress(self, sent: int, total: int) -> None:
        with self._lock:
            self._calls.append((sent, total))

    @property
    def calls(self) -> List[tuple]:
        with self._lock:
            return list(self._calls)


def _first_update(mirror: Mirror) -> Any:
    batches = mirror.batches
    assert batches and batches[0], "no update delivered"
    return batches[0][0]


async def _logged_in(clients: List[Client], homeserver_url: str, user, data_dir: str) -> Client:
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    clients.append(client)
    await client.login(user.username, user.password, None)
    return client


async def _known_room(client: Client, room_id: str, timeout: float = 20.0) -> RoomSummary:
    """Waits until sync has told `client` about `room_id`."""

    def summary() -> Optional[RoomSummary]:
        try:
            return client.room(room_id)
        except CoreError.NotFound:
            return None

    return await wait_until(summary, timeout, what=f"{room_id} known to the client")


# --- tests --------------------------------------------------------------------------


async def test_a_timeline_shows_local_echo_a_reply_an_edit_a_reaction_and_history(
    homeserver_url, user, data_dir, clients
):
    await wait_no_live_clients()
    alice = await _logged_in(clients, homeserver_url, user, data_dir)
    room_id = await alice.create_room("timeline", [], False)
    history = [f"history {i}" for i in range(25)]
    for body in history:
        await alice.send_text(room_id, body)
    await alice.start_sync()

    timeline = await alice.timeline(room_id)
    mirror = TimelineMirror()
    subscription = timeline.observe(mirror)
    await wait_until(lambda: mirror.batches, what="the timeline's first update")
    assert _first_update(mirror).is_reset(), _first_update(mirror)

    # Back to the start of the room: the whole history, oldest first.
    at_start = False
    for _ in range(20):
        if await timeline.paginate_backwards(20):
            at_start = True
            break
    assert at_start, "paginate_backwards never reached the start of the room"
    await wait_until(
        lambda: sum(1 for i in mirror.items if (body_of(i) or "").startswith("history ")) == 25,
        what="all 25 history messages",
    )
    items = mirror.items
    assert [b for b in map(body_of, items) if b is not None] == history
    # The TimelineStart item may come in a later update than the last page.
    await wait_until(
        lambda: any(i.kind.is_timeline_start() for i in mirror.items), 10, what="TimelineStart"
    )
    items = mirror.items
    starts = [n for n, i in enumerate(items) if i.kind.is_timeline_start()]
    first_history = items.index(by_body(items, "history 0"))
    assert len(starts) == 1 and starts[0] < first_history, [i.kind for i in items]

    # Local echo: there when send_text returns, Sending without an event id, then
    # Sent under the same item id.
    await timeline.send_text("hello", None)
    echo = await wait_until(lambda: by_body(mirror.items, "hello"), 5, what="the local echo")
    first_version = next(i for i in mirror.seen if body_of(i) == "hello")
    assert first_version.item_id == echo.item_id
    assert first_version.kind.event_id is None, first_version
    assert first_version.kind.send_state is not None and first_version.kind.send_state.is_sending()
    assert first_version.kind.is_own and first_version.kind.sender == user.user_id
    sent = await wait_until(
        lambda: (lambda i: i if is_remote(i) else None)(by_id(mirror.items, echo.item_id)),
        20,
        what="the echo sent, under the same item id",
    )
    assert body_of(sent) == "hello"
    hello_event = sent.kind.event_id
    if sent.kind.send_state is not None:
        assert sent.kind.send_state.event_id == hello_event
    assert sent.kind.in_reply_to is None

    # A reply names the event it answers.
    await timeline.send_text("a reply", hello_event)
    reply = await wait_until(
        lambda: (lambda i: i if is_remote(i) else None)(by_body(mirror.items, "a reply")),
        20,
        what="the reply sent",
    )
    assert reply.kind.in_reply_to == hello_event

    # An edit replaces the body in place.
    await timeline.edit(echo.item_id, "hello, edited")
    edited = await wait_until(
        lambda: (lambda i: i if i and body_of(i) == "hello, edited" else None)(
            by_id(mirror.items, echo.item_id)
        ),
        20,
        what="the edit",
    )
    assert edited.kind.edited is True
    assert by_body(mirror.items, "hello") is None
    assert by_body(mirror.items, "a reply").kind.edited is False

    # A reaction toggled on, then off.
    def reactions() -> list:
        item = by_id(mirror.items, echo.item_id)
        return [(r.key, r.count, r.by_me) for r in item.kind.reactions] if item else []

    assert reactions() == []
    await timeline.toggle_reaction(echo.item_id, "👍")
    await wait_until(lambda: reactions() == [("👍", 1, True)], 20, what="the reaction on")
    await timeline.toggle_reaction(echo.item_id, "👍")
    await wait_until(lambda: reactions() == [], 20, what="the reaction off")

    # Bad input is a typed error.
    with pytest.raises(CoreError.NotFound):
        await timeline.edit("no-such-item", "x")
    with pytest.raises(CoreError.InvalidArgument):
        await timeline.send_text("", None)
    with pytest.raises(CoreError.InvalidArgument):
        await timeline.paginate_backwards(0)

    mirror.check()
    report = await alice.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0, report
    subscription.cancel()


async def test_the_room_list_shows_an_invite_then_the_joined_room_and_follows_filters(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice_user, bob_user = register("alice"), register("bob")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    await bob.start_sync()
    tag = secrets.token_hex(4)
    own_room = await bob.create_room(f"elsewhere {tag}", [], False)

    mirror = RoomListMirror()
    handle = bob.observe_room_list(RoomListOptions(filter=RoomListFilter.ALL()), mirror)
    await wait_until(lambda: mirror.batches, what="the room list's first update")
    assert _first_update(mirror).is_reset(), _first_update(mirror)

    def rows(room_id: str) -> List[RoomSummary]:
        return [r for r in mirror.items if r.room_id == room_id]

    await wait_until(lambda: rows(own_room), 20, what="bob's own room in the list")

    # An invite shows as INVITED; join_room makes the same row JOINED.
    garden = f"garden {tag}"
    room_id = await alice.create_room(garden, [bob_user.user_id], False)
    await wait_until(
        lambda: [r.membership for r in rows(room_id)] == [Membership.INVITED],
        20,
        what="the invite in the list",
    )
    assert bob.room(room_id).membership == Membership.INVITED
    assert await bob.join_room(room_id) == room_id
    await wait_until(
        lambda: [r.membership for r in rows(room_id)] == [Membership.JOINED],
        20,
        what="the room joined in the list",
    )
    assert bob.room(room_id).name == garden

    # A new filter resets the list to the rooms it lets through.
    before = len(mirror.batches)
    handle.set_filter(RoomListFilter.NAME_MATCHES(f"GARDEN {tag}"))
    await wait_until(
        lambda: any(u.is_reset() for batch in mirror.batches[before:] for u in batch),
        10,
        what="a Reset after set_filter",
    )
    await wait_until(
        lambda: [r.room_id for r in mirror.items] == [room_id], 10, what="only the garden"
    )

    before = len(mirror.batches)
    handle.set_filter(RoomListFilter.FAVOURITES())
    await wait_until(
        lambda: any(u.is_reset() for batch in mirror.batches[before:] for u in batch),
        10,
        what="a Reset after the second set_filter",
    )
    await wait_until(lambda: mirror.items == [], 10, what="no favourites yet")
    await bob.set_favourite(own_room, True)
    await wait_until(
        lambda: [(r.room_id, r.is_favourite) for r in mirror.items] == [(own_room, True)],
        20,
        what="the favourite in the list",
    )

    with pytest.raises(CoreError.NotFound):
        bob.room("!unknown:localhost")
    with pytest.raises(CoreError.InvalidArgument):
        bob.observe_room_list(RoomListOptions(page_size=0, filter=RoomListFilter.ALL()), RoomListMirror())

    mirror.check()
    await alice.logout(LogoutOptions(), None)
    report = await bob.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0, report
    assert mirror.closed == 1
    handle.cancel()


async def test_typing_is_seen_by_the_other_user_and_a_file_comes_back_byte_for_byte(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice_user, bob_user = register("alice"), register("bob")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    room_id = await alice.create_room("files", [bob_user.user_id], True)
    await bob.start_sync()
    await _known_room(bob, room_id)
    await bob.join_room(room_id)
    await alice.start_sync()
    alice_timeline = await alice.timeline(room_id)
    bob_timeline = await bob.timeline(room_id)
    bob_items = TimelineMirror()
    subs = [bob_timeline.observe(bob_items)]
    typing = Typing()
    subs.append(bob_timeline.observe_typing(typing))

    # Typing: bob sees alice start, then stop.
    assert not any(alice_user.user_id in users for users in typing.seen)
    await alice_timeline.set_typing(True)
    await wait_until(
        lambda: any(alice_user.user_id in users for users in typing.seen), 20, what="alice typing"
    )
    await alice_timeline.set_typing(False)
    await wait_until(
        lambda: typing.seen and alice_user.user_id not in typing.seen[-1],
        20,
        what="alice no longer typing",
    )

    # A file: uploaded with progress, received encrypted, downloaded byte for byte.
    content = os.urandom(48 * 1024 + 7)
    path = tmp_path / "blob.bin"
    path.write_bytes(content)
    progress = Progress()
    await alice_timeline.send_file(str(path), "application/octet-stream", None, progress)

    def media() -> Any:
        for item in bob_items.items:
            if item.kind.is_event() and item.kind.content.is_media():
                return item.kind.content
        return None

    received = await wait_until(media, 30, what="the file in bob's timeline")
    assert received.kind == MediaKind.FILE
    assert received.mimetype == "application/octet-stream"
    assert received.size == len(content), "the size travels with the file"
    assert received.source.encrypted is True, "a file in an encrypted room is encrypted"
    calls = progress.calls
    assert calls and calls[-1][0] == calls[-1][1] > 0, calls

    dest = tmp_path / "downloaded.bin"
    size = await bob.download_media(received.source, str(dest))
    assert size == len(content)
    assert dest.read_bytes() == content

    bob_items.check()
    await alice.logout(LogoutOptions(), None)
    report = await bob.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0, report
    assert typing.closed == 1
    assert bob_items.closed == 1
    for sub in subs:
        sub.cancel()


def _png(width: int, height: int) -> bytes:
    """A real PNG of `width` x `height` (a gradient)."""
    import io

    from PIL import Image

    image = Image.new("RGB", (width, height))
    image.putdata([(x % 256, y % 256, 64) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


BLURHASH = "LEHV6nWB2yk8pyo0adR*.7kCMdnj"


async def test_an_image_sent_with_its_info_reaches_the_other_user_with_it(
    homeserver_url, register, tmp_path: Path, clients
):
    """`send_media` with dimensions, a BlurHash and a thumbnail in an encrypted room:
    bob is told all of it (`MessageContent.MEDIA.info`), the thumbnail encrypted, so
    the server has none of it to scale."""
    await wait_no_live_clients()
    alice_user, bob_user = register("alice"), register("bob")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    room_id = await alice.create_room("pictures", [bob_user.user_id], True)
    await bob.start_sync()
    await _known_room(bob, room_id)
    await bob.join_room(room_id)
    await alice.start_sync()
    alice_timeline = await alice.timeline(room_id)
    bob_timeline = await bob.timeline(room_id)
    bob_items = TimelineMirror()
    subscription = bob_timeline.observe(bob_items)

    image = tmp_path / "garden.png"
    image.write_bytes(_png(640, 480))
    thumbnail = tmp_path / "garden-small.png"
    small_bytes = _png(64, 48)
    thumbnail.write_bytes(small_bytes)
    info = UploadInfo(width=640, height=480, blurhash=BLURHASH, thumbnail_path=str(thumbnail))
    await alice_timeline.send_media(str(image), info, None)

    def media() -> Any:
        for item in bob_items.items:
            if item.kind.is_event() and item.kind.content.is_media():
                return item.kind.content
        return None

    received = await wait_until(media, 60, what="the image in bob's timeline")
    assert received.kind == MediaKind.IMAGE
    assert received.source.encrypted is True
    # What alice said of it, as bob is told.
    assert (received.info.width, received.info.height) == (640, 480)
    assert received.info.blurhash == BLURHASH
    assert received.info.duration_ms is None
    small = received.info.thumbnail
    assert small is not None, "the sender's thumbnail"
    assert small.encrypted is True, "an encrypted room's thumbnail is encrypted"
    small_dest = tmp_path / "received-small.png"
    assert await bob.download_media(small, str(small_dest)) == len(small_bytes)
    assert small_dest.read_bytes() == small_bytes
    # An encrypted file has no server thumbnail.
    with pytest.raises(CoreError.InvalidArgument):
        await bob.download_thumbnail(small, 32, 32, str(tmp_path / "server-small.png"))

    bob_items.check()
    subscription.cancel()
    await alice.logout(LogoutOptions(), None)
    report = await bob.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0, report


async def test_a_logout_with_a_timeline_and_a_room_list_open_ends_them_and_keeps_the_guarantees(
    homeserver_url, user, data_dir, clients
):
    await wait_no_live_clients()
    client = await _logged_in(clients, homeserver_url, user, data_dir)
    room_id = await client.create_room("open at logout", [], False)
    await client.start_sync()
    timeline = await client.timeline(room_id)
    items = TimelineMirror()
    subscription = timeline.observe(items)
    typing = Typing()
    typing_subscription = timeline.observe_typing(typing)
    rooms = RoomListMirror()
    handle = client.observe_room_list(RoomListOptions(filter=RoomListFilter.ALL()), rooms)
    await wait_until(lambda: items.batches, what="the timeline's first update")
    await wait_until(
        lambda: [r.room_id for r in rooms.items] == [room_id], 20, what="the room in the list"
    )
    await timeline.send_text("before the logout", None)
    await wait_until(
        lambda: is_remote(by_body(items.items, "before the logout")), 20, what="the message sent"
    )
    assert items.closed == 0 and rooms.closed == 0 and typing.closed == 0

    report = await client.logout(LogoutOptions(), None)
    assert report.server_logout.is_revoked()
    assert report.store_files_open_after == 0, report
    assert report.client_dropped is True, report
    assert report.tasks_left_behind == 0, report
    assert report.unsent_messages == 0, report

    # Each listener's end signal, once.
    await wait_until(
        lambda: items.closed and rooms.closed and typing.closed, 5, what="the end signals"
    )
    await asyncio.sleep(0.3)
    assert (items.closed, rooms.closed, typing.closed) == (1, 1, 1)
    items.check()
    rooms.check()

    # The timeline is closed for good.
    with pytest.raises(CoreError.ClientClosed):
        await timeline.paginate_backwards(10)
    with pytest.raises(CoreError.ClientClosed):
        await timeline.send_text("too late", None)
    with pytest.raises(CoreError.ClientClosed):
        timeline.observe(TimelineMirror())
    with pytest.raises(CoreError.ClientClosed):
        client.observe_room_list(RoomListOptions(filter=RoomListFilter.ALL()), RoomListMirror())
    subscription.cancel()
    typing_subscription.cancel()
    handle.cancel()
