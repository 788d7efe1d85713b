"""Load a student's implementation into one namespace, whatever shape it was handed in.

``load_impl(spec)`` accepts:

* ``"reference"``             the kit's own reference package (canonical style);
* an importable module name   e.g. ``mypkg`` or ``mypkg.nn`` (imported as it is: its top level runs);
* a path to a ``.py`` file    its definitions read as a notebook's are (below);
* a path to a package folder  every module read the same way, and the public names of every module
                               merged, so that ``src/models.py`` + ``src/activations.py`` read as one
                               namespace (a folder with no .py file and one notebook: that notebook);
* a path to an ``.ipynb``     the same, cell by cell.

What is kept of a file or notebook (top-level statements only):

* ``import`` / ``from ... import``; one that fails (tqdm, matplotlib, a course helper that was not
  handed in, ``google.colab``) is dropped and listed, never fatal, and each name it would have
  bound holds an ``Unavailable`` placeholder that raises ``ImportUnavailable`` only when used;
* ``def`` / ``async def`` / ``class`` (a definition that raises when executed is dropped and listed);
* constant assignments: every target a plain name, the value built only from literals, names
  kept earlier (constants, imports, definitions), attributes of those (``DTYPE = np.float64``),
  lambdas, tuples/lists/sets/dicts of those, +, -, *, /, //, %, **, comparisons, ``and``/``or``
  and subscripts on them (``ACTIVATIONS = {"relu": (relu, relu_prime), "linear": (lambda z: z, ...)}``),
  and reads of the environment (``USE_GPU = os.getenv("USE_GPU", "0") == "1"``);
* bare string expressions (docstrings);
* ``try:`` blocks and ``if`` blocks whose condition calls nothing but ``os.getenv`` /
  ``os.environ.get``, with only the kept kinds of statement inside (``try: import cupy as cp`` /
  ``except ImportError: cp = None``: a backend switch runs); the other statements inside are
  dropped and listed (an emptied branch becomes ``pass``).

Everything else (calls such as ``np.random.seed(0)``, training loops, plots, prints, downloads,
``if __name__ == "__main__":`` blocks) is dropped and listed in ``LoadedImpl.dropped`` with its
file and line. Each name a dropped statement would have bound holds an ``Unavailable`` placeholder
in its module (``skipped``: not among the public names), so code using it later raises
``ImportUnavailable`` naming that statement, never a NameError the student would be blamed for.
In a notebook, lines starting with ``%`` or ``!`` (IPython magics and shell escapes) are removed
first; a cell opening with a ``%%`` cell magic other than ``%%time``/``%%timeit``/``%%capture`` is
dropped whole; a cell with a syntax error is dropped and
the other cells still load. A ``.py`` file with a syntax error is a ``LoadError`` naming the
line (in a package folder, that module is dropped and the others load).

Imports of the submission's own modules (``from layers import Dense``, ``import activations as
act``, ``from .layers import Dense``, ``from mypkg.layers import Dense`` inside ``mypkg/``) reach
the files beside it, read with the same filter under a private package name (``_SourceTree``),
so two submissions never share a module and nothing of the student's shadows the kit.

>>> impl = load_impl("tests/impls/layer_dicts.ipynb")          # doctest: +SKIP
>>> impl.defined[:3], [(d.cell, d.line, d.kind) for d in impl.dropped][:2]  # doctest: +SKIP
"""
from __future__ import annotations

import __future__ as future_features
import ast
import builtins
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import itertools
import json
import linecache
import os
import pkgutil
import sys
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

_counter = itertools.count()
_PASS_THROUGH_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")
KIT_PACKAGES = {"conformance", "reference", "fixtures", "graders", "tests"}  # the kit's own code and answer key
_PROTECTED = KIT_PACKAGES | {"numpy", "pytest", "nbformat", "hypothesis"}
# Student code is compiled with annotations left unevaluated (as it always was here: compile()
# used to inherit this module's own future import), so a forward reference or a type from a
# package that is not installed never stops a definition from loading.
_COMPILE_FLAGS = future_features.annotations.compiler_flag


class LoadError(Exception):
    """The implementation cannot be loaded; the message is one sentence saying what to do."""


class ImportUnavailable(Exception):
    """Code of the submission used a name whose import failed while loading (see ``Unavailable``).
    ``module``: the top-level module that import named ("" for a relative import).
    ``skipped``: the name is missing because the kit did not run the statement that binds it (a
    top-level call, a block whose condition runs code), not because an import failed."""

    module: str = ""
    skipped: bool = False


class UnavailableName(ImportUnavailable):
    """A placeholder was called, iterated, converted, used as a base class, ..."""


class UnavailableAttribute(UnavailableName, AttributeError):
    """An attribute of a placeholder was read. Also an AttributeError, so that ``hasattr`` and
    ``getattr(obj, name, default)`` (how the adapters, ``inspect``, ``copy`` and numpy probe an
    object) find nothing there instead of failing."""


@dataclass
class Dropped:
    """One statement (or line, cell or file) of the submission that was not executed."""

    cell: int | None  # index of the code cell (0-based, counting code cells only); None in a .py file
    line: int  # line inside the cell or file (1-based)
    kind: str  # "magic" | "statement" | "syntax_error" | "import_failed" | "definition_failed"
    text: str  # first line of the dropped source
    reason: str
    file: str | None = None  # the notebook or .py file, relative to the folder passed ("src/layers.py")


