"""Cases for linear, relu, sigmoid, tanh and softmax (and the golden fixtures of any layer).

Random inputs stay away from kinks: ``away_from_zero`` keeps |x| >= 0.1, so ReLU's kink at 0
is never within a finite-difference step of an input unless a check puts it there on purpose.
"""
from __future__ import annotations

import numpy as np

from conformance.cases import plus_minus_points, recipe


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
        "recipe": recipe(linear_case, seed=seed, batch=batch, in_features=in_features, out_features=out_features),
        "hyper": {"in_features": in_features, "out_features": out_features, "seed": seed},
        "x": x, "dy": rng.standard_normal((batch, out_features)),
        "params": {"W": W, "b": b},
        "x_points": plus_minus_points(x),
        "param_points": {"W": plus_minus_points(W), "b": plus_minus_points(b)},
    }


def activation_case(kind: str, seed: int, batch: int = 3, features: int = 4, scale: float = 1.0) -> dict:
    """An activation case ("relu", "sigmoid", "tanh", "softmax"): x (B, F) away from 0, dy (B, F)."""
    rng = np.random.default_rng(seed)
    x = away_from_zero(rng, (batch, features)) * scale
    return {
        "kind": kind,
        "recipe": recipe(activation_case, kind=kind, seed=seed, batch=batch, features=features, scale=scale),
        "hyper": {"seed": seed},
        "x": x, "dy": rng.standard_normal((batch, features)),
        "x_points": plus_minus_points(x),
    }


def extreme_case(kind: str, magnitude: float = 1e3, dtype: str = "float64") -> dict:
    """Stability: inputs of +-magnitude (and one row of moderate values) in ``dtype``."""
    x = np.array([[magnitude, -magnitude, 0.5, -0.5],
                  [-magnitude, -magnitude, -magnitude, magnitude],
                  [0.3, -0.2, 0.1, 0.4]], dtype=dtype)
    return {"kind": kind, "recipe": recipe(extreme_case, kind=kind, magnitude=magnitude, dtype=dtype),
            "hyper": {"seed": 0}, "x": x, "dy": np.ones_like(x)}


def kink_case() -> dict:
    """ReLU at exactly 0 (and at +-1 for contrast): the judge reports the choice of ReLU'(0)."""
    x = np.array([[0.0, 1.0, -1.0]])
    return {"kind": "relu", "recipe": recipe(kink_case), "hyper": {"seed": 0}, "x": x, "dy": np.ones_like(x)}


PARAMS = {"linear": ("W", "b"), "layernorm": ("gamma", "beta")}  # the parameters a fixture of the kind holds


def fixture_case(name: str) -> dict:
    """A case made of a golden fixture's inputs (``fixtures.load(name)``); the expected arrays stay
    on the judge's side (``judges.layers.golden_forward`` reads them by ``case["fixture"]``)."""
    import fixtures

    data = fixtures.load(name)
    kind = name.split("-")[0]
    case = {"kind": kind, "recipe": recipe(fixture_case, name=name), "fixture": name,
            "hyper": {"seed": 0}, "x": data["x"], "dy": data["dy"]}
    if kind in PARAMS:
        case["params"] = {k: data[k] for k in PARAMS[kind]}
    if kind == "linear":
        out_features, in_features = data["W"].shape
        case["hyper"].update(in_features=in_features, out_features=out_features)
    if kind == "layernorm":
        case["hyper"].update(num_features=data["x"].shape[1], eps=float(data["eps"]))
    return case
