"""Judges for cross_entropy and mse (SPEC.md 6 and 7).

The value is judged against the allowed forms (named when found); the gradient against the
numerical gradient of the student's *own* loss value, so any consistent scaling passes, the
per-sample (summed) gradient is an allowed, named convention, and anything else is named.

A value summed over the batch (PyTorch's ``reduction='sum'``) is allowed when backward() is its
exact gradient: the two together are one consistent loss, and model_gradcheck judges the chain.
A summed value whose gradient is that of the mean is ``loss_not_averaged``.
"""
from __future__ import annotations

import numpy as np

from conformance.judges.common import close, excerpt, fit_scale, numerical_vjp, read_array, where_largest, which_scale
from conformance.outcome import Outcome, failed, passed
from conformance.tolerances import CERTAIN, FACTOR, LOSS, NAMING


def _who(case: dict, out: dict) -> str:
    return (out or {}).get("student_name") or {"mse": "MSELoss", "cross_entropy": "CrossEntropyLoss"}[case["kind"]]


def _per_sample_ce(case: dict) -> np.ndarray:
    z = np.asarray(case["logits"], dtype=float)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(z)), np.asarray(case["labels"])]


def value_forms(case: dict) -> tuple[dict[str, float], dict[str, float]]:
    """(allowed forms, known wrong forms) of the loss value on the case."""
    if case["kind"] == "mse":
        sq = (np.asarray(case["pred"], dtype=float) - np.asarray(case["labels"], dtype=float)) ** 2
        batch, n = sq.shape[0], sq.size
        allowed = {"mean over all elements": sq.sum() / n, "mean over the batch of the per-sample sum": sq.sum() / batch,
                   "1/2 * mean over all elements": sq.sum() / (2 * n),
                   "1/2 * mean over the batch of the per-sample sum": sq.sum() / (2 * batch)}
        return allowed, {"loss_not_averaged": sq.sum(), "missing_half_factor": sq.sum() / 2}
    per_sample = _per_sample_ce(case)
    classes = np.shape(case["logits"])[1]
    return ({"mean over the batch": per_sample.mean()},
            {"loss_not_averaged": per_sample.sum(), "wrong_loss_value": per_sample.mean() / classes})


def sum_forms(case: dict) -> dict[str, float]:
    """The values summed over the batch (``reduction='sum'``), allowed with their exact gradient."""
    if case["kind"] == "mse":
        sq = (np.asarray(case["pred"], dtype=float) - np.asarray(case["labels"], dtype=float)) ** 2
        return {"sum over the batch": sq.sum(), "1/2 * sum over the batch": sq.sum() / 2}
    return {"sum over the batch": _per_sample_ce(case).sum()}


def summed_form(case: dict, out: dict) -> str | None:
    """The sum form the student's value is, on a batch where a sum differs from a mean, else None."""
    value = out.get("value") if isinstance(out, dict) else None
    if not isinstance(value, (int, float)) or np.shape(case.get("pred", case.get("logits")))[0] < 2:
        return None
    if any(close(value, expected, LOSS) for expected in value_forms(case)[0].values()):
        return None  # a mean form first: with B = 2 the per-sample mean S / B is also S / 2
    return next((form for form, expected in sum_forms(case).items() if close(value, expected, LOSS)), None)


def gradient_factor(case: dict, out: dict) -> float | None:
    """c with backward() == c * the numerical gradient of the student's own value (w.r.t. what the
    gradient is of), or None when no constant fits or the values at the points are missing."""
    fitted = _fitted(case, out)
    return fitted[1] if fitted else None