@dataclass
class LoadedImpl:
    namespace: dict[str, Any]
    origin: str
    kind: str  # "module" | "file" | "package" | "notebook" | "reference" | "namespace"
    dropped: list[Dropped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Public names of the classes and functions the submission's own code created (not ones it
    # imported from numpy or elsewhere), each object once under its first name, in source order.
    defined: list[str] = field(default_factory=list)


def load_impl(spec) -> LoadedImpl:
    """Load ``spec`` (see the module docstring) and return its namespace and what was dropped.
    A namespace already built (a dict such as a notebook's ``globals()``, or a module object) is
    taken as it is: see ``load_namespace``."""
    if isinstance(spec, (dict, types.ModuleType)):
        return load_namespace(spec)
    spec = str(spec)
    if spec == "reference":
        return _load_package_by_name("reference", origin="reference", kind="reference")
    path = Path(spec)
    if path.suffix == ".ipynb":
        return _load_notebook(path)
    if path.suffix == ".py":
        return _load_file(path)
    if path.is_dir():
        notebooks = sorted(path.glob("*.ipynb"))
        if notebooks and not any(path.glob("*.py")):  # a student's folder holding their notebook
            if len(notebooks) > 1:
                raise LoadError(f"{path} holds {len(notebooks)} notebooks and no .py file: pass the notebook to check.")
            return _load_notebook(notebooks[0])
        return _load_package_dir(path)
    if path.exists():
        raise LoadError(f"{spec} is neither a .py file, a package folder nor a notebook: pass one of those.")
    if "/" in spec or "\\" in spec:
        raise LoadError(f"{spec} does not exist: check the path passed to --impl.")
    return _load_module(spec)


# --- importable modules and the reference (imported as they are) ---------------------------


def _public(module: types.ModuleType) -> dict[str, Any]:
    """A module's public names, without the placeholders of statements the kit did not run (those
    stay in the module, for its own code to say so when it uses one)."""
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    return {n: getattr(module, n) for n in names if hasattr(module, n) and not _skipped(getattr(module, n))}


def _owned_by(package: str) -> Callable[[str], bool]:
    """Whether a ``__module__`` is ``package`` or one of its submodules."""
    return lambda module: module == package or module.startswith(package + ".")


def _defined(namespace: dict[str, Any], owns: Callable[[str], bool]) -> list[str]:
    """``LoadedImpl.defined``: the namespace's classes and functions whose module ``owns`` says is
    the submission's, each object once (an alias ``Dense = Linear`` adds nothing), in order.

    >>> import reference
    >>> _defined({"np_mean": __import__("numpy").mean, "Linear": reference.Linear,
    ...           "Dense": reference.Linear}, _owned_by("reference"))
    ['Linear']
    """
    names, seen = [], set()
    for name, value in namespace.items():
        if not (inspect.isclass(value) or inspect.isfunction(value)) or id(value) in seen:
            continue
        if owns(getattr(value, "__module__", None) or ""):
            seen.add(id(value))
            names.append(name)
    return names


def _load_module(name: str) -> LoadedImpl:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.split(".")[0] == exc.name.split(".")[0]:
            raise LoadError(
                f"no module named {name!r} can be imported: pass a path to a .py file, a package "
                "folder or a notebook, or install your module."
            ) from None
        raise LoadError(f"module {name!r} failed to import ({exc}): install {exc.name!r} or remove that import.") from None
    except Exception as exc:
        raise LoadError(f"module {name!r} raised {type(exc).__name__}: {exc} while being imported: pass the path "
                        "of its file to --impl instead, so that only its definitions are run.") from None
    if hasattr(module, "__path__"):
        return _load_package_by_name(name, origin=name, kind="module")
    namespace = dict(_public(module))
    return LoadedImpl(namespace, origin=name, kind="module", defined=_defined(namespace, _owned_by(name.split(".")[0])))


# Names IPython and the interpreter put in a notebook's globals: never the student's code.
SESSION_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}


