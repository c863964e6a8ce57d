"""HTTP pushers: Synapse posts another user's message to the test's own gateway
until `remove_pusher`; bad input raises `CoreError.InvalidArgument`."""

from __future__ import annotations

import json

import pytest

from matrix_mobile_core import Client, ClientConfig, CoreError, PusherConfig, PushFormat


async def _logged_in(homeserver_url, user, data_dir) -> Client:
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    await client.login(user.username, user.password, None)
    return client


def _pusher(url: str, pushkey: str) -> PusherConfig:
    return PusherConfig(
        app_id="org.example.mmc.py", pushkey=pushkey, gateway_url=url,
        device_name="py device", lang="en",
    )  # fmt: skip


async def test_a_pusher_gets_another_users_message_until_removed(
    homeserver_url, register, tmp_path, push_gateway
):
    alice_user, bob_user = register("pusha"), register("pushb")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    alice = await _logged_in(homeserver_url, alice_user, str(tmp_path / "a"))
    bob = await _logged_in(homeserver_url, bob_user, str(tmp_path / "b"))
    await alice.set_pusher(_pusher(push_gateway.url, "py-key-1"))
    room = await alice.create_room("push", [bob_user.user_id], False)
    await bob.join_room(room)

    event_id = await bob.send_text(room, "wake up")
    pushed = push_gateway.wait_for(lambda n: n.get("event_id") == event_id, timeout=30)
    assert pushed["room_id"] == room
    assert pushed["sender"] == bob_user.user_id
    assert pushed["devices"][0]["pushkey"] == "py-key-1"

    await alice.remove_pusher("py-key-1")
    unpushed = await bob.send_text(room, "not pushed")
    await alice.set_pusher(_pusher(push_gateway.url, "py-key-2"))
    last = await bob.send_text(room, "pushed again")
    pushed = push_gateway.wait_for(lambda n: n.get("event_id") == last, timeout=30)
    assert pushed["devices"][0]["pushkey"] == "py-key-2"
    assert all(n.get("event_id") != unpushed for n in push_gateway.notifications())
    await alice.close(None)
    await bob.close(None)


@pytest.mark.parametrize(
    "url,pushkey",
    [
        ("ftp://127.0.0.1/_matrix/push/v1/notify", "k"),
        ("http://127.0.0.1:9/elsewhere", "k"),
        ("http://127.0.0.1:9/_matrix/push/v1/notify", ""),
    ],
)
async def test_bad_pusher_input_is_invalid_argument(homeserver_url, user, data_dir, url, pushkey):
    client = await _logged_in(homeserver_url, user, data_dir)
    with pytest.raises(CoreError.InvalidArgument):
        await client.set_pusher(_pusher(url, pushkey))
    with pytest.raises(CoreError.InvalidArgument):
        await client.remove_pusher("")
    await client.close(None)


async def test_an_event_id_only_pusher_carries_no_content_and_reads_back(
    homeserver_url, register, tmp_path, push_gateway
):
    alice_user, bob_user = register("pushida"), register("pushidb")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    alice = await _logged_in(homeserver_url, alice_user, str(tmp_path / "a"))
    bob = await _logged_in(homeserver_url, bob_user, str(tmp_path / "b"))
    config = PusherConfig(
        app_id="org.example.mmc.py", pushkey="py-ios", gateway_url=push_gateway.url,
        device_name="py device", lang="en", format=PushFormat.EVENT_ID_ONLY,
        default_payload_json='{"aps": {"mutable-content": 1}}',
    )  # fmt: skip
    await alice.set_pusher(config)
    [read] = await alice.pushers()
    assert (read.pushkey, read.gateway_url, read.format) == (
        "py-ios", push_gateway.url, PushFormat.EVENT_ID_ONLY
    )
    assert json.loads(read.default_payload_json) == {"aps": {"mutable-content": 1}}

    room = await alice.create_room("private", [bob_user.user_id], False)
    await bob.join_room(room)
    event_id = await bob.send_text(room, "the secret plan")
    pushed = push_gateway.wait_for(lambda n: n.get("event_id") == event_id, timeout=30)
    assert "the secret plan" not in json.dumps(pushed), pushed
    assert "content" not in pushed, pushed
    assert pushed["devices"][0]["data"]["default_payload"] == {"aps": {"mutable-content": 1}}

    await alice.remove_pusher("py-ios")
    assert await alice.pushers() == []
    with pytest.raises(CoreError.InvalidArgument):
        await alice.set_pusher(
            PusherConfig(
                app_id="a", pushkey="k", gateway_url=push_gateway.url, device_name="d",
                lang="en", default_payload_json="[1]",
            )  # fmt: skip
        )
    await alice.close(None)
    await bob.close(None)