def gradient_wrt(case: dict, out: dict) -> str | None:
    """What the student's backward() is the gradient of, "logits" or "probs", by behaviour: what
    discovery measured on the kit's inputs (the loss's ``grad_wrt`` convention), else the input whose
    numerical derivative of the student's own value it is a positive multiple of; None when neither."""
    if not isinstance(out, dict) or out.get("grad_missing") or case.get("kind") != "cross_entropy":
        return None
    said = (out.get("conventions") or {}).get("grad_wrt")
    if said in ("logits", "probs"):
        return said
    fitted = _fitted(case, out)
    return fitted[0] if fitted and fitted[1] > 0 else None


def _fitted(case: dict, out: dict) -> tuple[str, float] | None:
    """(what the gradient is of, c) with backward() == c * the numerical gradient of the student's
    own value w.r.t. it, or None."""
    got = np.asarray(out.get("grad", np.nan), dtype=float) if isinstance(out, dict) else np.array(np.nan)
    for name, numerical in _numerical_gradients(case, out).items():
        if got.shape != numerical.shape or not np.all(np.isfinite(numerical)) or not np.all(np.isfinite(got)):
            continue
        denom = float(np.sum(numerical * numerical))
        if denom == 0.0:
            continue
        c = float(np.sum(got * numerical) / denom)
        # judged on norms: a value of 1e6 (the extreme fixture) leaves rounding of ~1e-4 in each
        # central difference, far below what separates a factor 1 from 1/B
        if np.linalg.norm(got - c * numerical) <= 1e-4 * max(np.linalg.norm(got), 1e-300):
            return name, c
    return None


def _numerical_gradients(case: dict, out: dict) -> dict[str, np.ndarray]:
    """wrt name -> the central-difference gradient of the student's own value, for each input the
    gradient may be taken w.r.t. (the one its conventions name, else logits then probabilities)."""
    conventions = out.get("conventions") or {}
    shape = np.shape(case["pred"] if case["kind"] == "mse" else case["logits"])
    wrt = conventions.get("grad_wrt", "pred" if case["kind"] == "mse" else "logits")
    candidates = [wrt] if wrt in ("logits", "probs", "pred") else ["logits", "probs"]
    key = {"logits": "logit", "probs": "prob", "pred": "pred"}
    found = {}
    for name in candidates:
        values = out.get(f"values_at_{key[name]}_points")
        if values is not None:
            found[name] = numerical_vjp(np.asarray(values, dtype=float), 1.0, shape)
    return found


def loss_value(case: dict, out: dict) -> Outcome:
    """The value against the allowed forms; the form found is named. A sum over the batch passes
    when backward() is its exact gradient (``reduction='sum'``)."""
    who = _who(case, out)
    value = out.get("value") if isinstance(out, dict) else None
    if not isinstance(value, (int, float)) or not np.isfinite(value):
        return failed(f"{who}.forward returned {value!r}, expected a finite number.", "wrong_loss_value")
    allowed, wrong = value_forms(case)
    for form, expected in allowed.items():
        if close(value, expected, LOSS):
            return passed(f"{who}.forward is the {form}.", convention=f"value: {form}")
    summed = summed_form(case, out)
    factor = gradient_factor(case, out) if summed else None
    if summed and factor is not None and close(factor, 1.0, FACTOR):
        return passed(f"{who}.forward is the {summed} and backward() is its exact gradient (reduction 'sum').",
                      convention=f"value: {summed}")
    for cause, expected in wrong.items():
        if close(value, expected, LOSS):
            hint = {"loss_not_averaged": "it sums over the batch", "missing_half_factor": "it is a sum with a 1/2 factor",
                    "wrong_loss_value": "it also averages over the classes"}[cause]
            if summed:
                hint += ", and backward() is not the gradient of that sum (a sum is allowed only with its exact gradient)"
            return failed(f"{who}.forward returned {value:.6g}: {hint}.", cause, expected=allowed, got=value)
    return failed(f"{who}.forward returned {value:.6g}, which matches none of the allowed forms.",
                  "wrong_loss_value", expected=allowed, got=value)