def _student_module(owner: str) -> Callable[[str], bool]:
    """Whether a ``__module__`` is the student's: ``owner`` (``__main__`` in a notebook), or a
    module of theirs imported from a file outside the Python install and the kit."""
    import sysconfig

    installed = [Path(p).resolve() for p in {sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")}]

    def owns(module: str) -> bool:
        if module == owner:
            return True
        if module.split(".")[0] in _PROTECTED | {"backprop_kit"}:
            return False
        file = getattr(sys.modules.get(module), "__file__", None)
        if not file:
            return False
        path = Path(file).resolve()
        return not any(path.is_relative_to(root) for root in installed)

    return owns


def load_namespace(namespace, origin: str | None = None) -> LoadedImpl:
    """A namespace already built, as it is: nothing is executed or dropped.

    ``namespace`` is a dict (a notebook's or a script's ``globals()``, which is what
    ``backprop_kit.check()`` passes) or a module object. Private names (``_``, ``_i3``) and the
    names IPython adds (``In``, ``Out``, ``get_ipython``) are left out; ``defined`` lists the
    classes and functions of the namespace's own module (``__main__`` in a notebook) and of the
    student's modules it imported from files outside the Python install.

    >>> impl = load_namespace({"__name__": "__main__", "np": __import__("numpy")})
    >>> impl.kind, impl.defined
    ('namespace', [])
    """
    if isinstance(namespace, types.ModuleType):
        namespace = vars(namespace)
    owner = namespace.get("__name__") or "__main__"
    public = {k: v for k, v in namespace.items() if not k.startswith("_") and k not in SESSION_NAMES}
    return LoadedImpl(public, origin=origin or owner, kind="namespace", defined=_defined(public, _student_module(owner)))


def _load_package_by_name(name: str, origin: str, kind: str) -> LoadedImpl:
    try:
        package = importlib.import_module(name)
    except Exception as exc:
        raise LoadError(f"{origin} failed to import ({type(exc).__name__}: {exc}): fix its __init__.py or its imports.") from None
    namespace: dict[str, Any] = {}
    notes: list[str] = []
    def skipped(sub):
        notes.append(f"subpackage {sub} was skipped: it failed to import")

    for info in pkgutil.walk_packages(getattr(package, "__path__", []), prefix=name + ".", onerror=skipped):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue  # private modules and __main__ (importing that would run a command line)
        try:
            sub = importlib.import_module(info.name)
        except Exception as exc:
            notes.append(f"submodule {info.name} was skipped: it failed to import ({type(exc).__name__}: {exc})")
            continue
        for key, value in _public(sub).items():
            if not isinstance(value, types.ModuleType):
                namespace.setdefault(key, value)
    namespace.update({k: v for k, v in _public(package).items() if not isinstance(v, types.ModuleType)})
    if not namespace:
        raise LoadError(f"{origin} defines nothing importable: put your classes in its modules or __init__.py.")
    return LoadedImpl(namespace, origin=origin, kind=kind, notes=notes,
                      defined=_defined(namespace, _owned_by(name.split(".")[0])))


# --- placeholders for imports that failed ----------------------------------------------------


class Unavailable:
    """Stands for a name whose import failed while loading: any use raises ``UnavailableName``,
    reading an attribute ``UnavailableAttribute``; naming it (repr, ``is``, a dict key) is fine.

    >>> tqdm = Unavailable("tqdm", "the import `from tqdm import tqdm` failed: ModuleNotFoundError")
    >>> tqdm(range(3))
    Traceback (most recent call last):
    conformance.loader.UnavailableName: tqdm is not available while grading (the import `from tqdm import tqdm` failed: ModuleNotFoundError)
    >>> getattr(tqdm, "write", None) is None
    True
    """

    __slots__ = ("_name", "_why", "_module", "_skipped")

    def __init__(self, name: str, why: str, module: str = "", skipped: bool = False):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_why", why)
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_skipped", skipped)

    def _raise(self, error: type, text: str):
        exc = error(text)
        exc.module, exc.skipped = self._module, self._skipped
        raise exc

    def _refuse(self, *args, **kwargs):
        self._raise(UnavailableName, f"{self._name} is not available while grading ({self._why})")

    def __getattr__(self, attr: str):
        self._raise(UnavailableAttribute, f"{self._name}.{attr} is not available while grading ({self._why})")

    def __repr__(self) -> str:
        return f"<unavailable {self._name}: {self._why}>"

    def __reduce__(self):  # copies and pickles stay placeholders
        return Unavailable, (self._name, self._why, self._module, self._skipped)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def _skipped(value) -> bool:
    """A placeholder for a name a statement the kit did not run would have bound."""
    return isinstance(value, Unavailable) and object.__getattribute__(value, "_skipped")


# Every other way of using an object; __getattr__ is never consulted for these.
for _use in ("call", "iter", "next", "len", "getitem", "setitem", "delitem", "contains", "bool", "enter", "exit",
             "setattr", "delattr", "mro_entries", "instancecheck", "subclasscheck", "array", "index", "int", "float",
             "complex", "neg", "pos", "abs", "invert", "lt", "le", "gt", "ge",
             *(f"{r}{op}" for op in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow")
               for r in ("", "r"))):
    setattr(Unavailable, f"__{_use}__", Unavailable._refuse)
del _use


def _bound_names(stmt: ast.Import | ast.ImportFrom) -> list[str]:
    """The names an import binds: ``import a.b`` binds ``a``; ``from m import x as y`` binds ``y``."""
    return [(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"]


def _free_names(tree: ast.AST) -> set[str]:
    """Names the code reads but never binds itself (nor are they builtins): what a failed
    ``from helper import *`` would have had to provide."""
    import builtins

    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update(_bound_names(node))
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return loaded - bound - set(dir(builtins))


def _bind_placeholders(stmt: ast.Import | ast.ImportFrom, reason: str, namespace: dict[str, Any],
                       tree: ast.AST | None = None) -> None:
    """Placeholders for what a failed import would have bound; for ``from m import *``, every name
    the rest of the code reads and never binds (``np`` from a course helper's star import)."""
    why = f"the import `{ast.unparse(stmt)}` failed: {reason}"
    star = any(a.name == "*" for a in stmt.names) and tree is not None
    module = (stmt.module or "").split(".")[0] if isinstance(stmt, ast.ImportFrom) and not stmt.level else \
        stmt.names[0].name.split(".")[0] if isinstance(stmt, ast.Import) else ""
    for name in _bound_names(stmt) + (sorted(_free_names(tree)) if star else []):
        if name not in namespace:  # as in Python, a name bound before (or by `from m import a, b` up to b) keeps its value
            namespace[name] = Unavailable(name, why, module)


# --- the keep-definitions filter, shared by notebooks, files and package modules -----------------


_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub, ast.UAdd)


# Reading the environment runs none of the student's code: a backend switch such as
# ``USE_GPU = os.getenv("USE_GPU", "0") == "1"`` or ``if os.environ.get("COLAB"): ...`` is kept.
_ENV_READS = {"os.getenv", "os.environ.get"}
_STRING_METHODS = {"lower", "upper", "strip", "casefold"}  # os.getenv("GPU", "").lower() == "true"


def _origin(node: ast.AST, modules: dict[str, str]) -> str | None:
    """``os.environ.get`` for ``os.environ.get`` (``import os``) or ``environ.get`` (``from os
    import environ``): the dotted name a call reaches through the imports kept so far."""
    if isinstance(node, ast.Name):
        return modules.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _origin(node.value, modules)
        return f"{base}.{node.attr}" if base else None
    return None


def _reads_environment(node: ast.Call, known: set[str], modules: dict[str, str]) -> bool:
    """``os.getenv(...)``, ``os.environ.get(...)`` with constant arguments, or a string method
    (``.lower()``) of one."""
    args = [*node.args, *(k.value for k in node.keywords)]
    if not all(_is_constant(a, known, modules) for a in args):
        return False
    if _origin(node.func, modules) in _ENV_READS:
        return True
    return (isinstance(node.func, ast.Attribute) and node.func.attr in _STRING_METHODS and not args
            and isinstance(node.func.value, ast.Call) and _reads_environment(node.func.value, known, modules))


def _is_constant(node: ast.AST, known: set[str], modules: dict[str, str] | None = None) -> bool:
    """Built only from literals, names kept earlier, attributes of those and lambdas (a lambda
    defines a function, it runs nothing), comparisons and ``and``/``or`` of those, with no calls
    but reads of the environment (``os.getenv``, ``os.environ.get``)."""
    modules = modules or {}
    if isinstance(node, (ast.Constant, ast.Lambda)):
        return True
    if isinstance(node, ast.Name):
        return node.id in known
    if isinstance(node, ast.Attribute):
        return _is_constant(node.value, known, modules)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_constant(e, known, modules) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_constant(k, known, modules) for k in node.keys) and all(
            _is_constant(v, known, modules) for v in node.values
        )
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, _ARITHMETIC) and _is_constant(node.left, known, modules) and \
            _is_constant(node.right, known, modules)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (*_ARITHMETIC, ast.Not)) and _is_constant(node.operand, known, modules)
    if isinstance(node, ast.Compare):
        return all(_is_constant(e, known, modules) for e in (node.left, *node.comparators))
    if isinstance(node, ast.BoolOp):
        return all(_is_constant(e, known, modules) for e in node.values)
    if isinstance(node, ast.IfExp):
        return all(_is_constant(e, known, modules) for e in (node.test, node.body, node.orelse))
    if isinstance(node, ast.Subscript):  # os.environ["USE_GPU"], CONFIG["lr"]
        return _is_constant(node.value, known, modules) and _is_constant(node.slice, known, modules)
    if isinstance(node, ast.Call):
        return _reads_environment(node, known, modules)
    return False


