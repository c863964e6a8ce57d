"""Cancelling an awaited call ends its task in the core; releasing a Client during a
call is safe; after hundreds of such releases, shutdown still leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path

import pytest
from _support import Blackhole, wait_no_live_clients, wait_until

from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    RuntimeState,
    Session,
    ShutdownOptions,
    runtime_stats,
    shutdown,
)

# Releases in the many-releases test (`MMC_RELEASE_ITERATIONS` overrides it).
# The regression it guards against, a call that resolves its client inside a
# spawned task, loses the race on about half of the releases; 300 of them, in
# five kinds of call, miss it with a chance of about 2^-60 per kind.
RELEASES = int(os.environ.get("MMC_RELEASE_ITERATIONS", "300"))
BATCH = 10


def _call_tasks(name: str) -> list:
    return [t for t in runtime_stats().supervised_tasks if t.endswith(f"::{name}")]


async def _settled_alive_tasks() -> int:
    """The task count once it stopped moving (background tasks of a new client settle)."""
    previous = -1
    for _ in range(50):
        current = runtime_stats().alive_tasks
        if current == previous:
            return current
        previous = current
        await asyncio.sleep(0.05)
    return previous


async def _blackholed_client(server: Blackhole, data_dir: str) -> Client:
    return await Client.create(
        ClientConfig(homeserver_url=server.url, data_dir=data_dir, request_timeout_ms=60_000)
    )


async def _restore_fake_session(client: Client, server: Blackhole) -> None:
    """A restored session needs no request; room calls then hang on the server."""
    await client.restore(
        Session(
            user_id="@someone:localhost",
            device_id="PYTESTDEVICE",
            access_token="not-a-real-token",
            refresh_token=None,
            homeserver_url=server.url,
        )
    )


async def test_cancelling_a_login_against_a_silent_server_ends_its_task(data_dir):
    await wait_no_live_clients()
    with Blackhole() as server:
        client = await _blackholed_client(server, data_dir)
        try:
            baseline = await _settled_alive_tasks()
            task = asyncio.ensure_future(client.login("someone", "password", None))
            await wait_until(lambda: _call_tasks("login"), what="the login call task")
            await wait_until(lambda: server.connections > 0, what="login reaches the server")
            assert not task.done()

            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await wait_until(lambda: not _call_tasks("login"), what="no login task left")
            await wait_until(
                lambda: runtime_stats().alive_tasks <= baseline,
                what=f"alive_tasks back to {baseline}",
            )
        finally:
            await client.close(None)


async def test_a_wait_for_timeout_on_a_hanging_call_ends_its_task(data_dir):
    await wait_no_live_clients()
    with Blackhole() as server:
        client = await _blackholed_client(server, data_dir)
        try:
            await _restore_fake_session(client, server)
            baseline = await _settled_alive_tasks()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.create_room("never", [], False), timeout=0.5)
            await wait_until(lambda: not _call_tasks("create_room"), what="no create_room task")
            await wait_until(
                lambda: runtime_stats().alive_tasks <= baseline,
                what=f"alive_tasks back to {baseline}",
            )
            # The client still answers after the cancelled call.
            assert client.user_id() == "@someone:localhost"
        finally:
            await client.close(None)


async def test_cancelling_many_concurrent_calls_leaves_no_call_task(data_dir):
    await wait_no_live_clients()
    with Blackhole() as server:
        client = await _blackholed_client(server, data_dir)
        try:
            await _restore_fake_session(client, server)
            baseline = await _settled_alive_tasks()
            tasks = [
                asyncio.ensure_future(client.create_room(f"room{i}", [], False))
                for i in range(20)
            ]
            await wait_until(
                lambda: len(_call_tasks("create_room")) == 20, what="20 create_room tasks"
            )
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(isinstance(r, asyncio.CancelledError) for r in results), results
            await wait_until(lambda: not _call_tasks("create_room"), what="no call task left")
            await wait_until(
                lambda: runtime_stats().alive_tasks <= baseline,
                what=f"alive_tasks back to {baseline}",
            )
        finally:
            await client.close(None)


async def test_a_second_login_while_one_runs_is_busy(data_dir):
    await wait_no_live_clients()
    with Blackhole() as server:
        client = await _blackholed_client(server, data_dir)
        try:
            first = asyncio.ensure_future(client.login("someone", "password", None))
            await wait_until(lambda: _call_tasks("login"), what="the first login's task")
            with pytest.raises(CoreError.Busy):
                await client.login("someone", "password", None)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
        finally:
            await client.close(None)


async def _release_during_call(server_url: str, data_dir: str, i: int) -> str:
    """Creates a client, starts a call, drops the only reference, awaits the call."""
    client = await Client.create(ClientConfig(homeserver_url=server_url, data_dir=data_dir))
    kind = i % 5
    if kind == 0:
        call = client.start_sync()
    elif kind == 1:
        call = client.recent_messages("!room:localhost", 10)
    elif kind == 2:
        call = client.stop_sync()
    elif kind == 3:
        call = client.close(None)
    else:
        call = client.pause()
    task = asyncio.ensure_future(call)
    del client, call
    try:
        await task
    except CoreError as error:
        return type(error).__name__
    return "ok"


async def test_releasing_clients_during_calls_hundreds_of_times_then_shutdown(
    homeserver_url, tmp_path: Path
):
    await wait_no_live_clients()
    outcomes: dict = {}
    for start in range(0, RELEASES, BATCH):
        results = await asyncio.gather(
            *(
                _release_during_call(homeserver_url, str(tmp_path / f"c{i}"), i)
                for i in range(start, start + BATCH)
            ),
            return_exceptions=True,
        )
        for result in results:
            # Only a clean CoreError or a result: anything else is a failure.
            assert isinstance(result, str), repr(result)
            outcomes[result] = outcomes.get(result, 0) + 1
    assert sum(outcomes.values()) == RELEASES
    # Not logged in: sync and room calls are refused with InvalidState; close,
    # stop_sync and pause succeed.
    assert set(outcomes) <= {"ok", "InvalidState", "ClientClosed", "Busy"}, outcomes
    assert outcomes.get("ok", 0) >= RELEASES * 2 // 5, outcomes

    # The releases themselves close the clients, before any shutdown: every
    # folder is let go of, and the shutdown finds no client left to close.
    # A client caught in a reference cycle (a task, its exception, its
    # traceback) is released when Python's collector runs, not before.
    gc.collect()
    await wait_no_live_clients(timeout=60.0)
    await wait_until(lambda: _held(tmp_path) == [], what="the released clients' files closed")
    report = await shutdown(ShutdownOptions(timeout_ms=10_000))
    assert report.tasks_abandoned == []
    assert report.clients_closed == 0, report
    stats = runtime_stats()
    assert stats.state == RuntimeState.SHUT_DOWN
    assert stats.live_clients == 0
    assert stats.alive_tasks == 0
    assert stats.supervised_tasks == []
    # Every released client let go of its folder: nothing under tmp_path is open.
    assert _held(tmp_path) == []


def _held(root: Path) -> list:
    """Files under `root` that this process holds open."""
    fds = os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else []
    return [
        target
        for fd in fds
        for target in [_readlink(f"/proc/self/fd/{fd}")]
        if target and target.startswith(str(root))
    ]


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""
