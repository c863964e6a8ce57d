"""`notification_fetcher` against the Synapse whose access tokens expire every few
seconds: the app (its session kept in a file, as a keychain item shared with its
extension) pauses; once its token has expired, a child interpreter's fetcher
reads two encrypted pushes on one runtime generation, refreshing through the
file on the way, and leaves nothing open; the app takes up the session the
fetcher saved and syncs. In-process: bad input is a typed error.
"""

from __future__ import annotations

import asyncio

import pytest
from _stores import FileStore
from _support import room_of_two, run_child
from conftest import REFRESH_TOKEN_LIFETIME_S, register_on

from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    LogoutOptions,
    SessionStore,
    SyncState,
    notification_fetcher,
)


async def _received(client: Client, room_id: str, body: str) -> None:
    async def has() -> bool:
        return any(m.body == body for m in await client.recent_messages(room_id, 20))

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while not await has():
        assert loop.time() < deadline, f"{body!r} not received"
        await asyncio.sleep(0.05)


async def test_a_child_fetcher_refreshes_through_the_store_and_the_app_takes_it_up(
    refresh_homeserver_url, tmp_path
):
    url = refresh_homeserver_url
    (tmp_path / "alice").mkdir()
    (tmp_path / "bob").mkdir()
    alice_config = ClientConfig(homeserver_url=url, data_dir=str(tmp_path / "alice"))
    store = FileStore(tmp_path / "alice.session")
    alice = await Client.create(alice_config)
    alice.set_session_store(store)
    alice_user, bob_user = register_on(url, "pyfa"), register_on(url, "pyfb")
    store.save(await alice.login(alice_user.username, alice_user.password, None))
    bob = await Client.create(ClientConfig(homeserver_url=url, data_dir=str(tmp_path / "bob")))
    await bob.login(bob_user.username, bob_user.password, None)
    for client in (alice, bob):
        await client.start_sync()
    room = await room_of_two(alice, bob, "fetched")

    await alice.pause()
    paused_with = store.load()
    await asyncio.sleep(REFRESH_TOKEN_LIFETIME_S + 1)
    events = [await bob.send_text(room, f"later {i}") for i in range(2)]
    run = run_child(
        "read_with_a_fetcher",
        {
            "homeserver_url": url,
            "data_dir": str(tmp_path / "alice"),
            "store": str(store.path),
            "room_id": room,
            "event_ids": events,
        },
    )
    assert run.returncode == 0, run
    (answer,) = run.results
    assert answer["bodies"] == ["later 0", "later 1"], answer
    first = answer["generations"][0]
    assert answer["generations"] == [first, first], "one client for both pushes"
    for key, value in {
        "client_dropped": True,
        "store_files_open_after": 0,
        "tasks_left_behind": 0,
        "files_open": 0,
        "alive_tasks": 0,
        "live_clients": 0,
    }.items():
        assert answer[key] == value, (key, answer)
    saved = store.load()
    assert saved.access_token != paused_with.access_token, "the fetcher refreshed"
    assert saved.refresh_token != paused_with.refresh_token, "and saved what it got"

    # The fetcher spent the app's refresh token: the app takes up the store's.
    await alice.resume()
    await alice.close(None)
    alice = await Client.create(alice_config)
    alice.set_session_store(store)
    await alice.restore(store.load())
    await alice.start_sync()
    await _received(alice, room, "later 1")
    await bob.send_text(room, "still here")
    await _received(alice, room, "still here")
    assert alice.sync_state() != SyncState.ERROR
    for client in (alice, bob):
        report = await client.logout(LogoutOptions(), None)
        assert report.store_files_open_after == 0, report


class _Raising(SessionStore):
    def save(self, session) -> None:
        raise OSError("locked")

    def load(self):
        raise OSError("locked")


async def test_bad_input_to_a_fetcher_is_a_typed_error(homeserver_url, tmp_path):
    config = ClientConfig(homeserver_url=homeserver_url, data_dir=str(tmp_path))
    with pytest.raises(CoreError.InvalidState):
        await notification_fetcher(config, FileStore(tmp_path / "none.session"))
    with pytest.raises(CoreError.Storage):
        await notification_fetcher(config, _Raising())
    bad = ClientConfig(homeserver_url="ftp://nowhere", data_dir=str(tmp_path))
    with pytest.raises(CoreError.InvalidArgument):
        await notification_fetcher(bad, FileStore(tmp_path / "none.session"))