def _target_names(target: ast.AST) -> list[str] | None:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        names = [_target_names(e) for e in target.elts]
        return None if any(n is None for n in names) else [x for n in names for x in n]
    return None


def _is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = {ast.dump(test.left), ast.dump(test.comparators[0])}
    return sides == {ast.dump(ast.Name("__name__", ast.Load())), ast.dump(ast.Constant("__main__"))}


_INERT = {"docstring", "pass"}  # kept, but a block holding only these is not worth running


def _calls_nothing(node: ast.AST, known: set[str], modules: dict[str, str]) -> bool:
    """No call in ``node`` but reads of the environment (``if os.environ.get("COLAB"):``)."""
    return not any(isinstance(n, (ast.Lambda, ast.NamedExpr, ast.Await)) or (
        isinstance(n, ast.Call) and not _reads_environment(n, known, modules)) for n in ast.walk(node))


def _imported_origins(stmt: ast.Import | ast.ImportFrom) -> dict[str, str]:
    """What each name an import binds stands for: ``import os`` -> {"os": "os"}, ``from os import
    environ as env`` -> {"env": "os.environ"} (``_origin`` reads calls through these)."""
    if isinstance(stmt, ast.Import):
        return {(a.asname or a.name).split(".")[0]: a.name if a.asname else a.name.split(".")[0] for a in stmt.names}
    if stmt.level:
        return {}
    return {a.asname or a.name: f"{stmt.module}.{a.name}" for a in stmt.names if a.name != "*"}


def _assigned_names(node: ast.AST) -> list[str]:
    r"""The module-level names a statement would have bound (assignments, imports, definitions,
    loop and ``with`` targets, in its blocks too; not the locals of a function it defines): what
    is missing when the statement is not run.

    >>> _assigned_names(ast.parse("if GPU:\n    import cupy as xp\nelse:\n    xp = np\n    def f(): y = 1").body[0])
    ['xp', 'f']
    """
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return _bound_names(node)
    if isinstance(node, ast.Name):
        return [node.id] if isinstance(node.ctx, ast.Store) else []
    if isinstance(node, ast.Lambda):
        return []
    names = [n for child in ast.iter_child_nodes(node) for n in _assigned_names(child)]
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class _Where:
    """Where a piece of source comes from: ``file`` as ``Dropped`` names it, ``filename`` as
    tracebacks do (the real path, so that linecache and the student's editor find it)."""

    file: str
    filename: str
    cell: int | None = None


