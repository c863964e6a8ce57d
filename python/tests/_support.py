"""Helpers shared by the Python tests: polling with a deadline, recording listeners,
a blackholed TCP server, a raw call of the client-server API.

Listeners are called on the core's threads, so every recorder guards its list with a
lock and the tests read snapshots.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from matrix_mobile_core import (
    Client,
    ClientConfig,
    ClientState,
    CoreError,
    LifecycleListener,
    LifecyclePhase,
    Message,
    MessageListener,
    SyncState,
    SyncStateListener,
    TaskFailure,
    TaskFailureListener,
    runtime_stats,
)

T = TypeVar("T")

#: What `Messages.calls` records for an `on_closed()` call.
CLOSED = "on_closed"


async def wait_until(
    check: Callable[[], T], timeout: float = 15.0, interval: float = 0.02, what: str = ""
) -> T:
    """Polls `check` until it returns something truthy; fails the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not reached within {timeout} s: {what or check}")
        await asyncio.sleep(interval)


def room_known(client: Client, room_id: str) -> bool:
    """Whether `client` knows the room (joined or invited)."""
    try:
        client.room(room_id)
        return True
    except CoreError.NotFound:
        return False


async def room_of_two(alice: Client, bob: Client, name: str, encrypted: bool = True) -> str:
    """`alice` creates a room called `name` with `bob`, who joins it; both must be
    syncing. Returns its id once alice sees two members (and, `encrypted`, bob
    knows it encrypted)."""
    room = await alice.create_room(name, [bob.user_id()], encrypted)
    await wait_until(lambda: room_known(bob, room), timeout=30, what="bob's invite")
    await bob.join_room(room)
    if encrypted:
        await wait_until(lambda: bob.room(room).is_encrypted, timeout=30, what="encrypted")
    await wait_until(lambda: alice.room(room).joined_members == 2, timeout=30, what="joined")
    return room


def client_api(
    homeserver_url: str, method: str, path: str, access_token: str, body: Optional[dict] = None
) -> dict:
    """One call of the client-server API with `access_token` (`path` from
    `/_matrix/...`, its ids escaped with `path_segment`), for what the core does
    not do itself; trusts the run's CA as conftest's registration does. Fails
    the test unless the server answers 200; returns its JSON answer."""
    import synapse_harness

    request = urllib.request.Request(
        f"{homeserver_url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"},
    )
    context = synapse_harness.tls_context() if homeserver_url.startswith("https") else None
    with urllib.request.urlopen(request, timeout=10, context=context) as answer:
        assert answer.status == 200, answer.status
        return json.load(answer)


def path_segment(segment: str) -> str:
    """`segment` (a room or user id) escaped for one segment of a URL's path."""
    return urllib.parse.quote(segment, safe="")


async def wait_no_live_clients(timeout: float = 15.0) -> None:
    """Waits until no client of an earlier test is live (released ones close in the background)."""
    await wait_until(
        lambda: runtime_stats().live_clients == 0, timeout, what="live_clients == 0"
    )


async def assert_core_carries_on(homeserver_url: str, user: Any, data_dir: str) -> None:
    """After a test's ordeal, the core still works end to end: `user` logs in on a new
    client on `data_dir` (which the test's wiping logout emptied), and its close drains
    it. Call it with no other client live."""
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    await client.login(user.username, user.password, None)
    assert client.state() == ClientState.LOGGED_IN
    report = await client.close(None)
    assert report.store_files_open_after == 0
    assert report.client_dropped is True
    assert client.state() == ClientState.CLOSED


class SyncStates(SyncStateListener):
    """Records every sync state it is given."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: List[SyncState] = []

    def on_state(self, state: SyncState) -> None:
        with self._lock:
            self._states.append(state)

    @property
    def states(self) -> List[SyncState]:
        with self._lock:
            return list(self._states)


class RaisingSyncStates(SyncStates):
    """Records every state, then raises: the core must carry on."""

    def on_state(self, state: SyncState) -> None:
        super().on_state(state)
        raise RuntimeError(f"listener failure on {state}")


class Messages(MessageListener):
    """Records every message it is given, and the end signal (`on_closed`).

    `calls` is every call in order: a `Message`, or `CLOSED` for `on_closed`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: List[object] = []

    def on_message(self, message: Message) -> None:
        with self._lock:
            self._calls.append(message)

    def on_closed(self) -> None:
        with self._lock:
            self._calls.append(CLOSED)

    @property
    def calls(self) -> List[object]:
        with self._lock:
            return list(self._calls)

    @property
    def messages(self) -> List[Message]:
        return [c for c in self.calls if isinstance(c, Message)]

    @property
    def closed(self) -> int:
        """How many times `on_closed` was called (the contract: at most once)."""
        return sum(1 for c in self.calls if c is CLOSED)

    def by_event_id(self, event_id: str) -> Optional[Message]:
        return next((m for m in self.messages if m.event_id == event_id), None)


class RaisingMessages(Messages):
    """Records every message, then raises."""

    def on_message(self, message: Message) -> None:
        super().on_message(message)
        raise ValueError("message listener failure")


