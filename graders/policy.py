"""Policy checks done by reading the submission, never by running it: which modules it imports.

>>> imported_modules_of_source("import torch.nn as nn\\nfrom reference import Linear")
['reference', 'torch']
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

AUTODIFF = ("torch", "tensorflow", "jax", "autograd", "keras")
KIT = ("reference", "conformance", "fixtures", "graders", "tests")


def _code_cells(path: Path) -> list[str]:
    if path.suffix != ".ipynb":
        return [path.read_text(errors="replace")]
    nb = json.loads(path.read_text(errors="replace"))
    cells = nb.get("cells") or [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    out = []
    for cell in cells:
        if cell.get("cell_type") == "code":
            src = cell.get("source", cell.get("input", ""))
            out.append("".join(src) if isinstance(src, list) else str(src))
    return out


# Flags for imports whose module name is computed at run time, so that reading the source cannot
# tell what they load. They are reported (record "imports", feedback), never zeroed by the shipped
# rubrics: importlib has harmless uses. A rubric may still zero one by naming the flag under
# [policy.zero], e.g. "dynamic import (__import__ with a computed name)" = ["*"].
DYNAMIC = {"__import__": "dynamic import (__import__ with a computed name)",
           "import_module": "dynamic import (importlib.import_module with a computed name)"}
DYNAMIC_CODE = "dynamic code (exec or eval with a computed string)"
_IMPORTERS = {"__import__", "import_module"}  # builtins.__import__, importlib.import_module/__import__
_RUNNERS = {"exec", "eval"}


def imported_modules_of_source(source: str) -> list[str]:
    """Top-level modules imported by statements, by ``__import__``/``importlib.import_module``
    with a constant name (``"tor" + "ch"`` counts as ``"torch"``), and by ``exec``/``eval`` of a
    constant string; such a call with a name computed at run time gives a ``DYNAMIC`` or
    ``DYNAMIC_CODE`` flag instead.

    >>> imported_modules_of_source("m = __import__('tor' + 'ch')\\nimportlib.import_module(name)")
    ['dynamic import (importlib.import_module with a computed name)', 'torch']
    """
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError):  # code Python cannot compile never runs
        return []
    aliases = {a.asname or a.name: a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for a in node.names if node.module in ("importlib", "builtins") and a.name in _IMPORTERS}
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call):
            names.update(_dynamic_imports(node, aliases))
    return sorted(names)


def _callee(func: ast.expr, aliases: dict[str, str]) -> str | None:
    """Which importer or runner a call's function is: ``__import__`` (``builtins.__import__``,
    ``importlib.__import__`` too), ``import_module`` (as ``importlib.import_module``, any
    ``x.import_module`` or a name imported from importlib), ``exec``/``eval`` (the builtins
    only: ``model.eval()`` is not one), else None."""
    if isinstance(func, ast.Attribute):
        builtin = isinstance(func.value, ast.Name) and func.value.id == "builtins"
        return func.attr if func.attr in _IMPORTERS or builtin and func.attr in _RUNNERS else None
    if isinstance(func, ast.Name):
        name = aliases.get(func.id, func.id)
        return name if name in ("__import__", *_RUNNERS) or func.id in aliases else None
    return None


def _dynamic_imports(call: ast.Call, aliases: dict[str, str]) -> set[str]:
    callee = _callee(call.func, aliases)
    first = _argument(call, 0, ("name", "source"))
    if callee is None or not (call.args or call.keywords):
        return set()  # not an importer, or a call that fails anyway
    try:
        text = _constant_string(first)
    except RecursionError:  # "a" + "a" + ... a thousand deep: count it as computed
        text = None
    if callee in _RUNNERS:
        return set(imported_modules_of_source(text)) if text is not None else {DYNAMIC_CODE}
    if text is not None and text.startswith("."):  # import_module(".nn", package="torch")
        text = _constant_string(_argument(call, 1, ("package",)))
    return {text.split(".")[0]} if text else {DYNAMIC[callee]}


def _argument(call: ast.Call, position: int, keywords: tuple[str, ...]) -> ast.expr | None:
    if len(call.args) > position and not any(isinstance(a, ast.Starred) for a in call.args[:position + 1]):
        return call.args[position]  # after a *args the position is unknown: None, a computed name
    return next((k.value for k in call.keywords if k.arg in keywords), None)


def _constant_string(node: ast.AST | None) -> str | None:
    """The value of a string expression built only from literals ("tor" + "ch", f"{'tor'}ch"), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _constant_string(node.left), _constant_string(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr):
        parts = [_constant_string(v.value if isinstance(v, ast.FormattedValue) and v.conversion == -1
                                  and v.format_spec is None else v) for v in node.values]
        return "".join(parts) if all(p is not None for p in parts) else None
    return None


def flagged_imports(path: str | Path, watched: tuple[str, ...] = AUTODIFF + KIT) -> list[str]:
    """The watched top-level modules a submission imports anywhere (in any cell or function), by
    statement or by a dynamic import with a constant name, plus the flags of dynamic imports whose
    name is computed (``DYNAMIC``, ``DYNAMIC_CODE``): those are always reported, whatever ``watched``."""
    try:
        cells = _code_cells(Path(path))
    except (OSError, ValueError, AttributeError, TypeError):
        return []
    found = {name for src in cells for name in imported_modules_of_source(src)}
    flags = set(DYNAMIC.values()) | {DYNAMIC_CODE}
    return sorted(found & (set(watched) | flags))