class _Extractor:
    """Decides, statement by statement, what of one cell or file is kept; records what is dropped."""

    def __init__(self, where: _Where, lines: list[str], known: set[str], dropped: list[Dropped],
                 modules: dict[str, str] | None = None):
        self.where, self.lines, self.known, self.dropped = where, lines, known, dropped
        self.modules = {} if modules is None else modules  # name -> what a kept import bound ("os.environ")
        self.unbound: list[tuple[Dropped, list[str]]] = []  # each statement not run, with the names it binds

    def drop(self, stmt: ast.stmt, reason: str, kind: str = "statement") -> None:
        text = self.lines[stmt.lineno - 1].strip()
        self.dropped.append(Dropped(self.where.cell, stmt.lineno, kind, text, reason, self.where.file))
        self.unbound.append((self.dropped[-1], _assigned_names(stmt)))

    def keep(self, stmt: ast.stmt) -> tuple[ast.stmt, str] | None:
        """(statement to run, kind) or None when it is dropped (and listed).

        kind: 'import' | 'definition' | 'constant' | 'docstring' | 'pass' | 'block' | 'block_with_definition'."""
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            self.known.update(_bound_names(stmt))
            self.modules.update(_imported_origins(stmt))
            return stmt, "import"
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.known.add(stmt.name)
            self.modules.pop(stmt.name, None)
            return stmt, "definition"
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            return stmt, "docstring"
        if isinstance(stmt, ast.Pass):
            return stmt, "pass"
        if isinstance(stmt, ast.Assign) and _is_constant(stmt.value, self.known, self.modules):
            names = [_target_names(t) for t in stmt.targets]
            if all(n is not None for n in names):
                self.known.update(x for n in names for x in n)
                for x in (x for n in names for x in n):
                    self.modules.pop(x, None)
                return stmt, "constant"
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            if _is_constant(stmt.value, self.known, self.modules):
                self.known.add(stmt.target.id)
                self.modules.pop(stmt.target.id, None)
                return stmt, "constant"
        if isinstance(stmt, ast.If):
            if _is_main_guard(stmt.test):
                self.drop(stmt, "script entry point: the kit calls your definitions itself")
                return None
            if not _calls_nothing(stmt.test, self.known, self.modules):
                self.drop(stmt, "the condition runs code, so the whole if block was skipped")
                return None
            return self._block(stmt, ("body", "orelse"))
        if isinstance(stmt, ast.Try):
            return self._block(stmt, ("body", "orelse", "finalbody"), handlers=True)
        self.drop(stmt, "not a definition, import or constant")
        return None

    def _filter(self, body: list[ast.stmt]) -> tuple[list[ast.stmt], set[str]]:
        kept, kinds = [], set()
        for stmt in body:
            result = self.keep(stmt)
            if result is not None:
                kept.append(result[0])
                kinds.add(result[1])
        return kept, kinds

    def _block(self, stmt: ast.stmt, fields: tuple[str, ...], handlers: bool = False):
        """A copy of an if/try statement with only the kept statements inside; None (the whole
        statement dropped and listed as one) when its body keeps nothing worth running."""
        before, unbound_before = len(self.dropped), len(self.unbound)
        new, kinds = ast.copy_location(type(stmt)(**{f: getattr(stmt, f) for f in stmt._fields}), stmt), set()
        for name in fields:
            kept, found = self._filter(getattr(stmt, name))
            if name == "body" and handlers and found <= _INERT:
                kinds = set()  # a try whose body keeps nothing must not run its except branch
                break
            kinds |= found
            setattr(new, name, kept or ([ast.Pass()] if name == "body" else []))
        if handlers and kinds:
            new.handlers = []
            for handler in stmt.handlers:
                kept, found = self._filter(handler.body)
                kinds |= found
                new.handlers.append(ast.copy_location(
                    ast.ExceptHandler(handler.type, handler.name, kept or [ast.Pass()]), handler))
        if kinds <= _INERT:
            del self.dropped[before:], self.unbound[unbound_before:]
            self.drop(stmt, f"nothing inside this {type(stmt).__name__.lower()} block is a definition, import or constant")
            return None
        ast.fix_missing_locations(new)
        return new, "block_with_definition" if kinds & {"definition", "block_with_definition"} else "block"


def _as_is(text: str) -> str:
    return text


@dataclass
class _Reading:
    """What reading one module carries from statement to statement (in a notebook, cell to cell)."""

    namespace: dict[str, Any]
    dropped: list[Dropped]
    clean: Callable[[str], str] = _as_is  # takes the kit's private module names and folders out of messages
    known: set[str] = field(default_factory=set)  # names kept so far, for constant assignments
    modules: dict[str, str] = field(default_factory=dict)  # what kept imports bound ("os", "os.environ")
    defined_any: bool = False  # a def/class (or a block holding one) ran


def _bind_skipped(extractor: _Extractor, namespace: dict[str, Any], failures: dict[int, BaseException]) -> None:
    """Placeholders for the names a statement the kit did not run would have bound (``xp`` of a
    backend switch, ``lr = float(sys.argv[1])``), so that code using one later says the kit
    skipped that statement (file, line) instead of raising a NameError or failing an import that
    blames the student. A kept statement that failed only because it used such a placeholder passes
    the same on; any other failure (the student's own top-level code, a failed import) binds nothing."""
    for dropped, names in extractor.unbound:
        where = f"{dropped.file + ' ' if dropped.file else ''}{'cell %d ' % dropped.cell if dropped.cell is not None else ''}" \
                f"line {dropped.line} (`{dropped.text}`)"
        if dropped.kind == "statement":
            why, module, skipped = f"the kit did not run {where}: {dropped.reason}", "", True
        elif dropped.kind == "definition_failed" and getattr(failures.get(id(dropped)), "skipped", False):
            cause = failures[id(dropped)]
            why, module, skipped = f"{where} could not run: {dropped.reason}", cause.module, True
        else:
            continue
        for name in names:
            if name not in namespace:
                namespace[name] = Unavailable(name, why, module, skipped)
    extractor.unbound.clear()


def _run_statements(reading: _Reading, tree: ast.Module, lines: list[str], where: _Where) -> None:
    """Run the kept top-level statements of ``tree`` one by one; list the others, and the kept
    ones that raised, in ``reading.dropped``. A failed import, and a statement not run, leave
    placeholders behind."""
    extractor = _Extractor(where, lines, reading.known, reading.dropped, reading.modules)
    failures: dict[int, BaseException] = {}
    for original in tree.body:
        kept = extractor.keep(original)
        if kept is not None:
            stmt, kind = kept
            try:  # compile() too: `nonlocal x` with no x, say, parses but does not compile
                exec(compile(ast.Module([stmt], type_ignores=[]), where.filename, "exec", flags=_COMPILE_FLAGS,
                             dont_inherit=True), reading.namespace)
            except Exception as exc:
                reason = reading.clean(f"{type(exc).__name__}: {exc}")
                if kind == "import":
                    extractor.drop(original, reason, "import_failed")
                    _bind_placeholders(original, reason, reading.namespace, tree)
                else:
                    extractor.drop(original, reason, "definition_failed")
                    failures[id(extractor.dropped[-1])] = exc
            else:
                reading.defined_any = reading.defined_any or kind in ("definition", "block_with_definition")
        _bind_skipped(extractor, reading.namespace, failures)