def golden_value(case: dict, out: dict) -> Outcome:
    """Cross-entropy value against the golden fixture ``case["fixture"]`` (mean over the batch)."""
    import fixtures

    who, expected = _who(case, out), float(fixtures.load(case["fixture"])["loss"])
    value = out.get("value") if isinstance(out, dict) else None
    if not isinstance(value, (int, float)) or not np.isfinite(value):
        return failed(f"{who}.forward returned {value!r} on the golden fixture {case['fixture']}, expected "
                      f"{expected:.6g}.", "unstable_cross_entropy")
    on_probs = (out.get("conventions") or {}).get("input") == "probs"

    def clip_found(mean: float) -> float | None:
        """0.0 if ``mean`` is the fixture's loss, the clip level if it is with clipped probabilities, else None.
        A loss on logits may clip too: the softmax it computes inside is the kit's, exact zeros and all."""
        if close(mean, expected, LOSS):
            return 0.0
        return _clip_level(case, mean)

    clip, batch = clip_found(value), len(case["labels"])
    if clip == 0.0:
        return passed(f"{who}.forward matches the golden fixture {case['fixture']}.")
    if clip is not None:
        inside = "" if on_probs else " inside the loss, after its own softmax"
        return passed(f"{who}.forward matches the golden fixture {case['fixture']} with probabilities clipped "
                      f"at {clip:.0e}{inside} (a clipped loss cannot see below its clip; log-softmax would).",
                      convention=f"probabilities clipped at {clip:.0e}{inside}")
    factor = gradient_factor(case, out) if batch > 1 and clip_found(value / batch) is not None else None
    if factor is not None and close(factor, 1.0, FACTOR):
        return passed(f"{who}.forward is {batch} times the golden fixture {case['fixture']}'s mean, the sum over the "
                      f"batch, and backward() is its exact gradient (reduction 'sum').",
                      convention="value: sum over the batch")
    if batch > 1 and clip_found(value / batch) is not None:
        return failed(f"{who}.forward returned {value:.6g} on the golden fixture {case['fixture']}, {batch} times "
                      f"the batch mean {value / batch:.6g}: it sums over the batch.", "loss_not_averaged",
                      expected=expected, got=value)
    return failed(f"{who}.forward returned {value:.6g} on the golden fixture {case['fixture']}, expected "
                  f"{expected:.6g}.", "wrong_loss_value", expected=expected, got=value)


def _clip_level(case: dict, value: float) -> float | None:
    """The clip c in [1e-300, 1e-6] with value == mean(-log(max(p_target, c))), or with the two-sided
    clip(p, c, 1 - c) (np.clip(p, eps, 1 - eps), which also lifts a certain class's loss from 0 to
    about eps), if there is one: found on a log grid of c, then refined by bisection where the
    difference changes sign."""
    p = np.asarray(case["probs"], dtype=float)[np.arange(len(case["labels"])), np.asarray(case["labels"])]

    def one_sided(c):
        return float(np.mean(-np.log(np.maximum(p, c))))

    def two_sided(c):
        return float(np.mean(-np.log(np.clip(p, c, 1 - c))))

    grid = np.logspace(-300, -6, 1177)
    for loss in (one_sided, two_sided):
        gap = np.array([loss(c) - value for c in grid])
        for i in np.flatnonzero((gap[:-1] <= 0) != (gap[1:] <= 0)):
            lo, hi = np.log(grid[i]), np.log(grid[i + 1])
            for _ in range(100):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if (loss(np.exp(mid)) - value <= 0) == (gap[i] <= 0) else (lo, mid)
            if close(loss(np.exp(hi)), value, LOSS):
                return float(np.exp(hi))
        exact = np.flatnonzero([close(g + value, value, LOSS) for g in gap])
        if exact.size:
            return float(grid[exact[0]])
    return None


