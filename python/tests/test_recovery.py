"""Recovery and key backup against the test homeserver: the history of an
encrypted room survives a wiping logout and decrypts on a new device after
`recover(key)`; the recovery state is observed with `async for`; a wrong key
is `InvalidArgument` and loses nothing.

Every wait is bounded, so a flow that stalls fails its test instead of hanging
the suite.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import List

from _support import wait_until

from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    LogoutOptions,
    RecoveryState,
)

import pytest

MESSAGES = 5
# Well-formed (base58, the right length and parity) but not this account's.
WRONG_KEY = "EsTj 3yST y93F SLpB jJsz eAXc 2XzA ygD3 w69H fGaN TKBj jXEd"


async def _device(url: str, dir: Path, user) -> Client:
    dir.mkdir()
    client = await Client.create(ClientConfig(homeserver_url=url, data_dir=str(dir)))
    await client.login(user.username, user.password, None)
    await client.start_sync()
    return client


async def _bodies(client: Client, room_id: str) -> List[str]:
    return [m.body for m in await client.recent_messages(room_id, 50)]


async def test_encrypted_history_decrypts_on_a_new_device_after_recover(
    homeserver_url, tmp_path, user
):
    alice = await _device(homeserver_url, tmp_path / "first", user)
    seen: List[RecoveryState] = []

    async def observe() -> None:
        async for state in alice.recovery_states():
            seen.append(state)

    observer = asyncio.get_running_loop().create_task(observe())
    await wait_until(lambda: alice.recovery_state() != RecoveryState.UNKNOWN, timeout=30)
    assert alice.recovery_state() == RecoveryState.DISABLED

    room = await alice.create_room("vault", [], True)
    await wait_until(lambda: alice.room(room).is_encrypted, timeout=30, what="room encrypted")
    bodies = [f"secret history {i}" for i in range(MESSAGES)]
    for body in bodies:
        await alice.send_text(room, body)

    key = await alice.enable_recovery(None)
    assert key and key.strip() == key
    assert alice.recovery_state() == RecoveryState.ENABLED
    await wait_until(lambda: seen and seen[-1] == RecoveryState.ENABLED, timeout=10)
    assert seen[0] == RecoveryState.DISABLED, seen

    report = await alice.logout(LogoutOptions(), None)
    assert report.keys_backed_up is True, report
    assert report.data_wiped and report.store_files_open_after == 0, report
    # The stream ends at the client's end signal.
    await asyncio.wait_for(observer, timeout=10)

    # A new device: the history is there but does not decrypt without the key.
    again = await _device(homeserver_url, tmp_path / "second", user)
    await wait_until(
        lambda: any(r.room_id == room for r in again.rooms()), timeout=30, what="the room"
    )
    assert not set(bodies) & set(await _bodies(again, room)), "decrypted without the key"

    with pytest.raises(CoreError.InvalidArgument):
        await again.recover(WRONG_KEY)
    assert again.recovery_state() != RecoveryState.ENABLED

    await again.recover(key)
    await wait_until(lambda: again.recovery_state() == RecoveryState.ENABLED, timeout=30)
    deadline = asyncio.get_running_loop().time() + 60
    while not set(bodies) <= set(await _bodies(again, room)):
        assert asyncio.get_running_loop().time() < deadline, "the history never decrypted"
        await asyncio.sleep(0.5)

    report = await again.logout(LogoutOptions(), None)
    assert report.store_files_open_after == 0, report


async def test_a_wiping_logout_without_a_backup_reports_none(homeserver_url, data_dir, user):
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    await client.login(user.username, user.password, None)
    report = await client.logout(LogoutOptions(), None)
    assert report.keys_backed_up is None, report
    assert report.store_files_open_after == 0, report
