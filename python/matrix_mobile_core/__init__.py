"""matrix-mobile-core: a Matrix client core with a deterministic lifecycle.

This package re-exports the UniFFI bindings (`matrix_mobile_core._ffi`, generated
from the Rust core) unchanged: every name in the public contract is importable
from `matrix_mobile_core`. Async methods are coroutines for asyncio. Type hints
live in `__init__.pyi`.

The bindings load the core's native library (`libmatrix_mobile_core.so`) from
this package's folder when the package is first imported.
"""

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
