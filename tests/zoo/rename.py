"""Strip a zoo shape of its telling names, so discovery has to go by behaviour alone.

``rename_source(text)`` rewrites a student file (``ast`` in, ``ast.unparse`` out):

* every class and function defined at the top of the file (also inside a top-level ``if`` or
  ``try``, and a name bound at the top to a ``lambda``) becomes ``Zq1``, ``Zq2``... in the order
  the definitions appear, at its definition and at every reference (calls, ``isinstance``,
  ``super(Cls, self)``, dict values...);
* every attribute name the file assigns on an object (``self.W = ...``, ``layer.dW += ...``,
  ``self.a, self.b = ...``, ``for self.i in ...``) becomes ``q1``, ``q2``... in the order of its first
  assignment, at every read and write of that attribute, and where a class body assigns the same
  name (``weights = None`` at class level).

Kept as they are, because the caller or Python relies on them:

* method names (any function defined in a class body: ``forward``, ``backward``, ``__call__``,
  ``derivative``...), so an attribute that shares a name with a method is kept too;
* dunders, parameter names (and so keyword arguments at call sites), string literals and dict
  keys (``params['W']`` stays), names imported by the file, module-level constants;
* functions and classes nested inside a function (``def tanh`` inside ``__init__``), and any
  top-level name where a parameter, a local assignment or a nested ``def`` shadows it;
* attribute names that numpy or Python already uses for something, so a student attribute of
  that name could be confused with it: the attributes of ``numpy``, ``numpy.random``,
  ``numpy.linalg``, ``numpy.ndarray``, ``numpy.random.Generator`` and of the builtin containers
  (``shape``, ``T``, ``size``, ``dtype``, ``sum``, ``copy``, ``random``, ``items``, ``append``...).
  In particular ``.data`` is kept (``ndarray.data`` exists) while ``.grad`` is renamed: a student
  ``Parameter`` keeps ``p.data`` and gets ``p.q7``.

Docstrings (module, class and function) are dropped: they are comments in string form, and
would say in words what the renaming hides. Every other string literal is kept.

Code that reaches attributes through strings (``getattr(self, "W")``) would break; no zoo shape
does.

>>> print(rename_source("class Linear:\\n    def forward(self, x):\\n        self.W = x\\n        return self.W.T"), end="")
class Zq1:
<BLANKLINE>
    def forward(self, x):
        self.q1 = x
        return self.q1.T
"""
from __future__ import annotations

import ast
import builtins

import numpy as np

_CONTAINERS = (list, dict, set, tuple, str, bytes, int, float, object, type)
KEEP_ATTRS = frozenset().union(
    dir(np), dir(np.random), dir(np.linalg), dir(np.ndarray), dir(np.random.Generator),
    *(dir(t) for t in _CONTAINERS))


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _in_source_order(node: ast.AST):
    """Every node of the tree, depth first in field order (roughly the order of the source)."""
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _in_source_order(child)


def _top_level_defs(tree: ast.Module) -> list[str]:
    """Names of the classes and functions defined at module level, in order."""
    names: list[str] = []

    def scan(body):
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(stmt.name)
            elif (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Lambda)
                  and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
                names.append(stmt.targets[0].id)
            elif isinstance(stmt, ast.If):
                scan(stmt.body)
                scan(stmt.orelse)
            elif isinstance(stmt, ast.Try):
                scan(stmt.body)
                for handler in stmt.handlers:
                    scan(handler.body)
                scan(stmt.orelse)
                scan(stmt.finalbody)

    scan(tree.body)
    return names


def _imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
    return names


def _method_names(tree: ast.Module) -> set[str]:
    return {item.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
            for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _local_names(fn) -> set[str]:
    """Names a function (or lambda, or comprehension) binds itself: parameters, assigned names,
    nested defs and classes, minus the ones it declares global."""
    names, declared_global = set(), set()
    if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = fn.args
        for arg in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg):
            if arg is not None:
                names.add(arg.arg)
        body = fn.body if isinstance(fn.body, list) else [fn.body]
    else:  # a comprehension: its loop targets
        body = []
        for gen in fn.generators:
            names.update(n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name))

    def scan(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(child.name)
                continue  # its own scope
            if isinstance(child, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                continue
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                names.add(child.id)
            elif isinstance(child, ast.Global):
                declared_global.update(child.names)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                names.update((al.asname or al.name).split(".")[0] for al in child.names)
            scan(child)

    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Name) and isinstance(stmt.ctx, ast.Store):
            names.add(stmt.id)
        else:
            scan(stmt)
    return names - declared_global


def plan(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """(top-level name -> Zq<n>, attribute name -> q<n>) that ``rename_source`` applies."""
    tree = ast.parse(text)
    keep_names = _imported(tree) | set(dir(builtins))
    defs = [n for n in dict.fromkeys(_top_level_defs(tree)) if not _dunder(n) and n not in keep_names]
    funcs = {name: f"Zq{i}" for i, name in enumerate(defs, 1)}
    keep_attrs = KEEP_ATTRS | _method_names(tree)
    attrs: dict[str, str] = {}
    for node in _in_source_order(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and not _dunder(node.attr)
                and node.attr not in keep_attrs and node.attr not in attrs):
            attrs[node.attr] = f"q{len(attrs) + 1}"
    return funcs, attrs


class _Renamer(ast.NodeTransformer):
    def __init__(self, funcs: dict[str, str], attrs: dict[str, str]):
        self.funcs, self.attrs = funcs, attrs
        self.scopes: list[set[str]] = []  # local names of the enclosing functions/comprehensions
        self.depth = 0  # 0 at module level (also inside top-level if/try)

    def _shadowed(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def _function(self, node):
        if self.depth == 0 and node.name in self.funcs:
            node.name = self.funcs[node.name]
        # decorators, defaults and annotations are evaluated in the enclosing scope
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.args = self.visit(node.args)
        if node.returns is not None:
            node.returns = self.visit(node.returns)
        self.depth += 1
        self.scopes.append(_local_names(node))
        node.body = [self.visit(stmt) for stmt in node.body]
        self.scopes.pop()
        self.depth -= 1
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node):
        if self.depth == 0 and node.name in self.funcs:
            node.name = self.funcs[node.name]
        for field in ("bases", "keywords", "decorator_list"):
            setattr(node, field, [self.visit(v) for v in getattr(node, field)])
        self.depth += 1
        body = []
        for stmt in node.body:
            # class-level assignments to a renamed attribute name (weights = None) follow it
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    for n in ast.walk(target):
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id in self.attrs:
                            n.id = self.attrs[n.id]
            body.append(self.visit(stmt))
        node.body = body
        self.depth -= 1
        return node

    def _scoped(self, node):
        self.scopes.append(_local_names(node))
        self.generic_visit(node)
        self.scopes.pop()
        return node

    visit_Lambda = visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _scoped

    def visit_Name(self, node):
        if node.id in self.funcs and not self._shadowed(node.id):
            node.id = self.funcs[node.id]
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if node.attr in self.attrs:
            node.attr = self.attrs[node.attr]
        return node


def _drop_docstrings(tree: ast.Module) -> None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]


def rename_source(text: str) -> str:
    """``text`` with its top-level classes/functions and its assigned attributes renamed."""
    funcs, attrs = plan(text)
    tree = ast.parse(text)
    _drop_docstrings(tree)
    tree = _Renamer(funcs, attrs).visit(tree)
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n"
