"""The send queue without the server, from Python: messages sent while the server is
unreachable keep their local echo, a queued reply names its message, `cancel_send`
takes one back (and says `False` for a sent one), a close counts the rest as unsent,
and they are sent after the next `restore` once the server is back."""

from __future__ import annotations

from _mirrors import TimelineMirror, by_body, is_remote
from _support import FaultProxy, wait_until

import pytest

from matrix_mobile_core import Client, ClientConfig, CoreError, LogoutOptions


def _sent(mirror: TimelineMirror, body: str):
    item = by_body(mirror.items, body)
    return item if is_remote(item) else None


def _from_server(mirror: TimelineMirror, body: str):
    """The item once sync has brought the event back (no longer a local echo)."""
    item = by_body(mirror.items, body)
    return item if is_remote(item) and item.kind.send_state is None else None


async def test_messages_queued_offline_are_counted_at_a_close_and_sent_after_the_restore(
    homeserver_url: str, user, data_dir: str
) -> None:
    with FaultProxy(homeserver_url) as proxy:
        config = ClientConfig(homeserver_url=proxy.url, data_dir=data_dir)
        client = await Client.create(config)
        session = await client.login(user.username, user.password, None)
        room_id = await client.create_room("offline", [], False)
        await client.start_sync()
        timeline = await client.timeline(room_id)
        mirror = TimelineMirror()
        subscription = timeline.observe(mirror)
        await timeline.send_text("before", None)
        before = await wait_until(
            lambda: _from_server(mirror, "before"), 20, what="the first message back from sync"
        )

        proxy.down()
        # A reply to an event the timeline does not hold asks the server for it:
        # offline, a network error, typed.
        with pytest.raises(CoreError.Network):
            await timeline.send_text("to nothing", "$unknown:localhost")
        await timeline.send_text("kept", None)
        await timeline.send_text("taken back", before.kind.event_id)
        taken = await wait_until(lambda: by_body(mirror.items, "taken back"), 5, what="the echo")
        assert taken.kind.in_reply_to == before.kind.event_id
        assert await timeline.cancel_send(taken.item_id) is True
        await wait_until(
            lambda: by_body(mirror.items, "taken back") is None, 10, what="the echo to go"
        )
        assert await timeline.cancel_send(before.item_id) is False, "a sent message stays"
        assert by_body(mirror.items, "kept") is not None
        assert not is_remote(by_body(mirror.items, "kept"))
        subscription.cancel()
        report = await client.close(None)
        assert report.unsent_messages == 1, report
        assert report.store_files_open_after == 0, report

        proxy.up()
        again = await Client.create(config)
        await again.restore(session)
        await again.start_sync()
        timeline = await again.timeline(room_id)
        mirror = TimelineMirror()
        subscription = timeline.observe(mirror)
        await wait_until(
            lambda: _sent(mirror, "kept"), 60, what="the kept message sent after the restore"
        )
        assert by_body(mirror.items, "taken back") is None
        subscription.cancel()
        report = await again.logout(LogoutOptions(), None)
        assert report.unsent_messages == 0, report
        assert report.store_files_open_after == 0, report
