"""Cases for sgd, momentum and adam: the kit's quadratic loss(theta) = 0.5 * sum(a * (theta - c)^2)
over a W (3, 4) and b (4,) pair, its starting point and the hyper-parameters of STEPS steps."""
from __future__ import annotations

import numpy as np

from conformance.cases import recipe

STEPS = 50
HYPER = {"sgd": {"lr": 0.1}, "momentum": {"lr": 0.05, "momentum": 0.9},
         "adam": {"lr": 0.05, "betas": (0.9, 0.999), "eps": 1e-8}}


def build_optim(kind: str, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    shapes = {"W": (3, 4), "b": (4,)}
    return {"kind": kind, "seed": seed, "recipe": recipe("cases.optim.build_optim", kind, seed=seed), "steps": STEPS,
            "hyper": dict(HYPER[kind]),
            "params": {k: rng.standard_normal(s) for k, s in shapes.items()},
            "a": {k: rng.uniform(0.5, 2.0, s) for k, s in shapes.items()},
            "c": {k: rng.standard_normal(s) for k, s in shapes.items()}}
