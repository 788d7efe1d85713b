"""Cases for the stretch layers: batchnorm, dropout, conv2d and layernorm."""
from __future__ import annotations

import numpy as np

from conformance.cases import plus_minus, plus_minus_points, recipe, unit_directions


def build_batchnorm(seed: int = 0, F: int = 4, B: int = 8) -> dict:
    rng = np.random.default_rng(seed)
    params = {"gamma": rng.uniform(0.5, 1.5, F), "beta": rng.standard_normal(F) * 0.5}
    x = rng.standard_normal((B, F)) * rng.uniform(0.5, 3.0, F) + rng.standard_normal(F)
    dirs = [{"x": d["x"], "gamma": d["gamma"], "beta": d["beta"]}
            for d in unit_directions({"x": x, **params}, rng, 3)]
    return {"seed": seed, "recipe": recipe(build_batchnorm, seed=seed),
            "hyper": {"num_features": F, "eps": 1e-5, "momentum": 0.1}, "params": params, "x": x,
            "dy": rng.standard_normal((B, F)), "directions": dirs,
            "points": plus_minus({"x": x, **params}, dirs),
            "train_batches": [rng.standard_normal((16, F)) * 2.0 + 3.0 for _ in range(5)],
            "x_eval": rng.standard_normal((6, F)) * 2.0 + 3.0}


def build_dropout(seed: int = 0, p: float = 0.3) -> dict:
    """x and dy positive (no zeros), 10,000 units: the judge reads the mask from y != 0."""
    rng = np.random.default_rng(seed)
    return {"seed": seed, "recipe": recipe(build_dropout, seed=seed, p=p), "p": p,
            "x": rng.uniform(0.5, 1.5, (200, 50)), "dy": rng.uniform(0.5, 1.5, (200, 50))}


# Non-square images and in != out channels, so swapped axes or transposed weights cannot pass.
CONV_CONFIGS = ({"in_channels": 2, "out_channels": 3, "kernel_size": 3, "stride": 1, "padding": 0, "hw": (7, 6)},
                {"in_channels": 3, "out_channels": 2, "kernel_size": 2, "stride": 2, "padding": 1, "hw": (5, 8)})


def build_conv2d(seed: int = 0, config: int = 0) -> dict:
    """One conv2d case: {"cases": [one forward/backward case]} for probe conv2d.run."""
    rng = np.random.default_rng(seed)
    c = CONV_CONFIGS[config]
    hyper = {k: v for k, v in c.items() if k != "hw"}
    k, s, p = c["kernel_size"], c["stride"], c["padding"]
    out_hw = [(n + 2 * p - k) // s + 1 for n in c["hw"]]
    case = {"hyper": hyper, "x": rng.standard_normal((2, c["in_channels"], *c["hw"])),
            "params": {"W": rng.standard_normal((c["out_channels"], c["in_channels"], k, k)) * 0.5,
                       "b": rng.standard_normal(c["out_channels"])}}
    case["dy"] = rng.standard_normal((2, c["out_channels"], *out_hw))
    return {"seed": seed, "recipe": recipe(build_conv2d, seed=seed, config=config), "cases": [case]}


def layernorm_case(seed: int, batch: int = 4, features: int = 5) -> dict:
    """A LayerNorm case for the ``layer.check`` probe: x (B, F) whose rows have different means and
    spreads (so normalising over the batch axis instead cannot pass), gamma and beta away from 1
    and 0, dy, and the points for the numerical derivatives of the student's own forward."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, features)) * rng.uniform(0.5, 3.0, (batch, 1)) + rng.standard_normal((batch, 1))
    params = {"gamma": rng.uniform(0.5, 1.5, features), "beta": rng.standard_normal(features) * 0.5}
    return {"kind": "layernorm", "recipe": recipe(layernorm_case, seed=seed, batch=batch, features=features),
            "hyper": {"num_features": features, "eps": 1e-5, "seed": seed},
            "x": x, "dy": rng.standard_normal((batch, features)), "params": params,
            "x_points": plus_minus_points(x), "param_points": {k: plus_minus_points(v) for k, v in params.items()}}
