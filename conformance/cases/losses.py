"""Cases for cross_entropy and mse: seeded, extreme, and made of the golden fixtures."""
from __future__ import annotations

import numpy as np

from conformance.cases import plus_minus_points, recipe
from conformance.tolerances import EPS


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise stable softmax (the kit's own, to build probability inputs)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def loss_case(kind: str, seed: int, batch: int = 4, classes: int = 3, scale: float = 1.0) -> dict:
    """A loss case. cross_entropy: logits (B, C), int labels (B,), probabilities from a stable
    softmax, and logits points (the judge differentiates loss(softmax(z)) when the student's
    backward returns the logits gradient). mse: pred (B, D), targets (B, D), pred points."""
    rng = np.random.default_rng(seed)
    call = recipe(loss_case, kind=kind, seed=seed, batch=batch, classes=classes, scale=scale)
    if kind == "mse":
        pred = rng.standard_normal((batch, classes)) * scale
        return {"kind": kind, "recipe": call, "pred": pred, "labels": rng.standard_normal((batch, classes)),
                "points": plus_minus_points(pred)}
    # Logits within +-3 keep every probability above ~e**-6 / C, so central differences taken
    # w.r.t. probabilities (of -log p, whose curvature grows like 1/p**3) stay accurate.
    logits = np.clip(rng.standard_normal((batch, classes)) * scale, -3.0, 3.0)
    labels = rng.integers(0, classes, size=batch)
    return {"kind": kind, "recipe": call, "logits": logits, "labels": labels,
            "probs": softmax(logits), "logit_points": plus_minus_points(logits),
            "prob_points": np.stack([softmax(z) for z in plus_minus_points(logits)]),
            "prob_direct_points": plus_minus_points(softmax(logits))}


def extreme_loss_case(kind: str, magnitude: float = 1e3) -> dict:
    """Cross-entropy on logits of +-magnitude: probabilities exactly 0 and 1, the right class
    certain, so the true loss is 0 and every naive exp/log overflows or meets log(0)."""
    logits = np.array([[magnitude, -magnitude, 0.0], [-magnitude, magnitude, 0.0]])
    labels = np.array([0, 1])
    return {"kind": kind, "recipe": recipe(extreme_loss_case, kind=kind, magnitude=magnitude),
            "logits": logits, "labels": labels, "probs": softmax(logits)}


def fixture_loss_case(name: str) -> dict:
    """A loss case made of a golden fixture's inputs (labels always as int ids; the handle turns
    them one-hot for losses that want that). The expected loss stays with the judge."""
    import fixtures

    data = fixtures.load(name)
    kind = name.split("-")[0]
    case = {"kind": kind, "recipe": recipe(fixture_loss_case, name=name), "fixture": name}
    # the points let the judge differentiate the student's value: a value summed over the batch
    # passes only with its exact gradient (SPEC 6, 7)
    if kind == "mse":
        return {**case, "pred": data["pred"], "labels": data["target"], "points": plus_minus_points(data["pred"])}
    labels = data["labels"] if "labels" in data else data["targets"].argmax(axis=1)
    if "logits" in data:
        logits, probs = data["logits"], softmax(data["logits"])
    else:  # logits whose softmax is the fixture's probabilities (exact zeros become e**-690)
        probs, logits = data["probs"], np.log(np.maximum(data["probs"], 1e-300))
    points = {"logit_points": plus_minus_points(logits),
              "prob_points": np.stack([softmax(z) for z in plus_minus_points(logits)])}
    if np.min(probs) > 100 * EPS:  # probabilities moved directly stay probabilities
        points["prob_direct_points"] = plus_minus_points(probs)
    return {**case, "logits": logits, "probs": probs, "labels": labels, **points}
