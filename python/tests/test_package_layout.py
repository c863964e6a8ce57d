"""The package re-exports the generated bindings, and its type stub matches them.

The package adds hand-written names of its own (`matrix_mobile_core._streams` and
`_security`: their `__all__`, and the stream methods they attach to the generated
`Client`, `Timeline` and `Verification`); the stub declares those too, and they are
checked the same way (looked up on the package, which holds both).

These tests need the built package, laid out as the wheel is (the generated
bindings and the native library in the subpackage `matrix_mobile_core._ffi`),
but no homeserver.
"""

from __future__ import annotations

import ast
import ctypes
import enum
import inspect
from pathlib import Path

import matrix_mobile_core as mmc
from matrix_mobile_core import _security, _streams  # the hand-written streams
from matrix_mobile_core._ffi import matrix_mobile_core as _ffi  # the generated module

HAND_WRITTEN = set(_streams.__all__) | set(_security.__all__)

STUB = Path(mmc.__file__).with_name("__init__.pyi")
# Parsed once, at collection, before any test starts a core thread. CPython
# 3.11's `ast` keeps its recursion counter in shared state, and a traceback
# printed on another thread (a listener that raises) parses source lines
# with `ast` too: parsing concurrently fails with "AST constructor recursion
# depth mismatch".
STUB_TREE = ast.parse(STUB.read_text())


def _stub_classes() -> dict[str, ast.ClassDef]:
    tree = STUB_TREE
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def _stub_top_level_names() -> set[str]:
    tree = STUB_TREE
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
    return names


def _stub_nested_classes(cls: ast.ClassDef) -> list[str]:
    return [node.name for node in cls.body if isinstance(node, ast.ClassDef)]


def _stub_enum_members(cls: ast.ClassDef) -> list[str]:
    return [
        target.id
        for node in cls.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    ]


def _stub_keyword_params(cls: ast.ClassDef) -> list[str] | None:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            return [arg.arg for arg in node.args.kwonlyargs]
    return None


def test_package_reexports_every_generated_name():
    assert _ffi.__all__, "the generated bindings export nothing"
    for name in _ffi.__all__:
        assert getattr(mmc, name) is getattr(_ffi, name), name
    assert set(mmc.__all__) == set(_ffi.__all__) | HAND_WRITTEN


def test_hand_written_names_are_exported_and_shadow_nothing_generated():
    assert HAND_WRITTEN, "_streams and _security export nothing"
    assert sorted(HAND_WRITTEN & set(_ffi.__all__)) == []
    for module in (_streams, _security):
        for name in module.__all__:
            assert getattr(mmc, name) is getattr(module, name), name
    for cls, module, methods in [
        (_ffi.Client, _streams, ["sync_states", "messages", "room_list", "room_list_updates", "room_summaries"]),
        (_ffi.Timeline, _streams, ["items", "updates", "typing"]),
        (_ffi.Client, _security, ["verification_requests", "recovery_states", "session_events"]),
        (_ffi.Verification, _security, ["states"]),
    ]:
        for method in methods:
            assert getattr(cls, method) is getattr(module, method), f"{cls.__name__}.{method}"


def test_stub_declares_exactly_the_exported_names():
    stub = _stub_top_level_names()
    exported = set(_ffi.__all__) | HAND_WRITTEN
    assert sorted(exported - stub) == [], "exported but missing from __init__.pyi"
    assert sorted(stub - exported) == [], "declared in __init__.pyi but not exported"


def test_stub_enums_and_error_variants_match():
    classes = _stub_classes()
    for name, stub_cls in classes.items():
        runtime = getattr(mmc, name)
        if isinstance(runtime, type) and issubclass(runtime, enum.Enum):
            assert _stub_enum_members(stub_cls) == [m.name for m in runtime], name
        nested = _stub_nested_classes(stub_cls)
        for variant in nested:
            assert hasattr(runtime, variant), f"{name}.{variant} is not generated"
            assert issubclass(getattr(runtime, variant), runtime), f"{name}.{variant}"


def test_stub_record_fields_match():
    for name, stub_cls in _stub_classes().items():
        stub_params = _stub_keyword_params(stub_cls)
        if not stub_params:
            continue
        runtime_params = [
            p.name
            for p in inspect.signature(getattr(mmc, name).__init__).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]
        assert stub_params == runtime_params, name


def _functions(body: list[ast.stmt]) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return [node for node in body if isinstance(node, kinds) and node.name != "__init__"]


def _is_property(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list)


def test_stub_functions_and_methods_match():
    """Same names, same parameters, and `async def` exactly where the package has it."""
    tree = STUB_TREE
    owners = [(mmc, tree.body, False)] + [
        (getattr(mmc, cls.name), cls.body, True) for cls in _stub_classes().values()
    ]
    for owner, body, is_class in owners:
        for node in _functions(body):
            where = f"{getattr(owner, '__name__', owner)}.{node.name}"
            assert hasattr(owner, node.name), f"{where} is not in the package"
            runtime = getattr(owner, node.name)
            if is_class and isinstance(inspect.getattr_static(owner, node.name), property):
                assert _is_property(node), f"{where} is a property"
                continue
            assert not _is_property(node), f"{where} is not a property"
            is_async = isinstance(node, ast.AsyncFunctionDef)
            assert inspect.iscoroutinefunction(runtime) == is_async, where
            stub_params = [arg.arg for arg in node.args.args]
            if is_class and not inspect.ismethod(runtime):
                pass  # plain function in the class body: `self` is in both lists
            elif is_class:
                stub_params = stub_params[1:]  # a classmethod: `cls` is bound
            runtime_params = [
                p.name
                for p in inspect.signature(runtime).parameters.values()
                if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            ]
            assert stub_params == runtime_params, where


def test_the_one_native_library_sits_next_to_the_generated_module():
    """As in the wheel: `_ffi/` holds the generated module and the only copy of the library."""
    package = Path(mmc.__file__).parent
    generated = Path(_ffi.__file__).parent
    assert generated == package / "_ffi"
    libraries = [
        path
        for path in package.rglob("*")
        if path.suffix in {".so", ".dylib", ".dll"} or ".so." in path.name
    ]
    assert [path.parent for path in libraries] == [generated], libraries


#: The FFI benchmark's no-ops (`core/src/ffi/diagnostics.rs`), which only a core
#: built with the cargo feature `diagnostics` exports (`cargo xtask bench ffi`).
DIAGNOSTIC_NOOPS = (
    "noop_sync",
    "noop_async",
    "noop_async_bare",
    "noop_async_inline",
    "noop_async_spawn",
)


def test_the_library_exports_none_of_the_benchmarks_no_ops():
    """The library under test is built as shipped, without `diagnostics`: neither the
    bindings nor the library's dynamic symbols have a no-op, and one exported
    function's symbols are found the same way, so the look-up itself works."""
    assert [name for name in dir(_ffi) if "noop" in name] == []
    assert "noop" not in Path(_ffi.__file__).read_text()
    folder = Path(_ffi.__file__).parent
    (library,) = [path for path in folder.iterdir() if path.name.startswith("libmatrix_mobile_core.")]
    native = ctypes.CDLL(str(library))
    prefix = "uniffi_matrix_mobile_core_"
    assert hasattr(native, f"{prefix}fn_func_runtime_stats")
    assert hasattr(native, f"{prefix}checksum_func_runtime_stats")
    for name in DIAGNOSTIC_NOOPS:
        for symbol in (f"{prefix}fn_func_{name}", f"{prefix}checksum_func_{name}"):
            assert not hasattr(native, symbol), f"{library.name} exports {symbol}"