# --- .py files and package folders ---------------------------------------------------------------


def _shadows(name: str) -> bool:
    """A module name the student's files must never stand for (the kit's, numpy, the stdlib)."""
    return name in _PROTECTED or name in sys.stdlib_module_names


_NOT_CODE = {"tests", "test", "docs", "doc", "examples", "venv", "env", "build", "dist", "site-packages",
             "node_modules", "__pycache__"}


def _is_package_folder(folder: Path, depth: int = 3) -> bool:
    """A folder of the submission's code: it has an ``__init__.py`` or .py files, here or in a
    subfolder up to ``depth`` levels down (``src/``, ``lib/nn/``: students rarely add __init__.py)."""
    if not folder.is_dir() or folder.name in _NOT_CODE or folder.name.startswith("."):
        return False
    if (folder / "__init__.py").is_file() or any(folder.glob("*.py")):
        return True
    return depth > 0 and any(_is_package_folder(sub, depth - 1) for sub in sorted(folder.iterdir()) if sub.is_dir())


def _read_source(path: Path) -> str:
    """The text of a .py file (its coding cookie or UTF-8); a SyntaxError naming it if unreadable."""
    try:
        return importlib.util.decode_source(path.read_bytes())
    except (SyntaxError, UnicodeDecodeError) as exc:
        raise SyntaxError(getattr(exc, "msg", None) or "not UTF-8 text", (str(path), None, None, None)) from None


def _syntax_sentence(path: Path | str, exc: SyntaxError) -> str:
    what = exc.msg.split(". ")[0]  # "invalid syntax. Perhaps you forgot a comma?": one sentence
    if exc.lineno is None:  # undecodable bytes, null bytes
        return f"{path} cannot be read as Python source ({what}): save it as UTF-8 text and try again."
    return f"{path} has a syntax error at line {exc.lineno} ({what}): fix it and try again."


