"""``check()``: the conformance suite on the code of the calling notebook or module, in-process.

It reads the caller's globals (no file needed), builds the kit's adapter over them as
``--impl`` would over a file, installs it as the session's runner, runs the suite's own test
modules with ``pytest.main`` (quietly: the result object is the output) and puts the session back
as it was (``backprop_kit.preserve``).
"""
from __future__ import annotations

import ast
import io
import os
import re
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import conformance
from conformance.components import COMPONENTS, TRAINING_COMPONENTS

from backprop_kit.preserve import preserved
from backprop_kit.result import CheckResult

SUITE = Path(conformance.__file__).resolve().parent
SLOW_HINT = "The training checks ({}) were not run: check(slow=True) runs them too (a minute or so)."


class CheckError(ValueError):
    """check() was called with arguments it cannot use; the message says what to pass."""


def _chosen(components: tuple) -> tuple[str, ...]:
    if len(components) == 1 and isinstance(components[0], (list, tuple)):
        components = tuple(components[0])
    unknown = [c for c in components if c not in COMPONENTS]
    if unknown:
        raise CheckError(f"{', '.join(map(repr, unknown))} is not a component id: use one of {', '.join(COMPONENTS)}.")
    return tuple(c for c in COMPONENTS if c in components) if components else COMPONENTS


def _pin_tables(pins: dict, namespace: dict) -> tuple[dict, dict]:
    """(map tables, names to add to the namespace) for ``check(linear=Layer_Dense, mse=my_loss)``:
    an object becomes ``class = "<its name>"`` or ``function = "<its name>"``; a dict is taken
    as the map's table for that component (``conformance/MAP.md``)."""
    from conformance.adapters.discovery.apimap import KEYS

    tables, added = {}, {}
    for comp, pinned in pins.items():
        if comp not in KEYS:
            pinnable = ", ".join(KEYS)
            what = "is not a component id" if comp not in COMPONENTS else "cannot be pinned"
            raise CheckError(f"{comp}= {what}: pin one of {pinnable} (e.g. check(linear=Layer_Dense)).")
        if isinstance(pinned, dict):
            tables[comp] = dict(pinned)
            continue
        if not callable(pinned):
            raise CheckError(f"{comp}= needs your class or function itself (e.g. {comp}=Layer_Dense), "
                             f"not {type(pinned).__name__}.")
        name = next((n for n, v in namespace.items() if v is pinned and not n.startswith("_")), None)
        if name is None:
            name = f"pinned_{comp}"
            added[name] = pinned
        tables[comp] = {"class" if isinstance(pinned, type) else "function": name}
    return tables, added


