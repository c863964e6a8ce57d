"""Shared fixtures of the Python suite.

The suite runs against the test homeserver that `cargo xtask test` starts and names
in `MMC_HOMESERVER_URL`. Without it, every test that needs the server fails (it is
never skipped), so a misconfigured run cannot pass by testing nothing.

Fixtures:
- `homeserver_url`: the server's URL; checked once per session to answer.
- `register`: a factory; `register()` registers a fresh random user and returns a
  `TestUser` (username, password, user_id, ...). Call it again for more users.
- `user`: one fresh user (`register()`), for tests that need only one.
- `data_dir`: a fresh, empty folder (as `str`) for a client's stores.
- `clients`: a list the test appends each `Client` it makes to; any left open (a
  failed test) are closed after the test, so that the next test does not wait for
  `live_clients == 0` in vain.
- `push_gateway`: a running push gateway of the test's own (harness/push_gateway.py)
  that records what Synapse posts; `push_gateway.url` is a pusher's `gateway_url`.
- `refresh_homeserver_url`: the URL of a second Synapse, started once per session,
  whose access tokens (when issued with a refresh token) expire after
  `REFRESH_TOKEN_LIFETIME_S` seconds; `register_on(url)` registers users there.

pytest-asyncio runs in auto mode (python/pyproject.toml): `async def` tests need no
marker.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List

import pytest

# The harness lives in <repo>/harness; `cargo xtask` also puts it on PYTHONPATH.
_HARNESS_DIR = Path(__file__).resolve().parents[2] / "harness"
if str(_HARNESS_DIR) not in sys.path:
    sys.path.insert(0, str(_HARNESS_DIR))

import push_gateway as _push_gateway  # noqa: E402
import synapse_harness  # noqa: E402

HOMESERVER_ENV = "MMC_HOMESERVER_URL"


@dataclass(frozen=True)
class TestUser:
    """A user registered on the test homeserver for one test."""

    __test__ = False  # not a test class, despite its name

    username: str
    password: str
    user_id: str
    device_id: str
    access_token: str


@pytest.fixture(scope="session")
def homeserver_url() -> str:
    """The test homeserver's URL, from MMC_HOMESERVER_URL; fails when unset or down."""
    url = os.environ.get(HOMESERVER_ENV, "").rstrip("/")
    if not url:
        pytest.fail(
            f"{HOMESERVER_ENV} is not set: run the suite with `cargo xtask test`, or start "
            f"a server with `cargo xtask synapse` and export {HOMESERVER_ENV}=<its URL>",
            pytrace=False,
        )
    if not synapse_harness.versions_answer(url, timeout=5.0):
        pytest.fail(f"the homeserver at {url} does not answer /_matrix/client/versions", pytrace=False)
    return url


@pytest.fixture
def register(homeserver_url: str) -> Callable[..., TestUser]:
    """A factory that registers a fresh user with a random name and password."""

    def make(prefix: str = "py") -> TestUser:
        username = f"{prefix}-{secrets.token_hex(6)}".lower()
        password = secrets.token_urlsafe(16)
        answer = synapse_harness.register_user(homeserver_url, username, password)
        return TestUser(
            username=username,
            password=password,
            user_id=answer["user_id"],
            device_id=answer.get("device_id", ""),
            access_token=answer.get("access_token", ""),
        )

    return make


@pytest.fixture
def user(register: Callable[..., TestUser]) -> TestUser:
    """One fresh user."""
    return register()


@pytest.fixture
def data_dir(tmp_path: Path) -> str:
    """A fresh, empty folder for a client's stores (ClientConfig.data_dir)."""
    path = tmp_path / "client-data"
    path.mkdir()
    return str(path)


@pytest.fixture
async def clients():
    """The clients a test makes; any it left open (a failed test) are closed."""
    from matrix_mobile_core import ClientState, CoreError

    made: List = []
    yield made
    for client in made:
        if client.state() != ClientState.CLOSED:
            try:
                await client.close(None)
            except CoreError:
                pass


REFRESH_TOKEN_LIFETIME_S = 5


@pytest.fixture
def push_gateway():
    """A push gateway of the test's own, stopped after the test."""
    with _push_gateway.PushGateway() as gateway:
        yield gateway


@pytest.fixture(scope="session")
def refresh_homeserver_url(tmp_path_factory: pytest.TempPathFactory, homeserver_url: str) -> str:
    """A second Synapse whose refreshable access tokens expire every
    REFRESH_TOKEN_LIFETIME_S seconds, signed by the run's CA (MMC_TLS_DIR), stopped
    at the end of the session (and by the harness's watchdog if pytest dies)."""
    state_dir = tmp_path_factory.mktemp("refresh-synapse")
    tls_dir = os.environ.get("MMC_TLS_DIR")
    state = synapse_harness.start(
        state_dir,
        owner_pid=os.getpid(),
        ca_dir=Path(tls_dir) if tls_dir else None,
        access_token_lifetime_s=REFRESH_TOKEN_LIFETIME_S,
    )
    try:
        yield state["homeserver_url"]
    finally:
        synapse_harness.stop(state_dir)


def register_on(url: str, prefix: str = "py") -> TestUser:
    """Registers a fresh user with a random name and password on the Synapse at `url`."""
    username = f"{prefix}-{secrets.token_hex(6)}".lower()
    password = secrets.token_urlsafe(16)
    answer = synapse_harness.register_user(url, username, password)
    return TestUser(
        username=username,
        password=password,
        user_id=answer["user_id"],
        device_id=answer.get("device_id", ""),
        access_token=answer.get("access_token", ""),
    )


@pytest.fixture(scope="session", autouse=True)
def _shutdown_core_at_exit():
    """Shuts the core down before the interpreter finalises, so that no core
    thread calls a Python listener while Python is tearing itself down."""
    yield
    import matrix_mobile_core as core

    core.shutdown_blocking(core.ShutdownOptions(timeout_ms=10_000))
