"""Listeners may call back into the core, block, or raise: the core neither
deadlocks nor stops (API.md, "Re-entrancy").

The scenarios that used to deadlock run in a child interpreter with a deadline
(`run_child`), so a regression fails its test instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
import threading
import time

from _support import (
    Messages,
    SyncStates,
    assert_core_carries_on,
    run_child,
    wait_no_live_clients,
    wait_until,
)

from matrix_mobile_core import (
    Client,
    ClientConfig,
    LogoutOptions,
    Message,
    SyncState,
    runtime_stats,
)

#: A bound for a logout in these tests: far above its usual ~50 ms, so that only a
#: hang reaches it.
LOGOUT_BOUND_S = 30.0
# A logout beside a listener blocked for 5 s: 1 s of waiting for it, the
# logout itself (under 1 s in a debug build on two cores), and a margin.
BLOCKED_LOGOUT_BOUND_S = 4.0


def _child_args(homeserver_url, user, data_dir) -> dict:
    return {
        "homeserver_url": homeserver_url,
        "data_dir": data_dir,
        "username": user.username,
        "password": user.password,
    }


async def _logged_in(homeserver_url, user, data_dir) -> Client:
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    await client.login(user.username, user.password, None)
    return client


def test_listeners_may_call_runtime_stats_state_rooms_and_cancel_their_own_subscription(
    homeserver_url, user, data_dir
):
    """Regression: a listener calling `rooms()` or `cancel()` from its callback
    deadlocked on a lock the core held while delivering."""
    run = run_child(
        "listeners_call_the_core_from_their_callbacks",
        _child_args(homeserver_url, user, data_dir),
    )
    assert run.returncode == 0, str(run)
    result = run.result
    for name in ("states", "messages"):
        probe = result[name]
        assert probe["errors"] == [], f"{name}: calls from the callback failed"
        assert probe["cancelled"], f"{name}: cancel() from the callback did not return"
        assert probe["after_cancel"] == 0, f"{name}: delivered after its own cancel()"
        assert probe["seen"], name
        assert all(seen["runtime"] == "RUNNING" for seen in probe["seen"]), probe["seen"]
        assert all(seen["client"] == "LOGGED_IN" for seen in probe["seen"]), probe["seen"]
    # The message listener ran while its room existed.
    assert result["messages"]["seen"][0]["rooms"] >= 1
    # A cancelled subscription gets no end signal.
    assert result["message_on_closed"] == 0
    assert result["store_files_open_after"] == 0


def test_a_lifecycle_listener_calling_runtime_stats_at_every_phase_lets_logout_return(
    homeserver_url, user, data_dir
):
    """Regression: `runtime_stats()` from `on_phase(RestartingRuntime)` deadlocked
    the logout (the restart held the runtime's lock while it reported the phase)."""
    run = run_child(
        "lifecycle_listener_reads_runtime_stats", _child_args(homeserver_url, user, data_dir)
    )
    assert run.returncode == 0, str(run)
    result = run.result
    assert result["errors"] == []
    assert result["runtime_restarted"] is True
    assert "RESTARTING_RUNTIME" in result["phases"]
    assert result["phases"][-1] == "DONE"
    assert len(result["runtime_states"]) == len(result["phases"])
    assert result["store_files_open_after"] == 0


class _BlockingMessages(Messages):
    """Blocks in `on_message` for `seconds`, as a slow app callback would."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.entered = threading.Event()
        self.left = threading.Event()

    def on_message(self, message: Message) -> None:
        super().on_message(message)
        self.entered.set()
        time.sleep(self.seconds)
        self.left.set()


async def test_a_listener_blocking_for_five_seconds_during_logout_does_not_hold_up_the_drain(
    homeserver_url, user, data_dir
):
    await wait_no_live_clients()
    client = await _logged_in(homeserver_url, user, data_dir)
    blocking = _BlockingMessages(seconds=5.0)
    subscription = client.observe_messages(blocking)
    await client.start_sync()
    room_id = await client.create_room("a blocking listener", [], False)
    await client.send_text(room_id, "block on this")
    await wait_until(blocking.entered.is_set, what="the listener is inside its callback")

    assert not blocking.left.is_set()
    # A drain that waited for the listener would take the rest of its 5 s; it
    # waits 1 s for a busy listener at most, then goes on.
    report = await asyncio.wait_for(client.logout(LogoutOptions(), None), BLOCKED_LOGOUT_BOUND_S)
    assert not blocking.left.is_set(), "the logout returned only after the listener's block"
    assert report.server_logout.is_revoked()
    assert report.store_files_open_after == 0
    assert report.data_wiped is True
    await wait_until(blocking.left.is_set, what="the listener's call returns")
    await wait_no_live_clients()
    subscription.cancel()


class _RaisingEverywhereMessages(Messages):
    def on_message(self, message: Message) -> None:
        super().on_message(message)
        raise ValueError("on_message fails on purpose")

    def on_closed(self) -> None:
        super().on_closed()
        raise ValueError("on_closed fails on purpose")


class _RaisingStates(SyncStates):
    def on_state(self, state: SyncState) -> None:
        super().on_state(state)
        raise RuntimeError(f"on_state({state}) fails on purpose")


async def test_listeners_raising_in_every_callback_and_end_signal_do_not_break_logout(
    homeserver_url, user, data_dir
):
    await wait_no_live_clients()
    client = await _logged_in(homeserver_url, user, data_dir)
    messages, states = _RaisingEverywhereMessages(), _RaisingStates()
    subscriptions = [client.observe_messages(messages), client.observe_sync_state(states)]
    await client.start_sync()
    room_id = await client.create_room("raising listeners", [], False)
    event_id = await client.send_text(room_id, "raise on this")
    await wait_until(lambda: messages.by_event_id(event_id), what="the raising listener is called")

    report = await asyncio.wait_for(client.logout(LogoutOptions(), None), LOGOUT_BOUND_S)
    assert report.server_logout.is_revoked()
    assert report.store_files_open_after == 0
    assert runtime_stats().live_clients == 0
    await assert_core_carries_on(homeserver_url, user, data_dir)
    for subscription in subscriptions:
        subscription.cancel()
