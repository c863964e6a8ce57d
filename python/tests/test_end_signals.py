"""Every subscription ends: its listener's last call is the end signal
(`on_closed()`, or `on_state(TERMINATED)`), and observing a client that is
closing or closed raises `CoreError.ClientClosed`.
"""

from __future__ import annotations

import asyncio

import pytest
from _support import CLOSED, Messages, SyncStates, wait_no_live_clients, wait_until

from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    LogoutOptions,
    ShutdownOptions,
    SyncState,
    shutdown,
)

#: How long the end signal may take after the call that ends the client returns
#: (the core delivers it on the client's listener thread).
END_SIGNAL_BOUND_S = 10.0


async def _logged_in(homeserver_url, user, data_dir) -> Client:
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    await client.login(user.username, user.password, None)
    return client


async def _end(client: Client, how: str) -> None:
    if how == "logout":
        await client.logout(LogoutOptions(), None)
    elif how == "close":
        await client.close(None)
    else:
        await shutdown(ShutdownOptions(timeout_ms=5000))


@pytest.mark.parametrize("how", ["logout", "close"])
async def test_observing_a_client_that_was_ended_raises_client_closed(
    homeserver_url, user, data_dir, how
):
    await wait_no_live_clients()
    client = await _logged_in(homeserver_url, user, data_dir)
    await _end(client, how)
    with pytest.raises(CoreError.ClientClosed):
        client.observe_messages(Messages())
    with pytest.raises(CoreError.ClientClosed):
        client.observe_sync_state(SyncStates())


@pytest.mark.parametrize("how", ["logout", "close", "shutdown"])
async def test_a_message_listeners_last_call_is_on_closed_once_the_client_ends(
    homeserver_url, user, data_dir, how
):
    await wait_no_live_clients()
    client = await _logged_in(homeserver_url, user, data_dir)
    inbox = Messages()
    subscription = client.observe_messages(inbox)
    await client.start_sync()
    room_id = await client.create_room("end signal", [], False)
    event_id = await client.send_text(room_id, "before the end")
    await wait_until(lambda: inbox.by_event_id(event_id), what="the message arrives")

    await _end(client, how)
    await wait_until(lambda: inbox.closed, END_SIGNAL_BOUND_S, what="on_closed()")
    await asyncio.sleep(0.2)  # nothing may follow it
    assert inbox.calls[-1] == CLOSED
    assert inbox.closed == 1
    subscription.cancel()


@pytest.mark.parametrize("how", ["logout", "close", "shutdown"])
async def test_a_sync_state_listeners_last_call_is_terminated_once_the_client_ends(
    homeserver_url, user, data_dir, how
):
    await wait_no_live_clients()
    client = await _logged_in(homeserver_url, user, data_dir)
    states = SyncStates()
    subscription = client.observe_sync_state(states)
    await client.start_sync()
    await wait_until(lambda: SyncState.RUNNING in states.states, what="RUNNING")

    await _end(client, how)
    await wait_until(
        lambda: SyncState.TERMINATED in states.states, END_SIGNAL_BOUND_S, what="TERMINATED"
    )
    await asyncio.sleep(0.2)
    assert states.states[-1] == SyncState.TERMINATED
    assert states.states.count(SyncState.TERMINATED) == 1
    subscription.cancel()


async def test_a_cancelled_subscription_gets_no_end_signal(homeserver_url, user, data_dir):
    await wait_no_live_clients()
    client = await _logged_in(homeserver_url, user, data_dir)
    inbox, kept = Messages(), Messages()
    cancelled = client.observe_messages(inbox)
    kept_subscription = client.observe_messages(kept)
    cancelled.cancel()
    await client.logout(LogoutOptions(), None)
    await wait_until(lambda: kept.closed, END_SIGNAL_BOUND_S, what="the kept listener's on_closed()")
    assert inbox.calls == []
    kept_subscription.cancel()
