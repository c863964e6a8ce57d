"""`async for` over the core's streams (`matrix_mobile_core._streams`): `apply_diffs`
without a server, then against the test homeserver a timeline's local echo becoming
sent, a room list's invite becoming a joined room, the sync states, every stream
ending at a logout, and leaving early (`break`, `aclose()`, a cancelled task)
cancelling the subscription so that its core task ends.

Every iteration runs under `asyncio.wait_for`, so a stream that never ends fails
its test instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest
from _support import wait_no_live_clients, wait_until

import matrix_mobile_core as mmc
from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    LogoutOptions,
    Membership,
    RoomListFilter,
    RoomListOptions,
    RoomListUpdate,
    SyncState,
    TimelineItem,
    TimelineUpdate,
    apply_diffs,
    runtime_stats,
)
from matrix_mobile_core import _streams

# --- apply_diffs, without a server ---------------------------------------------------


def test_apply_diffs_applies_every_variant_in_order_and_leaves_its_input_alone():
    U = RoomListUpdate
    start = ["a", "b"]
    out = apply_diffs(
        start,
        [
            U.APPEND(values=["c", "d"]),  # a b c d
            U.PUSH_FRONT(value="z"),  # z a b c d
            U.PUSH_BACK(value="e"),  # z a b c d e
            U.POP_FRONT(),  # a b c d e
            U.POP_BACK(),  # a b c d
            U.INSERT(index=1, value="x"),  # a x b c d
            U.SET(index=0, value="A"),  # A x b c d
            U.REMOVE(index=2),  # A x c d
            U.TRUNCATE(length=3),  # A x c
            U.INSERT(index=3, value="end"),  # A x c end
        ],
    )
    assert out == ["A", "x", "c", "end"]
    assert start == ["a", "b"], "the input list was changed"
    assert apply_diffs(out, [U.CLEAR(), U.PUSH_BACK(value=1)]) == [1]
    assert apply_diffs(out, [U.RESET(values=[7, 8])]) == [7, 8]
    assert apply_diffs(out, []) == out and apply_diffs(out, []) is not out


def test_apply_diffs_takes_timeline_updates_too():
    T = TimelineUpdate
    assert apply_diffs([], [T.RESET(values=[1, 2, 3]), T.REMOVE(index=0), T.APPEND(values=[4])]) == [
        2,
        3,
        4,
    ]


@pytest.mark.parametrize(
    "updates",
    [
        [RoomListUpdate.INSERT(index=3, value="x")],
        [RoomListUpdate.SET(index=2, value="x")],
        [RoomListUpdate.REMOVE(index=2)],
        [RoomListUpdate.TRUNCATE(length=3)],
        [RoomListUpdate.CLEAR(), RoomListUpdate.POP_FRONT()],
        [RoomListUpdate.CLEAR(), RoomListUpdate.POP_BACK()],
    ],
)
def test_apply_diffs_refuses_a_diff_that_does_not_fit(updates):
    with pytest.raises(IndexError):
        apply_diffs(["a", "b"], updates)


def test_apply_diffs_refuses_an_object_of_no_known_variant():
    class NotAnUpdate:
        def __getattr__(self, name: str) -> Any:
            return lambda: False

    with pytest.raises(ValueError):
        apply_diffs([], [NotAnUpdate()])


# --- helpers --------------------------------------------------------------------------


async def _logged_in(clients: List[Client], homeserver_url: str, user, data_dir: str) -> Client:
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    clients.append(client)
    await client.login(user.username, user.password, None)
    return client


def _body(item: TimelineItem) -> Optional[str]:
    kind = item.kind
    if kind.is_event() and kind.content.is_text():
        return kind.content.body
    return None


def _tasks_named(suffix: str) -> List[str]:
    return [name for name in runtime_stats().supervised_tasks if name.endswith("::" + suffix)]


async def _gone(suffix: str) -> None:
    """Waits until no supervised task is named `<group>::<suffix>`."""
    await wait_until(lambda: not _tasks_named(suffix), 10, what=f"no `::{suffix}` task left")


# --- against the homeserver -----------------------------------------------------------


async def test_a_timeline_stream_sees_the_local_echo_become_sent_on_the_loop_then_break_cancels(
    homeserver_url, user, data_dir, clients, monkeypatch
):
    await wait_no_live_clients()
    client = await _logged_in(clients, homeserver_url, user, data_dir)
    room_id = await client.create_room("streams", [], False)
    await client.start_sync()
    timeline = await client.timeline(room_id)

    loop_thread = threading.get_ident()
    stages: List[Tuple[str, str, int]] = []
    lock = threading.Lock()

    def probe(stage: str, kind: str) -> None:
        with lock:
            stages.append((stage, kind, threading.get_ident()))

    monkeypatch.setattr(_streams, "_probe", probe)

    versions: List[TimelineItem] = []  # every version of the "hello" item, in order
    consumer_threads = set()

    async def consume() -> TimelineItem:
        sender: Optional[asyncio.Task] = None
        yields = 0
        async for items in timeline.items():
            consumer_threads.add(threading.get_ident())
            yields += 1
            if yields == 1:
                # The stream runs: its core task is there.
                assert _tasks_named("timeline-items"), runtime_stats().supervised_tasks
                sender = asyncio.ensure_future(timeline.send_text("hello", None))
            hello = next((i for i in items if _body(i) == "hello"), None)
            if hello is None:
                continue
            if not versions or versions[-1] != hello:
                versions.append(hello)
            if hello.kind.event_id is not None:
                assert sender is not None
                await sender
                return hello
        raise AssertionError("the timeline stream ended before the message was sent")

    sent = await asyncio.wait_for(consume(), 30)

    # The local echo came first (Sending, no event id), then the sent event under
    # the same item id.
    first = versions[0]
    assert first.kind.event_id is None, first
    assert first.kind.send_state is not None and first.kind.send_state.is_sending(), first
    assert sent.item_id == first.item_id
    assert sent.kind.send_state is None or sent.kind.send_state.is_sent(), sent

    # `return` from inside `async for` let the stream go: the subscription is
    # cancelled and the core's task ends.
    await _gone("timeline-items")

    # Each call hopped from a core thread to the loop: the listener ran on a
    # thread that is not the loop's, the item entered the queue on the loop's.
    with lock:
        timeline_stages = [(s, t) for s, k, t in stages if k == "timeline"]
    listener_threads = {t for s, t in timeline_stages if s == "listener"}
    queued_threads = {t for s, t in timeline_stages if s == "queued"}
    assert listener_threads, "the probe saw no listener call"
    assert loop_thread not in listener_threads, "a listener ran on the loop's thread"
    assert queued_threads == {loop_thread}, (queued_threads, loop_thread)
    assert consumer_threads == {loop_thread}

    report = await client.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0, report


async def test_a_room_list_stream_sees_an_invite_then_the_joined_room_and_follows_a_controller(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice_user, bob_user = register("alice"), register("bob")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    await bob.start_sync()
    garden = f"garden {secrets.token_hex(4)}"
    controller = mmc.RoomListController()
    seen: List[Optional[Membership]] = []

    async def consume() -> None:
        room_id: Optional[str] = None
        joined = filtered = False
        async for rows in bob.room_list(controller=controller):
            assert controller.active_lists == 1
            assert _tasks_named("room-list"), runtime_stats().supervised_tasks
            if room_id is None:
                room_id = await alice.create_room(garden, [bob_user.user_id], False)
            row = next((r for r in rows if r.room_id == room_id), None)
            membership = row.membership if row else None
            if not seen or seen[-1] != membership:
                seen.append(membership)
            if membership == Membership.INVITED and not joined:
                joined = True
                assert await bob.join_room(room_id) == room_id
            elif membership == Membership.JOINED and not filtered:
                filtered = True
                controller.set_filter(RoomListFilter.NAME_MATCHES("no room has this name"))
            elif filtered and rows == []:
                break  # the filter reached the running list

    await asyncio.wait_for(consume(), 40)
    invited = seen.index(Membership.INVITED)
    assert Membership.JOINED in seen[invited:], seen
    # Leaving the loop let the list go: the controller no longer reaches it, and
    # the core's task ended.
    assert controller.active_lists == 0
    await _gone("room-list")

    await alice.logout(LogoutOptions(), None)
    report = await bob.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0, report


async def test_every_stream_ends_without_an_error_when_the_client_logs_out(
    homeserver_url, user, data_dir, clients
):
    await wait_no_live_clients()
    client = await _logged_in(clients, homeserver_url, user, data_dir)
    room_id = await client.create_room("ends", [], False)
    await client.start_sync()
    timeline = await client.timeline(room_id)
    latest: dict = {}

    async def drain(name: str, stream: Any) -> List[Any]:
        out: List[Any] = []
        async for value in stream:
            out.append(value)
            latest[name] = value
        return out

    streams = {
        "sync_states": client.sync_states(),
        "messages": client.messages(),
        "room_list": client.room_list(RoomListOptions(filter=RoomListFilter.ALL())),
        "room_list_updates": client.room_list_updates(),
        "items": timeline.items(),
        "updates": timeline.updates(),
        "typing": timeline.typing(),
    }
    tasks = {name: asyncio.ensure_future(drain(name, s)) for name, s in streams.items()}

    # sync_states() yields RUNNING once sync runs; `break` leaves it.
    first_states: List[SyncState] = []

    async def until_running() -> None:
        async for state in client.sync_states():
            first_states.append(state)
            if state == SyncState.RUNNING:
                break

    await asyncio.wait_for(until_running(), 20)
    assert first_states[-1] == SyncState.RUNNING, first_states

    body = "a message for the streams"
    await client.send_text(room_id, body)
    await wait_until(
        lambda: all(n in latest for n in streams if n != "typing")
        and [r.room_id for r in latest["room_list"]] == [room_id]
        and any(_body(i) == body for i in latest["items"]),
        20,
        what=f"every stream but typing under way, the room and the message seen: {latest.keys()}",
    )
    assert not any(task.done() for task in tasks.values())

    report = await client.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0, report
    done = await asyncio.wait_for(asyncio.gather(*tasks.values()), 10)
    results = dict(zip(tasks, done))
    assert results["sync_states"][-1] == SyncState.TERMINATED, results["sync_states"]
    assert SyncState.RUNNING in results["sync_states"]
    assert body in [m.body for m in results["messages"]]
    assert [r.room_id for r in results["room_list"][-1]] == [room_id]
    assert results["room_list_updates"][0][0].is_reset()
    assert results["updates"][0][0].is_reset()
    assert any(_body(i) == body for i in results["items"][-1])

    # On a client that has ended, a stream ends at once (sync_states says TERMINATED).
    async def collect(stream: Any) -> List[Any]:
        return [value async for value in stream]

    assert await asyncio.wait_for(collect(client.sync_states()), 5) == [SyncState.TERMINATED]
    for stream in (client.messages(), client.room_list(), timeline.items(), timeline.typing()):
        assert await asyncio.wait_for(collect(stream), 5) == []


async def test_aclose_and_a_cancelled_task_cancel_the_subscription(
    homeserver_url, user, data_dir, clients
):
    await wait_no_live_clients()
    client = await _logged_in(clients, homeserver_url, user, data_dir)
    room_id = await client.create_room("cancel", [], False)
    await client.start_sync()
    timeline = await client.timeline(room_id)

    # aclose(): the core's task ends, and the stream yields nothing more.
    stream = timeline.updates()
    first = await asyncio.wait_for(stream.__anext__(), 10)
    assert first[0].is_reset()
    assert _tasks_named("timeline-items")
    await stream.aclose()
    await _gone("timeline-items")
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()

    # A cancelled task: the list it was iterating is cancelled with it.
    batches: List[Any] = []

    async def consume() -> None:
        async for batch in client.room_list_updates():
            batches.append(batch)

    task = asyncio.ensure_future(consume())
    await wait_until(lambda: batches, 10, what="the room list's first batch")
    assert _tasks_named("room-list")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _gone("room-list")

    # `async with`: leaving the block cancels.
    async with timeline.items() as items:
        async for _ in items:
            assert _tasks_named("timeline-items")
            break
    await _gone("timeline-items")

    # A bad argument is raised by the first __anext__, and ends the stream.
    bad = client.room_list(RoomListOptions(page_size=0, filter=RoomListFilter.ALL()))
    with pytest.raises(CoreError.InvalidArgument):
        await bad.__anext__()
    with pytest.raises(StopAsyncIteration):
        await bad.__anext__()

    report = await client.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0, report
