"""Notification settings against the test homeserver and the test's own push gateway:
a muted room's message is never pushed while another room's later one is, a keyword
notifies in a room set to mentions and keywords, a reset room is pushed again; the
keywords listed, added and removed; the account's defaults; a room's summary
(`room()`, `observe_room`) showing its own mode as soon as the call returns; bad
input typed.

The Python twin of `core/tests/push/settings.rs`.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import List, Optional

import pytest
from _support import client_api, room_of_two, wait_no_live_clients, wait_until

from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    LogoutOptions,
    PusherConfig,
    RoomListener,
    RoomNotificationMode as Mode,
    RoomSummary,
)


async def _logged_in(clients: List[Client], homeserver_url: str, user, data_dir: str) -> Client:
    Path(data_dir).mkdir(exist_ok=True)
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    clients.append(client)
    await client.login(user.username, user.password, None)
    return client


class Modes(RoomListener):
    """Records the `notification_mode` of every summary it is given."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._modes: List[Optional[Mode]] = []

    def on_update(self, summary: RoomSummary) -> None:
        with self._lock:
            self._modes.append(summary.notification_mode)

    def on_closed(self) -> None:
        pass

    @property
    def modes(self) -> List[Optional[Mode]]:
        with self._lock:
            return list(self._modes)


async def _pushed(gateway, event_id: str, timeout: float = 30.0) -> dict:
    """The push of `event_id`, waited for off the event loop."""
    return await asyncio.to_thread(
        gateway.wait_for, lambda n: n.get("event_id") == event_id, timeout
    )


def _ever_pushed(gateway, event_id: str) -> bool:
    return any(n.get("event_id") == event_id for n in gateway.notifications())


def _server_keywords(client: Client, homeserver_url: str) -> List[str]:
    """The account's keyword rules as the server holds them."""
    token = client.session().access_token
    rules = client_api(homeserver_url, "GET", "/_matrix/client/v3/pushrules/", token)
    content = rules["global"].get("content", [])
    return sorted(r["pattern"] for r in content if not r.get("default") and r.get("enabled"))


async def _keywords_are(client: Client, expected: List[str], homeserver_url: str) -> None:
    """`notification_keywords()` is `expected` at once; otherwise fails with the
    server's list and what the core reads a few seconds later."""
    read = await client.notification_keywords()
    if read == expected:
        return
    server = _server_keywords(client, homeserver_url)
    later = read
    for _ in range(50):
        await asyncio.sleep(0.2)
        later = await client.notification_keywords()
        if later == expected:
            break
    raise AssertionError(
        f"notification_keywords() read {read}, not {expected}; the server holds {server};"
        f" the core reads {later} up to 10 s later"
    )


async def test_a_muted_room_sends_no_push_while_another_room_does_and_a_keyword_notifies(
    homeserver_url, register, tmp_path: Path, clients, push_gateway
):
    await wait_no_live_clients()
    alice_user, bob_user = register("mute-alice"), register("mute-bob")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    await alice.set_pusher(
        PusherConfig(
            app_id="org.example.mmc.py", pushkey="py-mute", gateway_url=push_gateway.url,
            device_name="py device", lang="en",
        )  # fmt: skip
    )
    await alice.start_sync()
    await bob.start_sync()
    loud = await room_of_two(alice, bob, "loud", encrypted=False)
    quiet = await room_of_two(alice, bob, "quiet", encrypted=False)

    # Both rooms push before anything is muted.
    first = await bob.send_text(quiet, "before the mute")
    await _pushed(push_gateway, first)

    await alice.set_room_notification_mode(quiet, Mode.MUTE)
    assert alice.room(quiet).notification_mode == Mode.MUTE
    assert alice.room(loud).notification_mode is None

    # The muted room's message is never pushed; the loud room's, sent after it, is.
    hushed = await bob.send_text(quiet, "shh")
    heard = await bob.send_text(loud, "hello")
    pushed = await _pushed(push_gateway, heard)
    assert pushed["room_id"] == loud
    assert not _ever_pushed(push_gateway, hushed), "the muted room's message was pushed"

    # Mentions and keywords: a keyword notifies, a plain message does not.
    await alice.add_notification_keyword("pineapple")
    await alice.set_room_notification_mode(quiet, Mode.MENTIONS_AND_KEYWORDS_ONLY)
    assert alice.room(quiet).notification_mode == Mode.MENTIONS_AND_KEYWORDS_ONLY
    plain = await bob.send_text(quiet, "nothing here")
    keyword = await bob.send_text(quiet, "a pineapple!")
    await _pushed(push_gateway, keyword)
    assert not _ever_pushed(push_gateway, plain), "a plain message was pushed"
    assert not _ever_pushed(push_gateway, hushed), "the muted room's message was pushed late"

    # Back to the default: pushed again.
    await alice.reset_room_notification_mode(quiet)
    assert alice.room(quiet).notification_mode is None
    again = await bob.send_text(quiet, "back")
    await _pushed(push_gateway, again)

    await alice.remove_pusher("py-mute")
    await alice.logout(LogoutOptions(), None)
    await bob.logout(LogoutOptions(), None)


