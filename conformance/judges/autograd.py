"""Judges for autograd (SPEC.md 21): the student's engine, operation by operation.

Every operation the engine defines is judged on kit-chosen float64 inputs: its forward against
numpy, and the gradient its backward leaves in each input against the central differences of the
engine's *own* forward at the kit's perturbed points (tolerance ``gradient``). Operations the
engine lacks are listed, never failed. Three named failures: ``gradient_not_accumulated`` (a value
used twice gets half its gradient), ``broadcast_not_summed`` ((B, n) + (n,) leaves a (B, n) or
averaged gradient), ``zero_grad_missing`` (gradients add up across steps and nothing resets them).
"""
from __future__ import annotations

import numpy as np

from conformance.cases.autograd import NUMPY
from conformance.judges.common import close, excerpt, numerical_vjp, where_largest
from conformance.outcome import Outcome, failed, passed
from conformance.tolerances import FORWARD, GRADIENT

NAMES = ("a", "b")


# --- judging one operation -----------------------------------------------------------------------


def _judge_one(label: str, spec: dict, res: dict, backward: str) -> Outcome:
    """One operation: forward against numpy, each input's gradient against central differences.
    ``backward``: how the engine's backward is called (``Tensor.backward()``, ``run_backward(result)``)."""
    if not isinstance(res, dict):
        return failed(f"{label}: the probe returned no result.", "malformed_answer")
    op = res.get("op") or spec["op"]
    if "error" in res:
        if spec.get("broadcast") and res.get("stage") == "forward":
            return Outcome("missing", f"your engine's {op} does not broadcast {label}: {res['error']}")
        return Outcome("error", f"{label}: {res['error']}", None, {"raised": res["error"], "label": label})
    inputs = spec["inputs"] * (2 if spec.get("same") else 1)
    expected = NUMPY[spec["op"]](*inputs)
    try:
        y = np.asarray(res.get("y"), dtype=float)
    except (TypeError, ValueError):
        return failed(f"{label}: the forward value is not a float array.", "malformed_answer")
    if y.size != np.size(expected) or not close(y.reshape(np.shape(expected)), expected, FORWARD):
        return failed(f"{label} with your {op}: the forward value differs from numpy's.", "wrong_forward",
                     **(excerpt(expected, y) if y.size == np.size(expected) else {"got": list(y.shape)}))
    if res.get("no_grad"):
        which = ", ".join(NAMES[i] for i in res["no_grad"])
        return failed(f"{label}: after {backward} the input {which} holds no gradient (None).",
                     "autograd_wrong_gradient")
    grads, values = res.get("grads") or [], res.get("y_at_points") or []
    if len(grads) != len(spec["inputs"]) or len(values) != len(spec["inputs"]):
        return failed(f"{label}: the probe returned {len(grads)} gradients for {len(spec['inputs'])} inputs.",
                     "malformed_answer")
    for i, (a, g, at) in enumerate(zip(spec["inputs"], grads, values)):
        name = "x" if spec.get("same") else NAMES[i]
        g = np.asarray(g, dtype=float)
        numerical = numerical_vjp(at, spec["dy"], a.shape)
        if g.shape != a.shape:
            cause = "broadcast_not_summed" if g.shape == np.shape(expected) else "wrong_shape"
            return failed(f"{label}: {name}.grad has shape {g.shape}, expected {a.shape} (the shape of {name}; "
                         "a broadcast operand's gradient is summed back to its shape).", cause,
                         expected=list(a.shape), got=list(g.shape))
        if close(g, numerical, GRADIENT):
            continue
        cause, hint = "autograd_wrong_gradient", ""
        if spec.get("same") and "+x" in spec["op"]:  # u(x) + x: x.grad holds one use only
            one_use = numerical_vjp(at, spec["dy"], a.shape) - np.asarray(spec["dy"], dtype=float)
            if close(g, one_use, GRADIENT) or close(g, np.broadcast_to(spec["dy"], a.shape), GRADIENT):
                cause, hint = "gradient_not_accumulated", (": it holds only one of the two uses of x (a backward that "
                                                           "assigns grad = where it must add grad +=)")
        elif spec.get("same") and close(g, numerical / 2, GRADIENT):
            cause, hint = "gradient_not_accumulated", ": it is half the true one, one of the two uses of x was lost"
        elif spec.get("broadcast") and close(g, numerical / (np.size(expected) // a.size), GRADIENT):
            cause, hint = "broadcast_not_summed", ": it is the true one over the batch size (averaged, not summed)"
        return failed(f"{label}: {name}.grad after {backward} does not match the central differences of "
                     f"your own {op} (tolerance {GRADIENT.name}: rtol={GRADIENT.rtol:g}){hint}.", cause,
                     where=where_largest(g, numerical), **excerpt(numerical, g))
    return passed(f"{label}: your {op} is right")


def _judge_all(case: dict, out: dict, labels, what: str) -> Outcome:
    """Every label present in the engine: the worst outcome, all failures named, lacks listed."""
    if not isinstance(out, dict) or not isinstance(out.get("results"), dict):
        return failed("the autograd probe returned no results.", "malformed_answer")
    engine, results = out.get("engine") or "Tensor", out["results"]
    if out.get("not_applicable"):  # a scalar engine: no reductions or broadcasting of its own
        return Outcome("missing", str(out["not_applicable"]), required=False)
    if not out.get("scalar"):  # u(x) + x is asked of scalar engines only
        labels = [label for label in labels if not case["checks"][label].get("scalar_only")]
    present = [label for label in labels if label in results]
    if not present:
        ops = ", ".join(case["checks"][label]["op"] for label in labels)
        return Outcome("missing", f"your engine {engine} defines none of {ops}, so it has no {what} to check.")
    backward = out.get("backward") or f"{engine}.backward()"
    outcomes = {label: _judge_one(label, case["checks"][label], results[label], backward) for label in present}
    lacking = [label if "+x" in case["checks"][label]["op"] else case["checks"][label]["op"]
               for label in labels if label not in results]
    listed = f" Not defined by your engine, so not graded: {', '.join(lacking)}." if lacking else ""
    errors: dict[str, list[str]] = {}  # one sentence per distinct error, with the operations it hit
    for o in outcomes.values():
        if o.verdict == "error":
            errors.setdefault(o.evidence["raised"], []).append(o.evidence["label"])
    if errors:
        sentences = [f"{text[:1].upper()}{text[1:]} (on {', '.join(labels)})." for text, labels in errors.items()]
        return Outcome("error", " ".join(sentences) + listed)
    bad = [o for o in outcomes.values() if o.verdict == "fail"]
    if bad:
        return Outcome("fail", " ".join(o.message for o in bad) + listed, bad[0].cause, bad[0].evidence)
    if all(o.verdict == "missing" for o in outcomes.values()):
        return next(iter(outcomes.values()))
    done = [label for label, o in outcomes.items() if o.passed]
    return passed(f"{engine}: {', '.join(done)} match the central differences of your own forward (float64, "
                  f"eps 1e-6).{listed}")


def elementary_ops(case: dict, out: dict) -> Outcome:
    """The operations of ``case["group"]`` that the engine defines."""
    return _judge_all(case, out, list(case["checks"]), f"{case['group']} operations")


def accumulation(case: dict, out: dict) -> Outcome:
    """x + x and x * x: x.grad must hold both uses (2 dy and 2 x dy)."""
    return _judge_all(case, out, list(case["checks"]), "operation to use one value twice with")


def broadcasting(case: dict, out: dict) -> Outcome:
    """(4, 3) + (3,) and (4, 3) * (3,): the (3,) operand's gradient has shape (3,), summed over the batch."""
    return _judge_all(case, out, list(case["checks"]), "broadcasting operation")


def zero_grad(case: dict, out: dict) -> Outcome:
    """Two backward steps on the same leaf: fresh gradients each step pass; gradients that add up
    pass when the submission offers a reset (found by behaviour), else ``zero_grad_missing``."""
    if not isinstance(out, dict):
        return failed("the autograd probe returned no result.", "malformed_answer")
    engine, op = out.get("engine") or "Tensor", out.get("op") or "*"
    backward = out.get("backward") or f"{engine}.backward()"
    if out.get("no_grad"):
        return failed(f"after {backward} on sum((x {op} c) * dy) x holds no gradient (None).",
                     "autograd_wrong_gradient")
    grads = out.get("grads") or []
    x, c, dy = (np.asarray(case[k], dtype=float) for k in ("x", "c", "dy"))
    product = out.get("kind", "mul" if op == "*" else "add") == "mul"  # the op may be a function: mul(x, c)
    expected = dy * c if product else dy
    try:
        g1, g2 = (np.asarray(g, dtype=float) for g in grads)
    except (TypeError, ValueError):
        return failed(f"the probe returned {len(grads)} gradients for two steps.", "malformed_answer")
    if g1.shape != x.shape or not close(g1, expected, GRADIENT):
        return failed(f"after one {backward} on sum((x {op} c) * dy), x.grad is not "
                     f"dy{' * c' if product else ''}.",
                     "autograd_wrong_gradient", **excerpt(expected, g1))
    resets = out.get("resets") or []
    if g2.shape == g1.shape and close(g2, g1, GRADIENT):
        return passed(f"{engine}: each backward() starts from fresh gradients (a second step does not add to the "
                      "first).",
                      convention="gradients reset by backward()")
    if g2.shape == g1.shape and close(g2, 2 * g1, GRADIENT):
        if resets:
            return passed(f"{engine}: gradients add up across backward() calls, as in PyTorch, and "
                          f"{' and '.join(resets)} {'reset' if len(resets) > 1 else 'resets'} them.",
                          convention=f"gradients accumulate; reset with {resets[0]}")
        return failed(f"{engine}: after two training steps x.grad is twice the gradient of one step, and nothing "
                     f"in your submission resets it (no method of {engine} or of your layers sets .grad back to zero).",
                     "zero_grad_missing", **excerpt(g1, g2))
    return failed(f"{engine}: after a second backward() x.grad is neither the step's gradient nor twice it.",
                 "autograd_wrong_gradient", **excerpt(g1, g2))


__all__ = ["elementary_ops", "accumulation", "broadcasting", "zero_grad"]
