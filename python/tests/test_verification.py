"""Device verification against the test homeserver: two devices of one user (two
clients, two data dirs, both syncing) verify each other by emoji, with the
listeners and with `async for` over `client.verification_requests()` and
`verification.states()`; a cancel on one side reaches the other.

Every wait is bounded, so a flow that stalls fails its test instead of hanging
the suite.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import List

from _support import wait_until

from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    Verification,
    VerificationListener,
    VerificationRequestListener,
    VerificationState,
)

import pytest


class _Requests(VerificationRequestListener):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: List[Verification] = []
        self.closed = 0

    def on_request(self, verification: Verification) -> None:
        with self._lock:
            self.seen.append(verification)

    def on_closed(self) -> None:
        self.closed += 1


class _States(VerificationListener):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: List[VerificationState] = []
        self.closed = 0

    def on_state(self, state: VerificationState) -> None:
        with self._lock:
            self._seen.append(state)

    def on_closed(self) -> None:
        self.closed += 1

    def all(self) -> List[VerificationState]:
        with self._lock:
            return list(self._seen)


async def _device(url: str, dir: Path, user, name: str) -> Client:
    dir.mkdir()
    client = await Client.create(ClientConfig(homeserver_url=url, data_dir=str(dir)))
    await client.login(user.username, user.password, name)
    await client.start_sync()
    return client


async def _pair(homeserver_url: str, tmp_path: Path, user):
    a = await _device(homeserver_url, tmp_path / "a", user, "A")
    await a.bootstrap_cross_signing(user.password)
    await wait_until(a.is_verified, timeout=30, what="A cross-signed")
    b = await _device(homeserver_url, tmp_path / "b", user, "B")
    return a, b


def _emojis(states: List[VerificationState]):
    for state in states:
        if isinstance(state, VerificationState.EMOJIS):
            return [(e.symbol, e.description) for e in state.emojis]
    return None


async def test_two_devices_verify_each_other_by_emoji(homeserver_url, tmp_path, user):
    a, b = await _pair(homeserver_url, tmp_path, user)
    requests = _Requests()
    subscription = a.observe_verification_requests(requests)
    assert not b.is_verified(), "a new device starts unverified"

    on_b = await b.request_verification()
    states_b = _States()
    sub_b = on_b.observe(states_b)
    await wait_until(lambda: requests.seen, timeout=60, what="A's on_request")
    on_a = requests.seen[0]
    states_a = _States()
    sub_a = on_a.observe(states_a)
    await wait_until(lambda: states_a.all() and states_b.all(), timeout=30)
    assert isinstance(states_a.all()[0], VerificationState.REQUESTED)
    assert isinstance(states_b.all()[0], VerificationState.REQUESTED)

    await on_a.accept()
    await on_a.start_sas()
    await wait_until(
        lambda: _emojis(states_a.all()) and _emojis(states_b.all()), timeout=30, what="emojis"
    )
    emojis = _emojis(states_a.all())
    assert len(emojis) == 7
    assert emojis == _emojis(states_b.all()), "both devices show the same seven emojis"

    await on_a.confirm()
    await on_b.confirm()
    await wait_until(
        lambda: isinstance(states_a.all()[-1], VerificationState.DONE)
        and isinstance(states_b.all()[-1], VerificationState.DONE),
        timeout=30,
        what="Done on both",
    )
    await wait_until(b.is_verified, timeout=60, what="B cross-signed")

    for client in (a, b):
        report = await client.close(None)
        assert report.store_files_open_after == 0
    assert requests.closed == 1 and states_a.closed == 1 and states_b.closed == 1
    with pytest.raises(CoreError.ClientClosed):
        await on_a.confirm()
    del subscription, sub_a, sub_b


async def test_async_for_over_requests_and_states(homeserver_url, tmp_path, user):
    a, b = await _pair(homeserver_url, tmp_path, user)

    async def device_a() -> List[VerificationState]:
        async for verification in a.verification_requests():
            seen: List[VerificationState] = []
            async for state in verification.states():
                seen.append(state)
                if isinstance(state, VerificationState.REQUESTED):
                    await verification.accept()
                elif isinstance(state, VerificationState.READY):
                    await verification.start_sas()
                elif isinstance(state, VerificationState.EMOJIS):
                    await verification.confirm()
            return seen
        raise AssertionError("the request stream ended without a request")

    async def device_b() -> List[VerificationState]:
        verification = await b.request_verification()
        seen: List[VerificationState] = []
        async for state in verification.states():
            seen.append(state)
            if isinstance(state, VerificationState.EMOJIS):
                await verification.confirm()
        return seen

    task_a = asyncio.ensure_future(device_a())
    await asyncio.sleep(0.2)  # A's stream is registered before B asks
    seen_a, seen_b = await asyncio.wait_for(asyncio.gather(task_a, device_b()), 90)
    for seen in (seen_a, seen_b):
        assert isinstance(seen[0], VerificationState.REQUESTED), seen
        assert isinstance(seen[-1], VerificationState.DONE), seen
    assert _emojis(seen_a) == _emojis(seen_b) and len(_emojis(seen_a)) == 7
    await wait_until(b.is_verified, timeout=60, what="B cross-signed")
    for client in (a, b):
        assert (await client.close(None)).store_files_open_after == 0


async def test_a_cancel_on_one_side_is_cancelled_on_the_other(homeserver_url, tmp_path, user):
    a, b = await _pair(homeserver_url, tmp_path, user)
    requests = _Requests()
    subscription = a.observe_verification_requests(requests)
    on_b = await b.request_verification()
    states_b = _States()
    sub_b = on_b.observe(states_b)
    await wait_until(lambda: requests.seen, timeout=60, what="A's on_request")
    await requests.seen[0].cancel()
    await wait_until(
        lambda: states_b.all() and isinstance(states_b.all()[-1], VerificationState.CANCELLED),
        timeout=30,
        what="Cancelled on B",
    )
    assert not b.is_verified()
    for client in (a, b):
        assert (await client.close(None)).store_files_open_after == 0
    del subscription, sub_b
