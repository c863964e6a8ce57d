"""A new user's first program against the matrix-mobile-core wheel.

It imports the package that pip installed (never a source tree), registers a
fresh user on the homeserver through the client-server API, logs in, syncs,
creates a room, sends a message and reads it back, then logs out and checks the
LogoutReport: the matrix client was dropped and no store file stayed open.
Last, the core shuts down.

Usage: python consumer.py HOMESERVER_URL [EXPECTED_VERSION]

Exits 0 and prints `consumer: OK ...` when every step held; exits non-zero with
the reason otherwise. Needs nothing but the standard library and the wheel.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import secrets
import sys
import sysconfig
import tempfile
import time
import urllib.request
from pathlib import Path

import matrix_mobile_core
from matrix_mobile_core import (
    Client,
    ClientConfig,
    ClientState,
    LogoutOptions,
    ShutdownOptions,
    SyncState,
    shutdown,
)

DISTRIBUTION = "matrix-mobile-core"


class ConsumerFailure(Exception):
    """A step did not do what the package promises."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise ConsumerFailure(what)


def check_installed_package(expected_version: str | None) -> str:
    """The package comes from this interpreter's site-packages, with its metadata."""
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    location = Path(matrix_mobile_core.__file__).resolve()
    check(
        site in location.parents,
        f"matrix_mobile_core was imported from {location}, not from {site}",
    )
    version = importlib.metadata.version(DISTRIBUTION)
    if expected_version is not None:
        check(version == expected_version, f"installed {version}, expected {expected_version}")
    return version


def register(homeserver_url: str, username: str, password: str) -> str:
    """Registers through open registration (m.login.dummy); returns the user id."""
    body = json.dumps(
        {"username": username, "password": password, "auth": {"type": "m.login.dummy"}}
    ).encode()
    request = urllib.request.Request(
        f"{homeserver_url}/_matrix/client/v3/register",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["user_id"]


async def wait_for(what: str, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ConsumerFailure(f"not reached within {timeout} s: {what}")
        await asyncio.sleep(0.05)


async def run(homeserver_url: str, data_dir: str) -> None:
    username = f"consumer-{secrets.token_hex(6)}"
    password = secrets.token_urlsafe(16)
    user_id = register(homeserver_url, username, password)

    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    session = await client.login(username, password, "wheel consumer")
    check(session.user_id == user_id, f"logged in as {session.user_id}, not {user_id}")
    check(client.state() == ClientState.LOGGED_IN, f"state {client.state()} after login")

    await client.start_sync()
    await wait_for("sync RUNNING", lambda: client.sync_state() == SyncState.RUNNING)

    room_id = await client.create_room("wheel consumer", [], False)
    await wait_for("the room in rooms()", lambda: room_id in {r.room_id for r in client.rooms()})
    event_id = await client.send_text(room_id, "hello from the wheel")
    recent = await client.recent_messages(room_id, 5)
    check(
        any(m.event_id == event_id and m.body == "hello from the wheel" for m in recent),
        f"the sent message is not among the recent ones: {recent}",
    )

    report = await client.logout(LogoutOptions(), None)
    check(report.server_logout.is_revoked(), f"server logout: {report.server_logout}")
    check(report.client_dropped is True, f"client_dropped is {report.client_dropped}")
    check(
        report.store_files_open_after == 0,
        f"store_files_open_after is {report.store_files_open_after}",
    )
    check(client.state() == ClientState.CLOSED, f"state {client.state()} after logout")

    stopped = await shutdown(ShutdownOptions(timeout_ms=10_000))
    print(f"consumer: shutdown report {stopped}")
    print(
        f"consumer: logout took {report.total_ms} ms, client_dropped={report.client_dropped}, "
        f"store_files_open_after={report.store_files_open_after}"
    )


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    homeserver_url = argv[1].rstrip("/")
    expected_version = argv[2] if len(argv) == 3 else None
    try:
        version = check_installed_package(expected_version)
        with tempfile.TemporaryDirectory(prefix="mmc-consumer-") as scratch:
            asyncio.run(run(homeserver_url, str(Path(scratch) / "store")))
    except ConsumerFailure as failure:
        print(f"consumer: FAILED: {failure}", file=sys.stderr)
        return 1
    print(f"consumer: OK: {DISTRIBUTION} {version} from {Path(matrix_mobile_core.__file__).parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