class _SourceTree(importlib.abc.Loader):
    """The submission's folder, whose .py files become modules of a private package
    ``_bpk_src_<n>`` read with the keep-definitions filter.

    Its modules see a ``__import__`` (in their builtins) that sends the names of the folder's own
    modules (``layers``, ``activations``; the folder's own name when it is a package) to that
    private package, and everything else (numpy, tqdm, the stdlib) where Python would.
    ``package``: the folder is the submission (its ``__init__.py`` runs) rather than the folder
    around a file or notebook (its ``__init__.py``, if any, does not, as for a script).
    """

    def __init__(self, root: Path, *, package: bool):
        self.root = root.resolve()
        self.package = package
        self.base = self.root.parent if package else self.root  # Dropped.file is relative to this
        name = self.root.name
        importable = package or (self.root / "__init__.py").is_file()
        self.own_name = name if importable and name.isidentifier() and not _shadows(name) else None
        self.prefix = f"_bpk_src_{next(_counter)}"
        self.owns = _owned_by(self.prefix)
        self.main: dict[str, Path] = {}  # module name -> the file passed (its stem need not be a module name)
        self.dropped: list[Dropped] = []
        self.files: list[str] = []  # in the order they were first read: how dropped is grouped
        self.defined_any = False
        self._siblings: dict[str, bool] = {}
        self.builtins = {**vars(builtins), "__import__": self._import}
        _FINDER.trees[self.prefix] = self
        _FINDER.install()

    # --- names --------------------------------------------------------------------------------
    def add_main(self, path: Path) -> str:
        """The module name ``path`` (the file passed to --impl) is read under."""
        name = f"{self.prefix}.{_identifier(path.stem)}"
        self.main[name] = path.resolve()
        return name

    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self.base).as_posix()
        except ValueError:
            return path.name

    def clean(self, text: str) -> str:
        """``text`` with the folder's name for the private package name (``mypkg.layers``; in the
        folder of a file, ``layers`` as it was imported) and paths relative to the submission."""
        package = f"{self.root.name}." if self.package else ""
        text = text.replace(f"{self.prefix}.", package).replace(self.prefix, self.root.name)
        return text.replace(f"{self.base}{os.sep}", "")

    def _is_sibling(self, name: str) -> bool:
        if name not in self._siblings:
            self._siblings[name] = not _shadows(name) and (
                (self.root / f"{name}.py").is_file() or _is_package_folder(self.root / name))
        return self._siblings[name]

    def _private_name(self, name: str) -> str | None:
        """``layers.dense`` -> ``_bpk_src_3.layers.dense`` when ``layers`` is the folder's own; else None."""
        head, _, rest = name.partition(".")
        if head == self.own_name:
            base = self.prefix
        elif self._is_sibling(head):
            base = f"{self.prefix}.{head}"
        else:
            return None
        return f"{base}.{rest}" if rest else base

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        target = self._private_name(name) if level == 0 else None
        if target is None:  # relative imports resolve against __package__, which is private already
            return builtins.__import__(name, globals, locals, fromlist, level)
        module = builtins.__import__(target, globals, locals, fromlist, 0)
        # `import layers.dense` binds `layers`: the folder's module, not the private package above it
        return module if fromlist else sys.modules[self._private_name(name.partition(".")[0])]

    # --- the import system's side (``_TreeFinder`` asks, ``exec_module`` reads) -----------------
    def find_spec(self, fullname: str) -> importlib.machinery.ModuleSpec | None:
        if fullname in self.main:
            return importlib.util.spec_from_file_location(fullname, self.main[fullname], loader=self)
        parts = fullname.split(".")[1:]
        folder = self.root.joinpath(*parts)
        if not parts or _is_package_folder(folder):
            init = folder / "__init__.py"
            if init.is_file() and (parts or self.package):
                return importlib.util.spec_from_file_location(fullname, init, loader=self,
                                                              submodule_search_locations=[str(folder)])
            spec = importlib.machinery.ModuleSpec(fullname, self, is_package=True)  # nothing to run
            spec.submodule_search_locations = [str(folder)]
            return spec
        file = folder.with_name(f"{parts[-1]}.py")
        return importlib.util.spec_from_file_location(fullname, file, loader=self) if file.is_file() else None

    def exec_module(self, module: types.ModuleType) -> None:
        module.__builtins__ = self.builtins
        if module.__spec__.origin is None:
            return
        path = Path(module.__spec__.origin)
        where = _Where(self.display(path), str(path))
        if where.file not in self.files:
            self.files.append(where.file)
        source = _read_source(path)
        try:
            tree = ast.parse(source, str(path))
        except ValueError as exc:  # null bytes, on Pythons that do not say SyntaxError
            raise SyntaxError(str(exc), (str(path), None, None, None)) from None
        reading = _Reading(vars(module), self.dropped, self.clean)
        _run_statements(reading, tree, source.splitlines(), where)
        self.defined_any = self.defined_any or reading.defined_any

    # --- results -----------------------------------------------------------------------------
    def skip_unreadable(self, exc: SyntaxError) -> None:
        """List a module of a package folder that is not valid Python; the others still load."""
        file = self.display(Path(exc.filename)) if exc.filename else "?"
        if file not in self.files:
            self.files.append(file)
        what = exc.msg.split(". ")[0]
        self.dropped.append(Dropped(None, exc.lineno or 1, "syntax_error", (exc.text or "").strip(),
                                    f"syntax error: {what}; the whole file was skipped", file))

    def require_definitions(self, origin: Path, advice: str) -> None:
        """Top-level code and not one function or class is a LoadError; an empty submission
        loads (and every component is then reported missing)."""
        if self.defined_any:
            return
        broken = [d for d in self.dropped if d.kind == "syntax_error"]
        if broken:
            raise LoadError(f"{origin} defines no function or class that loads ({broken[0].file} has a syntax "
                            f"error at line {broken[0].line}): fix it and try again.")
        runs = [d for d in self.dropped if d.kind == "statement"]
        if runs:
            count = f"{len(runs)} top-level statement" + ("s" if len(runs) > 1 else "")
            raise LoadError(f"{origin} defines no functions or classes ({count} not run): {advice}.")

    def sorted_dropped(self) -> list[Dropped]:
        """Dropped statements grouped by file, files in the order they were read, lines in order."""
        return sorted(self.dropped, key=lambda d: self.files.index(d.file) if d.file in self.files else len(self.files))

    def loaded(self, namespace: dict[str, Any], origin: str, kind: str) -> LoadedImpl:
        dropped = self.sorted_dropped()
        notes = [f"{len(dropped)} top-level statements/lines were not run (see dropped)"] if dropped else []
        return LoadedImpl(namespace, origin=origin, kind=kind, dropped=dropped, notes=notes,
                          defined=_defined(namespace, self.owns))


class _TreeFinder(importlib.abc.MetaPathFinder):
    """One entry in ``sys.meta_path`` for every ``_SourceTree``: it answers only for their private
    names, and stays, so that an import inside a student's function works after loading too."""

    def __init__(self):
        self.trees: dict[str, _SourceTree] = {}

    def find_spec(self, fullname, path=None, target=None):
        tree = self.trees.get(fullname.partition(".")[0])
        return tree.find_spec(fullname) if tree is not None else None

    def install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)


_FINDER = _TreeFinder()


def _identifier(stem: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in stem)


def _import_main(name: str, path: Path) -> types.ModuleType:
    """Import the private module ``name`` (read from ``path``); a file that is not Python is a LoadError."""
    try:
        return importlib.import_module(name)
    except SyntaxError as exc:
        raise LoadError(_syntax_sentence(path, exc)) from None
    except OSError as exc:
        raise LoadError(f"{path} cannot be read ({exc.strerror}): check that it is a readable file.") from None


def _load_file(path: Path) -> LoadedImpl:
    if not path.is_file():
        raise LoadError(f"{path} does not exist: check the path passed to --impl.")
    tree = _SourceTree(path.parent, package=False)
    module = _import_main(tree.add_main(path), path)
    tree.require_definitions(path, "put your classes and functions at the top level of the file")
    return tree.loaded(dict(_public(module)), origin=str(path), kind="file")


def _module_names(folder: Path, dotted: str = "") -> list[str]:
    """The public modules of a package folder, sorted, each subpackage before its modules (as
    ``pkgutil.walk_packages`` lists them). Private ones (``_x.py``, ``__main__.py``) are read
    only when another module imports them."""
    names = []
    for entry in sorted(folder.iterdir()):
        name = entry.stem if entry.suffix == ".py" else entry.name
        if name.startswith(("_", ".")) or "." in name:
            continue
        if entry.suffix == ".py" and entry.is_file():
            names.append(dotted + name)
        elif name.isidentifier() and _is_package_folder(entry):  # with or without an __init__.py
            names += [dotted + name, *_module_names(entry, f"{dotted}{name}.")]
    return names


