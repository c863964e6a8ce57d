"""matrix-mobile-core: a Matrix client core with a deterministic lifecycle.

This package re-exports the UniFFI bindings unchanged: every name in the public
contract is importable from `matrix_mobile_core`. Async methods are coroutines
for asyncio. Type hints live in `__init__.pyi`.

The generated layer is the subpackage `matrix_mobile_core._ffi`, laid out by
maturin (python/pyproject.toml): the module that uniffi-bindgen generates,
`matrix_mobile_core._ffi.matrix_mobile_core`, and next to it the core's native
library (`libmatrix_mobile_core.so`), which that module loads from its own folder
when the package is first imported.

Streams: `_streams` adds `async for` over the core's listeners, delivered on the
running asyncio loop. Importing the package attaches `sync_states()`,
`messages()`, `room_list()`, `room_list_updates()` and `room_summaries()` to the
generated `Client`, and `items()`, `updates()` and `typing()` to the generated
`Timeline`, and exports `CoreStream`, `RoomListController` and `apply_diffs` (see
that module's docstring).
`_security` attaches `recovery_states()`, `verification_requests()` and
`session_events()` to `Client` and `states()` to `Verification`, and exports
`SessionEvent`.

Interpreter exit: importing the package registers an `atexit` hook that shuts the
core down (`shutdown_blocking`, bounded by `_EXIT_SHUTDOWN_TIMEOUT_MS`) before
Python finalises. Every client still live is closed with the full drain (not
logged out: a kept session can be restored later), and no core thread is left
to call into an interpreter that is tearing itself down. The hook never raises:
a failure is logged on the `matrix_mobile_core` logger. An app that wants to
wait longer, or log out, does so itself before it exits.
"""

import atexit as _atexit
import logging as _logging

try:
    from ._ffi import matrix_mobile_core as _bindings
except (ImportError, OSError) as err:  # not built: a source tree, not a wheel
    raise ImportError(
        "matrix_mobile_core: the generated bindings or the native library are missing "
        "from `matrix_mobile_core._ffi`; install the wheel that `cargo xtask "
        f"release-local` builds, or run the tests with `cargo xtask test` ({err})"
    ) from err

from ._ffi.matrix_mobile_core import *  # noqa: E402,F401,F403  (the public API, as generated)

from ._streams import CoreStream, RoomListController, apply_diffs  # noqa: E402
from ._security import SessionEvent  # noqa: E402
from . import _security, _streams  # noqa: E402

__all__ = list(_bindings.__all__) + list(_streams.__all__) + list(_security.__all__)


def _guard_record_equality(module) -> None:
    """Makes each generated record's `==` answer `NotImplemented` for another
    type. UniFFI 0.32's record `__eq__` reads the other side's fields without
    looking at its type, so a record compared with `None` (an optional field
    set on one side only, as in two `RoomSummary` values) raised
    `AttributeError` instead of being unequal."""
    for name in getattr(module, "__all__", ()):
        cls = getattr(module, name, None)
        eq = isinstance(cls, type) and cls.__dict__.get("__eq__")
        if not eq:
            continue

        def __eq__(self, other, _eq=eq, _cls=cls):
            if not isinstance(other, _cls):
                return NotImplemented
            return _eq(self, other)

        cls.__eq__ = __eq__


_guard_record_equality(_bindings)

# The bound of the shutdown at interpreter exit, in milliseconds: the whole
# `shutdown_blocking` call, every live client's drain included.
_EXIT_SHUTDOWN_TIMEOUT_MS = 5000


def _shutdown_at_exit() -> None:
    """Shuts the core down at interpreter exit; logs instead of raising.

    Runs after Python has joined its non-daemon threads and before it finalises
    modules, so listeners that the drain calls still find a working interpreter.
    A runtime that never started, or was already shut down, makes this a no-op.
    """
    try:
        _bindings.shutdown_blocking(_bindings.ShutdownOptions(timeout_ms=_EXIT_SHUTDOWN_TIMEOUT_MS))
    except BaseException as err:  # noqa: BLE001  (nothing may escape at exit)
        try:
            _logging.getLogger(__name__).warning(
                "matrix_mobile_core: shutting the core down at exit failed: %r", err
            )
        except BaseException:  # noqa: BLE001  (logging itself may be torn down)
            pass


_atexit.register(_shutdown_at_exit)