class Phases(LifecycleListener):
    """Records every (phase, elapsed_ms) it is given."""

    def __init__(self, raise_after: bool = False) -> None:
        self._lock = threading.Lock()
        self._phases: List[Tuple[LifecyclePhase, int]] = []
        self._raise_after = raise_after

    def on_phase(self, phase: LifecyclePhase, elapsed_ms: int) -> None:
        with self._lock:
            self._phases.append((phase, elapsed_ms))
        if self._raise_after:
            raise RuntimeError(f"lifecycle listener failure on {phase}")

    @property
    def phases(self) -> List[LifecyclePhase]:
        with self._lock:
            return [phase for phase, _ in self._phases]

    @property
    def elapsed(self) -> List[int]:
        with self._lock:
            return [ms for _, ms in self._phases]


class Failures(TaskFailureListener):
    """Records every task failure; optionally raises after recording."""

    def __init__(self, raise_after: bool = False) -> None:
        self._lock = threading.Lock()
        self.failures: List[TaskFailure] = []
        self._raise_after = raise_after

    def on_failure(self, failure: TaskFailure) -> None:
        with self._lock:
            self.failures.append(failure)
        if self._raise_after:
            raise RuntimeError("task failure listener failure")


class Blackhole:
    """A local TCP server that accepts connections and never answers.

    Use as a context manager; `url` is its http URL. Closing it closes every accepted
    connection.
    """

    def __init__(self) -> None:
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self._server.settimeout(0.1)
        self._accepted: List[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._accepted.append(conn)

    @property
    def connections(self) -> int:
        return len(self._accepted)

    def __enter__(self) -> "Blackhole":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._accepted:
            conn.close()
        self._server.close()


class FaultProxy:
    """A local TCP proxy in front of the homeserver that the test can take down:
    while down, it closes every new connection at once and has cut the open ones
    (the server unreachable, as on a phone that lost its network). Bytes pass
    untouched, TLS included, so the client uses the homeserver's scheme.

    Use as a context manager; `url` is what the client connects to.
    """

    def __init__(self, upstream_url: str) -> None:
        scheme, rest = upstream_url.split("://", 1)
        host, port = rest.rstrip("/").rsplit(":", 1)
        self._upstream = (host, int(port))
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self._server.settimeout(0.1)
        self._down = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._open: List[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self.url = f"{scheme}://127.0.0.1:{self._server.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self._down.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                client.close()
                continue
            # A long poll waits for minutes: no timeout once connected.
            server.settimeout(None)
            with self._lock:
                self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    break
                dst.sendall(chunk)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def down(self) -> None:
        """The server becomes unreachable: new connections are closed, open ones cut."""
        self._down.set()
        with self._lock:
            cut, self._open = self._open, []
        for sock in cut:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def up(self) -> None:
        """The server is reachable again."""
        self._down.clear()

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.down()
        self._server.close()


_CHILDREN = Path(__file__).with_name("_children.py")


@dataclass
class ChildRun:
    """How a child interpreter ended: its exit code, its output, and the
    `MMC_CHILD_RESULT` lines it printed (parsed), in order."""

    returncode: int
    stdout: str
    stderr: str
    results: List[Dict[str, Any]]

    @property
    def result(self) -> Dict[str, Any]:
        """The last result line; fails the test, with the child's output, without one."""
        assert self.results, f"the child printed no result\n{self}"
        return self.results[-1]

    def lines_starting(self, prefix: str) -> List[str]:
        return [line[len(prefix):] for line in self.stdout.splitlines() if line.startswith(prefix)]

    def __str__(self) -> str:
        return (
            f"exit code {self.returncode}\n--- stdout\n{self.stdout[-4000:]}"
            f"\n--- stderr\n{self.stderr[-4000:]}"
        )


def run_child(scenario: str, args: Dict[str, Any], timeout: float = 60.0) -> ChildRun:
    """Runs `scenario` of `_children.py` in a fresh interpreter, with this one's
    environment (PYTHONPATH, MMC_HOMESERVER_URL).

    A child still running at `timeout` seconds is killed and the test fails with
    its output: a deadlock fails one test instead of hanging the suite.
    """
    from _children import RESULT_PREFIX

    try:
        done = subprocess.run(
            [sys.executable, str(_CHILDREN), scenario, json.dumps(args)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as hung:
        out = hung.stdout.decode(errors="replace") if isinstance(hung.stdout, bytes) else hung.stdout
        err = hung.stderr.decode(errors="replace") if isinstance(hung.stderr, bytes) else hung.stderr
        raise AssertionError(
            f"{scenario}: the child hung for {timeout} s and was killed (a deadlock?)"
            f"\n--- stdout\n{out or ''}\n--- stderr\n{(err or '')[-4000:]}"
        ) from None
    run = ChildRun(done.returncode, done.stdout, done.stderr, [])
    run.results = [json.loads(line) for line in run.lines_starting(RESULT_PREFIX)]
    return run
