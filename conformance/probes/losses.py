"""Probes for cross_entropy and mse: the student's loss value, its backward, and its value at
the kit's perturbed points (so the judge differentiates the student's *own* loss)."""
from __future__ import annotations

import numpy as np

from conformance.adapters.base import Missing
from conformance.probes import probe
from conformance.probes.layers import warning_texts, watched


@probe("loss.check")
def loss_check(adapter, case: dict) -> dict:
    """inputs: a ``conformance.cases.losses.loss_case`` / ``extreme_loss_case``. Cross-entropy is fed
    what the student's loss takes (logits, or probabilities from the kit's softmax). Returns
    value, grad (or grad_missing, why there is none), values_at_<logit|prob|pred>_points,
    conventions, warnings."""
    loss = adapter.make_loss(case["kind"])
    conventions = dict(loss.conventions)
    out = {"student_name": loss.student_name, "conventions": conventions}
    labels = case["labels"]
    if case["kind"] == "mse":
        given, point_sets = case["pred"], {"pred": case.get("points")}
    elif conventions.get("input") == "probs":
        given, point_sets = case["probs"], {"logit": case.get("prob_points"), "prob": case.get("prob_direct_points")}
    else:
        given, point_sets = case["logits"], {"logit": case.get("logit_points")}
    with watched() as caught:
        out["value"] = float(loss.forward(given, labels))
        try:
            out["grad"] = np.asarray(loss.backward())
        except Missing as exc:  # a loss with a value only: its value is still judged
            out["grad_missing"] = str(exc)
        for name, points in point_sets.items():
            if points is not None:
                out[f"values_at_{name}_points"] = np.array([float(loss.forward(p, labels)) for p in points])
    out["warnings"] = warning_texts(caught)
    return out
