"""Scenarios that run in a child interpreter, for the tests that must survive a
hang, a crash or the interpreter's own exit.

A test runs `python _children.py SCENARIO JSON_ARGS` through `run_child` (in
`_support.py`), with a deadline: a scenario that deadlocks is killed and its test
fails with the child's output, instead of blocking the whole suite. A scenario
prints its findings as one line `MMC_CHILD_RESULT <json>` and the test asserts on
them; the scenarios themselves assert nothing that the parent could check.

The child calls no `shutdown` of its own: at exit, the package's `atexit` hook is
what shuts the core down, which the process-exit tests rely on.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

RESULT_PREFIX = "MMC_CHILD_RESULT "
STATE_AT_EXIT_PREFIX = "MMC_STATE_AT_EXIT "


def _print_state_at_exit() -> None:
    """Registered before the package is imported, so it runs after the package's
    own `atexit` hook (atexit runs handlers last-in, first-out)."""
    core = sys.modules.get("matrix_mobile_core")
    if core is not None:
        print(STATE_AT_EXIT_PREFIX + core.runtime_stats().state.name, flush=True)


if __name__ == "__main__":  # not when a test imports this module's constants
    atexit.register(_print_state_at_exit)

import matrix_mobile_core as mmc  # noqa: E402
from _stores import FileStore  # noqa: E402

#: Objects a scenario keeps referenced until the interpreter exits.
_KEPT: List[Any] = []


def _emit(result: Dict[str, Any]) -> None:
    print(RESULT_PREFIX + json.dumps(result), flush=True)


async def _logged_in(args: Dict[str, Any]) -> mmc.Client:
    client = await mmc.Client.create(
        mmc.ClientConfig(homeserver_url=args["homeserver_url"], data_dir=args["data_dir"])
    )
    await client.login(args["username"], args["password"], None)
    return client


async def _wait(check: Callable[[], Any], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


class _Reentrant:
    """What a listener saw when it called back into the core from its callback."""

    def __init__(self, client: mmc.Client) -> None:
        self.client = client
        self.subscription: Any = None
        self.lock = threading.Lock()
        self.calls = 0
        self.after_cancel = 0
        self.cancelled = False
        self.errors: List[str] = []
        self.seen: List[Dict[str, Any]] = []

    def call_core(self, cancel_now: bool) -> None:
        """Calls `runtime_stats()`, `state()` and `rooms()`, then, if `cancel_now`,
        `cancel()` on this listener's own subscription."""
        with self.lock:
            self.calls += 1
            if self.cancelled:
                self.after_cancel += 1
        try:
            stats = mmc.runtime_stats()
            state = self.client.state()
            rooms = self.client.rooms()
            self.seen.append(
                {"runtime": stats.state.name, "client": state.name, "rooms": len(rooms)}
            )
            if cancel_now and self.subscription is not None:
                self.subscription.cancel()
                with self.lock:
                    self.cancelled = True
        except BaseException as err:  # noqa: BLE001  (reported to the parent)
            self.errors.append(repr(err))

    def result(self) -> Dict[str, Any]:
        with self.lock:
            return {
                "calls": self.calls,
                "after_cancel": self.after_cancel,
                "cancelled": self.cancelled,
                "errors": list(self.errors),
                "seen": list(self.seen),
            }


class _ReentrantMessages(mmc.MessageListener):
    def __init__(self, probe: _Reentrant) -> None:
        self.probe = probe
        self.closed = 0

    def on_message(self, message: mmc.Message) -> None:
        self.probe.call_core(cancel_now=True)

    def on_closed(self) -> None:
        self.closed += 1


class _ReentrantStates(mmc.SyncStateListener):
    def __init__(self, probe: _Reentrant) -> None:
        self.probe = probe

    def on_state(self, state: mmc.SyncState) -> None:
        self.probe.call_core(cancel_now=state == mmc.SyncState.RUNNING)


async def listeners_call_the_core_from_their_callbacks(args: Dict[str, Any]) -> Dict[str, Any]:
    """A message and a sync-state listener call `runtime_stats()`, `state()`,
    `rooms()` and `cancel()` on their own subscription from inside the callback."""
    client = await _logged_in(args)
    room_id = await client.create_room("re-entrant listeners", [], False)

    messages = _Reentrant(client)
    message_listener = _ReentrantMessages(messages)
    messages.subscription = client.observe_messages(message_listener)
    states = _Reentrant(client)
    states.subscription = client.observe_sync_state(_ReentrantStates(states))

    await client.start_sync()
    states_cancelled = await _wait(lambda: states.cancelled)
    await client.send_text(room_id, "one")
    messages_cancelled = await _wait(lambda: messages.cancelled)
    # Deliveries after cancel() would show up as `after_cancel`.
    await client.send_text(room_id, "two")
    await asyncio.sleep(1.0)

    report = await client.logout(mmc.LogoutOptions(), None)
    return {
        "states_cancelled": states_cancelled,
        "messages_cancelled": messages_cancelled,
        "states": states.result(),
        "messages": messages.result(),
        "message_on_closed": message_listener.closed,
        "store_files_open_after": report.store_files_open_after,
    }


class _StatsOnPhase(mmc.LifecycleListener):
    def __init__(self) -> None:
        self.phases: List[str] = []
        self.runtime_states: List[str] = []
        self.errors: List[str] = []

    def on_phase(self, phase: mmc.LifecyclePhase, elapsed_ms: int) -> None:
        self.phases.append(phase.name)
        try:
            self.runtime_states.append(mmc.runtime_stats().state.name)
        except BaseException as err:  # noqa: BLE001  (reported to the parent)
            self.errors.append(repr(err))


