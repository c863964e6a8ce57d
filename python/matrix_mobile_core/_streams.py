"""`async for` over the core's listeners, delivered on the running asyncio loop.

Design. The generated bindings give listeners (foreign traits) that the core
calls on its own threads. This module wraps each subscription in a
`CoreStream`, an async iterator, and attaches methods that return one to the
generated classes (set as attributes of `Client` and `Timeline` when the
package is imported; the generated module itself is not edited):

=============================================  =====================================
``client.sync_states()``                       `SyncState`: the current state first,
                                               `TERMINATED` last
``client.messages()``                          `Message`, each text message synced
``client.room_list(options, controller)``      `List[RoomSummary]`, the whole list
``client.room_list_updates(options, ...)``     `List[RoomListUpdate]`, raw batches
``client.room_summaries(room_id)``             `RoomSummary`, one room's: the
                                               current one first, then each change
``timeline.items()``                           `List[TimelineItem]`, the whole list
``timeline.updates()``                         `List[TimelineUpdate]`, raw batches
``timeline.typing()``                          `List[str]`, who is typing (changes
                                               only: nothing yielded yet means
                                               nobody is typing)
=============================================  =====================================

The security streams (recovery, verification, session events) are in
`_security.py`, on the same `CoreStream`.

How a stream works:

- it is cold: the listener is registered when iteration starts (the first
  `__anext__`), on the loop that runs it, and each stream registers its own;
- the listener, called on a core thread, only hands the call to the loop with
  `loop.call_soon_threadsafe` into an unbounded `asyncio.Queue`, so the core's
  thread never waits for the consumer and nothing is dropped or reordered;
- the iteration ends (`StopAsyncIteration`, no exception) at the listener's end
  signal: `SyncState.TERMINATED` (yielded, then the end), or `on_closed()`, when
  the client logs out, closes or is shut down. On a client that has already
  ended it ends at once, empty (`sync_states()` yields `TERMINATED` first),
  instead of raising `CoreError.ClientClosed`;
- leaving the iteration early cancels the subscription (the core then delivers
  nothing more and its task ends): `break` (the stream is released, and its
  finaliser cancels), `await stream.aclose()`, `async with stream:`, or the
  cancellation of the task awaiting the next item (a cancelled `__anext__`
  ends the stream for good, as cancelling a Kotlin collector does; so do not
  wrap a single `__anext__` in `asyncio.wait_for` if the stream must go on);
- errors of the call that subscribes (`CoreError.InvalidArgument` for a page
  size of 0, say) are raised by the first `__anext__`;
- the whole-list streams apply each batch with `apply_diffs` and yield a new
  list per batch (never changed afterwards); the raw streams yield the
  batches themselves, the first a `RESET`.

The `Timeline` stays the caller's: a stream never releases it. A stream is
iterated by one task at a time.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any, Callable, Generic, Iterable, List, Optional, Sequence, TypeVar

from ._ffi.matrix_mobile_core import (
    Client,
    CoreError,
    Message,
    MessageListener,
    RoomListFilter,
    RoomListHandle,
    RoomListListener,
    RoomListener,
    RoomListOptions,
    RoomSummary,
    SyncState,
    SyncStateListener,
    Timeline,
    TimelineListener,
    TypingListener,
)

__all__ = ["CoreStream", "RoomListController", "apply_diffs"]

T = TypeVar("T")

# Test hook: when set, called as `_probe(stage, stream_kind)` on the thread of
# each stage of a delivery: "listener" in the core's callback (a core thread),
# "queued" where the item enters the queue (the loop's thread).
_probe: Optional[Callable[[str, str], None]] = None

_END = object()


# --- diffs --------------------------------------------------------------------------


def apply_diffs(items: Sequence[T], updates: Iterable[Any]) -> List[T]:
    """Returns a new list: `items` with the `RoomListUpdate`s or `TimelineUpdate`s
    of one batch (eyeball-im's `VectorDiff`) applied in order. `items` is not
    changed. Raises `IndexError` for a diff that does not fit the list, and
    `ValueError` for an object of no known variant."""
    out = list(items)
    for update in updates:
        if update.is_append():
            out.extend(update.values)
        elif update.is_clear():
            out.clear()
        elif update.is_push_front():
            out.insert(0, update.value)
        elif update.is_push_back():
            out.append(update.value)
        elif update.is_pop_front():
            if not out:
                raise IndexError("POP_FRONT on an empty list")
            del out[0]
        elif update.is_pop_back():
            if not out:
                raise IndexError("POP_BACK on an empty list")
            out.pop()
        elif update.is_insert():
            if not 0 <= update.index <= len(out):
                raise IndexError(f"INSERT at {update.index} in a list of {len(out)}")
            out.insert(update.index, update.value)
        elif update.is_set():
            if not 0 <= update.index < len(out):
                raise IndexError(f"SET at {update.index} in a list of {len(out)}")
            out[update.index] = update.value
        elif update.is_remove():
            if not 0 <= update.index < len(out):
                raise IndexError(f"REMOVE at {update.index} in a list of {len(out)}")
            del out[update.index]
        elif update.is_truncate():
            if not 0 <= update.length <= len(out):
                raise IndexError(f"TRUNCATE to {update.length} a list of {len(out)}")
            del out[update.length :]
        elif update.is_reset():
            out = list(update.values)
        else:
            raise ValueError(f"an update of no known variant: {update!r}")
    return out


# --- the hop from a core thread to the loop --------------------------------------


class _Channel:
    """An unbounded queue on `loop`, fed from any thread. Holds neither the
    stream nor its subscription, so a stream the app lets go is collected (and
    its finaliser cancels the subscription) although the core holds the
    listener."""

    def __init__(self, loop: asyncio.AbstractEventLoop, kind: str) -> None:
        self.loop = loop
        self.kind = kind
        self.queue: asyncio.Queue = asyncio.Queue()
        self.closed = False  # set on the loop when the stream is released

    def put(self, item: object) -> None:
        """Called by a listener on a core thread: never blocks, never raises."""
        probe = _probe
        if probe is not None:
            probe("listener", self.kind)
        try:
            self.loop.call_soon_threadsafe(self._deliver, item)
        except RuntimeError:
            pass  # the loop is closed: nobody is iterating any more

    def end(self) -> None:
        self.put(_END)

    def _deliver(self, item: object) -> None:  # on the loop
        if self.closed:
            return
        probe = _probe
        if probe is not None:
            probe("queued", self.kind)
        self.queue.put_nowait(item)


class _SyncStates(SyncStateListener):
    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def on_state(self, state: SyncState) -> None:
        self._channel.put(state)
        if state == SyncState.TERMINATED:
            self._channel.end()


class _Messages(MessageListener):
    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def on_message(self, message: Message) -> None:
        self._channel.put(message)

    def on_closed(self) -> None:
        self._channel.end()


class _RoomList(RoomListListener):
    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def on_update(self, updates: List[Any]) -> None:
        self._channel.put(updates)

    def on_closed(self) -> None:
        self._channel.end()


class _Room(RoomListener):
    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def on_update(self, summary: RoomSummary) -> None:
        self._channel.put(summary)

    def on_closed(self) -> None:
        self._channel.end()


class _Timeline(TimelineListener):
    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def on_update(self, updates: List[Any]) -> None:
        self._channel.put(updates)

    def on_closed(self) -> None:
        self._channel.end()


class _Typing(TypingListener):
    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def on_typing(self, user_ids: List[str]) -> None:
        self._channel.put(user_ids)

    def on_closed(self) -> None:
        self._channel.end()


# --- the stream -----------------------------------------------------------------


class CoreStream(AsyncIterator, Generic[T]):
    """An async iterator over one subscription of the core; see the module's
    docstring for its rules. `aclose()` (or `async with`) cancels it."""

    def __init__(
        self,
        kind: str,
        subscribe: Callable[[_Channel], Any],
        *,
        when_closed: Sequence[object] = (),
        transform: Optional[Callable[[Any], T]] = None,
        on_release: Optional[Callable[[Any], None]] = None,
    ) -> None:
        self._kind = kind
        self._subscribe = subscribe
        self._when_closed = tuple(when_closed)
        self._transform = transform
        self._on_release = on_release
        self._channel: Optional[_Channel] = None
        self._handle: Any = None  # a Subscription or RoomListHandle
        self._done = False

    def __aiter__(self) -> "CoreStream[T]":
        return self

    async def __anext__(self) -> T:
        if self._done:
            raise StopAsyncIteration
        if self._channel is None:
            self._start()
        channel = self._channel
        assert channel is not None
        try:
            item = await channel.queue.get()
        except BaseException:  # the task was cancelled: the stream ends with it
            self._release()
            raise
        if item is _END:
            self._release()
            raise StopAsyncIteration
        if self._transform is None:
            return item  # type: ignore[return-value]
        try:
            return self._transform(item)
        except BaseException:
            self._release()
            raise

    async def aclose(self) -> None:
        """Cancels the subscription; the iteration ends. Idempotent."""
        self._release()
        if self._channel is not None:
            self._channel.queue.put_nowait(_END)  # wakes a task still waiting

    async def __aenter__(self) -> "CoreStream[T]":
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        await self.aclose()

    def _start(self) -> None:
        channel = _Channel(asyncio.get_running_loop(), self._kind)
        self._channel = channel
        try:
            self._handle = self._subscribe(channel)
        except CoreError.ClientClosed:
            # The client has already ended: the stream is empty (but for what
            # `when_closed` says), not an error.
            for item in self._when_closed:
                channel.queue.put_nowait(item)
            channel.queue.put_nowait(_END)
        except BaseException:
            self._done = True
            channel.closed = True
            raise

    def _release(self) -> None:
        self._done = True
        if self._channel is not None:
            self._channel.closed = True
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            handle.cancel()
        finally:
            if self._on_release is not None:
                self._on_release(handle)

    def __del__(self) -> None:
        # A stream let go without aclose() (a `break` out of `async for`).
        try:
            self._release()
        except BaseException:  # noqa: BLE001  (a finaliser must not raise)
            pass


# --- room list controller -------------------------------------------------------


class RoomListController:
    """Changes the filter of, and loads more rooms into, the room lists iterated
    with it (`client.room_list(controller=...)`, `room_list_updates`), while
    they run.

    - `set_filter` reaches every running list (each yields a reset list) and is
      remembered: a list that starts later starts with it instead of the filter
      of its `RoomListOptions`;
    - `load_more` reaches every running list, and is not remembered;
    - a list that ends (end signal, `break`, cancellation) is let go at once.

    Thread-safe; the calls never wait for the core beyond queuing a command.
    """

    def __init__(self) -> None:
        # Re-entrant: a stream's finaliser detaches, and may run on a thread
        # that holds the lock (a garbage collection inside set_filter).
        self._lock = threading.RLock()
        self._handles: List[RoomListHandle] = []
        self._chosen: Optional[RoomListFilter] = None

    @property
    def filter(self) -> Optional[RoomListFilter]:
        """The filter last passed to `set_filter`, or None."""
        with self._lock:
            return self._chosen

    @property
    def active_lists(self) -> int:
        """How many running lists this controller reaches."""
        with self._lock:
            return len(self._handles)

    def set_filter(self, filter: RoomListFilter) -> None:
        """Shows the rooms that `filter` lets through; each running list resets."""
        with self._lock:
            self._chosen = filter
            for handle in self._handles:
                handle.set_filter(filter)

    def load_more(self) -> bool:
        """Adds a page of rooms to each running list; False if none runs."""
        with self._lock:
            for handle in self._handles:
                handle.load_more()
            return bool(self._handles)

    def _attach(
        self, options: RoomListOptions, observe: Callable[[RoomListOptions], RoomListHandle]
    ) -> RoomListHandle:
        # Under the lock, so that a set_filter racing with the start is not lost.
        with self._lock:
            if self._chosen is not None:
                options = RoomListOptions(page_size=options.page_size, filter=self._chosen)
            handle = observe(options)
            self._handles.append(handle)
            return handle

    def _detach(self, handle: RoomListHandle) -> None:
        with self._lock:
            self._handles = [h for h in self._handles if h is not handle]


# --- the methods attached to the generated classes ------------------------------


def _default_options() -> RoomListOptions:
    return RoomListOptions(page_size=50, filter=RoomListFilter.ALL())


def sync_states(self: Client) -> CoreStream[SyncState]:
    """The client's sync states: the current one first, then each change, and
    `SyncState.TERMINATED` last (when the client logs out, closes or is shut
    down); then the iteration ends."""
    return CoreStream(
        "sync-states",
        lambda channel: self.observe_sync_state(_SyncStates(channel)),
        when_closed=(SyncState.TERMINATED,),
    )


def messages(self: Client) -> CoreStream[Message]:
    """Every text message that sync delivers, until the client ends."""
    return CoreStream("messages", lambda channel: self.observe_messages(_Messages(channel)))


def room_list_updates(
    self: Client,
    options: Optional[RoomListOptions] = None,
    controller: Optional[RoomListController] = None,
) -> CoreStream[List[Any]]:
    """The room list's raw diff batches, the first a `RESET` (options default to
    pages of 50, every room)."""
    opts = options if options is not None else _default_options()

    def subscribe(channel: _Channel) -> RoomListHandle:
        def observe(o: RoomListOptions) -> RoomListHandle:
            return self.observe_room_list(o, _RoomList(channel))

        if controller is None:
            return observe(opts)
        return controller._attach(opts, observe)

    return CoreStream(
        "room-list",
        subscribe,
        on_release=controller._detach if controller is not None else None,
    )


def _applying(updates: CoreStream[List[Any]]) -> CoreStream[List[Any]]:
    state: List[List[Any]] = [[]]

    def apply(batch: List[Any]) -> List[Any]:
        state[0] = apply_diffs(state[0], batch)
        return list(state[0])

    updates._transform = apply
    return updates


def room_list(
    self: Client,
    options: Optional[RoomListOptions] = None,
    controller: Optional[RoomListController] = None,
) -> CoreStream[List[Any]]:
    """The room list as a list (newest activity first), yielded after each batch
    of diffs; an invite is a row with `membership == Membership.INVITED`."""
    return _applying(room_list_updates(self, options, controller))


def room_summaries(self: Client, room_id: str) -> CoreStream[RoomSummary]:
    """One room's summary: the current one first, then each change of its name,
    topic, avatar, members, unread counts or flags, until the client ends. A room
    the client does not know raises `CoreError.NotFound` at the first
    `__anext__`."""
    return CoreStream("room", lambda channel: self.observe_room(room_id, _Room(channel)))


def updates(self: Timeline) -> CoreStream[List[Any]]:
    """The timeline's raw diff batches, the first a `RESET`."""
    return CoreStream("timeline", lambda channel: self.observe(_Timeline(channel)))


def items(self: Timeline) -> CoreStream[List[Any]]:
    """The timeline as a list, oldest first, yielded after each batch of diffs.
    An item's `item_id` stays the same from local echo to sent."""
    return _applying(updates(self))


def typing(self: Timeline) -> CoreStream[List[str]]:
    """Who is typing (this user left out), at each change the server reports."""
    return CoreStream("typing", lambda channel: self.observe_typing(_Typing(channel)))


def _install() -> None:
    """Attaches the stream methods to the generated classes."""
    for name, function in {
        "sync_states": sync_states,
        "messages": messages,
        "room_list": room_list,
        "room_list_updates": room_list_updates,
        "room_summaries": room_summaries,
    }.items():
        setattr(Client, name, function)
    for name, function in {"items": items, "updates": updates, "typing": typing}.items():
        setattr(Timeline, name, function)


_install()
