"""The process around the core: an interpreter exiting with a live client, and a
process killed in the middle of a wiping logout (API.md, "Process exit" and
"Crash consistency"). Each scenario runs in a child interpreter (`_children.py`).
"""

from __future__ import annotations

import os

import pytest
from _support import run_child, wait_no_live_clients

from _children import STATE_AT_EXIT_PREFIX
from matrix_mobile_core import Client, ClientConfig, ClientState, LogoutOptions

EXIT_RUNS = 5


@pytest.mark.parametrize("run", range(EXIT_RUNS))
def test_interpreter_exits_cleanly_with_a_live_client_after_a_failed_login(
    homeserver_url, user, tmp_path, run
):
    """Regression: the interpreter exiting with a live client aborted the process
    ("FATAL: exception not rethrown", exit 134) in 1 of 3 runs, after a failed
    login whose client was still referenced. Half of the runs also keep two
    subscriptions. The package's atexit hook must have shut the core down."""
    data_dir = tmp_path / "client-data"
    args = {
        "homeserver_url": homeserver_url,
        "data_dir": str(data_dir),
        "username": user.username,
        "observe": run % 2 == 1,
    }
    child = run_child("exit_after_a_failed_login", args)
    assert child.returncode == 0, str(child)
    assert "FATAL" not in child.stderr, str(child)
    assert child.result == {"login_error": "Auth", "live_clients": 1}
    assert child.lines_starting(STATE_AT_EXIT_PREFIX) == ["SHUT_DOWN"], str(child)


@pytest.mark.parametrize("phase", ["STOPPING_SYNC", "SERVER_LOGOUT"])
async def test_a_wiping_logout_killed_half_way_is_finished_by_the_next_create(
    homeserver_url, user, data_dir, phase
):
    """The next `Client.create` on the data_dir completes the wipe that the dead
    process owed, so a password login works again, as a new device. Without it,
    the login failed with `Internal` ("the account in the store doesn't match")."""
    args = {
        "homeserver_url": homeserver_url,
        "data_dir": data_dir,
        "username": user.username,
        "password": user.password,
        "phase": phase,
    }
    child = run_child("die_during_a_wiping_logout", args)
    assert child.returncode == 9, str(child)
    dead_device = child.results[0]["device_id"]
    assert os.listdir(data_dir), "the killed logout had already wiped everything"

    await wait_no_live_clients()
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    try:
        session = await client.login(user.username, user.password, None)
        assert session.user_id == user.user_id
        assert session.device_id != dead_device
        report = await client.logout(LogoutOptions(), None)
        assert report.server_logout.is_revoked()
    finally:
        if client.state() in (ClientState.CREATED, ClientState.LOGGED_IN):
            await client.close(None)
