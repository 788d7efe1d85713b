"""Rubrics: points per component, partial credit, and what a forbidden import costs.

A rubric is a TOML file (see ``graders/rubrics/*.toml``, one per assignment style)::

    title = "..."
    partial = "fraction"        # points * (required checks passed / required checks run); or "all_or_nothing"
    [points]                    # component id -> points (absent or 0: graded, reported, not scored)
    linear = 15
    [policy.zero]               # imported module -> components it zeroes ("*" = all)
    reference = ["*"]
    [visibility]                # Gradescope: when students see a component's test (default "visible")
    "*" = "visible"             # every component not named, and the whole result (score, summary)
    training_mnist = "after_due_date"

>>> r = Rubric(title="t", points={"linear": 10})
>>> score_component(r, "linear", {"verdict": "fail", "checks": [{"outcome": "pass"}, {"outcome": "fail"}]})
5.0
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from conformance.components import COMPONENTS
from conformance.tomlread import tomllib

RUBRICS = Path(__file__).with_name("rubrics")
PARTIAL_MODES = ("fraction", "all_or_nothing")
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's own words


class RubricError(Exception):
    """A rubric file that cannot be used; the message says which file and what to fix."""


@dataclass(frozen=True)
class Rubric:
    title: str
    points: dict[str, float]
    partial: str = "fraction"
    zero: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = ""
    visibility: dict[str, str] = field(default_factory=dict)

    @property
    def max_score(self) -> float:
        return float(sum(self.points.values()))

    def visibility_of(self, component: str) -> str:
        """Gradescope's visibility of a component's test (``"*"``: of the whole result)."""
        return self.visibility.get(component, self.visibility.get("*", "visible"))


def load(path: str | Path) -> Rubric:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RubricError(f"rubric {path} cannot be read ({exc}): fix the TOML syntax.") from None
    points = data.get("points", {})
    unknown = sorted(set(points) - set(COMPONENTS))
    if unknown:
        raise RubricError(f"rubric {path} names unknown components {unknown}: use ids from conformance.components.")
    if any(not isinstance(v, (int, float)) or v < 0 for v in points.values()):
        raise RubricError(f"rubric {path} has a [points] value that is not a non-negative number: fix it.")
    partial = data.get("partial", "fraction")
    if partial not in PARTIAL_MODES:
        raise RubricError(f"rubric {path} has partial = {partial!r}: use one of {PARTIAL_MODES}.")
    zero = {mod: tuple(comps) for mod, comps in data.get("policy", {}).get("zero", {}).items()}
    bad = sorted({c for comps in zero.values() for c in comps} - set(COMPONENTS) - {"*"})
    if bad:
        raise RubricError(f"rubric {path} [policy.zero] names unknown components {bad}: use component ids or \"*\".")
    visibility = data.get("visibility", {})
    bad = sorted(set(visibility) - set(COMPONENTS) - {"*"})
    if bad:
        raise RubricError(f"rubric {path} [visibility] names unknown components {bad}: use component ids or \"*\".")
    wrong = sorted(k for k, v in visibility.items() if v not in VISIBILITIES)
    if wrong:
        raise RubricError(f"rubric {path} [visibility] gives {wrong[0]} the value {visibility[wrong[0]]!r}: "
                          f"use one of {', '.join(VISIBILITIES)}.")
    return Rubric(title=data.get("title", path.stem), points={k: float(v) for k, v in points.items() if v},
                  partial=partial, zero=zero, source=str(path), visibility=dict(visibility))


def default_for(style: str | None) -> Rubric:
    """The shipped rubric of an assignment style (canonical when the style has none)."""
    shipped = {p.stem: p for p in RUBRICS.glob("*.toml")}  # a style is a name, never a path
    return load(shipped.get(style or "", RUBRICS / "canonical.toml"))


def score_component(rubric: Rubric, component: str, entry: dict) -> float:
    points = rubric.points.get(component, 0.0)
    if not points:
        return 0.0
    checks = [c for c in entry.get("checks") or [] if c.get("required") is not False]  # SPEC.md 0.6
    if entry.get("verdict") == "pass":
        return points
    if rubric.partial == "all_or_nothing" or not checks:
        return 0.0
    passed = sum(1 for c in checks if c.get("outcome") == "pass")
    return round(points * passed / len(checks), 4)


def with_points(rubric: Rubric, extra: dict[str, float]) -> Rubric:
    """The rubric with the points of components it does not know (instructor-only checks, graders.extra)."""
    return replace(rubric, points={**rubric.points, **{c: p for c, p in extra.items() if p}}) if extra else rubric


def zeroed_by_policy(rubric: Rubric, imports: list[str], components=COMPONENTS) -> dict[str, str]:
    """component -> the sentence saying which import zeroed it (``"*"``: every one of ``components``)."""
    out = {}
    for module in imports:
        for comp in rubric.zero.get(module, ()):
            for c in (components if comp == "*" else (comp,)):
                out.setdefault(c, f"scored 0 because the submission imports {module}, which this rubric forbids")
    return out
