"""Sessions that refresh, on a second Synapse whose access tokens expire every
5 s: the client syncs and sends through expiries, each refresh reaches
`observe_session`, and the latest session restores in a new client; and
`client.session_events()` (`async for`) yields each refresh and one auth error
for a token revoked on the server, then ends with the client."""

from __future__ import annotations

import asyncio
import os
import threading
import urllib.request

import pytest
from _stores import FileStore
from conftest import REFRESH_TOKEN_LIFETIME_S, register_on

from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    LogoutOptions,
    SessionEvent,
    SessionListener,
    SyncState,
)

RUN_S = float(os.environ.get("MMC_REFRESH_RUN_SECS", "12"))


class Sessions(SessionListener):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions = []
        self.auth_errors = []
        self.closed = False

    def on_session_changed(self, session) -> None:
        with self.lock:
            self.sessions.append(session)

    def on_auth_error(self, soft_logout: bool) -> None:
        with self.lock:
            self.auth_errors.append(soft_logout)

    def on_closed(self) -> None:
        self.closed = True


async def _wait(cond, what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_client_sends_through_token_expiries_and_its_latest_session_restores(
    refresh_homeserver_url, tmp_path
):
    user = register_on(refresh_homeserver_url, "pyrefresh")
    data_dir = str(tmp_path / "data")
    os.mkdir(data_dir)
    config = ClientConfig(homeserver_url=refresh_homeserver_url, data_dir=data_dir)
    client = await Client.create(config)
    first = await client.login(user.username, user.password, None)
    assert first.refresh_token is not None
    listener = Sessions()
    sub = client.observe_session(listener)
    await client.start_sync()
    await _wait(lambda: client.sync_state() == SyncState.RUNNING, "sync to run")
    room = await client.create_room("refresh", [], False)

    loop = asyncio.get_running_loop()
    end = loop.time() + RUN_S
    sent = []
    while loop.time() < end:
        sent.append(await client.send_text(room, f"message {len(sent)}"))
        assert client.sync_state() != SyncState.ERROR
        await asyncio.sleep(0.3)
    # No gap, in order (newest last).
    messages = await client.recent_messages(room, len(sent))
    assert [m.event_id for m in messages] == sent

    minimum = max(1, int(RUN_S // REFRESH_TOKEN_LIFETIME_S) - 1)
    await _wait(
        lambda: listener.sessions and listener.sessions[-1] == client.session(),
        "the latest refresh",
    )
    assert len(listener.sessions) >= minimum
    assert listener.auth_errors == []
    latest = listener.sessions[-1]
    assert latest.access_token != first.access_token

    report = await client.close(None)
    assert report.store_files_open_after == 0
    await _wait(lambda: listener.closed, "on_closed")
    sub.cancel()

    await asyncio.sleep(REFRESH_TOKEN_LIFETIME_S + 1)
    again = await Client.create(config)
    await again.restore(latest)
    await again.send_text(room, "after restore")
    report = await again.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0


def _revoke(homeserver_url: str, access_token: str) -> None:
    """Ends the session of `access_token` on the server (`POST /logout`)."""
    request = urllib.request.Request(
        f"{homeserver_url}/_matrix/client/v3/logout",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


async def test_session_events_yield_each_refresh_and_one_auth_error_then_end(
    refresh_homeserver_url, tmp_path
):
    user = register_on(refresh_homeserver_url, "pyevents")
    data_dir = str(tmp_path / "data")
    os.mkdir(data_dir)
    client = await Client.create(ClientConfig(homeserver_url=refresh_homeserver_url, data_dir=data_dir))
    first = await client.login(user.username, user.password, None)
    seen = []
    ended = asyncio.Event()

    async def collect() -> None:
        async for event in client.session_events():
            seen.append(event)
        ended.set()

    collector = asyncio.create_task(collect())
    await client.start_sync()
    await _wait(lambda: client.sync_state() == SyncState.RUNNING, "sync to run")
    # The tokens expire every 5 s; the next request after an expiry (a send
    # here: an idle sync's long poll may outlast several) refreshes them.
    room = await client.create_room("events", [], False)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 6 * REFRESH_TOKEN_LIFETIME_S
    # The current session comes first, then each refresh.
    await _wait(lambda: seen, "the current session")
    assert seen[0] == SessionEvent.Refreshed(first), seen
    while len(seen) < 2:
        assert loop.time() < deadline, "no refresh"
        await client.send_text(room, "keep the token busy")
        await asyncio.sleep(0.5)
    refreshed = seen[1]
    assert isinstance(refreshed, SessionEvent.Refreshed), seen
    assert refreshed.session.user_id == first.user_id
    assert refreshed.session.access_token != first.access_token
    assert refreshed.session.access_token not in repr(refreshed)

    _revoke(refresh_homeserver_url, client.session().access_token)
    await _wait(
        lambda: any(isinstance(e, SessionEvent.AuthError) for e in seen), "the auth error", timeout=60
    )
    for i in range(3):  # more refused requests; the error is not told again
        try:
            await client.create_room(f"after {i}", [], False)
        except CoreError:
            pass
        else:
            raise AssertionError("a revoked token created a room")
    await asyncio.sleep(2)
    assert not ended.is_set(), "an auth error ended the iteration"
    await client.logout(LogoutOptions(), None)
    await asyncio.wait_for(ended.wait(), 30)
    await collector
    errors = [e for e in seen if isinstance(e, SessionEvent.AuthError)]
    # A refresh may race the revocation and succeed once; a refusal of that
    # new token is news again. Never the same refusal twice in a row.
    assert errors and all(e == SessionEvent.AuthError(False) for e in errors), seen
    assert all(
        not (isinstance(a, SessionEvent.AuthError) and isinstance(b, SessionEvent.AuthError))
        for a, b in zip(seen, seen[1:])
    ), seen
    assert isinstance(seen[-1], SessionEvent.AuthError), seen


async def test_a_session_store_saves_each_refresh_with_no_listener_and_is_asked_again_after_a_failure(
    refresh_homeserver_url, tmp_path
):
    user = register_on(refresh_homeserver_url, "pystore")
    data_dir = str(tmp_path / "data")
    os.mkdir(data_dir)
    config = ClientConfig(homeserver_url=refresh_homeserver_url, data_dir=data_dir)
    client = await Client.create(config)
    store = FileStore(tmp_path / "session", fail_first=1)
    client.set_session_store(store)
    first = await client.login(user.username, user.password, None)
    with pytest.raises(CoreError.InvalidState):
        client.set_session_store(store)
    await client.start_sync()
    room = await client.create_room("store", [], False)

    # No listener: the refreshes reach the store alone. The first save
    # raises; the next refresh offers the session again.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 40
    while store.load() is None or store.load() != client.session():
        assert loop.time() < deadline, f"the store never held the current session ({store.calls} saves)"
        await client.send_text(room, "keep going")
        await asyncio.sleep(0.3)
    assert store.calls >= 2
    assert store.load().access_token != first.access_token
    # A core thread of its own, never the app's (this loop's) thread.
    assert threading.get_ident() not in store.threads
    await client.close(None)

    # What the store kept restores in a new client, which sends with it.
    again = await Client.create(config)
    await again.restore(store.load())
    await again.send_text(room, "after restore")
    report = await again.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0
