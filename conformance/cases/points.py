"""The points around the kit's inputs at which a judge wants the student's own function
evaluated: the judge takes finite differences of the values the probe returns there."""
from __future__ import annotations

import numpy as np

from conformance.tolerances import EPS


def plus_minus_points(x: np.ndarray, eps: float = EPS) -> np.ndarray:
    """(2*x.size, *x.shape): x + eps*e_i and x - eps*e_i for every element i, interleaved."""
    flat = np.repeat(np.asarray(x, dtype=float).reshape(1, -1), 2 * x.size, axis=0)
    idx = np.arange(x.size)
    flat[2 * idx, idx] += eps
    flat[2 * idx + 1, idx] -= eps
    return flat.reshape((2 * x.size,) + x.shape)


def unit_directions(params: dict, rng: np.random.Generator, count: int) -> list[dict]:
    """``count`` random directions over all of ``params`` (same keys and shapes), each of norm 1."""
    out = []
    for _ in range(count):
        d = {k: rng.standard_normal(np.shape(v)) for k, v in params.items()}
        norm = np.sqrt(sum(float(np.sum(v * v)) for v in d.values()))
        out.append({k: v / norm for k, v in d.items()})
    return out


def element_directions(params: dict) -> list[dict]:
    """One basis direction per parameter element, in key order."""
    out = []
    for key, value in params.items():
        for i in range(np.size(value)):
            e = {k: np.zeros(np.shape(v)) for k, v in params.items()}
            e[key].flat[i] = 1.0
            out.append(e)
    return out


def plus_minus(params: dict, directions: list[dict], eps: float = EPS) -> list[dict]:
    """[theta + eps d1, theta - eps d1, theta + eps d2, ...]."""
    return [{k: params[k] + s * eps * d[k] for k in params} for d in directions for s in (1.0, -1.0)]
