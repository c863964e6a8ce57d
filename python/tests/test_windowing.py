"""What sync carries, from Python: a room the app does not show arrives with its
latest message alone, and a room's first timeline opens with its subscription's
answer (a screenful at once) and keeps its history in order when paginated, even
when every message is the user's own (what matrix-sdk 0.18's event cache misplaces
behind the room list's stale gap)."""

from __future__ import annotations

from pathlib import Path

from _mirrors import TimelineMirror, body_of
from _support import wait_until

from matrix_mobile_core import Client, ClientConfig, LogoutOptions, PreviewKind


def _bodies(items, prefix: str):
    return [b for b in (body_of(i) for i in items) if b is not None and b.startswith(prefix)]


async def _first_reset(mirror: TimelineMirror):
    batches = await wait_until(lambda: mirror.batches, 10, what="the first update")
    first = batches[0][0]
    assert first.is_reset(), f"the first update is a Reset: {first!r}"
    return first.values


async def _listed(client: Client, room_id: str, body: str) -> None:
    """Until `room_id` is listed with the text message `body` as its latest, in
    parts (`kind`) and in English (`preview`)."""

    def listed():
        return any(
            r.room_id == room_id
            and r.latest is not None
            and r.latest.preview == body
            and r.latest.kind == PreviewKind.TEXT(body=body)
            for r in client.rooms()
        )

    await wait_until(listed, 20, what="the room listed with its latest message")


async def test_a_room_the_app_does_not_show_arrives_with_its_latest_message_alone(
    homeserver_url: str, user, data_dir: str
) -> None:
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    await client.login(user.username, user.password, None)
    room_id = await client.create_room("quiet", [], False)
    for i in range(25):
        await client.send_text(room_id, f"q {i}")
    await client.start_sync()
    await _listed(client, room_id, "q 24")
    # Sync stops before the timeline opens: it shows what sync brought while
    # no screen showed the room.
    await client.stop_sync()
    timeline = await client.timeline(room_id)
    mirror = TimelineMirror()
    subscription = timeline.observe(mirror)
    assert _bodies(await _first_reset(mirror), "q ") == ["q 24"]
    subscription.cancel()
    await client.logout(LogoutOptions(), None)


async def test_a_first_timeline_opens_with_a_screenful_and_keeps_history_in_order(
    homeserver_url: str, user, register, tmp_path: Path
) -> None:
    friend = register("friend")
    # Each run: a new device of hers sends 30 messages into a new room (its send
    # queue puts them in its event cache), then opens the room's timeline as its
    # first sync starts.
    for run in range(6):
        device_dir = tmp_path / f"device-{run}"
        device_dir.mkdir()
        device = await Client.create(
            ClientConfig(homeserver_url=homeserver_url, data_dir=str(device_dir))
        )
        await device.login(user.username, user.password, None)
        room_id = await device.create_room(f"order {run}", [friend.user_id], False)
        prefix = f"o{run} "
        for i in range(30):
            await device.send_text(room_id, f"{prefix}{i}")
        await device.start_sync()
        timeline = await device.timeline(room_id)
        mirror = TimelineMirror()
        subscription = timeline.observe(mirror)
        first = _bodies(await _first_reset(mirror), prefix)
        assert first == [f"{prefix}{i}" for i in range(10, 30)], f"run {run}: {first}"
        for _ in range(20):
            if await timeline.paginate_backwards(20):
                break
        else:
            raise AssertionError(f"run {run}: pagination never reached the start")
        await wait_until(
            lambda: len(_bodies(mirror.items, prefix)) == 30, 10, what="every message"
        )
        assert _bodies(mirror.items, prefix) == [f"{prefix}{i}" for i in range(30)], f"run {run}"
        mirror.check()
        subscription.cancel()
        await device.logout(LogoutOptions(server_timeout_ms=2_000, wipe_local_data=True), None)
