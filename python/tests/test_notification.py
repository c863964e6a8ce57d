"""`get_notification` against the test homeserver: in a child interpreter (as a
push handler runs, in another process) on the stores of a client that keeps
syncing an encrypted room in this one, the message decrypts, the child is left
with no store file open and no task, and the syncing client stays healthy;
in-process, bad ids are `InvalidArgument` and on a data_dir that a live client
of this process uses, that client answers.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from _support import room_of_two, run_child, wait_until

from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    LogoutOptions,
    Session,
    SyncState,
    get_notification,
)

import pytest

#: How many times the child runs on the syncing client's stores.
CHILD_RUNS = 3


async def _synced(url: str, dir: Path, user, shared=None) -> Client:
    dir.mkdir()
    client = await Client.create(
        ClientConfig(homeserver_url=url, data_dir=str(dir), shared_with_other_processes=shared)
    )
    await client.login(user.username, user.password, None)
    await client.start_sync()
    await wait_until(lambda: client.sync_state() == SyncState.RUNNING, timeout=30, what="sync")
    return client


async def _has(client: Client, room_id: str, body: str) -> bool:
    return any(m.body == body for m in await client.recent_messages(room_id, 20))


async def _received(client: Client, room_id: str, body: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await _has(client, room_id, body):
        if time.monotonic() >= deadline:
            raise AssertionError(f"{body!r} not received within {timeout} s")
        await asyncio.sleep(0.02)


async def test_a_child_process_decrypts_a_notification_while_the_app_syncs(
    homeserver_url, tmp_path, register
):
    alice_user, bob_user = register("nse-a"), register("nse-b")
    alice = await _synced(homeserver_url, tmp_path / "alice", alice_user)
    bob = await _synced(homeserver_url, tmp_path / "bob", bob_user)
    room = await room_of_two(alice, bob, "notified")
    session = alice.session()

    for i in range(CHILD_RUNS):
        body = f"for your eyes only {i}"
        event_id = await bob.send_text(room, body)
        await _received(alice, room, body)
        run = run_child(
            "fetch_a_notification",
            {
                "homeserver_url": homeserver_url,
                "data_dir": str(tmp_path / "alice"),
                "user_id": session.user_id,
                "device_id": session.device_id,
                "access_token": session.access_token,
                "room_id": room,
                "event_id": event_id,
            },
        )
        assert run.returncode == 0, run
        (answer,) = run.results
        assert answer["body"] == body, answer
        assert answer["sender"] == bob.user_id(), answer
        assert answer["is_encrypted"] is True, answer
        assert answer["room_id"] == room, answer
        assert answer["files_open"] == 0, answer
        assert answer["supervised_tasks"] == [], answer
        assert answer["alive_tasks"] == 0, answer
        assert answer["live_clients"] == 0, answer
        assert alice.sync_state() == SyncState.RUNNING

    # The app kept working through it, both ways.
    await alice.send_text(room, "still here")
    await _received(bob, room, "still here")
    await bob.send_text(room, "and after")
    await _received(alice, room, "and after")

    # In this process the directory belongs to alice's live client: it answers
    # (as for an Android push handler, which runs in the app's process).
    item = await get_notification(
        ClientConfig(homeserver_url=homeserver_url, data_dir=str(tmp_path / "alice")),
        session,
        room,
        event_id,
    )
    assert item is not None and item.body == body and item.is_encrypted, item
    assert item.event_id == event_id and item.kind.is_message(), item
    assert not item.is_dm and not item.has_mention, item

    # Paused (the app in the background, its stores closed), the push still
    # shows, and alice is left paused with no store file open.
    await alice.pause()
    item = await get_notification(
        ClientConfig(homeserver_url=homeserver_url, data_dir=str(tmp_path / "alice")),
        session,
        room,
        event_id,
    )
    assert item is not None and item.body == body, item
    with pytest.raises(CoreError.InvalidState):
        await alice.recent_messages(room, 5)
    await alice.resume()

    report = await alice.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0, report
    report = await bob.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0, report


@pytest.mark.parametrize(
    "room_id, event_id",
    [("", "$e:localhost"), ("not a room", "$e:localhost"), ("!r:localhost", "no dollar")],
)
async def test_bad_ids_are_invalid_argument(homeserver_url, data_dir, room_id, event_id):
    session = Session(
        user_id="@someone:localhost",
        device_id="DEVICE",
        access_token="token",
        refresh_token=None,
        homeserver_url=homeserver_url,
    )
    config = ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir)
    with pytest.raises(CoreError.InvalidArgument):
        await get_notification(config, session, room_id, event_id)


async def test_a_client_that_shares_its_stores_with_no_process_keeps_a_child_out_until_paused(
    homeserver_url, tmp_path, register
):
    """`shared_with_other_processes=False` (Android's default): the client answers
    a push in its own process; a child process is refused (`InvalidState`) while
    the client has its stores open, and reads once it is paused."""
    alice_user, bob_user = register("alone-a"), register("alone-b")
    alice_config = ClientConfig(
        homeserver_url=homeserver_url,
        data_dir=str(tmp_path / "alice"),
        shared_with_other_processes=False,
    )
    alice = await _synced(homeserver_url, tmp_path / "alice", alice_user, shared=False)
    bob = await _synced(homeserver_url, tmp_path / "bob", bob_user)
    room = await room_of_two(alice, bob, "alone")
    event_id = await bob.send_text(room, "just us")
    await _received(alice, room, "just us")
    session = alice.session()

    item = await get_notification(alice_config, session, room, event_id)
    assert item is not None and item.body == "just us" and item.is_encrypted, item
    args = {
        "homeserver_url": homeserver_url,
        "data_dir": str(tmp_path / "alice"),
        "user_id": session.user_id,
        "device_id": session.device_id,
        "access_token": session.access_token,
        "room_id": room,
        "event_id": event_id,
    }
    kept_out = run_child("fetch_a_notification", args)
    assert kept_out.returncode != 0 and "InvalidState" in kept_out.stderr, kept_out

    await alice.pause()
    run = run_child("fetch_a_notification", args)
    assert run.returncode == 0, run
    (answer,) = run.results
    assert answer["body"] == "just us" and answer["files_open"] == 0, answer
    await alice.resume()
    for client in (alice, bob):
        report = await client.logout(LogoutOptions(), None)
        assert report.store_files_open_after == 0, report
