"""Built for a phone: the event loop is the app's thread, and no call of the core
holds it, whatever the size of the file or the account.

A ticker coroutine wakes every 5 ms and records the longest gap between its
wake-ups; a call that read, encrypted or decrypted a file on the loop's thread (the
first poll of a Rust future runs there) made gaps of seconds with a 40 MiB file.
The bound (250 ms) is far above what the fixed core shows and far below that.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest
from _support import wait_no_live_clients, wait_until
from test_chat import TimelineMirror, _logged_in

from matrix_mobile_core import CoreError, LogoutOptions

HOLD_BOUND_S = 0.25
MIB = 1024 * 1024


class Ticker:
    """The longest the event loop went without running this coroutine."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            self.longest = max(self.longest, now - last - 0.005)
            last = now

    async def __aenter__(self) -> "Ticker":
        self._task = asyncio.get_running_loop().create_task(self._tick())
        await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._task is not None
        self._task.cancel()


async def test_a_large_encrypted_file_and_the_room_list_never_hold_the_event_loop(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice = await _logged_in(clients, homeserver_url, register("phone"), str(tmp_path / "a"))
    room_id = await alice.create_room("files", [], True)
    for i in range(20):
        await alice.create_room(f"room {i}", [], False)
    await alice.start_sync()
    timeline = await alice.timeline(room_id)
    items = TimelineMirror()
    sub = timeline.observe(items)

    path = tmp_path / "video.bin"
    path.write_bytes(os.urandom(40 * MIB))
    async with Ticker() as upload:
        await timeline.send_file(str(path), "application/octet-stream", None, None)
    assert upload.longest < HOLD_BOUND_S, f"send_file held the loop {upload.longest:.3f} s"

    def media() -> Any:
        for item in items.items:
            if item.kind.is_event() and item.kind.content.is_media():
                return item.kind.content
        return None

    received = await wait_until(media, 30, what="the file in the timeline")
    assert received.source.encrypted
    assert received.size == 40 * MIB, "the size travels with the file"
    dest = tmp_path / "downloaded.bin"
    async with Ticker() as download:
        size = await alice.download_media(received.source, str(dest))
    assert size == 40 * MIB
    assert dest.read_bytes() == path.read_bytes()
    assert download.longest < HOLD_BOUND_S, f"download held the loop {download.longest:.3f} s"

    async with Ticker() as listing:
        for _ in range(50):
            rooms = alice.rooms()
            await asyncio.sleep(0)
    assert len(rooms) >= 21
    assert listing.longest < HOLD_BOUND_S, f"rooms() held the loop {listing.longest:.3f} s"

    limit = await alice.max_upload_size()
    too_large = tmp_path / "too-large.bin"
    with open(too_large, "wb") as f:
        f.truncate(limit + 1)
    with pytest.raises(CoreError.InvalidArgument):
        await timeline.send_file(str(too_large), None, None, None)

    sub.cancel()
    report = await alice.logout(LogoutOptions(server_timeout_ms=5000, wipe_local_data=True), None)
    assert report.store_files_open_after == 0