def earlier_cell_problems(namespace: dict) -> list[str]:
    """Sentences about cells of this IPython session that should have defined something and did
    not (they raised, or hold a syntax error). Empty outside IPython."""
    history = namespace.get("In")
    if not isinstance(history, list) or len(history) < 3:
        return []
    wanted: dict[str, int] = {}
    broken: dict[int, str] = {}
    for number, source in enumerate(history[1:-1], start=1):  # In[0] is empty, the last is this cell
        if not isinstance(source, str):
            continue
        try:
            names = [n.name for n in ast.parse(source).body
                     if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
        except SyntaxError as exc:
            names = re.findall(r"^(?:class|def)\s+([A-Za-z_]\w*)", source, flags=re.M)
            broken[number] = f"a syntax error at line {exc.lineno}: {exc.msg}"
        for name in names:
            wanted[name] = number
    last = getattr(sys, "last_value", None)
    error = f" (the last error was {type(last).__name__}: {last})" if last is not None else ""
    by_cell: dict[int, list[str]] = {}
    for name, number in wanted.items():
        if name not in namespace:
            by_cell.setdefault(number, []).append(name)
    notes = []
    for number, names in sorted(by_cell.items()):
        listed = ", ".join(names)
        why = f"it has {broken[number]}" if number in broken else f"it stopped with an error before defining them{error}"
        notes.append(f"Cell [{number}] defines {listed}, but {'it does' if len(names) == 1 else 'they do'} not "
                     f"exist: {why}. Fix that cell and run it again, then run check() again.")
    return notes


class _Session:
    """A pytest plugin object: installs the runner, keeps the report at the end."""

    def __init__(self, runner):
        self.runner, self.report = runner, None

    def pytest_configure(self, config):
        from conformance.plugin import RUNNER_KEY

        config.stash[RUNNER_KEY] = self.runner

    def pytest_sessionfinish(self, session):
        from conformance.plugin import build_report

        self.report = build_report(session.config)


def _origin(namespace: dict) -> str:
    if "get_ipython" in namespace or "In" in namespace:
        return "this notebook"
    return str(namespace.get("__file__") or namespace.get("__name__") or "this session")


def _run(namespace: dict, chosen: tuple[str, ...], slow: bool, tables: dict, added: dict) -> tuple[dict, str]:
    import pytest

    from conformance.adapters import AdapterError, build_adapter
    from conformance.cases import PLACEHOLDER
    from conformance.plugin import ENV_IMPL
    from conformance.loader import load_namespace
    from conformance.runner import InProcessRunner

    loaded = load_namespace({**namespace, **added}, origin=_origin(namespace))
    try:
        adapter = build_adapter(loaded, pins=tables)
    except AdapterError as exc:
        raise CheckError(str(exc)) from None
    runner = InProcessRunner(adapter)
    runner.detected_because = list(adapter.detected_because)
    files = [str(SUITE / f"test_{c}.py") for c in chosen]
    if "inventory" not in chosen:
        files.append(str(SUITE / "test_inventory.py"))
    args = [*files, "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:backprop_kit",
            "-p", "conformance.plugin", "--noconftest", "--rootdir", str(SUITE), "-o", "addopts=",
            "-o", "python_files=test_*.py"]
    if not slow:
        args += ["-m", "not slow"]
    session = _Session(runner)
    os.environ.pop(ENV_IMPL, None)  # the globals are the implementation here (preserved() puts it back)
    log = io.StringIO()
    with redirect_stdout(log), redirect_stderr(log):
        pytest.main(args, plugins=[session])
    if session.report is None:
        raise RuntimeError(f"the conformance suite did not run: {log.getvalue().strip()[-500:]}")
    report = session.report
    report["impl"] = loaded.origin
    again = "impl=globals()" + (f", pins={tables!r}" if tables else "")
    for entry in report["components"].values():
        for chk in entry["checks"]:
            if isinstance(chk.get("snippet"), str):
                chk["snippet"] = chk["snippet"].replace(PLACEHOLDER, again)
    return report, log.getvalue()


def check(*components: str, slow: bool | None = None, namespace: dict | None = None, **pins) -> CheckResult:
    """Check the classes and functions defined where ``check()`` is called.

        import backprop_kit
        backprop_kit.check()                     # every component, fast tier (a few seconds)
        backprop_kit.check(slow=True)            # and the training checks (XOR, spiral, MNIST)
        backprop_kit.check("linear", "softmax")  # only these components
        backprop_kit.check(linear=Layer_Dense)   # pin what discovery gets wrong, by object

    ``components``: component ids of SPEC.md (all when none). ``slow``: run the training checks
    (by default only when a training component is named). ``namespace``: the globals to check
    (default: the caller's). ``pins``: component id = your class or function, or a map table
    (``conformance/MAP.md``). Returns a ``CheckResult``; the session is left as it was.
    """
    caller = namespace if namespace is not None else sys._getframe(1).f_globals
    chosen = _chosen(components)
    if slow is None:
        slow = bool(components) and any(c in TRAINING_COMPONENTS for c in chosen)
    tables, added = _pin_tables(pins, caller)
    notes = earlier_cell_problems(caller)
    start = time.perf_counter()
    with preserved(caller):
        report, _ = _run(caller, chosen, bool(slow), tables, added)
    seconds = time.perf_counter() - start
    checked = tuple(c for c in chosen if slow or c not in TRAINING_COMPONENTS)
    skipped = [c for c in chosen if c not in checked]
    if skipped:
        notes.append(SLOW_HINT.format(", ".join(skipped)))
    return CheckResult(report, checked, notes, seconds)
