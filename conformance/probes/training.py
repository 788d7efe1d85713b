"""Probe for training_xor, training_spiral and training_mnist: the kit's loop on the student's pipeline."""
from __future__ import annotations

import numpy as np

from conformance.probes import probe
from conformance.training import fit


@probe("training.fit")
def fit_probe(adapter, inputs: dict) -> dict:
    """inputs: sizes, hidden, X (N, d), y (N,) int, X_val, epochs, batch_size, lr, seed, budget_s.
    Validation labels are never sent."""
    pipe = adapter.make_pipeline(list(inputs["sizes"]), inputs.get("hidden", "relu"), "classification")
    start = initial_weight_stds(pipe)
    out = fit(pipe, np.asarray(inputs["X"], float), np.asarray(inputs["y"], int),
              epochs=int(inputs["epochs"]), batch_size=int(inputs["batch_size"]), lr=float(inputs["lr"]),
              rng=np.random.default_rng(int(inputs["seed"])), budget_s=float(inputs["budget_s"]),
              X_val=np.asarray(inputs["X_val"], float))
    out["conventions"] = dict(pipe.conventions)
    out["initial_weight_stds"] = start
    return out


def initial_weight_stds(pipe) -> list[float]:
    """The standard deviation of each layer's weights as the student's code drew them, in layer
    order ([] when the pipeline cannot hand them over): the judge compares them with He scaling."""
    try:
        params = pipe.get_params()
    except Exception:  # a network that cannot hand its parameters over is trained all the same
        return []
    keys = sorted((k for k in params if k.split(".")[-1] == "W" or k.rstrip("0123456789") == "W"),
                  key=lambda k: int("".join(c for c in k.split(".")[0] if c.isdigit()) or 0))
    return [float(np.std(np.asarray(params[k], dtype=float))) for k in keys]
