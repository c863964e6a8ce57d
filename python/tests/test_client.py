"""A client's whole life against the test homeserver: create, login, sync, rooms,
messages between two users, logout (with its report and phases), close and restore.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from _support import Messages, Phases, SyncStates, wait_no_live_clients, wait_until

from matrix_mobile_core import (
    Client,
    ClientConfig,
    ClientState,
    CloseReport,
    LifecyclePhase,
    LogoutOptions,
    LogoutReport,
    RuntimeState,
    ServerLogout,
    Session,
    SyncState,
    runtime_stats,
)


def _config(homeserver_url: str, data_dir: str) -> ClientConfig:
    return ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir)


def _check_phases(phases: Phases, report) -> None:
    """StoppingSync first, Done last, elapsed times never going back; the report agrees."""
    seen = phases.phases
    assert seen, "the lifecycle listener got no phase"
    assert seen[0] == LifecyclePhase.STOPPING_SYNC
    assert seen[-1] == LifecyclePhase.DONE
    assert seen.count(LifecyclePhase.DONE) == 1
    assert phases.elapsed == sorted(phases.elapsed)
    assert [p.phase for p in report.phases] == seen
    assert report.total_ms >= phases.elapsed[-1] - 1


async def test_two_users_chat_then_log_out_with_a_full_report(
    homeserver_url, register, tmp_path: Path
):
    await wait_no_live_clients()
    alice, bob = register("alice"), register("bob")
    dir_a, dir_b = str(tmp_path / "alice"), str(tmp_path / "bob")

    # create: the folder is made when missing, the client starts without a session.
    a = await Client.create(_config(homeserver_url, dir_a))
    assert os.path.isdir(dir_a)
    assert a.state() == ClientState.CREATED
    assert a.session() is None and a.user_id() is None
    b = await Client.create(_config(homeserver_url, dir_b))
    assert runtime_stats().live_clients == 2

    session_a = await a.login(alice.username, alice.password, "pytest alice")
    assert isinstance(session_a, Session)
    assert session_a.user_id == alice.user_id
    assert session_a.device_id
    assert session_a.access_token and session_a.access_token != alice.access_token
    assert session_a.homeserver_url.rstrip("/") == homeserver_url
    assert a.state() == ClientState.LOGGED_IN
    assert a.user_id() == alice.user_id
    assert a.session() == session_a
    session_b = await b.login(bob.username, bob.password, None)
    assert session_b.user_id == bob.user_id
    assert session_b.device_id != session_a.device_id

    # sync: the listener gets the current state first, then RUNNING.
    assert a.sync_state() == SyncState.IDLE
    states = SyncStates()
    subscription = a.observe_sync_state(states)
    await wait_until(lambda: states.states, what="the current sync state")
    assert states.states[0] == SyncState.IDLE
    await a.start_sync()
    await wait_until(lambda: SyncState.RUNNING in states.states, what="sync RUNNING")
    assert a.sync_state() == SyncState.RUNNING
    await b.start_sync()
    await wait_until(lambda: b.sync_state() == SyncState.RUNNING, what="bob's sync RUNNING")

    # a room, joined by the second user.
    room_id = await a.create_room("pytest chat", [bob.user_id], False)
    assert room_id.startswith("!")
    # While sync runs, create_room returns once sync brought the room's state:
    # it reads with its name at once, not as "Empty Room".
    rooms_a = {r.room_id: r for r in a.rooms()}
    assert rooms_a[room_id].name == "pytest chat"
    assert await b.join_room(room_id) == room_id
    assert rooms_a[room_id].is_encrypted is False
    assert room_id in {r.room_id for r in b.rooms()}

    # a message from alice reaches bob's listener.
    inbox = Messages()
    messages_sub = b.observe_messages(inbox)
    first_id = await a.send_text(room_id, "first from alice")
    second_id = await a.send_text(room_id, "second from alice")
    assert first_id.startswith("$") and first_id != second_id
    got = await wait_until(lambda: inbox.by_event_id(second_id), what="bob receives the message")
    assert got.body == "second from alice"
    assert got.sender == alice.user_id
    assert got.room_id == room_id
    assert got.timestamp_ms > 0
    assert inbox.by_event_id(first_id) is not None

    # recent_messages: newest last.
    recent = await b.recent_messages(room_id, 10)
    assert [m.body for m in recent][-2:] == ["first from alice", "second from alice"]
    assert [m.event_id for m in recent][-2:] == [first_id, second_id]
    assert recent[-2].timestamp_ms <= recent[-1].timestamp_ms
    assert len(await b.recent_messages(room_id, 1)) == 1

    # alice logs out first, while bob lives on: no runtime restart.
    generation = runtime_stats().generation
    phases_a = Phases()
    report_a = await a.logout(LogoutOptions(), phases_a)
    assert isinstance(report_a, LogoutReport)
    assert isinstance(report_a.server_logout, ServerLogout.REVOKED)
    assert report_a.server_logout.is_revoked()
    assert report_a.store_files_open_after == 0
    assert report_a.data_wiped is True
    assert not os.path.exists(dir_a)
    assert report_a.runtime_restarted is False
    assert report_a.runtime_generation == generation
    if not report_a.client_dropped:
        assert report_a.tasks_left_behind > 0, "client not dropped, yet no task said to hold it"
    assert a.state() == ClientState.CLOSED
    assert a.session() is None
    _check_phases(phases_a, report_a)
    assert LifecyclePhase.SERVER_LOGOUT in phases_a.phases
    assert runtime_stats().live_clients == 1
    # bob is untouched.
    assert b.state() == ClientState.LOGGED_IN
    assert b.sync_state() == SyncState.RUNNING
    assert len(await b.recent_messages(room_id, 5)) >= 2

    # bob, the last live client: the runtime restarts and the client is dropped.
    phases_b = Phases()
    report_b = await b.logout(LogoutOptions(), phases_b)
    assert report_b.server_logout.is_revoked()
    assert report_b.store_files_open_after == 0
    assert report_b.data_wiped is True
    assert not os.path.exists(dir_b)
    assert report_b.runtime_restarted is True
    assert report_b.client_dropped is True
    assert report_b.tasks_left_behind == 0
    assert report_b.runtime_generation > generation
    _check_phases(phases_b, report_b)
    assert LifecyclePhase.RESTARTING_RUNTIME in phases_b.phases
    stats = runtime_stats()
    assert stats.live_clients == 0
    assert stats.state in (RuntimeState.RUNNING, RuntimeState.NOT_STARTED, RuntimeState.SHUT_DOWN)
    assert not any(name.startswith("client") for name in stats.supervised_tasks)
    subscription.cancel()
    messages_sub.cancel()


async def test_close_keeps_the_session_and_restore_on_the_same_folder_sees_the_room(
    homeserver_url, user, data_dir
):
    await wait_no_live_clients()
    first = await Client.create(_config(homeserver_url, data_dir))
    session = await first.login(user.username, user.password, "pytest close")
    room_id = await first.create_room("kept room", [], False)
    await first.send_text(room_id, "before close")
    phases = Phases()
    report = await first.close(phases)
    assert isinstance(report, CloseReport)
    assert isinstance(report.server_logout, ServerLogout.SKIPPED)
    assert report.data_wiped is False
    assert report.store_files_open_after == 0
    assert report.runtime_restarted is True
    assert report.client_dropped is True
    assert os.listdir(data_dir), "close must keep the stores"
    assert first.state() == ClientState.CLOSED
    _check_phases(phases, report)
    assert LifecyclePhase.SERVER_LOGOUT not in phases.phases
    assert LifecyclePhase.WIPING_DATA not in phases.phases

    second = await Client.create(_config(homeserver_url, data_dir))
    await second.restore(session)
    assert second.state() == ClientState.LOGGED_IN
    assert second.user_id() == user.user_id
    assert second.session().device_id == session.device_id
    assert room_id in {r.room_id for r in second.rooms()}
    # The token still works on the server: the close did not revoke it.
    recent = await second.recent_messages(room_id, 5)
    assert recent[-1].body == "before close"
    report = await second.logout(LogoutOptions(), None)
    assert report.server_logout.is_revoked()
    assert not os.path.exists(data_dir)


async def test_logout_without_wiping_keeps_the_folder_and_releases_its_files(
    homeserver_url, user, data_dir
):
    await wait_no_live_clients()
    client = await Client.create(_config(homeserver_url, data_dir))
    await client.login(user.username, user.password, None)
    report = await client.logout(LogoutOptions(wipe_local_data=False), None)
    assert report.server_logout.is_revoked()
    assert report.data_wiped is False
    assert os.path.isdir(data_dir)
    assert report.store_files_open_after == 0
    assert LifecyclePhase.WIPING_DATA not in [p.phase for p in report.phases]


async def _until_running(client: Client, timeout: float = 15.0) -> None:
    """Iterates the client's sync states until RUNNING (the stream is left, and
    so cancelled, there); fails at the deadline or if the stream ends first."""

    async def running() -> None:
        async for state in client.sync_states():
            if state == SyncState.RUNNING:
                return
        raise AssertionError("the sync states ended before RUNNING")

    await asyncio.wait_for(running(), timeout)


async def test_pause_and_resume_keep_the_client_working(homeserver_url, user, data_dir):
    await wait_no_live_clients()
    client = await Client.create(_config(homeserver_url, data_dir))
    await client.login(user.username, user.password, None)
    await client.start_sync()
    await _until_running(client)
    room_id = await client.create_room("paused", [], False)
    await client.pause()
    assert client.sync_state() != SyncState.RUNNING
    await client.resume()
    await _until_running(client)
    await client.send_text(room_id, "after resume")
    assert (await client.recent_messages(room_id, 1))[0].body == "after resume"
    report = await client.logout(LogoutOptions(), None)
    assert report.server_logout.is_revoked()


async def test_sync_state_is_no_longer_running_once_stop_sync_returns(
    homeserver_url, user, data_dir
):
    await wait_no_live_clients()
    client = await Client.create(_config(homeserver_url, data_dir))
    await client.login(user.username, user.password, None)
    seen_after_stop = []
    try:
        for cycle in range(20):
            await asyncio.wait_for(client.start_sync(), 20)
            await wait_until(lambda: client.sync_state() == SyncState.RUNNING, what="RUNNING")
            stop = asyncio.ensure_future(client.stop_sync())
            done, _ = await asyncio.wait({stop}, timeout=10)
            if not done:
                stuck = runtime_stats().supervised_tasks
                stop.cancel()
                raise AssertionError(
                    f"stop_sync did not return within 10 s (cycle {cycle}); "
                    f"supervised tasks: {stuck}"
                )
            stop.result()
            seen_after_stop.append(client.sync_state())
    finally:
        report = await client.logout(LogoutOptions(), None)
    assert SyncState.RUNNING not in seen_after_stop, seen_after_stop
    assert report.server_logout.is_revoked()
