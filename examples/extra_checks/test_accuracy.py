"""Instructor-only: the assignment's accuracy(probs, labels) is the fraction of rows whose largest
probability is at the true label. Inputs and the judge live here, on the trusted side."""
import numpy as np
import pytest

import probes_accuracy  # noqa: F401  (registers the probe for a run on your laptop; the grader stages it in the child)
from conformance.outcome import Outcome, failed, passed

pytestmark = pytest.mark.component("accuracy")


def case(seed: int, batch: int, classes: int) -> dict:
    """Probabilities (batch, classes) with one clear largest entry per row, and int labels that
    match about half of them."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(batch, classes))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.where(rng.random(batch) < 0.5, probs.argmax(axis=1), rng.integers(0, classes, size=batch))
    return {"probs": probs, "labels": labels}


def fraction_correct(inputs: dict, out: dict) -> Outcome:
    expected = float(np.mean(np.argmax(inputs["probs"], axis=1) == inputs["labels"]))
    got = out.get("got") if isinstance(out, dict) else None
    if not isinstance(got, float) or not np.isfinite(got):  # fail closed
        return failed(f"accuracy returned {got!r}, not a finite number.", expected=expected, got=repr(got))
    if np.isclose(got, expected, rtol=0, atol=1e-12):
        return passed("accuracy is the fraction of rows predicted right")
    if np.isclose(got, 100 * expected):
        return failed("accuracy returns a percentage: return the fraction (0.5, not 50).", expected=expected, got=got)
    if np.isclose(got, expected * len(inputs["labels"])):
        return failed("accuracy returns the number of right predictions: divide by the batch size.",
                      expected=expected, got=got)
    return failed("accuracy is not the fraction of rows whose largest probability is at the label.",
                  expected=expected, got=got)


@pytest.mark.parametrize("inputs", [case(0, 8, 3), case(1, 5, 4), case(2, 1, 2)], ids=["b8", "b5", "b1"])
def test_accuracy(check, inputs):
    check.run("accuracy.call", inputs, fraction_correct)
