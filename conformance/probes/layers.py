"""Probes for linear, relu, sigmoid, tanh and softmax, the inventory and the capabilities.

``layer.check`` runs one forward and one backward on a fresh layer and evaluates the forward at
the kit's perturbed points (inputs and parameters), so the judge can take numerical derivatives
of the student's *own* forward. ``layer.stability`` calls the student's object directly, with
the caller's arrays as given (dtype kept, no copy), to see warnings, overflow and mutation.
"""
from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np

from conformance.adapters.base import Missing
from conformance.probes import probe


@contextlib.contextmanager
def watched():
    """Collect RuntimeWarnings (numpy overflow etc.) and swallow prints of the student's code."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        yield caught


def warning_texts(caught) -> list[str]:
    return [f"{w.category.__name__}: {w.message}" for w in caught]


@probe("inventory")
def inventory(adapter, inputs: dict) -> dict:
    """The style, why, and what was found under which name for every component id."""
    found = adapter.inventory()
    return {
        "style": adapter.style,
        "because": list(adapter.detected_because),
        "found": {comp: {"name": f.name, "detail": f.detail} for comp, f in found.items()},
    }


@probe("capabilities")
def capabilities(adapter, inputs: dict) -> dict:
    """What the code offers beyond the components (``Adapter.capabilities``)."""
    return {"offers": [str(c) for c in adapter.capabilities()]}


@probe("layer.check")
def layer_check(adapter, case: dict) -> dict:
    """inputs: kind, hyper, x, dy, optional params {name: array}, x_points (K, *x.shape),
    optional param_points {name: (K, *shape)}. Returns y, dx, grads, y_at_x_points,
    y_at_<name>_points, and what is missing (backward_missing, grads_missing, gradient_missing_of)."""
    layer = adapter.make_layer(case["kind"], **case.get("hyper", {}))
    out = {"student_name": layer.student_name, "conventions": dict(layer.conventions),
           "param_names": list(layer.param_names())}
    params = case.get("params") or {}
    if params:
        layer.set_params(params)
    with watched() as caught:
        out["y"] = np.asarray(layer.forward(case["x"]))
        try:
            out["dx"] = np.asarray(layer.backward(case["dy"]))
        except Missing as exc:
            out["backward_missing"] = str(exc)
        if layer.param_names() and "dx" in out:
            try:
                out["grads"] = {k: np.asarray(v) for k, v in layer.get_grads().items()}
            except Missing as exc:
                out["grads_missing"] = str(exc)
                if exc.gradient_of:
                    out["gradient_missing_of"] = exc.gradient_of
        if "x_points" in case:
            out["y_at_x_points"] = np.stack([np.asarray(layer.forward(p)) for p in case["x_points"]])
        for name, points in (case.get("param_points") or {}).items():
            ys = []
            for p in points:
                layer.set_params({**params, name: p})
                ys.append(np.asarray(layer.forward(case["x"])))
            out[f"y_at_{name}_points"] = np.stack(ys)
    out["warnings"] = warning_texts(caught)
    return out


@probe("layer.stability")
def layer_stability(adapter, case: dict) -> dict:
    """forward(x) then backward(dy) on the student's own object with x as given (dtype kept),
    reporting warnings, output dtypes and whether x or dy were modified in place."""
    layer = adapter.make_layer(case["kind"], **case.get("hyper", {}))
    obj = getattr(layer, "obj", None)
    raw = callable(getattr(layer, "raw_forward", None))  # a discovered layer: its own calling convention
    if not raw and (obj is None or not callable(getattr(obj, "forward", None))):
        raise Missing("the adapter does not expose the student's layer object, so the stability check cannot call it directly")
    if case.get("params"):
        layer.set_params(case["params"])
    x, dy = np.array(case["x"]), np.array(case["dy"], dtype=np.asarray(case["x"]).dtype)
    x0, dy0 = x.copy(), dy.copy()
    out = {"student_name": layer.student_name}
    with watched() as caught:
        y = np.asarray(layer.raw_forward(x) if raw else obj.forward(x))
        out["x_mutated"] = not np.array_equal(x, x0, equal_nan=True)
        if raw:
            try:
                dx = layer.raw_backward(dy)
            except Missing:
                dx = None
        elif callable(getattr(obj, "backward", None)):
            dx = obj.backward(dy)
        elif callable(getattr(obj, "derivative", None)):
            dx = dy * np.asarray(obj.derivative(x0.copy()))
        else:
            dx = None
        out["dy_mutated"] = not np.array_equal(dy, dy0, equal_nan=True)
    for key, now in (("x", x), ("dy", dy)):
        if out[f"{key}_mutated"]:
            out[f"{key}_after"] = now  # what the student's code left in the caller's array
    out.update(y=y, y_dtype=str(y.dtype), warnings=warning_texts(caught))
    if dx is not None:
        dx = np.asarray(dx)
        out.update(dx=dx, dx_dtype=str(dx.dtype))
    return out
