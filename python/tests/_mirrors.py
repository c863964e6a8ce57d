"""What the chat tests share: lists kept in step with a timeline or room list
listener, the way an app's adapter keeps its view, and readers of timeline items.

Listeners are called on the core's threads, so the mirrors guard their state with a
lock and the tests read snapshots; a diff a mirror cannot apply (an index out of
range) is recorded and fails the test, since the core only logs an exception raised
by a listener.
"""

from __future__ import annotations

import threading
from typing import Any, List, Optional

from matrix_mobile_core import RoomListListener, TimelineItem, TimelineListener

# --- listeners that keep a list in step ---------------------------------------------


def _apply(items: List[Any], update: Any, seen: List[Any]) -> None:
    """Applies one `RoomListUpdate` or `TimelineUpdate` to `items`, as an app does;
    every value the update carries is appended to `seen`."""
    if update.is_append():
        items.extend(update.values)
        seen.extend(update.values)
    elif update.is_clear():
        items.clear()
    elif update.is_push_front():
        items.insert(0, update.value)
        seen.append(update.value)
    elif update.is_push_back():
        items.append(update.value)
        seen.append(update.value)
    elif update.is_pop_front():
        items.pop(0)
    elif update.is_pop_back():
        items.pop()
    elif update.is_insert():
        if update.index > len(items):
            raise IndexError(f"insert at {update.index} in a list of {len(items)}")
        items.insert(update.index, update.value)
        seen.append(update.value)
    elif update.is_set():
        items[update.index] = update.value
        seen.append(update.value)
    elif update.is_remove():
        del items[update.index]
    elif update.is_truncate():
        if update.length > len(items):
            raise IndexError(f"truncate to {update.length} a list of {len(items)}")
        del items[update.length :]
    elif update.is_reset():
        items[:] = update.values
        seen.extend(update.values)
    else:
        raise AssertionError(f"an update of no known variant: {update!r}")


class Mirror:
    """A list kept in step by `on_update`, with everything it was told."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: List[Any] = []
        self._seen: List[Any] = []
        self._batches: List[List[Any]] = []
        self._closed = 0
        self._updates_after_closed = 0
        self._errors: List[str] = []

    def on_update(self, updates: List[Any]) -> None:
        with self._lock:
            if self._closed:
                self._updates_after_closed += 1
            self._batches.append(list(updates))
            try:
                for update in updates:
                    _apply(self._items, update, self._seen)
            except Exception as failure:  # the core would only log it
                self._errors.append(repr(failure))
                raise

    def on_closed(self) -> None:
        with self._lock:
            self._closed += 1

    @property
    def items(self) -> List[Any]:
        with self._lock:
            return list(self._items)

    @property
    def seen(self) -> List[Any]:
        """Every value delivered, in order: an item's earlier versions included."""
        with self._lock:
            return list(self._seen)

    @property
    def batches(self) -> List[List[Any]]:
        with self._lock:
            return list(self._batches)

    @property
    def closed(self) -> int:
        with self._lock:
            return self._closed

    def check(self) -> None:
        """No diff failed to apply, and nothing came after the end signal."""
        with self._lock:
            assert self._errors == [], f"diffs that do not apply: {self._errors}"
            assert self._updates_after_closed == 0, "on_update after on_closed"


class TimelineMirror(Mirror, TimelineListener):
    pass


class RoomListMirror(Mirror, RoomListListener):
    pass


# --- reading timeline items ---------------------------------------------------------


def body_of(item: TimelineItem) -> Optional[str]:
    kind = item.kind
    if kind.is_event() and kind.content.is_text():
        return kind.content.body
    return None


def by_body(items: List[TimelineItem], body: str) -> Optional[TimelineItem]:
    return next((item for item in items if body_of(item) == body), None)


def by_id(items: List[TimelineItem], item_id: str) -> Optional[TimelineItem]:
    return next((item for item in items if item.item_id == item_id), None)


def is_remote(item: Optional[TimelineItem]) -> bool:
    """The server has the event: its local echo is Sent, or it came from the server."""
    if item is None or not item.kind.is_event() or item.kind.event_id is None:
        return False
    state = item.kind.send_state
    return state is None or state.is_sent()
