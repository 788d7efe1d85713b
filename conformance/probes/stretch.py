"""Probes for the stretch layers: batchnorm, dropout, conv2d (each `missing` when absent)."""
from __future__ import annotations

import numpy as np

from conformance.probes import probe


def _layer(adapter, kind, hyper, params=None):
    layer = adapter.make_layer(kind, **hyper)
    if params:
        layer.set_params({k: np.array(v, float) for k, v in params.items()})
    return layer


def _pass(layer, x, dy) -> dict:
    y = np.asarray(layer.forward(np.array(x, float)), dtype=float)
    dx = np.asarray(layer.backward(np.array(dy, float)), dtype=float)
    return {"y": y, "dx": dx, "grads": {k: np.asarray(v, float) for k, v in layer.get_grads().items()}}


@probe("batchnorm.run")
def batchnorm_run(adapter, inputs: dict) -> dict:
    """inputs: hyper {num_features, eps, momentum}, params {gamma, beta}, x, dy, train_batches
    [(B, F), ...], x_eval, points [{"x", "gamma", "beta"}, ...].

    Layer 1: forwards in train mode on train_batches, then one eval-mode forward on x_eval.
    Layer 2 (fresh): train-mode forward + backward at x, then train-mode forwards at every point
    (for the judge's numerical VJP of the student's own forward). ``own_eps``: the eps a layer
    with no eps argument fixes in its own code, when discovery read one."""
    stats = _layer(adapter, "batchnorm", inputs["hyper"], inputs["params"])
    stats.set_training(True)
    for xb in inputs["train_batches"]:
        stats.forward(np.array(xb, float))
    stats.set_training(False)
    y_eval = np.asarray(stats.forward(np.array(inputs["x_eval"], float)), dtype=float)

    layer = _layer(adapter, "batchnorm", inputs["hyper"], inputs["params"])
    layer.set_training(True)
    out = _pass(layer, inputs["x"], inputs["dy"])
    point_outputs = []
    for point in inputs["points"]:
        layer.set_params({"gamma": np.array(point["gamma"], float), "beta": np.array(point["beta"], float)})
        point_outputs.append(np.asarray(layer.forward(np.array(point["x"], float)), dtype=float))
    conventions = getattr(stats, "conventions", {})
    return {**out, "y_eval": y_eval, "point_outputs": point_outputs,
            "conventions": {k: str(v) for k, v in conventions.items() if k == "running_stats"},
            **({"own_eps": float(conventions["eps"])} if isinstance(conventions.get("eps"), float) else {})}


@probe("dropout.run")
def dropout_run(adapter, inputs: dict) -> dict:
    """inputs: p, x (no zeros), dy. Train-mode forward + backward, then an eval-mode forward."""
    layer = _layer(adapter, "dropout", {"p": float(inputs["p"])})
    layer.set_training(True)
    y = np.asarray(layer.forward(np.array(inputs["x"], float)), dtype=float)
    dx = np.asarray(layer.backward(np.array(inputs["dy"], float)), dtype=float)
    layer.set_training(False)
    y_eval = np.asarray(layer.forward(np.array(inputs["x"], float)), dtype=float)
    return {"y": y, "dx": dx, "y_eval": y_eval}


@probe("conv2d.run")
def conv2d_run(adapter, inputs: dict) -> dict:
    """inputs: cases [{hyper {in_channels, out_channels, kernel_size, stride, padding}, params
    {W, b}, x (N, C, H, W), dy}]. Returns one forward/backward result per case."""
    return {"cases": [_pass(_layer(adapter, "conv2d", c["hyper"], c["params"]), c["x"], c["dy"])
                      for c in inputs["cases"]]}
