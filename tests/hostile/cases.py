"""Hostile submissions for the grader's own tests, generated on the fly (one table, one row each).

Each case is a correct canonical implementation (``tests/impls/canonical.py``) plus something
hostile, usually a ``class Linear(Linear)`` cell whose ``forward`` misbehaves, and what the
grader must make of it: the gradebook status and the verdicts of ``linear`` and ``relu`` (relu
never touches Linear, so it shows that the rest of the submission is still graded).

``write_all(folder, port=..., canary=...)`` writes every case as ``<name>.ipynb``.
"""
from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

IMPLS = Path(__file__).resolve().parent.parent / "impls"
KIT = IMPLS.parent.parent


@dataclass(frozen=True)
class Case:
    name: str
    status: str  # expected gradebook status
    linear: str | None  # expected verdict of linear (None: not asserted)
    relu: str | None = "pass"
    extra: str = ""  # a code cell appended to the correct implementation ({port}, {canary}, {kit} filled in)
    raw: str | None = None  # the whole file instead ("{base_v3}" = the implementation as nbformat v3)
    score_zero: bool = False


def forward(body: str) -> str:
    """A cell that replaces Linear.forward with ``body`` (indented into the method)."""
    lines = "\n".join("        " + line for line in body.strip().splitlines())
    return f"class Linear(Linear):\n    def forward(self, x):\n{lines}\n"


CASES = (
    Case("correct", "ok", "pass"),
    Case("loop_top_level", "ok", "pass", extra="while True:\n    pass"),
    Case("loop_in_class_body", "timeout", "timeout", relu="timeout",
         extra="class Stuck:\n    while True:\n        pass"),
    Case("loop_in_forward", "timeout", "timeout", extra=forward("while True:\n    pass")),
    Case("alloc_50gb", "ok", "error", extra=forward("big = np.ones(50 * 1024**3 // 8)\nreturn big[:1]")),
    Case("fork_bomb", "ok", "error", extra=forward("import os\nwhile True:\n    os.fork()")),
    Case("sys_exit_in_method", "ok", "error", extra=forward("import sys\nsys.exit(3)")),
    Case("os_exit_in_method", "ok", "error", extra=forward("import os\nos._exit(3)")),
    Case("print_100mb", "ok", "pass",
         extra=forward("if not Linear.spoke:\n    Linear.spoke = True\n    print('x' * 100_000_000)\n"
                       "return super().forward(x)").replace("(Linear):\n", "(Linear):\n    spoke = False\n")),
    Case("socket_connect", "ok", "error",
         extra=forward("import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
                       "s.sendall(b'leak')\nreturn super().forward(x)")),
    Case("read_fixtures", "ok", "error",
         extra=forward("open('{kit}/pyproject.toml').read()\nreturn super().forward(x)")),
    Case("import_reference", "ok", "error", relu="pass",
         extra="import reference\n\n" + forward("return reference.Linear.forward(self, x)"), score_zero=True),
    Case("patch_numpy", "ok", "fail",
         extra=forward("np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
                       "np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)\n"
                       "np.array_equal = lambda *a, **k: True\n"
                       "self.x = x\nreturn np.zeros((x.shape[0], self.params['W'].shape[0]))")),
    Case("delete_canary", "ok", "error",
         extra=forward("import os, shutil\nos.remove('{canary}')\nshutil.rmtree(os.path.dirname('{canary}'))")),
    Case("invalid_json", "error", "error", relu="error", raw='{"cells": [ this is not json'),
    Case("empty_notebook", "error", "error", relu="error",
         raw='{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'),
    Case("syntax_error_cell", "ok", "pass", extra="def broken(:\n    return 1"),
    Case("nbformat_v3", "ok", "pass", raw="{base_v3}"),
)


def base_cells() -> list[str]:
    source = (IMPLS / "canonical.py").read_text()
    source = source.replace('INITIALISERS = {"he": he_normal, "xavier": xavier_normal}\n', "").replace(
        "INITIALISERS[init](", '{"he": he_normal, "xavier": xavier_normal}[init](')
    lines = source.splitlines(keepends=True)
    return ["".join(lines[n.lineno - 1 - len(getattr(n, "decorator_list", [])):n.end_lineno])
            for n in ast.parse(source).body]


def notebook_v4(cells: list[str]) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                       "source": c.splitlines(keepends=True)} for c in cells]}


def notebook_v3(cells: list[str]) -> dict:
    return {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "old"},
            "worksheets": [{"metadata": {}, "cells": [
                {"cell_type": "code", "collapsed": False, "language": "python", "metadata": {}, "outputs": [],
                 "input": c.splitlines(keepends=True)} for c in cells]}]}


def write_all(folder: Path, *, port: int, canary: Path) -> dict[str, Case]:
    folder.mkdir(parents=True, exist_ok=True)
    fill = {"port": port, "canary": str(canary), "kit": str(KIT)}
    for case in CASES:
        if case.raw is None:
            text = json.dumps(notebook_v4(base_cells() + ([case.extra.format(**fill)] if case.extra else [])))
        elif case.raw == "{base_v3}":
            text = json.dumps(notebook_v3(base_cells()))
        else:
            text = case.raw
        (folder / f"{case.name}.ipynb").write_text(text)
    return {c.name: c for c in CASES}
