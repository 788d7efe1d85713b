"""Probes for model_gradcheck: the student's whole pipeline (or single-sample MLP) at kit-chosen points.

The probe only evaluates: it returns the loss (or output) the student's code reports at each
parameter point the kit sent, plus the gradients at the base point. The judge does all arithmetic.
"""
from __future__ import annotations

import numpy as np

from conformance.probes import probe
from conformance.probes.single_sample import model_from, read_grads, run_forward


@probe("network.sizes")
def network_sizes(adapter, inputs: dict) -> dict:
    """inputs: sizes (what the check would like). Returns the sizes the student's network can be
    built at: those, or the ones its code fixes."""
    return {"sizes": [int(n) for n in adapter.network_sizes(list(inputs["sizes"]))]}


@probe("model_gradcheck.pipeline")
def pipeline_gradcheck(adapter, inputs: dict) -> dict:
    """inputs: sizes, hidden, x (B, d), labels (B,), params {key: array}, points [params, ...]."""
    pipe = adapter.make_pipeline(list(inputs["sizes"]), inputs.get("hidden", "relu"), "classification")
    x, labels = np.asarray(inputs["x"], float), np.asarray(inputs["labels"], int)
    pipe.set_params(inputs["params"])
    loss, grads = pipe.loss_and_grads(x.copy(), labels.copy())
    losses = []
    for point in inputs["points"]:
        pipe.set_params(point)
        losses.append(float(pipe.loss(x.copy(), labels.copy())))
    return {"loss": float(loss), "grads": {k: np.asarray(v, float) for k, v in grads.items()},
            "point_losses": losses, "conventions": dict(pipe.conventions)}


@probe("model_gradcheck.single_sample")
def single_sample_gradcheck(adapter, inputs: dict) -> dict:
    """inputs: input_dim, hidden_dim, activation, x (d,), y, params {W1,b1,W2,b2}, points [...].
    Returns the output f at every point (the judge computes L = (f - y)^2 / 2) and the grads."""
    model = model_from(adapter, inputs)
    x, y = np.asarray(inputs["x"], float), float(inputs["y"])
    model.set_parameters({k: np.array(v, float) for k, v in inputs["params"].items()})
    f = run_forward(model, x)
    grads = read_grads(model.backward(x.copy(), y, np.array(f)))
    outs = []
    for point in inputs["points"]:
        model.set_parameters({k: np.array(v, float) for k, v in point.items()})
        outs.append(float(np.ravel(run_forward(model, x))[0]))
    return {"f": float(np.ravel(f)[0]), "grads": grads, "point_outputs": outs}
