"""Probe for gradient_checker: the student's own checker on layers the kit controls (SPEC 12).

Four judged cases, each at the checker's own defaults: a linear and a nonlinear (tanh) case,
correct and with a planted bug (gradients 1.5 times too large). Three more runs only name why a
checker rejects a correct case: the linear case with its gradient negated, and both correct
cases at a ten times smaller step when the checker takes a step argument."""
from __future__ import annotations

import contextlib
import inspect
import io

from conformance.probes import probe

JUDGED = {"correct": {"planted_bug": False}, "planted": {"planted_bug": True},
          "nonlinear": {"planted_bug": False, "nonlinear": True},
          "nonlinear_planted": {"planted_bug": True, "nonlinear": True}}
DIAGNOSTIC = {"negated": {"planted_bug": "negated"},
              "smaller_step": {"planted_bug": False, "step_factor": 0.1},
              "nonlinear_smaller_step": {"planted_bug": False, "nonlinear": True, "step_factor": 0.1}}


def _plain(report: dict) -> dict:
    error, passed = report.get("error"), report.get("passed")
    return {"error": None if error is None else float(error), "passed": None if passed is None else bool(passed)}


def _takes(check, name: str) -> bool:
    try:
        return name in inspect.signature(check).parameters
    except (TypeError, ValueError):
        return False


@probe("gradient_checker.verdicts")
def verdicts(adapter, inputs: dict) -> dict:
    """inputs: seed. Returns what the student's checker said about each case, and its step
    argument (name, default) when it has one. An adapter whose checker callable takes only
    (planted_bug, seed) gets the two linear cases (``extended`` False)."""
    check = adapter.gradient_checker()
    seed = int(inputs.get("seed", 0))
    extended = _takes(check, "nonlinear")
    with contextlib.redirect_stdout(io.StringIO()):  # what the student's checker prints is not an answer
        return _run(check, seed, extended)


def _run(check, seed: int, extended: bool) -> dict:
    cases = JUDGED if extended else {k: JUDGED[k] for k in ("correct", "planted")}
    out = {name: _plain(check(seed=seed, **kw)) for name, kw in cases.items()}
    step = getattr(check, "step", None) or getattr(getattr(check, "__self__", None), "step", None)
    out["extended"], out["step"] = extended, list(step) if step else None
    for name, kw in DIAGNOSTIC.items() if extended else ():
        if "step_factor" in kw and not step:
            continue
        try:
            out[name] = _plain(check(seed=seed, **kw))
        except Exception:  # a diagnostic run only names a cause; it never decides the verdict
            out[name] = None
    return out
