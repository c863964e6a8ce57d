"""Composing against the test homeserver, as the other user reads it: Markdown sent
with its HTML, an intentional mention that sets `mentions_me` on the receiver's
item (and a message without one that does not), emotes and notices, a reply to a
local echo by its item id whose `reply` details arrive, `edit_message`, and bad
input typed before anything is queued. Then the read state: `set_marked_unread`
shows in `room()` when it returns, and a private receipt clears the unread count.

The Python twin of `core/tests/chat/compose.rs`, with what Python adds: the
record defaults of `OutgoingMessage` (only `body` and `kind` are required).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import pytest
from _mirrors import TimelineMirror
from _support import room_of_two, wait_no_live_clients, wait_until

from matrix_mobile_core import (
    Client,
    ClientConfig,
    CoreError,
    LogoutOptions,
    OutgoingKind,
    OutgoingMessage,
    PreviewKind,
    TimelineItem,
)


async def _logged_in(clients: List[Client], homeserver_url: str, user, data_dir: str) -> Client:
    Path(data_dir).mkdir(exist_ok=True)
    client = await Client.create(ClientConfig(homeserver_url=homeserver_url, data_dir=data_dir))
    clients.append(client)
    await client.login(user.username, user.password, None)
    return client


def _text(body: str, **fields) -> OutgoingMessage:
    return OutgoingMessage(body=body, kind=fields.pop("kind", OutgoingKind.TEXT), **fields)


def _find(items: List[TimelineItem], body: str) -> Optional[TimelineItem]:
    """The event item whose text, emote or notice body is `body`."""
    for item in items:
        kind = item.kind
        if not kind.is_event():
            continue
        content = kind.content
        if (content.is_text() or content.is_emote() or content.is_notice()) and content.body == body:
            return item
    return None


def _remote(items: List[TimelineItem], body: str) -> Optional[TimelineItem]:
    """`_find`, once the server has the event."""
    item = _find(items, body)
    return item if item is not None and item.kind.event_id is not None else None


async def _counted(client: Client, room_id: str, check, what: str) -> None:
    """Waits until `check(unread_messages)`; fails with the summary as it last was."""
    try:
        await wait_until(lambda: check(client.room(room_id).unread_messages), 30, what=what)
    except AssertionError as failure:
        raise AssertionError(f"{failure}; room(): {client.room(room_id)}") from None


async def test_messages_carry_markdown_mentions_kinds_replies_and_edits(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice_user, bob_user = register("cmp-alice"), register("cmp-bob")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    bob_id = bob_user.user_id
    await alice.start_sync()
    await bob.start_sync()
    room_id = await room_of_two(alice, bob, "compose", encrypted=False)
    theirs = await bob.timeline(room_id)
    bob_items = TimelineMirror()
    bob_sub = theirs.observe(bob_items)
    mine = await alice.timeline(room_id)
    alice_items = TimelineMirror()
    alice_sub = mine.observe(alice_items)

    # The record's defaults: no Markdown, no mentions.
    plain = _text("no one in particular")
    assert (plain.markdown, plain.mentions, plain.mention_room) == (False, [], False)

    await mine.send_message(_text("**hello** bob", markdown=True, mentions=[bob_id]), None)
    await mine.send_message(plain, None)
    await mine.send_message(_text("waves", kind=OutgoingKind.EMOTE), None)
    await mine.send_message(
        _text("the room, noticed", kind=OutgoingKind.NOTICE, mention_room=True), None
    )
    # A reply to a local echo, by its item id, right after its send.
    await mine.send_message(_text("the original"), None)
    echo = await wait_until(lambda: _find(alice_items.items, "the original"), 10, what="the echo")
    await mine.send_message(_text("a reply to it"), echo.item_id)

    bodies = ["**hello** bob", "no one in particular", "waves", "the room, noticed", "a reply to it"]
    await wait_until(
        lambda: all(_remote(bob_items.items, b) for b in bodies), 30, what="bob's view of each"
    )
    items = bob_items.items
    hello = _find(items, "**hello** bob").kind
    assert hello.content.is_text(), hello.content
    assert hello.content.formatted_html is not None, "no HTML for Markdown"
    assert "<strong>hello</strong>" in hello.content.formatted_html, hello.content.formatted_html
    assert hello.mentions_me is True, "bob is mentioned"
    assert hello.is_own is False and hello.sender == alice_user.user_id
    nobody = _find(items, "no one in particular").kind
    assert nobody.content.is_text() and nobody.content.formatted_html is None, nobody.content
    assert nobody.mentions_me is False
    waves = _find(items, "waves").kind
    assert waves.content.is_emote(), waves.content
    assert waves.mentions_me is False
    notice = _find(items, "the room, noticed").kind
    assert notice.content.is_notice(), notice.content
    assert notice.mentions_me is True, "@room mentions everyone"

    original = _remote(items, "the original")
    assert original is not None, "bob has the original"
    original_event = original.kind.event_id
    assert _find(items, "a reply to it").kind.in_reply_to == original_event

    def reply_details():
        item = _find(bob_items.items, "a reply to it")
        return item.kind.reply if item is not None else None

    reply = await wait_until(reply_details, 30, what="the reply's details")
    assert (reply.event_id, reply.sender, reply.preview) == (
        original_event, alice_user.user_id, "the original"
    ), reply  # fmt: skip
    assert reply.kind == PreviewKind.TEXT(body="the original"), reply.kind
    # Alice's own view of her reply names the same event.
    mine_reply = await wait_until(
        lambda: _remote(alice_items.items, "a reply to it"), 30, what="alice's reply sent"
    )
    assert mine_reply.kind.in_reply_to == original_event

    # An edit replaces the message in place, formatted.
    await mine.edit_message(echo.item_id, _text("*edited* text", markdown=True))

    def edited():
        item = _find(bob_items.items, "*edited* text")
        if item is None or not item.kind.edited:
            return None
        html = item.kind.content.formatted_html
        return item if html is not None and "<em>edited</em>" in html else None

    edit = await wait_until(edited, 30, what="the edit, formatted")
    assert edit.kind.event_id == original_event, "the edit replaces the original in place"
    assert _find(bob_items.items, "the original") is None

    # Bad input: typed, and nothing is queued.
    with pytest.raises(CoreError.InvalidArgument):
        await mine.send_message(_text("  "), None)
    with pytest.raises(CoreError.InvalidArgument):
        await mine.send_message(_text("hi", mentions=["bob"]), None)
    with pytest.raises(CoreError.InvalidArgument):
        await mine.edit_message(echo.item_id, _text(""))
    with pytest.raises(CoreError.NotFound):
        await mine.send_message(_text("to nothing"), "no-such-item")
    for absent in ("  ", "hi", "to nothing"):
        assert _find(alice_items.items, absent) is None, f"{absent!r} was queued"

    alice_items.check()
    bob_items.check()
    alice_sub.cancel()
    bob_sub.cancel()
    del mine, theirs
    await alice.logout(LogoutOptions(), None)
    await bob.logout(LogoutOptions(), None)


async def test_the_unread_mark_shows_at_once_and_a_private_receipt_clears_the_count(
    homeserver_url, register, tmp_path: Path, clients
):
    await wait_no_live_clients()
    alice_user, bob_user = register("mark-alice"), register("mark-bob")
    alice = await _logged_in(clients, homeserver_url, alice_user, str(tmp_path / "alice"))
    bob = await _logged_in(clients, homeserver_url, bob_user, str(tmp_path / "bob"))
    await alice.start_sync()
    await bob.start_sync()
    room_id = await room_of_two(alice, bob, "marked", encrypted=False)
    assert bob.room(room_id).is_marked_unread is False

    # The mark comes back with sync before the call returns.
    await bob.set_marked_unread(room_id, True)
    assert bob.room(room_id).is_marked_unread is True
    await bob.set_marked_unread(room_id, False)
    assert bob.room(room_id).is_marked_unread is False

    # A private receipt clears bob's unread count.
    theirs = await bob.timeline(room_id)
    items = TimelineMirror()
    subscription = theirs.observe(items)
    for n in range(3):
        await alice.send_text(room_id, f"unread {n}")
    await wait_until(lambda: _remote(items.items, "unread 2"), 30, what="the last message")
    await _counted(bob, room_id, lambda n: n > 0, "bob's unread count")
    await theirs.mark_as_read_privately()
    await _counted(bob, room_id, lambda n: n == 0, "read, privately")

    with pytest.raises(CoreError.NotFound):
        await bob.set_marked_unread("!nowhere:example.org", True)
    subscription.cancel()
    del theirs
    await alice.logout(LogoutOptions(), None)
    await bob.logout(LogoutOptions(), None)
