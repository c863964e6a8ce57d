"""pdoc's command line, with the arguments given, and one change: finding
where a class is defined walks the module's syntax tree once per module,
not once per class.

Python before 3.13 (`inspect.findsource`) parses the whole module and walks
all of it for every class it looks up; 3.13 reads the class's
`__firstlineno__` instead. The generated bindings hold hundreds of classes
in one module, so pdoc spent over a minute there. The answers are the same:
the first class of that qualified name in the walk's order, at its first
decorator's line."""

import ast
import functools
import inspect
import sys
import types

from pdoc.__main__ import cli


@functools.lru_cache(maxsize=16)
def _parse(source, *args, **kwargs):
    return ast.parse(source, *args, **kwargs)


_ast = types.ModuleType("ast")
_ast.__dict__.update(ast.__dict__)
_ast.parse = _parse
inspect.ast = _ast

# id of a tree -> (the tree, kept so that its id is not reused; its classes'
# qualified names -> their first line, counted from 0)
_class_lines = {}


def _walk(node, scope, lines):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _walk(child, scope + [child.name, "<locals>"], lines)
        elif isinstance(child, ast.ClassDef):
            first = child.decorator_list[0].lineno if child.decorator_list else child.lineno
            lines.setdefault(".".join(scope + [child.name]), first - 1)
            _walk(child, scope + [child.name], lines)
        else:
            _walk(child, scope, lines)


class _ClassFinder:
    def __init__(self, qualname):
        self.qualname = qualname

    def visit(self, tree):
        known = _class_lines.get(id(tree))
        if known is None:
            known = (tree, {})
            _walk(tree, [], known[1])
            _class_lines[id(tree)] = known
        line = known[1].get(self.qualname)
        if line is not None:
            raise inspect.ClassFoundException(line)


inspect._ClassFinder = _ClassFinder

sys.argv[0] = "pdoc"
cli()
