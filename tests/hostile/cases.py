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
import socket
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
    says: str = ""  # a phrase the record must contain (linear's diagnosis, the dropped cells or the error)


def forward(body: str) -> str:
    """A cell that replaces Linear.forward with ``body`` (indented into the method)."""
    lines = "\n".join("        " + line for line in body.strip().splitlines())
    return f"class Linear(Linear):\n    def forward(self, x):\n{lines}\n"


def shell(script: str) -> str:
    """A cell whose Linear.forward runs ``script`` with /bin/sh (until it once ran) past the audit
    hook, as any student could: swapping the ``sys`` that subprocess calls ``audit`` on silences its
    audit event, and Popen then forks through _posixsubprocess, which raises none. Only the
    kernel's fences remain."""
    return forward(
        "if not Linear.shelled:\n"
        "    import subprocess, sys\n"
        "    class Unaudited:\n"
        "        def __getattr__(self, name):\n"
        "            return getattr(sys, name)\n"
        "        def audit(self, *args):\n"
        "            pass\n"
        "    subprocess.sys = Unaudited()\n"
        f"    subprocess.run(['/bin/sh', '-c', {'exec </dev/null >/dev/null 2>&1; ' + script!r}])\n"
        "    Linear.shelled = True\n"
        "return super().forward(x)").replace("(Linear):\n", "(Linear):\n    shelled = False\n")


# Past the audit hook, files outside the working folder (shared /dev/shm and /var/tmp too), a
# process that outlives grading, and SIGKILL to every process the uid may signal (as nobody on
# the root path: the other students' sandboxes; as the instructor otherwise: the grader).
# The syscall filter refuses the fork (linear: error). Graded again without the filter
# (UNFILTERED), the shell runs and fails silently (linear: pass): the namespaces must hold alone,
# which the batch tests check outside the sandbox.
ESCAPES = ("escape_write", "escape_orphan", "escape_kill_all")
REFUSED_FORK = "PermissionError: [Errno 1] Operation not permitted"

