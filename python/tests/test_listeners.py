"""Listeners that raise do not break the core; cancelled subscriptions deliver nothing."""

from __future__ import annotations

import asyncio

from _support import (
    Messages,
    Phases,
    RaisingMessages,
    RaisingSyncStates,
    SyncStates,
    assert_core_carries_on,
    wait_no_live_clients,
    wait_until,
)

from matrix_mobile_core import (
    Client,
    ClientConfig,
    LifecyclePhase,
    LogoutOptions,
    SyncState,
    runtime_stats,
)


async def _logged_in(homeserver_url, user, data_dir) -> Client:
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    await client.login(user.username, user.password, None)
    return client


async def test_a_raising_sync_state_listener_does_not_stop_sync_or_later_calls(
    homeserver_url, user, data_dir
):
    await wait_no_live_clients()
    client = await _logged_in(homeserver_url, user, data_dir)
    raising, recording = RaisingSyncStates(), SyncStates()
    sub_raising = client.observe_sync_state(raising)
    sub_recording = client.observe_sync_state(recording)
    await wait_until(lambda: raising.states, what="the raising listener's first state")

    await client.start_sync()
    await wait_until(lambda: SyncState.RUNNING in recording.states, what="RUNNING")
    # The raising listener kept being called after it raised on the first state.
    await wait_until(lambda: SyncState.RUNNING in raising.states, what="RUNNING, raising")
    assert raising.states[0] == SyncState.IDLE

    # Sync keeps running, and calls work.
    await asyncio.sleep(0.3)
    assert client.sync_state() == SyncState.RUNNING
    assert SyncState.ERROR not in recording.states
    room_id = await client.create_room("after a raising listener", [], False)
    await client.send_text(room_id, "still fine")
    assert (await client.recent_messages(room_id, 1))[0].body == "still fine"

    report = await client.logout(LogoutOptions(), None)
    assert report.server_logout.is_revoked()
    assert report.store_files_open_after == 0
    sub_raising.cancel()
    sub_recording.cancel()


async def test_a_raising_message_listener_keeps_receiving_and_others_too(
    homeserver_url, user, data_dir
):
    await wait_no_live_clients()
    client = await _logged_in(homeserver_url, user, data_dir)
    raising, recording = RaisingMessages(), Messages()
    subs = [client.observe_messages(raising), client.observe_messages(recording)]
    await client.start_sync()
    room_id = await client.create_room("raising messages", [], False)
    first = await client.send_text(room_id, "one")
    second = await client.send_text(room_id, "two")
    await wait_until(lambda: recording.by_event_id(second), what="the good listener gets 'two'")
    await wait_until(lambda: raising.by_event_id(second), what="the raising one gets 'two' too")
    assert raising.by_event_id(first) is not None
    assert client.sync_state() == SyncState.RUNNING
    report = await client.logout(LogoutOptions(), None)
    assert report.server_logout.is_revoked()
    for sub in subs:
        sub.cancel()


async def test_a_cancelled_message_subscription_delivers_nothing_more(
    homeserver_url, user, data_dir
):
    await wait_no_live_clients()
    client = await _logged_in(homeserver_url, user, data_dir)
    kept, cancelled = Messages(), Messages()
    kept_sub = client.observe_messages(kept)
    cancelled_sub = client.observe_messages(cancelled)
    await client.start_sync()
    room_id = await client.create_room("subscriptions", [], False)
    before = await client.send_text(room_id, "before cancel")
    await wait_until(lambda: cancelled.by_event_id(before), what="delivery before cancel")

    cancelled_sub.cancel()
    cancelled_sub.cancel()  # cancelling twice is harmless
    count = len(cancelled.messages)
    after = await client.send_text(room_id, "after cancel")
    await wait_until(lambda: kept.by_event_id(after), what="the kept listener gets it")
    await asyncio.sleep(0.2)
    assert len(cancelled.messages) == count
    assert cancelled.by_event_id(after) is None
    await client.logout(LogoutOptions(), None)
    kept_sub.cancel()


async def test_a_raising_lifecycle_listener_does_not_break_logout(homeserver_url, user, data_dir):
    await wait_no_live_clients()
    client = await _logged_in(homeserver_url, user, data_dir)
    phases = Phases(raise_after=True)
    report = await client.logout(LogoutOptions(), phases)
    assert report.server_logout.is_revoked()
    assert report.data_wiped is True
    assert report.store_files_open_after == 0
    assert phases.phases[0] == LifecyclePhase.STOPPING_SYNC
    assert phases.phases[-1] == LifecyclePhase.DONE
    assert [p.phase for p in report.phases] == phases.phases
    assert runtime_stats().live_clients == 0
    await assert_core_carries_on(homeserver_url, user, data_dir)
