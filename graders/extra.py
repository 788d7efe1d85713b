"""Instructor-only checks (``--extra-checks DIR``): the instructor's own components, graded with
the kit's, never shipped to students. ``docs/extra-checks.md`` shows how to write one.

DIR holds::

    checks.toml      [components.<id>] points = 10     one table per component the checks add
    probes_*.py      probes (``@probe("<id>.what")``): staged into the sandboxed child, as the kit's are
    test_*.py        test modules (``pytestmark = pytest.mark.component("<id>")``, ``check.run(probe,
                     case, judge)``) with their judges: run by the trusted worker, never in the child

The ids become gradebook columns after the kit's, with the points ``checks.toml`` gives them.
``read`` checks the folder once, before anything is graded; its ``sha256`` (every file's name and
bytes) goes into each submission's key and the shard settings, so changing a check regrades.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from conformance.components import COMPONENTS
from conformance.tomlread import tomllib

CONFIG = "checks.toml"


class ExtraChecksError(Exception):
    """A folder of extra checks that cannot be used; one sentence naming the file and what to fix."""


@dataclass(frozen=True)
class ExtraChecks:
    folder: Path
    points: dict[str, float]  # component id -> points, in the order checks.toml declares them
    probes: tuple[Path, ...]
    tests: tuple[Path, ...]
    sha256: str


def read(folder: Path) -> ExtraChecks:
    folder = Path(folder).resolve()
    config = folder / CONFIG
    if not folder.is_dir():
        raise ExtraChecksError(f"--extra-checks {folder} is not a folder: pass the folder holding {CONFIG}, "
                               "probes_*.py and test_*.py.")
    try:
        data = tomllib.loads(config.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ExtraChecksError(f"{config} cannot be read ({exc}): write one [components.<id>] table with "
                               "points = N per component.") from None
    tables = data.get("components")
    if not isinstance(tables, dict) or not tables:
        raise ExtraChecksError(f"{config} declares no component: add a table such as [components.accuracy] "
                               "with points = 10.")
    points = {}
    for cid, table in tables.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", cid) or cid in COMPONENTS:
            raise ExtraChecksError(f"{config} declares component {cid!r}: use a new lower-case id (letters, digits, "
                                   "_) that is not one of the kit's components.")
        value = table.get("points") if isinstance(table, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ExtraChecksError(f"{config} gives [components.{cid}] no non-negative points: write points = N.")
        points[cid] = float(value)
    tests = tuple(sorted(folder.glob("test_*.py")))
    if not tests:
        raise ExtraChecksError(f"{folder} holds no test_*.py module: the checks of {', '.join(points)} live there.")
    probes = tuple(sorted(folder.glob("probes_*.py")))
    digest = hashlib.sha256()
    for path in (config, *probes, *tests):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return ExtraChecks(folder, points, probes, tests, digest.hexdigest())