CASES = (
    Case("correct", "ok", "pass"),
    Case("loop_top_level", "ok", "pass", extra="while True:\n    pass"),
    Case("loop_in_class_body", "timeout", "timeout", relu="timeout",
         extra="class Stuck:\n    while True:\n        pass", says="loading the submission ran longer than"),
    Case("loop_in_forward", "timeout", "timeout", extra=forward("while True:\n    pass"), says="ran longer than"),
    Case("alloc_50gb", "ok", "error", extra=forward("big = np.ones(50 * 1024**3 // 8)\nreturn big[:1]"), says="MemoryError"),
    Case("fork_bomb", "ok", "error", extra=forward("import os\nwhile True:\n    os.fork()"), says="does not allow os.fork"),
    Case("sys_exit_in_method", "ok", "error", extra=forward("import sys\nsys.exit(3)"), says="SystemExit"),
    Case("os_exit_in_method", "ok", "error", extra=forward("import os\nos._exit(3)"), says="exited (code 3)"),
    Case("print_100mb", "ok", "pass",
         extra=forward("if not Linear.spoke:\n    Linear.spoke = True\n    print('x' * 100_000_000)\n"
                       "return super().forward(x)").replace("(Linear):\n", "(Linear):\n    spoke = False\n")),
    Case("socket_connect", "ok", "error",
         extra=forward("import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
                       "s.sendall(b'leak')\nreturn super().forward(x)"), says="does not allow socket"),
    Case("read_fixtures", "ok", "error",
         extra=forward("open('{kit}/fixtures/appendix_a.json').read()\nreturn super().forward(x)"), says="hides"),
    Case("import_reference", "ok", "error", relu="pass",
         extra="import reference\n\n" + forward("return reference.Linear.forward(self, x)"), score_zero=True,
         says="No module named 'reference'"),
    Case("patch_numpy", "ok", "fail",
         extra=forward("np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
                       "np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)\n"
                       "np.array_equal = lambda *a, **k: True\n"
                       "self.x = x\nreturn np.zeros((x.shape[0], self.params['W'].shape[0]))"), says="wrong_forward"),
    # the kit's judges and verdict type are out of reach: patching them in the child changes nothing
    # (and importing the kit's own packages is a policy violation: the shipped rubrics zero it)
    Case("patch_judges", "ok", "fail",
         extra=forward("import conformance.outcome as o, conformance.runner as r\n"
                       "o.Outcome.passed = property(lambda self: True)\n"
                       "r.ProbeFailure = None\n"
                       "try:\n    import conformance.judges.layers as j\n    j.forward = lambda case, out: o.Outcome('pass')\n"
                       "except ImportError:\n    pass\n"
                       "self.x = x\nreturn np.zeros((x.shape[0], self.params['W'].shape[0]))"), says="wrong_forward", score_zero=True),
    Case("delete_canary", "ok", "error",
         extra=forward("import os, shutil\nos.remove('{canary}')\nshutil.rmtree(os.path.dirname('{canary}'))"),
         says="only lets code change files in its working folder"),
    Case("overwrite_canary", "ok", "error",
         extra=forward("open('{canary}', 'w').write('gone')\nreturn super().forward(x)"), says="only lets code write files"),
    Case("invalid_json", "error", "error", relu="error", raw='{"cells": [ this is not json', says="not valid notebook JSON"),
    Case("empty_notebook", "error", "error", relu="error",
         raw='{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', says="has no code cells"),
    Case("syntax_error_cell", "ok", "pass", extra="def broken(:\n    return 1", says="syntax error"),
    Case("nbformat_v3", "ok", "pass", raw="{base_v3}"),
    Case("escape_write", "ok", "error", says=REFUSED_FORK,
         extra=shell("touch {canary}.escaped /dev/shm/bpk-escape-{port} /var/tmp/bpk-escape-{port}")),
    Case("escape_orphan", "ok", "error", says=REFUSED_FORK, extra=shell("setsid sleep {port} &")),
    Case("escape_kill_all", "ok", "error", says=REFUSED_FORK, extra=shell("kill -9 -1")),
    # the audit hook's function is reachable through gc, and its code replaceable: both refused
    Case("hook_through_gc", "ok", "error", extra=forward("import gc\ngc.get_objects()\nreturn super().forward(x)"),
         says="does not allow gc.get_objects"),
    Case("swap_code", "ok", "error", extra=forward("def f():\n    pass\nf.__code__ = (lambda: 1).__code__\n"
                                                   "return super().forward(x)"), says="replacing a function's code"),
    # after set-up, the sandbox's own sentence on stderr is the student's: never shown as the grader's
    Case("forged_setup_failure", "ok", "error", extra=forward(
        "import os\nos.write(2, b'the grading sandbox could not create its namespaces')\nos._exit(2)"),
        says="the submission's process exited (code 2)"),
)


def escaped_files(canary: Path, port: int) -> list[Path]:
    """What escape_write tried to create: none of it may exist after grading."""
    return [p for p in (Path(f"{canary}.escaped"), Path(f"/dev/shm/bpk-escape-{port}"),
                        Path(f"/var/tmp/bpk-escape-{port}")) if p.exists()]


def orphans(port: int) -> list[int]:
    """Processes escape_orphan started (``sleep <port>``): none may outlive grading."""
    return processes_mentioning(f"sleep\0{port}\0")


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


def write_all(folder: Path, *, port: int, canary: Path, only: tuple[str, ...] | None = None) -> dict[str, Case]:
    folder.mkdir(parents=True, exist_ok=True)
    fill = {"port": port, "canary": str(canary), "kit": str(KIT)}
    cases = [c for c in CASES if only is None or c.name in only]
    for case in cases:
        if case.raw is None:
            text = json.dumps(notebook_v4(base_cells() + ([case.extra.format(**fill)] if case.extra else [])))
        elif case.raw == "{base_v3}":
            text = json.dumps(notebook_v3(base_cells()))
        else:
            text = case.raw
        (folder / f"{case.name}.ipynb").write_text(text)
    return {c.name: c for c in cases}


class Listener:
    """A socket listening on 127.0.0.1 for a batch: ``port`` goes into the cases (socket_connect),
    ``reached()`` says afterwards whether any sandboxed code connected, and closes it."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.socket.setblocking(False)
        self.port = self.socket.getsockname()[1]

    def reached(self) -> bool:
        try:
            self.socket.accept()
            return True
        except BlockingIOError:
            return False
        finally:
            self.socket.close()


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text``: a sandbox that outlived its batch shows up here."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found
