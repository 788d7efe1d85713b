"""Probes for the single-sample style (assignment 004): the Appendix A worked example."""
from __future__ import annotations

import numpy as np

from conformance.adapters.base import Missing
from conformance.probes import probe

# Where a single-sample model may keep its caches and gradients (first hit wins).
CACHE_NAMES = {"a1": ("a1_cache", "a1", "z1", "_a1"), "h1": ("h1_cache", "h1", "_h1")}
GRAD_NAMES = {p: (f"dL_d{p}", f"d{p}", f"grad_{p}", p) for p in ("W1", "b1", "W2", "b2")}


def model_from(adapter, inputs: dict):
    return adapter.single_sample_model(int(inputs["input_dim"]), int(inputs["hidden_dim"]),
                                       inputs.get("activation", "relu"))


def run_forward(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.forward(x.copy()), dtype=float)


def read_grads(result) -> dict:
    """The gradient dict backward returned, under canonical names W1, b1, W2, b2."""
    if not isinstance(result, dict):
        raise Missing(f"backward(x, y, f) returned {type(result).__name__}, not a dict of gradients "
                      f"with keys like dL_dW1, dL_db1, dL_dW2, dL_db2")
    out = {}
    for name, candidates in GRAD_NAMES.items():
        key = next((k for k in candidates if k in result), None)
        if key is None:
            raise Missing(f"backward's gradient dict has no entry for {name} "
                          f"(looked for {', '.join(candidates)}; found {', '.join(map(str, result))})")
        out[name] = np.asarray(result[key], dtype=float)
    return out


def read_cache(model, name: str):
    for attr in CACHE_NAMES[name]:
        value = getattr(model, attr, None)
        if value is not None:
            return np.asarray(value, dtype=float)
    cache = getattr(model, "cache", None)
    if isinstance(cache, dict) and name in cache:
        return np.asarray(cache[name], dtype=float)
    return None


@probe("appendix_a.example")
def appendix_example(adapter, inputs: dict) -> dict:
    """inputs: params {W1,b1,W2,b2}, x (d,), y. Returns a1, h1 (None when not cached), f, L
    (None when the model has no loss method) and the four gradients."""
    model = model_from(adapter, inputs)
    x, y = np.asarray(inputs["x"], float), float(inputs["y"])
    model.set_parameters({k: np.array(v, float) for k, v in inputs["params"].items()})
    raw = model.forward(x.copy())  # a float or a 1-element array: handed back to backward as it is
    f = np.asarray(raw, dtype=float)
    loss = None
    for name in ("loss", "compute_loss"):
        fn = getattr(model, name, None)
        if callable(fn):
            loss = float(np.ravel(fn(np.array(f), y))[0])
            break
    grads = read_grads(model.backward(x.copy(), y, raw))
    return {"a1": read_cache(model, "a1"), "h1": read_cache(model, "h1"), "f": f, "L": loss, "grads": grads}
