"""Planting, writing and grading zoo versions (shared by bench/zoo.py and tests/test_zoo.py).

A *version* is a shape's correct file or one bug planted in it, in the original naming or
renamed (``rename.rename_source`` applied after planting). Each is written to its own folder as
``student.py`` (a neutral name: the file name must not tell discovery anything) and graded in a
subprocess started from the repository root, like a student's run: a unit shape (catalogue.py)
by the unit tier, a stretch shape (stretch_catalogue.py) by the stretch tier (batchnorm, dropout,
conv2d, layernorm), a network shape (networks_catalogue.py) by the whole-network tier
(``networks_catalogue.NETWORK``: model_gradcheck, the optimisers, the gradient checker, autograd,
training_xor and training_spiral; the test files are named and ``addopts`` cleared, so the training
checks' ``slow`` marker deselects nothing).

Training is the costly part of the network tier. ``graded(version, train_bugs)`` leaves the
training components out of a network *bug* version unless the bug is a training bug or
``train_bugs`` is true (``BACKPROP_KIT_ZOO_TRAIN_BUGS=1``, ``bench/zoo.py --train-bugs``): every
planted network bug is a wrong gradient or a wrong update that model_gradcheck or the optimiser
checks name, and the correct versions still prove that training passes.

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
from zoo.networks_catalogue import NETWORK_BY_ID, TRAINING
from zoo.stretch_catalogue import STRETCH_BY_ID
from zoo.rename import rename_source

REPO = Path(__file__).resolve().parents[2]
UNIT_FILES = tuple(f"conformance/test_{c}.py" for c in UNIT)
ALL_BY_ID = {**BY_ID, **NETWORK_BY_ID, **STRETCH_BY_ID}
TRAIN_BUGS = os.environ.get("BACKPROP_KIT_ZOO_TRAIN_BUGS") == "1"
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

    @property
    def components(self) -> tuple[str, ...]:
        """The components this version's tier grades (UNIT, or NETWORK for a network shape)."""
        return components_of(self.shape)

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


def components_of(shape: Shape) -> tuple[str, ...]:
    return getattr(shape, "components", UNIT)


def graded(version: Version, train_bugs: bool = TRAIN_BUGS, training: bool = True) -> tuple[str, ...]:
    """The components run and compared for ``version``: a network bug version skips training
    (see the module docstring) unless its bug is a training bug or ``train_bugs``; every
    version skips it when ``training`` is False."""
    comps = version.components
    if comps == UNIT or training and (not version.is_bug or train_bugs or version.bug.component in TRAINING):
        return comps
    return tuple(c for c in comps if c not in TRAINING)


def suite_files(components) -> tuple[str, ...]:
    return tuple(f"conformance/test_{c}.py" for c in components)


def versions(shapes=SHAPES, renamed=(False, True)) -> list[Version]:
    """The correct version and every bug version of ``shapes``, in each naming of ``renamed``."""
    return [Version(s, b, r) for r in renamed for s in shapes for b in (None, *s.bugs)]


def contested(shapes=SHAPES) -> list[Version]:
    """The contested variants of ``shapes`` (original naming)."""
    ids = {s.id for s in shapes}
    return [Version(BY_ID[c.shape], c) for c in CONTESTED if c.shape in ids]


def run_unit(impl: Path, report: Path, extra: tuple[str, ...] = (), env: dict | None = None,
             files: tuple[str, ...] = UNIT_FILES) -> dict:
    """The report of the unit tier (or of ``files``) on ``impl`` (a subprocess from the repo root),
    or {"crash": output} when no report was written."""
    cmd = [sys.executable, "-m", "pytest", *files, "--impl", str(impl), "--report", str(report), "-q",
           "-p", "no:cacheprovider", "--no-header", "-o", "addopts=", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    env.pop("BACKPROP_KIT_IMPL", None)
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    if not report.is_file():
        return {"crash": (proc.stdout + proc.stderr)[-3000:]}
    return json.loads(report.read_text())


def grade(version: Version, folder: Path, extra: tuple[str, ...] = (), env: dict | None = None,
          train_bugs: bool = TRAIN_BUGS, training: bool = True) -> dict:
    """The report of ``version``'s tier (its ``graded`` components) on it."""
    files = suite_files(graded(version, train_bugs, training))
    return run_unit(version.write(folder), folder / "report.json", extra, env, files=files)


def verdicts(report: dict, components=UNIT) -> dict[str, tuple[str, str]]:
    """component -> (verdict, diagnosis) for ``components``; a crash, a load error or a component
    the report lacks is an error."""
    if "crash" in report:
        return {c: ("error", "the suite wrote no report: " + report["crash"][-300:]) for c in components}
    comps = report["components"]
    return {c: (comps[c]["verdict"], comps[c]["diagnosis"]) if c in comps else ("error", "not in the report")
            for c in components}


def mismatches(version: Version, report: dict, components=None) -> list[tuple[str, str, str, str]]:
    """(component, expected, got, diagnosis) for every graded component not as expected
    (``components``: default ``graded(version)``)."""
    components = graded(version) if components is None else components
    got = verdicts(report, components)
    return [(c, version.expected()[c], got[c][0], got[c][1]) for c in components
            if got[c][0] not in version.allowed(c)]