async def lifecycle_listener_reads_runtime_stats(args: Dict[str, Any]) -> Dict[str, Any]:
    """Logs out the only live client with a listener that calls `runtime_stats()`
    from every `on_phase`, `RestartingRuntime` included."""
    client = await _logged_in(args)
    listener = _StatsOnPhase()
    report = await client.logout(mmc.LogoutOptions(), listener)
    return {
        "phases": listener.phases,
        "runtime_states": listener.runtime_states,
        "errors": listener.errors,
        "runtime_restarted": report.runtime_restarted,
        "store_files_open_after": report.store_files_open_after,
    }


class _QuietMessages(mmc.MessageListener):
    def on_message(self, message: mmc.Message) -> None:
        pass

    def on_closed(self) -> None:
        pass


class _QuietStates(mmc.SyncStateListener):
    def on_state(self, state: mmc.SyncState) -> None:
        pass


async def exit_after_a_failed_login(args: Dict[str, Any]) -> Dict[str, Any]:
    """Creates a client, fails a login with a wrong password, keeps the client
    (and, if asked, two subscriptions) referenced, and returns: the interpreter
    then exits with the client live."""
    client = await mmc.Client.create(
        mmc.ClientConfig(homeserver_url=args["homeserver_url"], data_dir=args["data_dir"])
    )
    error = None
    try:
        await client.login(args["username"], "not the password", None)
    except mmc.CoreError as err:
        error = type(err).__name__
    _KEPT.append(client)
    if args.get("observe"):
        _KEPT.append(client.observe_sync_state(_QuietStates()))
        _KEPT.append(client.observe_messages(_QuietMessages()))
    return {"login_error": error, "live_clients": mmc.runtime_stats().live_clients}


class _ExitAtPhase(mmc.LifecycleListener):
    def __init__(self, phase: str) -> None:
        self.phase = phase

    def on_phase(self, phase: mmc.LifecyclePhase, elapsed_ms: int) -> None:
        if phase.name == self.phase:
            # The OS killing the app half way: no atexit, no flush, no drain.
            os._exit(9)


async def die_during_a_wiping_logout(args: Dict[str, Any]) -> Dict[str, Any]:
    """Logs in, prints the session's device id, then starts a wiping logout whose
    listener ends the process at the phase `args["phase"]`."""
    client = await _logged_in(args)
    session = client.session()
    _emit({"device_id": session.device_id})
    await client.logout(
        mmc.LogoutOptions(wipe_local_data=True), _ExitAtPhase(args["phase"])
    )
    return {"survived": True}


async def fetch_a_notification(args: Dict[str, Any]) -> Dict[str, Any]:
    """One `get_notification` on the stores of `args["data_dir"]` (which the
    parent's client keeps syncing), as a push handler in another process does;
    then what this process has left: its open files under the directory, and
    the runtime's tasks and clients."""
    session = mmc.Session(
        user_id=args["user_id"],
        device_id=args["device_id"],
        access_token=args["access_token"],
        refresh_token=None,
        homeserver_url=args["homeserver_url"],
    )
    config = mmc.ClientConfig(homeserver_url=args["homeserver_url"], data_dir=args["data_dir"])
    item = await mmc.get_notification(config, session, args["room_id"], args["event_id"])
    stats = mmc.runtime_stats()
    return {
        "body": item.body if item else None,
        "sender": item.sender if item else None,
        "is_encrypted": item.is_encrypted if item else None,
        "room_id": item.room_id if item else None,
        "files_open": _files_open_under(args["data_dir"]),
        "supervised_tasks": list(stats.supervised_tasks),
        "alive_tasks": stats.alive_tasks,
        "live_clients": stats.live_clients,
    }


async def read_with_a_fetcher(args: Dict[str, Any]) -> Dict[str, Any]:
    """A `notification_fetcher` on the stores of `args["data_dir"]` with the
    session file `args["store"]` (the keychain item an app shares with its
    extension) reads each event, then closes: what it read, the runtime's
    generation after each read, its close report and what this process has
    left."""
    config = mmc.ClientConfig(homeserver_url=args["homeserver_url"], data_dir=args["data_dir"])
    fetcher = await mmc.notification_fetcher(config, FileStore(Path(args["store"])))
    bodies, generations = [], []
    for event_id in args["event_ids"]:
        item = await fetcher.get(args["room_id"], event_id)
        bodies.append(item.body if item else None)
        generations.append(mmc.runtime_stats().generation)
    report = await fetcher.close()
    stats = mmc.runtime_stats()
    return {
        "bodies": bodies,
        "generations": generations,
        "client_dropped": report.client_dropped,
        "store_files_open_after": report.store_files_open_after,
        "tasks_left_behind": report.tasks_left_behind,
        "files_open": _files_open_under(args["data_dir"]),
        "alive_tasks": stats.alive_tasks,
        "live_clients": stats.live_clients,
    }


def _files_open_under(path: str) -> int:
    """How many files under `path` this process has open (from /proc)."""
    data_dir = os.path.realpath(path)
    files_open = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(data_dir + os.sep):
            files_open += 1
    return files_open


SCENARIOS = {
    f.__name__: f
    for f in (
        listeners_call_the_core_from_their_callbacks,
        lifecycle_listener_reads_runtime_stats,
        exit_after_a_failed_login,
        die_during_a_wiping_logout,
        fetch_a_notification,
        read_with_a_fetcher,
    )
}


def main() -> None:
    scenario = SCENARIOS[sys.argv[1]]
    args = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    _emit(asyncio.run(scenario(args)))


if __name__ == "__main__":
    main()
