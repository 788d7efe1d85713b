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
    out = fit(pipe, np.asarray(inputs["X"], float), np.asarray(inputs["y"], int),
              epochs=int(inputs["epochs"]), batch_size=int(inputs["batch_size"]), lr=float(inputs["lr"]),
              rng=np.random.default_rng(int(inputs["seed"])), budget_s=float(inputs["budget_s"]),
              X_val=np.asarray(inputs["X_val"], float))
    out["conventions"] = dict(pipe.conventions)
    return out