async def test_defaults_and_a_rooms_own_mode_read_back(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice_user, bob_user = register("nset-alice"), register("nset-bob")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    await alice.start_sync()
    await bob.start_sync()
    room_id = await room_of_two(alice, bob, "modes", encrypted=False)

    # The defaults, "direct" as the server's push rules count it: a room of two
    # people (marked direct or not) follows the direct default, a room of one
    # the groups' default.
    solo = await alice.create_room("solo", [], False)
    assert await alice.default_notification_mode(False) == Mode.ALL_MESSAGES
    assert await alice.default_notification_mode(True) == Mode.ALL_MESSAGES
    await alice.set_default_notification_mode(False, Mode.MENTIONS_AND_KEYWORDS_ONLY)
    assert await alice.default_notification_mode(False) == Mode.MENTIONS_AND_KEYWORDS_ONLY
    assert await alice.default_notification_mode(True) == Mode.ALL_MESSAGES
    # A room without a mode of its own follows its default; its summary says None.
    assert await alice.room_notification_mode(solo) == Mode.MENTIONS_AND_KEYWORDS_ONLY
    assert await alice.room_notification_mode(room_id) == Mode.ALL_MESSAGES
    assert alice.room(solo).notification_mode is None
    await alice.set_default_notification_mode(True, Mode.MENTIONS_AND_KEYWORDS_ONLY)
    assert await alice.default_notification_mode(True) == Mode.MENTIONS_AND_KEYWORDS_ONLY
    assert await alice.room_notification_mode(room_id) == Mode.MENTIONS_AND_KEYWORDS_ONLY
    assert alice.room(room_id).notification_mode is None
    for is_direct in (False, True):
        await alice.set_default_notification_mode(is_direct, Mode.ALL_MESSAGES)
        assert await alice.default_notification_mode(is_direct) == Mode.ALL_MESSAGES
    assert await alice.room_notification_mode(solo) == Mode.ALL_MESSAGES
    assert await alice.room_notification_mode(room_id) == Mode.ALL_MESSAGES

    # A room's own mode: in room() when the call returns, then heard by observe_room.
    modes = Modes()
    subscription = alice.observe_room(room_id, modes)
    await wait_until(lambda: modes.modes, 10, what="the current summary")
    assert modes.modes[0] is None, modes.modes
    await alice.set_room_notification_mode(room_id, Mode.MUTE)
    assert alice.room(room_id).notification_mode == Mode.MUTE
    assert await alice.room_notification_mode(room_id) == Mode.MUTE
    await wait_until(lambda: modes.modes[-1] == Mode.MUTE, 10, what="observe_room hears MUTE")
    await alice.set_room_notification_mode(room_id, Mode.MENTIONS_AND_KEYWORDS_ONLY)
    assert alice.room(room_id).notification_mode == Mode.MENTIONS_AND_KEYWORDS_ONLY
    await alice.reset_room_notification_mode(room_id)
    assert alice.room(room_id).notification_mode is None
    assert await alice.room_notification_mode(room_id) == Mode.ALL_MESSAGES
    await wait_until(lambda: modes.modes[-1] is None, 10, what="observe_room hears the reset")
    # The mode stays put: sync does not bring an older one back.
    await asyncio.sleep(1)
    assert alice.room(room_id).notification_mode is None
    assert modes.modes[-1] is None, modes.modes
    # Bob's own view of the room is his: untouched by alice's settings.
    assert bob.room(room_id).notification_mode is None

    # Bad input.
    with pytest.raises(CoreError.InvalidArgument):
        await alice.set_default_notification_mode(True, Mode.MUTE)
    with pytest.raises(CoreError.InvalidArgument):
        await alice.set_default_notification_mode(False, Mode.MUTE)
    assert await alice.default_notification_mode(True) == Mode.ALL_MESSAGES
    with pytest.raises(CoreError.NotFound):
        await alice.set_room_notification_mode("!nowhere:example.org", Mode.MUTE)
    with pytest.raises(CoreError.InvalidArgument):
        await alice.room_notification_mode("nonsense")

    subscription.cancel()
    await bob.logout(LogoutOptions(), None)
    # The settings hold the matrix client: the drain still drops it (the last
    # client's: matrix-sdk's own tasks hold one while others live).
    report = await alice.logout(LogoutOptions(), None)
    assert report.client_dropped is True, report
    assert report.store_files_open_after == 0, report
    with pytest.raises(CoreError.ClientClosed):
        await alice.notification_keywords()
    with pytest.raises(CoreError.ClientClosed):
        await alice.set_room_notification_mode(room_id, Mode.MUTE)


async def test_keywords_read_back_right_after_each_change(
    homeserver_url, user, data_dir, clients
):
    """Read-your-writes: each `notification_keywords()` right after the change
    that returned, while sync runs (a settings screen re-reads at once)."""
    await wait_no_live_clients()
    alice = await _logged_in(clients, homeserver_url, user, data_dir)
    await alice.start_sync()
    # Keywords: sorted, each once, removed (twice is nothing); each read right
    # after the change that returned.
    await _keywords_are(alice, [], homeserver_url)
    await alice.add_notification_keyword("pineapple")
    await alice.add_notification_keyword("banana")
    await alice.add_notification_keyword("pineapple")
    await _keywords_are(alice, ["banana", "pineapple"], homeserver_url)
    await alice.remove_notification_keyword("pineapple")
    await alice.remove_notification_keyword("pineapple")
    await _keywords_are(alice, ["banana"], homeserver_url)
    await alice.remove_notification_keyword("banana")
    await _keywords_are(alice, [], homeserver_url)

    with pytest.raises(CoreError.InvalidArgument):
        await alice.add_notification_keyword("  ")
    assert await alice.notification_keywords() == []
    await alice.logout(LogoutOptions(), None)
