"""Seeded input builders: every array the suite feeds a student's code is made here.

Each builder takes a seed and shapes, returns a plain dict (it crosses the sandbox as is) and
records the call that rebuilds it under ``"recipe"``: the failure snippet pastes that call.

>>> case = linear_case(seed=0, batch=4, in_features=5, out_features=3)
>>> case["x"].shape, case["params"]["W"].shape, case["recipe"]
((4, 5), (3, 5), 'linear_case(seed=0, batch=4, in_features=5, out_features=3)')

Random inputs stay away from kinks: ``away_from_zero`` keeps |x| >= 0.1, so ReLU's kink at 0
is never within a finite-difference step of an input unless a check puts it there on purpose.
"""
from __future__ import annotations

import sys

import numpy as np

from conformance.judges.common import plus_minus_points
from conformance.tolerances import EPS


PLACEHOLDER = "impl='<your --impl>'"  # in every snippet; Check.expect writes the run's impl and options there


def recipe(_builder: str, *args, **kwargs) -> str:
    """The call that rebuilds a case: ``_builder`` is a function of this module, or a path from
    ``conformance`` ("judges.stretch.build_conv2d")."""
    return f"{_builder}({', '.join([*map(repr, args), *(f'{k}={v!r}' for k, v in kwargs.items())])})"


def snippet(case_recipe: str, probe: str, judge=None, then: str = "") -> str:
    """Code that reproduces one check outside pytest: the case rebuilt from its recipe, the probe
    run on your code, then the judge's message (when ``judge`` can be imported) or ``then``."""
    path = case_recipe.split("(", 1)[0]
    module = path.rsplit(".", 1)[0] if "." in path else "inputs"
    package, _, name = f"conformance.{module}".rpartition(".")
    lines = [f"from {package} import {name}", "from conformance.checking import run_probe",
             f"case = {name}.{case_recipe.removeprefix(module + '.')}",
             f"out = run_probe({probe!r}, case, {PLACEHOLDER})"]
    if judge is not None and getattr(sys.modules.get(judge.__module__), judge.__name__, None) is judge:
        lines += [f"from {judge.__module__} import {judge.__name__}", f"print({judge.__name__}(case, out).message)"]
    return "\n".join(lines + ([then] if then else []))


def reproduce(code: str) -> str:
    """A snippet as the feedback shows it."""
    return "Reproduce with:\n    " + code.replace("\n", "\n    ")


def away_from_zero(rng: np.random.Generator, shape, low: float = 0.1, high: float = 2.0) -> np.ndarray:
    """Values with |v| in [low, high] and a random sign."""
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def linear_case(seed: int, batch: int = 4, in_features: int = 5, out_features: int = 3) -> dict:
    """A Linear layer case: x (B, in), dy (B, out), params W (out, in), b (out,), and the points at
    which the judge wants the student's forward evaluated for numerical derivatives."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, in_features))
    W = rng.standard_normal((out_features, in_features)) / np.sqrt(in_features)
    b = rng.standard_normal(out_features)
    return {
        "kind": "linear",
        "recipe": recipe("linear_case", seed=seed, batch=batch, in_features=in_features, out_features=out_features),
        "hyper": {"in_features": in_features, "out_features": out_features, "seed": seed},
        "x": x, "dy": rng.standard_normal((batch, out_features)),
        "params": {"W": W, "b": b},
        "x_points": plus_minus_points(x, EPS),
        "param_points": {"W": plus_minus_points(W, EPS), "b": plus_minus_points(b, EPS)},
    }


def activation_case(kind: str, seed: int, batch: int = 3, features: int = 4, scale: float = 1.0) -> dict:
    """An activation case ("relu", "sigmoid", "tanh", "softmax"): x (B, F) away from 0, dy (B, F)."""
    rng = np.random.default_rng(seed)
    x = away_from_zero(rng, (batch, features)) * scale
    return {
        "kind": kind,
        "recipe": recipe("activation_case", kind=kind, seed=seed, batch=batch, features=features, scale=scale),
        "hyper": {"seed": seed},
        "x": x, "dy": rng.standard_normal((batch, features)),
        "x_points": plus_minus_points(x, EPS),
    }


def extreme_case(kind: str, magnitude: float = 1e3, dtype: str = "float64") -> dict:
    """Stability: inputs of +-magnitude (and one row of moderate values) in ``dtype``."""
    x = np.array([[magnitude, -magnitude, 0.5, -0.5],
                  [-magnitude, -magnitude, -magnitude, magnitude],
                  [0.3, -0.2, 0.1, 0.4]], dtype=dtype)
    return {"kind": kind, "recipe": recipe("extreme_case", kind=kind, magnitude=magnitude, dtype=dtype),
            "hyper": {"seed": 0}, "x": x, "dy": np.ones_like(x)}


def kink_case() -> dict:
    """ReLU at exactly 0 (and at +-1 for contrast): the judge reports the choice of ReLU'(0)."""
    x = np.array([[0.0, 1.0, -1.0]])
    return {"kind": "relu", "recipe": "kink_case()", "hyper": {"seed": 0}, "x": x, "dy": np.ones_like(x)}


