"""Load a student's implementation into one namespace, whatever shape it was handed in.

``load_impl(spec)`` accepts:

* ``"reference"``             the kit's own reference package (canonical style);
* an importable module name   e.g. ``mypkg`` or ``mypkg.nn``;
* a path to a ``.py`` file    imported as a module (its folder goes on ``sys.path`` for siblings);
* a path to a package folder  imported, and the public names of every submodule merged, so that
                               ``src/models.py`` + ``src/activations.py`` read as one namespace
                               (a folder with no .py file and one notebook: that notebook);
* a path to an ``.ipynb``     definitions extracted cell by cell, everything else dropped and listed.

What a notebook keeps (top-level statements only):

* ``import`` / ``from ... import`` (an import that fails is dropped and listed, never fatal);
* ``def`` / ``async def`` / ``class`` (a definition that raises when executed is dropped and listed);
* constant assignments: every target a plain name, the value built only from literals, names
  kept earlier (constants, imports, definitions), attributes of those (``DTYPE = np.float64``),
  tuples/lists/sets/dicts of those and +, -, *, /, //, %, ** on them;
* bare string expressions (docstrings);
* ``try:`` blocks and ``if`` blocks whose condition calls nothing, with only the kept kinds of
  statement inside (``try: import cupy as cp`` / ``except ImportError: cp = None``); the other
  statements inside are dropped and listed (an emptied branch becomes ``pass``).

Everything else (calls such as ``np.random.seed(0)``, training loops, plots, prints, downloads,
``if __name__ == "__main__":`` blocks) is dropped and listed in ``LoadedImpl.dropped``. Lines starting with ``%`` or ``!`` (IPython
magics and shell escapes) are removed first; a cell opening with a ``%%`` cell magic other than
``%%time``/``%%timeit``/``%%capture`` is dropped whole. A cell with a syntax error is dropped and
the other cells still load.

>>> impl = load_impl("tests/impls/layer_dicts.ipynb")          # doctest: +SKIP
>>> sorted(impl.namespace)[:3], [d.kind for d in impl.dropped]  # doctest: +SKIP
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import itertools
import json
import pkgutil
import sys
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_counter = itertools.count()
_PASS_THROUGH_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")
_PROTECTED = {"conformance", "reference", "fixtures", "graders", "tests", "numpy", "pytest", "nbformat", "hypothesis"}


class LoadError(Exception):
    """The implementation cannot be loaded; the message is one sentence saying what to do."""


@dataclass
class Dropped:
    """One statement (or line, or cell) of a notebook that was not executed."""

    cell: int | None  # index of the code cell (0-based, counting code cells only)
    line: int  # line inside the cell (1-based)
    kind: str  # "magic" | "statement" | "syntax_error" | "import_failed" | "definition_failed"
    text: str  # first line of the dropped source
    reason: str


@dataclass
class LoadedImpl:
    namespace: dict[str, Any]
    origin: str
    kind: str  # "module" | "file" | "package" | "notebook" | "reference"
    dropped: list[Dropped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_impl(spec: str) -> LoadedImpl:
    """Load ``spec`` (see the module docstring) and return its namespace and what was dropped."""
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


# --- modules, files, packages --------------------------------------------------------------


def _public(module: types.ModuleType) -> dict[str, Any]:
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    return {n: getattr(module, n) for n in names if hasattr(module, n)}


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
        raise LoadError(f"module {name!r} raised {type(exc).__name__}: {exc} while being imported: fix it so that importing it runs cleanly.") from None
    if hasattr(module, "__path__"):
        return _load_package_by_name(name, origin=name, kind="module")
    return LoadedImpl(dict(_public(module)), origin=name, kind="module")


def _load_file(path: Path) -> LoadedImpl:
    if not path.is_file():
        raise LoadError(f"{path} does not exist: check the path passed to --impl.")
    name = f"_bpk_impl_{next(_counter)}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.resolve().parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise LoadError(f"{path} has a syntax error (line {exc.lineno}): fix it and try again.") from None
    except Exception as exc:
        raise LoadError(
            f"{path} raised {type(exc).__name__}: {exc} while being imported: move top-level "
            "experiments under `if __name__ == \"__main__\":`."
        ) from None
    finally:
        if added:
            sys.path.remove(folder)
    namespace = _public(module)
    if not namespace:
        raise LoadError(f"{path} defines nothing importable: put your classes and functions at the top level of the file.")
    return LoadedImpl(dict(namespace), origin=str(path), kind="file")


def _load_package_dir(path: Path) -> LoadedImpl:
    parent = str(path.resolve().parent)
    name = path.resolve().name
    if not name.isidentifier():
        raise LoadError(f"{path} is not an importable package name: rename the folder to a valid Python identifier.")
    if name in _PROTECTED or name in sys.stdlib_module_names:
        raise LoadError(f"{path} has the same name as the module {name!r} the kit needs: rename the folder.")
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[key]  # another submission's package of the same name must not leak in
    sys.path.insert(0, parent)
    try:
        return _load_package_by_name(name, origin=str(path), kind="package")
    finally:
        sys.path.remove(parent)
        importlib.invalidate_caches()


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
    return LoadedImpl(namespace, origin=origin, kind=kind, notes=notes)


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


def _strip_magics(source: str, cell: int, dropped: list[Dropped]) -> str | None:
    """Remove magic and shell lines; None when the whole cell is a cell magic."""
    lines = source.splitlines()
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    if first.startswith("%%") and not first.startswith(_PASS_THROUGH_CELL_MAGICS):
        dropped.append(Dropped(cell, 1, "magic", first, "cell magic: the cell is not Python"))
        return None
    kept = []
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith(("%", "!")):
            dropped.append(Dropped(cell, number, "magic", line.strip(), "IPython magic or shell line"))
            kept.append("")  # keep line numbers stable
        else:
            kept.append(line)
    return "\n".join(kept)


_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub, ast.UAdd)


def _is_constant(node: ast.AST, known: set[str]) -> bool:
    """Built only from literals, names kept earlier and attributes of those (no calls)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id in known
    if isinstance(node, ast.Attribute):
        return _is_constant(node.value, known)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_constant(e, known) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_constant(k, known) for k in node.keys) and all(
            _is_constant(v, known) for v in node.values
        )
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, _ARITHMETIC) and _is_constant(node.left, known) and _is_constant(node.right, known)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, _ARITHMETIC) and _is_constant(node.operand, known)
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