def loss_gradient(case: dict, out: dict) -> Outcome:
    """backward() against the numerical gradient of the student's own value: factor 1 (consistent)
    or B (per-sample gradient, the layers then average) pass; any other factor fails, named."""
    who = _who(case, out)
    if isinstance(out, dict) and out.get("grad_missing"):
        return Outcome("missing", out["grad_missing"])
    shape = np.shape(case["pred"] if case["kind"] == "mse" else case["logits"])
    batch = shape[0]
    got = read_array(out, "grad", f"{who}.backward output", shape)
    if isinstance(got, Outcome):
        return got
    summed = summed_form(case, out)
    tried = {}
    for name, numerical in _numerical_gradients(case, out).items():
        if not np.all(np.isfinite(numerical)):
            return failed(f"{who}.forward returns NaN or inf at inputs near the test case.", "unstable_cross_entropy")
        tried[name] = numerical
        note = f"gradient w.r.t. the {name}"
        found = which_scale(got, numerical, {"consistent": 1.0, "per_sample": float(batch)})
        if found == "consistent":
            return passed(f"{who}.backward is the {note} of your loss value.", convention=f"{note}, consistent with the value")
        if found == "per_sample" and summed:
            return failed(f"{who}.backward is {batch} (the batch size) times the derivative of your value, which "
                          f"already sums over the batch: with reduction 'sum' the gradient is the derivative "
                          f"itself.", "inconsistent_loss_scaling")
        if found == "per_sample":
            return passed(f"{who}.backward is the per-sample (summed) {note}: B times the derivative of your "
                          f"mean loss; allowed when your layers average over the batch (model_gradcheck checks the pair).",
                          convention=f"{note}, per-sample (summed over the batch)")
        c = fit_scale(got, numerical)
        if c is None:
            continue
        if summed and batch > 1 and close(c, 1.0 / batch, NAMING):
            return failed(f"{who}.forward is the {summed} but backward is the gradient of the mean (1/{batch} of the "
                          f"derivative of your own value): average the value too, or drop the 1/B from backward.",
                          "loss_not_averaged")
        per_feature = case["kind"] == "mse" and shape[1] > 1 and close(c, shape[1], NAMING)
        cause = "missing_half_factor" if (close(c, 2.0, NAMING) or close(c, 0.5, NAMING)) and not per_feature \
            else "inconsistent_loss_scaling"
        extra = ""
        if per_feature:
            extra = f" (= the number of features {shape[1]}: the value averages over all elements, the gradient over the batch only)"
        return failed(f"{who}.backward is {c:.4g} times the derivative of your own loss value{extra}; allowed are 1 and "
                      f"the batch size {batch}.", cause)
    if not tried:
        return failed(f"{who}: no loss values at the perturbed inputs were returned.", "wrong_loss_gradient")
    name, numerical = next(iter(tried.items()))
    return failed(f"{who}.backward does not match the derivative of your own loss value w.r.t. the {name} at any scale.",
                  "wrong_loss_gradient", where=where_largest(got, numerical), **excerpt(numerical, got))


def loss_stability(case: dict, out: dict) -> Outcome:
    """Logits of +-1e3 (probabilities exactly 0 and 1): finite value and gradient, no warnings."""
    who = _who(case, out)
    value = out.get("value")
    grad = np.asarray(out.get("grad", np.nan), dtype=float) if not out.get("grad_missing") else np.zeros(1)
    if value is None or not np.isfinite(value) or not np.all(np.isfinite(grad)):
        return failed(f"{who} returns NaN or inf for logits of +-1e3.", "unstable_cross_entropy",
                      value=value, grad=excerpt(grad, grad)["got"])
    if out.get("warnings"):
        return failed(f"{who} warns for logits of +-1e3: {out['warnings'][0]}.", "unstable_cross_entropy")
    if not close(value, 0.0, CERTAIN):
        return failed(f"{who} returns {value:.6g} where every sample is classified with certainty (expected 0).",
                      "unstable_cross_entropy")
    return passed(f"{who} is finite and warning-free for logits of +-1e3.")
