"""Bad input and misuse get a typed CoreError with its fields, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from matrix_mobile_core import (
    Client,
    ClientConfig,
    ClientState,
    CoreError,
    LogoutOptions,
    Session,
    runtime_stats,
)


def _config(homeserver_url: str, data_dir: str) -> ClientConfig:
    return ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir)


@pytest.mark.parametrize(
    "url, word",
    [
        ("not a url", "not a url"),
        ("ftp://127.0.0.1/", "http or https"),
        ("http://", "homeserver_url"),
        ("", "homeserver_url"),
    ],
)
async def test_a_bad_homeserver_url_raises_invalid_argument(url, word, data_dir):
    live = runtime_stats().live_clients
    with pytest.raises(CoreError.InvalidArgument) as caught:
        await Client.create(_config(url, data_dir))
    assert word in caught.value.detail
    assert runtime_stats().live_clients == live


async def test_a_data_dir_that_is_a_file_raises_invalid_argument(homeserver_url, tmp_path: Path):
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("not a folder")
    with pytest.raises(CoreError.InvalidArgument) as caught:
        await Client.create(_config(homeserver_url, str(not_a_dir)))
    assert "not a directory" in caught.value.detail
    assert str(not_a_dir) in caught.value.detail
    assert not_a_dir.read_text() == "not a folder"


async def test_a_relative_or_empty_data_dir_raises_invalid_argument(homeserver_url):
    for bad in ("relative/folder", "", "   "):
        with pytest.raises(CoreError.InvalidArgument) as caught:
            await Client.create(_config(homeserver_url, bad))
        assert "data_dir" in caught.value.detail


async def test_a_zero_request_timeout_raises_invalid_argument(homeserver_url, data_dir):
    config = ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir, request_timeout_ms=0)
    with pytest.raises(CoreError.InvalidArgument) as caught:
        await Client.create(config)
    assert "request_timeout_ms" in caught.value.detail


async def test_two_clients_on_one_data_dir_are_refused_while_the_first_lives(
    homeserver_url, data_dir
):
    first = await Client.create(_config(homeserver_url, data_dir))
    try:
        with pytest.raises(CoreError) as caught:
            await Client.create(_config(homeserver_url, data_dir))
        assert isinstance(caught.value, (CoreError.Busy, CoreError.InvalidState)), caught.value
    finally:
        await first.close(None)
    # Once closed, the folder is free again.
    again = await Client.create(_config(homeserver_url, data_dir))
    await again.close(None)


async def test_a_wrong_password_raises_auth_and_the_client_stays_usable(
    homeserver_url, user, data_dir
):
    client = await Client.create(_config(homeserver_url, data_dir))
    try:
        with pytest.raises(CoreError.Auth) as caught:
            await client.login(user.username, user.password + "-wrong", None)
        assert caught.value.detail
        assert user.password not in str(caught.value)
        assert client.state() == ClientState.CREATED
        with pytest.raises(CoreError.Auth):
            await client.login("nobody-" + user.username, user.password, None)
        # The right password still works on the same client.
        session = await client.login(user.username, user.password, None)
        assert session.user_id == user.user_id
    finally:
        await client.logout(LogoutOptions(), None)


async def test_an_empty_user_name_or_password_raises_invalid_argument(homeserver_url, data_dir):
    client = await Client.create(_config(homeserver_url, data_dir))
    try:
        with pytest.raises(CoreError.InvalidArgument) as caught:
            await client.login("  ", "password", None)
        assert "username" in caught.value.detail
        with pytest.raises(CoreError.InvalidArgument) as caught:
            await client.login("someone", "", None)
        assert "password" in caught.value.detail
    finally:
        await client.close(None)


async def test_room_calls_before_login_raise_invalid_state(homeserver_url, data_dir):
    client = await Client.create(_config(homeserver_url, data_dir))
    try:
        with pytest.raises(CoreError.InvalidState) as caught:
            await client.create_room("no session", [], False)
        assert caught.value.detail
        with pytest.raises(CoreError.InvalidState):
            client.rooms()
        with pytest.raises(CoreError.InvalidState):
            await client.start_sync()
        with pytest.raises(CoreError.InvalidState):
            await client.logout(LogoutOptions(), None)
    finally:
        await client.close(None)


async def test_a_restore_with_a_malformed_session_raises_invalid_argument(
    homeserver_url, data_dir
):
    client = await Client.create(_config(homeserver_url, data_dir))
    try:
        bad = Session(
            user_id="not-a-user-id",
            device_id="DEVICE",
            access_token="token",
            refresh_token=None,
            homeserver_url=homeserver_url,
        )
        with pytest.raises(CoreError.InvalidArgument) as caught:
            await client.restore(bad)
        assert "user_id" in caught.value.detail
        assert client.state() == ClientState.CREATED
    finally:
        await client.close(None)


@pytest.fixture
async def logged_in(homeserver_url, user, data_dir):
    """A logged-in client, logged out at the end unless the test already did."""
    client = await Client.create(_config(homeserver_url, data_dir))
    await client.login(user.username, user.password, None)
    yield client
    if client.state() != ClientState.CLOSED:
        await client.logout(LogoutOptions(), None)


async def test_an_unknown_room_raises_not_found(logged_in):
    unknown = "!doesnotexist:localhost"
    with pytest.raises(CoreError.NotFound) as caught:
        await logged_in.send_text(unknown, "hello")
    assert unknown in caught.value.detail
    with pytest.raises(CoreError.NotFound):
        await logged_in.recent_messages(unknown, 10)


async def test_a_malformed_room_id_raises_invalid_argument(logged_in):
    for bad in ("not-a-room-id", "", "#alias-is-not-an-id:localhost"):
        with pytest.raises(CoreError.InvalidArgument) as caught:
            await logged_in.send_text(bad, "hello")
        assert "room id" in caught.value.detail
    with pytest.raises(CoreError.InvalidArgument):
        await logged_in.join_room("no sigil at all")
    with pytest.raises(CoreError.InvalidArgument):
        await logged_in.create_room("bad invite", ["not-a-user"], False)


async def test_bad_message_arguments_raise_invalid_argument(logged_in):
    room_id = await logged_in.create_room("args", [], False)
    with pytest.raises(CoreError.InvalidArgument):
        await logged_in.send_text(room_id, "")
    for limit in (0, 1_000_000):
        with pytest.raises(CoreError.InvalidArgument) as caught:
            await logged_in.recent_messages(room_id, limit)
        assert "limit" in caught.value.detail


async def test_joining_a_room_that_does_not_exist_raises_a_typed_error(logged_in):
    with pytest.raises(CoreError) as caught:
        await logged_in.join_room("!nowhere:localhost")
    assert isinstance(caught.value, (CoreError.NotFound, CoreError.Server)), caught.value


async def test_calls_on_a_closed_client_raise_client_closed(homeserver_url, user, data_dir):
    client = await Client.create(_config(homeserver_url, data_dir))
    session = await client.login(user.username, user.password, None)
    await client.close(None)
    assert client.state() == ClientState.CLOSED
    with pytest.raises(CoreError.ClientClosed):
        await client.login(user.username, user.password, None)
    with pytest.raises(CoreError.ClientClosed):
        await client.restore(session)
    with pytest.raises(CoreError.ClientClosed):
        await client.start_sync()
    with pytest.raises(CoreError.ClientClosed):
        await client.stop_sync()
    with pytest.raises(CoreError.ClientClosed):
        await client.create_room("x", [], False)
    with pytest.raises(CoreError.ClientClosed):
        await client.send_text("!room:localhost", "x")
    with pytest.raises(CoreError.ClientClosed):
        client.rooms()
    with pytest.raises(CoreError.ClientClosed):
        await client.pause()
    with pytest.raises(CoreError.ClientClosed):
        await client.close(None)
    with pytest.raises(CoreError.ClientClosed):
        await client.logout(LogoutOptions(), None)
    # The session was kept on the server: a new client restores it, then logs out.
    other = await Client.create(_config(homeserver_url, data_dir))
    await other.restore(session)
    assert (await other.logout(LogoutOptions(), None)).server_logout.is_revoked()


async def test_a_second_logout_raises_client_closed(logged_in):
    report = await logged_in.logout(LogoutOptions(), None)
    assert report.server_logout.is_revoked()
    with pytest.raises(CoreError.ClientClosed):
        await logged_in.logout(LogoutOptions(), None)
    assert logged_in.state() == ClientState.CLOSED
