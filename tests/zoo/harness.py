"""Planting, writing and grading zoo versions (shared by bench/zoo.py and tests/test_zoo.py).

A *version* is a shape's correct file or one bug planted in it, in the original naming or
renamed (``rename.rename_source`` applied after planting). Each is written to its own folder as
``student.py`` (a neutral name: the file name must not tell discovery anything) and graded by the
unit tier of the suite in a subprocess started from the repository root, like a student's run.

>>> v = Version(BY_ID["canonical_like_init"], BY_ID["canonical_like_init"].bugs[0], renamed=True)
>>> v.label, v.expected()["linear"], "self.dW" in v.text()
('canonical_like_init/dW-transposed/renamed', 'fail', False)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from zoo.catalogue import BY_ID, CONTESTED, SHAPES, UNIT, Bug, Contested, Shape
from zoo.rename import rename_source

REPO = Path(__file__).resolve().parents[2]
UNIT_FILES = tuple(f"conformance/test_{c}.py" for c in UNIT)
WORKERS = 2  # suites at once (the CI machine has 2 cores)
TIMEOUT_S = 300


def plant(shape: Shape, bug: Bug | Contested | None) -> str:
    """The shape's source with ``bug`` planted (each ``old`` must occur exactly once)."""
    text = shape.path.read_text()
    edits = () if bug is None else bug.edits if isinstance(bug, Contested) else ((bug.old, bug.new),)
    for old, new in edits:
        count = text.count(old)
        assert count == 1, f"{shape.id}/{bug.id}: old text occurs {count} times, expected exactly once"
        text = text.replace(old, new)
    return text


@dataclass(frozen=True, eq=False)
class Version:
    """A correct shape, a bug version, or a contested variant (correct code: expected as correct).
    Versions compare and hash by ``label``."""
    shape: Shape
    bug: Bug | Contested | None = None
    renamed: bool = False

    @property
    def name(self) -> str:
        return self.bug.id if self.bug else "correct"

    @property
    def naming(self) -> str:
        return "renamed" if self.renamed else "original"

    @property
    def label(self) -> str:
        return f"{self.shape.id}/{self.name}/{self.naming}"

    def __eq__(self, other):
        return isinstance(other, Version) and other.label == self.label

    def __hash__(self):
        return hash(self.label)

    def text(self) -> str:
        source = plant(self.shape, self.bug)
        return rename_source(source) if self.renamed else source

    @property
    def is_bug(self) -> bool:
        return isinstance(self.bug, Bug)

    def expected(self) -> dict[str, str]:
        want = self.shape.expected()
        if self.is_bug:
            want[self.bug.component] = "fail"
        return want

    def allowed(self, component: str) -> set[str]:
        """The verdicts that count as expected for ``component``."""
        ok = {self.expected()[component]}
        if self.is_bug and component in self.bug.also:
            ok.add("fail")
        return ok

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "student.py"
        path.write_text(self.text())
        return path


def versions(shapes=SHAPES, renamed=(False, True)) -> list[Version]:
    """The correct version and every bug version of ``shapes``, in each naming of ``renamed``."""
    return [Version(s, b, r) for r in renamed for s in shapes for b in (None, *s.bugs)]


def contested(shapes=SHAPES) -> list[Version]:
    """The contested variants of ``shapes`` (original naming)."""
    ids = {s.id for s in shapes}
    return [Version(BY_ID[c.shape], c) for c in CONTESTED if c.shape in ids]


def run_unit(impl: Path, report: Path, extra: tuple[str, ...] = (), env: dict | None = None) -> dict:
    """The report of the unit tier on ``impl`` (a subprocess from the repo root), or
    {"crash": output} when no report was written."""
    cmd = [sys.executable, "-m", "pytest", *UNIT_FILES, "--impl", str(impl), "--report", str(report), "-q",
           "-p", "no:cacheprovider", "--no-header", "-o", "addopts=", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    env.pop("BACKPROP_KIT_IMPL", None)
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    if not report.is_file():
        return {"crash": (proc.stdout + proc.stderr)[-3000:]}
    return json.loads(report.read_text())


def grade(version: Version, folder: Path, extra: tuple[str, ...] = (), env: dict | None = None) -> dict:
    return run_unit(version.write(folder), folder / "report.json", extra, env)


def verdicts(report: dict) -> dict[str, tuple[str, str]]:
    """component -> (verdict, diagnosis) for the unit components; a crash or a load error is an
    error everywhere."""
    if "crash" in report:
        return {c: ("error", "the suite wrote no report: " + report["crash"][-300:]) for c in UNIT}
    comps = report["components"]
    return {c: (comps[c]["verdict"], comps[c]["diagnosis"]) for c in UNIT}


def mismatches(version: Version, report: dict) -> list[tuple[str, str, str, str]]:
    """(component, expected, got, diagnosis) for every unit component not as expected."""
    got = verdicts(report)
    return [(c, version.expected()[c], got[c][0], got[c][1]) for c in UNIT if got[c][0] not in version.allowed(c)]
