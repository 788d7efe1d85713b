"""Judge for gradient_checker: the student's own checker must pass a correct layer and flag a
layer with a kit-planted backward bug.

Thresholds on a reported error number: a float64 central-difference check of a correct layer
reports relative errors around 1e-10..1e-7, so <= 1e-4 counts as "small"; the planted bug
changes the gradient by several percent, so >= 1e-3 counts as "large". Between the two the
checker cannot tell right from wrong. A pass/fail answer, when the checker gives one, wins.
"""
from __future__ import annotations

from conformance.judges.models import snippet
from conformance.outcome import failed, passed

SMALL, LARGE = 1e-4, 1e-3


def build_gradchecker(seed: int = 0) -> dict:
    return {"seed": seed}


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


def judge_gradchecker(inputs: dict, outputs: dict, own_layer_wrong: bool = False):
    """``own_layer_wrong``: the kit's model_gradcheck found the student's own layers wrong, so a
    checker that rejects the "correct" layer built from them is right, not too strict."""
    snip = snippet("gradchecker.build_gradchecker", "gradient_checker.verdicts", inputs["seed"])
    if not isinstance(outputs, dict):
        return failed("gradient_checker: the probe returned nothing readable.", "malformed_answer", snippet=snip)
    correct, planted = outputs.get("correct"), outputs.get("planted")
    ok_correct, ok_planted = _says_ok(correct), _says_ok(planted)
    evidence = {"correct_layer": correct, "planted_bug_layer": planted, "small": SMALL, "large": LARGE,
                "snippet": snip}
    if ok_correct is None or ok_planted is None:
        return failed(f"your gradient checker's answer could not be read as pass/fail (it reported "
                      f"{correct} on a correct layer and {planted} on a broken one): return a relative error "
                      f"(small <= {SMALL:g}, large >= {LARGE:g}) or a bool.", "checker_unreadable", **evidence)
    if not ok_correct and own_layer_wrong and not ok_planted:
        return passed(f"your gradient checker rejects your own layer (it reported {correct}), and the kit's "
                      f"model_gradcheck also finds your gradients wrong: the checker is right; fix the layer.",
                      **evidence)
    if not ok_correct:
        return failed(f"your gradient checker rejects a correct layer (it reported {correct}): check the step "
                      f"size (1e-5 in float64), use central differences, and measure a relative error.",
                      "checker_too_strict", **evidence)
    if ok_planted:
        return failed(f"your gradient checker accepts a layer whose backward is wrong by a few percent (it "
                      f"reported {planted}): it is too lenient; compare every element and use a relative "
                      f"error with a tight threshold.", "checker_too_lenient", **evidence)
    return passed("your gradient checker accepts a correct layer and rejects a broken one.", **evidence)