def _calls_nothing(node: ast.AST) -> bool:
    return not any(isinstance(n, (ast.Call, ast.Lambda, ast.NamedExpr, ast.Await)) for n in ast.walk(node))


class _Extractor:
    """Decides, statement by statement, what of one cell is kept; records what is dropped."""

    def __init__(self, cell: int, lines: list[str], known: set[str], dropped: list[Dropped]):
        self.cell, self.lines, self.known, self.dropped = cell, lines, known, dropped

    def drop(self, stmt: ast.stmt, reason: str, kind: str = "statement") -> None:
        self.dropped.append(Dropped(self.cell, stmt.lineno, kind, self.lines[stmt.lineno - 1].strip(), reason))

    def keep(self, stmt: ast.stmt) -> tuple[ast.stmt, str] | None:
        """(statement to run, kind) or None when it is dropped (and listed).

        kind: 'import' | 'definition' | 'constant' | 'docstring' | 'pass' | 'block' | 'block_with_definition'."""
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            self.known.update((a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*")
            return stmt, "import"
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.known.add(stmt.name)
            return stmt, "definition"
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            return stmt, "docstring"
        if isinstance(stmt, ast.Pass):
            return stmt, "pass"
        if isinstance(stmt, ast.Assign) and _is_constant(stmt.value, self.known):
            names = [_target_names(t) for t in stmt.targets]
            if all(n is not None for n in names):
                self.known.update(x for n in names for x in n)
                return stmt, "constant"
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            if _is_constant(stmt.value, self.known):
                self.known.add(stmt.target.id)
                return stmt, "constant"
        if isinstance(stmt, ast.If):
            if _is_main_guard(stmt.test):
                self.drop(stmt, "script entry point: the kit calls your definitions itself")
                return None
            if not _calls_nothing(stmt.test):
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
        before = len(self.dropped)
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
            del self.dropped[before:]
            self.drop(stmt, f"nothing inside this {type(stmt).__name__.lower()} block is a definition, import or constant")
            return None
        ast.fix_missing_locations(new)
        return new, "block_with_definition" if kinds & {"definition", "block_with_definition"} else "block"


def _load_notebook(path: Path) -> LoadedImpl:
    nb = _read_notebook(path)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if not any(c.source.strip() for c in code_cells):
        raise LoadError(f"{path} has no code cells: add your implementation in code cells and save the notebook.")

    name = f"_bpk_nb_{next(_counter)}_{''.join(ch if ch.isalnum() else '_' for ch in path.stem)}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    namespace = module.__dict__
    dropped: list[Dropped] = []
    constants: set[str] = set()
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # so `from src.models import ...` finds a src/ beside the notebook
    try:
        kept_any = _run_cells(path, code_cells, namespace, dropped, constants)
    finally:
        sys.path.remove(folder)

    if not kept_any:
        raise LoadError(
            f"{path} defines no functions or classes ({len(dropped)} statements dropped): put your "
            "class and function definitions in their own code cells."
        )
    public = {k: v for k, v in namespace.items() if not k.startswith("_")}
    notes = [f"{len(dropped)} notebook statements/lines were not executed (see dropped)"] if dropped else []
    return LoadedImpl(public, origin=str(path), kind="notebook", dropped=dropped, notes=notes)


def _run_cells(path, code_cells, namespace, dropped, constants) -> bool:
    """Execute the kept statements of every cell; True when at least one definition ran."""
    kept_any = False
    for index, cell in enumerate(code_cells):
        source = _strip_magics(cell.source, index, dropped)
        if source is None or not source.strip():
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            line = exc.lineno or 1
            text = source.splitlines()[line - 1].strip() if source.splitlines() else ""
            dropped.append(Dropped(index, line, "syntax_error", text, f"syntax error: {exc.msg}; the whole cell was skipped"))
            continue
        filename = f"{path} [cell {index}]"
        lines = source.splitlines()
        extractor = _Extractor(index, lines, constants, dropped)
        for original in tree.body:
            result = extractor.keep(original)
            if result is None:
                continue
            stmt, kind = result
            try:
                exec(compile(ast.Module([stmt], type_ignores=[]), filename, "exec"), namespace)
            except Exception as exc:
                failed = "import_failed" if kind == "import" else "definition_failed"
                extractor.drop(original, f"{type(exc).__name__}: {exc}", failed)
                continue
            kept_any = kept_any or kind in ("definition", "block_with_definition")
    return kept_any