def loss_case(kind: str, seed: int, batch: int = 4, classes: int = 3, scale: float = 1.0) -> dict:
    """A loss case. cross_entropy: logits (B, C), int labels (B,), probabilities from a stable
    softmax, and logits points (the judge differentiates loss(softmax(z)) when the student's
    backward returns the logits gradient). mse: pred (B, D), targets (B, D), pred points."""
    rng = np.random.default_rng(seed)
    call = recipe("loss_case", kind=kind, seed=seed, batch=batch, classes=classes, scale=scale)
    if kind == "mse":
        pred = rng.standard_normal((batch, classes)) * scale
        return {"kind": kind, "recipe": call, "pred": pred, "labels": rng.standard_normal((batch, classes)),
                "points": plus_minus_points(pred, EPS)}
    # Logits within +-3 keep every probability above ~e**-6 / C, so central differences taken
    # w.r.t. probabilities (of -log p, whose curvature grows like 1/p**3) stay accurate.
    logits = np.clip(rng.standard_normal((batch, classes)) * scale, -3.0, 3.0)
    labels = rng.integers(0, classes, size=batch)
    return {"kind": kind, "recipe": call, "logits": logits, "labels": labels,
            "probs": softmax(logits), "logit_points": plus_minus_points(logits, EPS),
            "prob_points": np.stack([softmax(z) for z in plus_minus_points(logits, EPS)]),
            "prob_direct_points": plus_minus_points(softmax(logits), EPS)}


def extreme_loss_case(kind: str, magnitude: float = 1e3) -> dict:
    """Cross-entropy on logits of +-magnitude: probabilities exactly 0 and 1, the right class
    certain, so the true loss is 0 and every naive exp/log overflows or meets log(0)."""
    logits = np.array([[magnitude, -magnitude, 0.0], [-magnitude, magnitude, 0.0]])
    labels = np.array([0, 1])
    return {"kind": kind, "recipe": recipe("extreme_loss_case", kind=kind, magnitude=magnitude),
            "logits": logits, "labels": labels, "probs": softmax(logits)}


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise stable softmax (the kit's own, to build probability inputs)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def fixture_case(name: str) -> dict:
    """A case made of a golden fixture's inputs (``fixtures.load(name)``); the expected arrays stay
    on the judge's side (``judges.layers.golden_forward`` reads them by ``case["fixture"]``)."""
    import fixtures

    data = fixtures.load(name)
    kind = name.split("-")[0]
    case = {"kind": kind, "recipe": recipe("fixture_case", name=name), "fixture": name,
            "hyper": {"seed": 0}, "x": data["x"], "dy": data["dy"]}
    if kind == "linear":
        out_features, in_features = data["W"].shape
        case["hyper"].update(in_features=in_features, out_features=out_features)
        case["params"] = {"W": data["W"], "b": data["b"]}
    return case


def fixture_loss_case(name: str) -> dict:
    """A loss case made of a golden fixture's inputs (labels always as int ids; the handle turns
    them one-hot for losses that want that). The expected loss stays with the judge."""
    import fixtures

    data = fixtures.load(name)
    kind = name.split("-")[0]
    case = {"kind": kind, "recipe": recipe("fixture_loss_case", name=name), "fixture": name}
    # the points let the judge differentiate the student's value: a value summed over the batch
    # passes only with its exact gradient (SPEC 6, 7)
    if kind == "mse":
        return {**case, "pred": data["pred"], "labels": data["target"], "points": plus_minus_points(data["pred"], EPS)}
    labels = data["labels"] if "labels" in data else data["targets"].argmax(axis=1)
    if "logits" in data:
        logits, probs = data["logits"], softmax(data["logits"])
    else:  # logits whose softmax is the fixture's probabilities (exact zeros become e**-690)
        probs, logits = data["probs"], np.log(np.maximum(data["probs"], 1e-300))
    points = {"logit_points": plus_minus_points(logits, EPS),
              "prob_points": np.stack([softmax(z) for z in plus_minus_points(logits, EPS)])}
    if np.min(probs) > 100 * EPS:  # probabilities moved directly stay probabilities
        points["prob_direct_points"] = plus_minus_points(probs, EPS)
    return {**case, "logits": logits, "probs": probs, "labels": labels, **points}