def _merge(namespace: dict[str, Any], public: dict[str, Any], override: bool = False,
           module: str | None = None) -> None:
    """Add a module's public names (not the modules it imported); a real object always beats the
    placeholder of a failed import, which may stand under the same name in another module. A class
    or function ``module`` defines under a name an earlier module took (``sigmoid`` as a function
    in functions.py and as a class in layers.py) is kept too, as ``module.name``: discovery weighs
    both by what they do."""
    for key, value in public.items():
        if isinstance(value, types.ModuleType):
            continue
        if key not in namespace or isinstance(namespace[key], Unavailable) or (
                override and not isinstance(value, Unavailable)):
            namespace[key] = value
        elif module and value is not namespace[key] and (inspect.isclass(value) or inspect.isfunction(value)) \
                and getattr(value, "__module__", None) == module:
            namespace.setdefault(f"{module.rsplit('.', 1)[-1]}.{key}", value)


def _load_package_dir(path: Path) -> LoadedImpl:
    tree = _SourceTree(path, package=True)
    package = _import_main(tree.prefix, path / "__init__.py")
    namespace: dict[str, Any] = {}
    for dotted in _module_names(tree.root):  # sorted; a module another imports is read when it does
        try:
            module = importlib.import_module(f"{tree.prefix}.{dotted}")
        except SyntaxError as exc:
            tree.skip_unreadable(exc)
            continue
        _merge(namespace, _public(module), module=module.__name__)
    _merge(namespace, _public(package), override=True)  # what __init__.py exports wins, as before
    tree.require_definitions(path, "put your classes and functions in its modules")
    return tree.loaded(namespace, origin=str(path), kind="package")


# --- notebooks ------------------------------------------------------------------------------


def _read_notebook(path: Path):
    import nbformat
    from nbformat.warnings import MissingIDFieldWarning

    if not path.is_file():
        raise LoadError(f"{path} does not exist: check the path passed to --impl.")
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(f"{path} is not valid notebook JSON (line {exc.lineno}): re-save it from Jupyter.") from None
    except UnicodeDecodeError:
        raise LoadError(f"{path} is not UTF-8 text: re-save it from Jupyter.") from None
    try:
        with warnings.catch_warnings():
            # Cells without ids (nbformat 4.5) are normal in generated notebooks and the kit never
            # uses ids: nbformat adds them as normalize() does, without telling every run.
            warnings.simplefilter("ignore", MissingIDFieldWarning)
            return nbformat.reads(text, as_version=4)
    except Exception as exc:
        raise LoadError(f"{path} is not a notebook nbformat can read ({type(exc).__name__}): re-save it from Jupyter.") from None


def _strip_magics(source: str, where: _Where, dropped: list[Dropped]) -> str | None:
    """Remove magic and shell lines; None when the whole cell is a cell magic."""
    lines = source.splitlines()
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    if first.startswith("%%") and not first.startswith(_PASS_THROUGH_CELL_MAGICS):
        dropped.append(Dropped(where.cell, 1, "magic", first, "cell magic: the cell is not Python", where.file))
        return None
    kept = []
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith(("%", "!")):
            dropped.append(Dropped(where.cell, number, "magic", line.strip(), "IPython magic or shell line", where.file))
            kept.append("")  # keep line numbers stable
        else:
            kept.append(line)
    return "\n".join(kept)


def _load_notebook(path: Path) -> LoadedImpl:
    nb = _read_notebook(path)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if not any(c.source.strip() for c in code_cells):
        raise LoadError(f"{path} has no code cells: add your implementation in code cells and save the notebook.")

    tree = _SourceTree(path.parent, package=False)  # `from src.models import X` reads the src/ beside it
    importlib.import_module(tree.prefix)  # so that pickle finds the notebook's module by its name
    module = types.ModuleType(f"{tree.prefix}.{_identifier(path.stem)}")
    module.__file__, module.__package__, module.__builtins__ = str(path), tree.prefix, tree.builtins
    sys.modules[module.__name__] = module
    reading = _Reading(module.__dict__, [], tree.clean)
    _run_cells(path, code_cells, reading)
    if not reading.defined_any:
        raise LoadError(
            f"{path} defines no functions or classes ({len(reading.dropped)} statements dropped): put your "
            "class and function definitions in their own code cells."
        )
    dropped = reading.dropped + tree.sorted_dropped()
    public = {k: v for k, v in module.__dict__.items() if not k.startswith("_") and not _skipped(v)}
    notes = [f"{len(dropped)} notebook statements/lines were not executed (see dropped)"] if dropped else []
    return LoadedImpl(public, origin=str(path), kind="notebook", dropped=dropped, notes=notes,
                      defined=_defined(public, tree.owns))


def _run_cells(path: Path, code_cells, reading: _Reading) -> None:
    """Execute the kept statements of every cell, in order, into ``reading.namespace``."""
    for index, cell in enumerate(code_cells):
        where = _Where(path.name, f"{path} [cell {index}]", index)
        source = _strip_magics(cell.source, where, reading.dropped)
        if source is None or not source.strip():
            continue
        # the cell's text where tracebacks and inspect.getsource look for "<notebook> [cell N]" (no file has it)
        linecache.cache[where.filename] = (len(source), None, source.splitlines(True), where.filename)
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            line = exc.lineno or 1
            text = source.splitlines()[line - 1].strip() if source.splitlines() else ""
            reading.dropped.append(Dropped(index, line, "syntax_error", text,
                                           f"syntax error: {exc.msg}; the whole cell was skipped", where.file))
            continue
        _run_statements(reading, tree, source.splitlines(), where)
