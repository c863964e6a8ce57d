"""matrix-mobile-core: a Matrix client core with a deterministic lifecycle.

This package re-exports the UniFFI bindings (`matrix_mobile_core._ffi`, generated
from the Rust core) unchanged: every name in the public contract is importable
from `matrix_mobile_core`. Async methods are coroutines for asyncio. Type hints
live in `__init__.pyi`.

The bindings load the core's native library (`libmatrix_mobile_core.so`) from
this package's folder when the package is first imported.

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
    from . import _ffi
except (ImportError, OSError) as err:  # the build outputs are not in the package
    raise ImportError(
        "matrix_mobile_core: the generated bindings (_ffi.py) or the native library "
        "are missing from the package folder; `cargo xtask test` builds and copies "
        f"them in ({err})"
    ) from err

from ._ffi import *  # noqa: E402,F401,F403  (the public API, as generated)

__all__ = list(_ffi.__all__)

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
        _ffi.shutdown_blocking(_ffi.ShutdownOptions(timeout_ms=_EXIT_SHUTDOWN_TIMEOUT_MS))
    except BaseException as err:  # noqa: BLE001  (nothing may escape at exit)
        try:
            _logging.getLogger(__name__).warning(
                "matrix_mobile_core: shutting the core down at exit failed: %r", err
            )
        except BaseException:  # noqa: BLE001  (logging itself may be torn down)
            pass


_atexit.register(_shutdown_at_exit)
