"""A data_dir whose stores hold a session (API.md, "A data_dir holding another
session"): a password login as another user is refused before any request
reaches the server; a login as the stores' own user asks for their device again
(what an app does after a soft logout), and the server creates no device.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from _support import wait_no_live_clients

from matrix_mobile_core import Client, ClientConfig, ClientState, CoreError, LogoutOptions


def _device_ids(homeserver_url: str, access_token: str) -> list:
    """The user's devices, from the client-server API (`GET /devices`)."""
    request = urllib.request.Request(
        f"{homeserver_url}/_matrix/client/v3/devices",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return sorted(d["device_id"] for d in json.load(answer)["devices"])


async def test_a_login_on_a_stored_session_keeps_its_device_and_another_user_is_refused(
    homeserver_url, user, register, data_dir
):
    await wait_no_live_clients()
    config = ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir)
    first = await Client.create(config)
    kept = await first.login(user.username, user.password, None)
    await first.close(None)  # keeps the session valid on the server
    devices_before = _device_ids(homeserver_url, kept.access_token)
    assert kept.device_id in devices_before

    second = await Client.create(config)
    other = register("pyother")
    try:
        with pytest.raises(CoreError.InvalidState) as refused:
            await second.login(other.username, other.password, None)
        detail = refused.value.detail
        for remedy in ("restore", "wipe", "data_dir"):
            assert remedy in detail, f"the error does not name `{remedy}`: {detail}"
        assert second.state() == ClientState.CREATED
        assert second.session() is None
        # Refused before any request: no device was created on the server.
        assert _device_ids(homeserver_url, kept.access_token) == devices_before

        # As the stores' own user (signed out softly, or its tokens lost): the
        # login asks for their device again, and the server creates none.
        again = await second.login(user.username, user.password, None)
        assert second.state() == ClientState.LOGGED_IN
        assert again.device_id == kept.device_id
        assert _device_ids(homeserver_url, again.access_token) == devices_before
        report = await second.logout(LogoutOptions(), None)
        assert report.server_logout.is_revoked()
    finally:
        if second.state() in (ClientState.CREATED, ClientState.LOGGED_IN):
            await second.close(None)
