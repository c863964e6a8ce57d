"""Avatars and the server's thumbnails, against the test homeserver: a room's avatar
on its summary, a sender's on his messages, `media_source_from_url` for an avatar
URL from elsewhere, and `Client.download_thumbnail` (authenticated media, kept in
the media store: the same size again needs no server).

The Python twin of `core/tests/media/avatars.rs`.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any, List, Optional

import pytest
from _mirrors import TimelineMirror, body_of
from _support import (
    FaultProxy,
    client_api,
    path_segment,
    room_known,
    wait_no_live_clients,
    wait_until,
)
from PIL import Image

from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    LogoutOptions,
    MediaSource,
    TimelineItem,
    UploadInfo,
    media_source_from_url,
)

_NOT_THERE = object()


def _png(width: int, height: int) -> bytes:
    """A real PNG (a gradient), which Synapse can scale."""
    image = Image.new("RGB", (width, height))
    image.putdata([(x * 4 % 256, y * 4 % 256, 128) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _is_image(data: bytes) -> bool:
    """The first bytes of a PNG or a JPEG file."""
    return data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8\xff")


def _uploaded(items: List[TimelineItem]) -> Optional[MediaSource]:
    """The source of the first media message the server has."""
    for item in items:
        kind = item.kind
        if kind.is_event() and kind.event_id is not None and kind.content.is_media():
            return kind.content.source
    return None


def _sender_avatar(items: List[TimelineItem], body: str) -> Any:
    """The sender's avatar on the message whose body is `body` (`None` when he has
    none), or `_NOT_THERE` when the message is not in `items`."""
    for item in items:
        if body_of(item) == body:
            return item.kind.sender_avatar
    return _NOT_THERE


async def test_avatars_reach_summaries_and_messages_and_their_thumbnails_download_once(
    homeserver_url: str, register, tmp_path: Path, clients
) -> None:
    await wait_no_live_clients()
    alice_user, bob_user = register("avatar-alice"), register("avatar-bob")
    with FaultProxy(homeserver_url) as proxy:
        alice = await Client.create(
            ClientConfig(homeserver_url=proxy.url, data_dir=str(tmp_path / "alice"))
        )
        clients.append(alice)
        alice_session = await alice.login(alice_user.username, alice_user.password, None)
        bob = await Client.create(
            ClientConfig(homeserver_url=homeserver_url, data_dir=str(tmp_path / "bob"))
        )
        clients.append(bob)
        bob_session = await bob.login(bob_user.username, bob_user.password, None)
        room_id = await alice.create_room("faces", [], False)
        await alice.start_sync()

        # An unencrypted image, uploaded through the core, gives the mxc URL.
        timeline = await alice.timeline(room_id)
        items = TimelineMirror()
        subscription = timeline.observe(items)
        png = tmp_path / "face.png"
        png.write_bytes(_png(64, 64))
        await timeline.send_media(str(png), UploadInfo(width=64, height=64), None)
        uploaded = await wait_until(lambda: _uploaded(items.items), 60, what="the avatar's upload")
        assert uploaded.encrypted is False
        mxc = uploaded.url
        assert mxc.startswith("mxc://"), mxc

        # The same URL from elsewhere (a profile, a push): the same source.
        from_url = media_source_from_url(mxc)
        assert from_url.url == mxc
        assert from_url.encrypted is False
        for bad in ["", "https://example.org/a.png", "mxc://", "mxc://server"]:
            with pytest.raises(CoreError.InvalidArgument):
                media_source_from_url(bad)

        # The room's avatar, on its summary.
        client_api(
            homeserver_url,
            "PUT",
            f"/_matrix/client/v3/rooms/{path_segment(room_id)}/state/m.room.avatar",
            alice_session.access_token,
            {"url": mxc},
        )

        def room_avatar() -> Optional[MediaSource]:
            avatar = alice.room(room_id).avatar
            return avatar if avatar is not None and avatar.url == mxc else None

        avatar = await wait_until(room_avatar, 30, what="the room's avatar on its summary")
        assert avatar == from_url

        # A sender's avatar, on his messages: bob's profile has one before he joins,
        # so his membership carries it.
        client_api(
            homeserver_url,
            "PUT",
            f"/_matrix/client/v3/profile/{path_segment(bob_user.user_id)}/avatar_url",
            bob_session.access_token,
            {"avatar_url": mxc},
        )
        await alice.invite(room_id, bob_user.user_id)
        await bob.start_sync()
        await wait_until(lambda: room_known(bob, room_id), 30, what="bob's invite")
        await bob.join_room(room_id)
        bob_timeline = await bob.timeline(room_id)
        await bob_timeline.send_text("look at me", None)
        await timeline.send_text("no avatar here", None)

        def bobs_avatar() -> bool:
            avatar = _sender_avatar(items.items, "look at me")
            return avatar is not _NOT_THERE and avatar is not None and avatar.url == mxc

        await wait_until(bobs_avatar, 30, what="bob's avatar on his message")
        await wait_until(
            lambda: _sender_avatar(items.items, "no avatar here") is not _NOT_THERE,
            30,
            what="alice's own message",
        )
        assert _sender_avatar(items.items, "no avatar here") is None, "alice set no avatar"

        # The server's thumbnail, then the same from the media store with the server
        # gone (its open connections cut too).
        dest = tmp_path / "thumb-32"
        size = await alice.download_thumbnail(avatar, 32, 32, str(dest))
        data = dest.read_bytes()
        assert size == len(data)
        assert size > 0 and _is_image(data), data[:8]
        proxy.down()
        await asyncio.sleep(0.3)
        again = tmp_path / "thumb-32-again"
        assert await alice.download_thumbnail(avatar, 32, 32, str(again)) == size, (
            "the thumbnail from the media store"
        )
        assert again.read_bytes() == data
        # A size never asked for needs the server.
        with pytest.raises(CoreError.Network):
            await alice.download_thumbnail(avatar, 96, 96, str(tmp_path / "thumb-96"))
        proxy.up()

        # Bad input, typed: no size, too large a size, no such folder.
        ok_dest = str(tmp_path / "t")
        for width, height, to in [
            (0, 32, ok_dest),
            (32, 4096, ok_dest),
            (32, 32, str(tmp_path / "no" / "such" / "dir" / "t")),
        ]:
            with pytest.raises(CoreError.InvalidArgument):
                await alice.download_thumbnail(avatar, width, height, to)

        items.check()
        subscription.cancel()
        report = await alice.logout(LogoutOptions(), None)
        assert report.store_files_open_after == 0, report
        report = await bob.logout(LogoutOptions(), None)
        assert report.store_files_open_after == 0, report
