"""Judge for appendix_a: the single-sample worked example, value by value.

The expected numbers come from fixtures/appendix_a.json (hand-written from the specification),
read by ``conformance/cases/appendix.py`` defensively: a missing or malformed fixture is the kit's error, never the student's fail.
Values are exact small decimals, so they are compared with rtol 1e-10 (as the assignment does).
"""
from __future__ import annotations

import numpy as np

from conformance.cases import snippet
from conformance.judges.common import close
from conformance.outcome import Outcome, failed, passed
from conformance.tolerances import EXACT

CACHE_NAMES = ("a1_cache", "h1_cache", "a1", "h1", "cache['a1']")
NOT_SINGLE_SAMPLE = ("appendix_a applies to single-sample implementations (assignment 004's "
                     "OneHiddenLayerMLP with L = (f - y)^2 / 2); this implementation is {style}-style.")
THEN = "# i.e. model.set_parameters(<fixtures/appendix_a.json>); f = model.forward(x); model.backward(x, y, f)"
HOW = {"a1": "a1 = W1 x + b1", "h1": "h1 = relu(a1)", "f": "f = W2 h1 + b2", "L": "L = (f - y)^2 / 2",
       "dL_dW2": "dL/dW2 = (f - y) h1^T", "dL_db2": "dL/db2 = f - y", "dL_dW1": "dL/dW1 = delta1 x^T with "
       "delta1 = (W2^T (f - y)) * relu'(a1)", "dL_db1": "dL/db1 = delta1"}


def quantity_judge(fixture: dict, q: str):
    """A judge (case, outputs) -> Outcome for one quantity of the worked example."""
    def judge(case: dict, outputs: dict) -> Outcome:
        want = fixture["expected"][q]
        grads = outputs.get("grads") if isinstance(outputs, dict) and isinstance(outputs.get("grads"), dict) else {}
        got = grads.get(q[4:]) if q.startswith("dL_d") else outputs.get(q) if isinstance(outputs, dict) else None
        note = ""
        if got is None and q == "L" and isinstance(outputs, dict) and outputs.get("f") is not None:
            try:  # no loss method: the specification's L of the student's own f
                got = 0.5 * (float(np.ravel(outputs["f"])[0]) - float(case["y"])) ** 2
                note = " (computed as (f - y)^2 / 2 from your f: your model has no loss(f, y) method)"
            except (TypeError, ValueError, IndexError):
                got = None
        if got is None and q in ("a1", "h1"):
            return Outcome("missing", f"appendix_a {q}: your model exposes no {q} (looked for "
                                      f"{', '.join(CACHE_NAMES)}), so it was not checked.")
        try:
            value = np.asarray(got, float)
            ok = value.size == want.size and close(value.reshape(want.shape), want, EXACT)
        except (TypeError, ValueError):
            value, ok = None, False
        evidence = {"expected": want.tolist(), "got": None if value is None else value.tolist(),
                    "snippet": snippet(case["recipe"], "appendix_a.example", then=THEN)}
        if ok:
            return passed(f"appendix_a {q} = {want.tolist()} as in the worked example{note}.", **evidence)
        return failed(f"appendix_a {q}: expected {want.tolist()}, got {evidence['got']}{note} ({HOW[q]}).",
                      "appendix_a_mismatch", **evidence)
    judge.__name__ = f"appendix_{q}"
    return judge
