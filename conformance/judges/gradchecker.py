"""Judge for gradient_checker: the student's own checker must accept a correct linear and a
correct nonlinear (tanh) case, at its own defaults, and reject each with a kit-planted backward
bug. The layers are the kit's, in the student's API (``adapters/standins.py``), so no other
component of the submission can change this verdict (SPEC 0.3).

Thresholds on a reported error number: a float64 central-difference check of a correct layer
reports relative errors around 1e-10..1e-7, so <= 1e-4 counts as "small"; the planted bug
changes the gradient by 50%, so >= 1e-3 counts as "large". Between the two the checker cannot
tell right from wrong. A pass/fail answer, when the checker gives one, wins.

Why a correct case is rejected is named from the diagnostic runs: accepting the negated gradient
is `checker_sign_error`; an error that falls about tenfold with a ten times smaller step is a
first-order (one-sided) difference, a hundredfold a central difference with a step too large.
"""
from __future__ import annotations

from conformance.outcome import failed, passed

SMALL, LARGE = 1e-4, 1e-3
FIRST_ORDER, SECOND_ORDER = 3.0, 30.0  # error ratio at step h vs h/10: ~10 one-sided, ~100 central
CASE_TEXT = {"correct": "a correct linear layer", "nonlinear": "a correct tanh layer",
             "planted": "a linear layer whose backward is 1.5 times too large",
             "nonlinear_planted": "a tanh layer whose backward is 1.5 times too large"}


def _says_ok(report) -> bool | None:
    """True/False when the checker's answer says pass/fail, None when it says nothing readable."""
    if not isinstance(report, dict):
        return None
    if report.get("passed") is not None:
        return bool(report["passed"])
    error = report.get("error")
    if error is None or error != error:  # None or NaN
        return None
    return True if error <= SMALL else False if error >= LARGE else None


def _said(report) -> str:
    if not isinstance(report, dict):
        return "nothing"
    parts = [f"error {report['error']:.3g}" if report.get("error") is not None else "",
             {True: "passed", False: "failed"}.get(report.get("passed"), "")]
    return ", ".join(p for p in parts if p) or "nothing readable"


def why_rejected(outputs: dict, rejected: list[str]) -> tuple[str, str]:
    """(cause, sentence) for a checker that rejects the correct cases ``rejected``."""
    if _says_ok(outputs.get("negated")):
        return "checker_sign_error", ("it accepts the same layer with its gradient negated: it compares the "
                                      "numerical and analytic gradients with opposite signs")
    step = outputs.get("step")
    for case in rejected[::-1]:  # the nonlinear case first: curvature shows there
        small = outputs.get("smaller_step" if case == "correct" else "nonlinear_smaller_step")
        if not step or not isinstance(small, dict):
            continue
        name, default = step
        at = f"at its default {name}={default:g}"
        big, little = outputs[case].get("error"), small.get("error")
        if big is not None and little is not None and big > 0:
            ratio = big / max(little, 1e-300)
            if ratio >= SECOND_ORDER:
                return "checker_step_too_large", (f"{at} it reports {big:.3g} on {CASE_TEXT[case]}, {ratio:.0f} "
                                                  f"times less with {name}={default / 10:g}: a central difference "
                                                  f"whose step is too large for the curvature")
            if ratio >= FIRST_ORDER:
                return "checker_one_sided_difference", (
                    f"{at} it reports {big:.3g} on {CASE_TEXT[case]}, only {ratio:.0f} times less with "
                    f"{name}={default / 10:g}: the error of a one-sided difference, proportional to the step")
        if _says_ok(small):
            return "checker_step_too_large", (f"{at} it rejects {CASE_TEXT[case]} and accepts it with "
                                              f"{name}={default / 10:g}: the step is too large for the curvature "
                                              f"(or the difference is one-sided)")
    if rejected == ["nonlinear"]:
        return "checker_too_strict", ("it is right on a linear layer but not on a nonlinear one: a one-sided "
                                      "difference or a step too large for the curvature")
    return "checker_too_strict", "check the step size (1e-5 in float64), use central differences, and measure a relative error"


def judge_gradchecker(inputs: dict, outputs: dict):
    if not isinstance(outputs, dict):
        return failed("gradient_checker: the probe returned nothing readable.", "malformed_answer")
    judged = [c for c in CASE_TEXT if c in outputs]
    ok = {c: _says_ok(outputs[c]) for c in judged}
    evidence = {"reports": {c: outputs[c] for c in judged}, "small": SMALL, "large": LARGE,
                **{k: outputs[k] for k in ("negated", "smaller_step", "nonlinear_smaller_step", "step") if k in outputs}}
    if "correct" not in ok or "planted" not in ok or None in ok.values():
        said = "; ".join(f"{_said(outputs.get(c))} on {CASE_TEXT[c]}" for c in judged)
        return failed(f"your gradient checker's answer could not be read as pass/fail (it reported {said}): return "
                      f"a relative error (small <= {SMALL:g}, large >= {LARGE:g}) or a bool.", "checker_unreadable",
                      **evidence)
    rejected = [c for c in ("correct", "nonlinear") if ok.get(c) is False]
    if rejected:
        cause, why = why_rejected(outputs, rejected)
        said = " and ".join(f"{_said(outputs[c])} on {CASE_TEXT[c]}" for c in rejected)
        return failed(f"your gradient checker rejects a correct layer (it reported {said}): {why}.", cause, **evidence)
    fooled = [c for c in ("planted", "nonlinear_planted") if ok.get(c)]
    if fooled:
        said = " and ".join(f"{_said(outputs[c])} on {CASE_TEXT[c]}" for c in fooled)
        return failed(f"your gradient checker accepts a layer whose backward is wrong by 50% (it reported {said}): it "
                      f"is too lenient; compare every element and use a relative error with a tight threshold.",
                      "checker_too_lenient", **evidence)
    what = "a correct linear and a correct tanh layer" if "nonlinear" in ok else "a correct layer"
    note = "" if "nonlinear" in ok else " (your adapter's checker takes no nonlinear case, so only a linear one was tried)"
    return passed(f"your gradient checker accepts {what} at its own defaults and rejects each with a planted "
                  f"bug{note}.", **evidence)
