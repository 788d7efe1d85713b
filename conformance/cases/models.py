"""Cases for model_gradcheck: a small non-square network and batch (or assignment 004's
one-sample network), random unit directions and the points theta +- eps v around its parameters,
all away from ReLU kinks; after a failure, the element-wise points for the report."""
from __future__ import annotations

import numpy as np

from conformance.cases import plus_minus, recipe, unit_directions

KINK_MARGIN = 1e-2  # hidden pre-activations at least this far from 0: eps-steps never cross a ReLU kink
DETAIL_MAX = 2000  # parameters; element-wise detail costs two whole-network points per element


def pre_activations(params: dict, sizes, x: np.ndarray) -> list[np.ndarray]:
    """The inputs of each hidden ReLU of Sequential(Linear, ReLU, ..., Linear) holding ``params``
    (keys "<2k>.W"/"<2k>.b"), computed as the reference's Linear does: x @ W.T + b."""
    out, h = [], np.asarray(x, float)
    for k in range(len(sizes) - 2):
        out.append(h @ np.asarray(params[f"{2 * k}.W"], float).T + np.asarray(params[f"{2 * k}.b"], float))
        h = np.maximum(out[-1], 0)
    return out


def checkable_sizes(answer, wanted=(5, 7, 4)) -> tuple[int, ...]:
    """The sizes the student's network fixes, from the ``network.sizes`` probe's answer, when they
    are a plausible network (2 to 8 layers of 1 to 4096 units), else the kit's own."""
    sizes = answer.get("sizes") if isinstance(answer, dict) else None
    if isinstance(sizes, list) and 3 <= len(sizes) <= 9 and \
            all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 4096 for n in sizes):
        return tuple(sizes)
    return tuple(wanted)


def build_gradcheck(seed: int = 0, sizes=(5, 7, 4), batch: int = 6, directions: int = 3) -> dict:
    """A small non-square network, a batch and points around its parameters, away from ReLU kinks."""
    rng = np.random.default_rng(seed)
    n = len(sizes) - 1
    while True:
        params = {}
        for k in range(n):
            params[f"{2 * k}.W"] = rng.standard_normal((sizes[k + 1], sizes[k])) * np.sqrt(2.0 / sizes[k])
            params[f"{2 * k}.b"] = rng.standard_normal(sizes[k + 1]) * 0.1
        x = rng.standard_normal((batch, sizes[0]))
        if all(np.min(np.abs(z)) > KINK_MARGIN for z in pre_activations(params, sizes, x)):
            break
    classes = max(2, sizes[-1])  # one output is a binary classifier's: labels 0 and 1 (its target row)
    labels = rng.integers(0, classes, batch)
    labels[:classes] = np.arange(min(batch, classes))  # every class present
    dirs = unit_directions(params, rng, directions)
    return {"seed": seed, "recipe": recipe("cases.models.build_gradcheck", seed=seed, sizes=tuple(sizes), batch=batch,
                                           directions=directions),
            "sizes": list(sizes), "hidden": "relu", "x": x, "labels": labels, "params": params,
            "directions": dirs, "points": plus_minus(params, dirs)}


def build_single_sample(seed: int = 0, input_dim: int = 5, hidden_dim: int = 7, directions: int = 3,
                        activation: str = "relu") -> dict:
    """Assignment 004's network on one sample x (d,) with a target y, L = (f - y)^2 / 2."""
    rng = np.random.default_rng(seed)
    while True:
        params = {"W1": rng.standard_normal((hidden_dim, input_dim)) * np.sqrt(2.0 / input_dim),
                  "b1": rng.standard_normal(hidden_dim) * 0.1,
                  "W2": rng.standard_normal((1, hidden_dim)) * np.sqrt(1.0 / hidden_dim),
                  "b2": rng.standard_normal(1) * 0.1}
        x = rng.standard_normal(input_dim)
        if np.min(np.abs(params["W1"] @ x + params["b1"])) > KINK_MARGIN:  # a1 away from the ReLU kink
            break
    dirs = unit_directions(params, rng, directions)
    return {"seed": seed, "recipe": recipe("cases.models.build_single_sample", seed=seed, input_dim=input_dim,
                                           hidden_dim=hidden_dim, directions=directions, activation=activation),
            "input_dim": input_dim, "hidden_dim": hidden_dim, "activation": activation, "x": x,
            "y": float(rng.standard_normal()), "params": params, "directions": dirs,
            "points": plus_minus(params, dirs)}


def detail_inputs(inputs: dict) -> dict:
    """Element-wise points, asked for only after a failure (for the report)."""
    dirs = element_directions(inputs["params"])
    return {**inputs, "directions": dirs, "points": plus_minus(inputs["params"], dirs)}


def element_directions(params: dict) -> list[dict]:
    """One basis direction per parameter element, in key order."""
    out = []
    for key, value in params.items():
        for i in range(np.size(value)):
            e = {k: np.zeros(np.shape(v)) for k, v in params.items()}
            e[key].flat[i] = 1.0
            out.append(e)
    return out
