"""The kit's own training loop: drives a student's pipeline (model + loss + optimizer).

It runs inside the probe (the student's side) and never sees validation labels: it returns the
validation outputs, the loss history and the epoch times; the judge computes the accuracy.
The loop stops itself when the time budget is spent and says so.
"""
from __future__ import annotations

import time

import numpy as np


def fit(pipe, X, y, *, epochs: int, batch_size: int, lr: float, rng: np.random.Generator,
        budget_s: float, X_val=None, clock=time.perf_counter) -> dict:
    """Mini-batch training of ``pipe`` (a PipelineHandle) on X (N, d), int labels y (N,).

    Each step is the student's own forward + loss + backward (``loss_and_grads``) followed by
    the student's own update (``sgd_step(lr)``). Returns
    {"losses": [mean batch loss per epoch], "epoch_times": [s], "epochs_done": int,
     "stopped": "done" | "budget" | "non_finite", "elapsed_s": float, "val_outputs": array | None}.
    """
    start = clock()
    losses, times, stopped = [], [], "done"
    n = len(X)
    for _ in range(epochs):
        t0, batch_losses = clock(), []
        order = rng.permutation(n)
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            loss, _ = pipe.loss_and_grads(X[idx], y[idx])
            pipe.sgd_step(lr)
            batch_losses.append(float(loss))
            if clock() - start > budget_s:
                stopped = "budget"
                break
        times.append(clock() - t0)
        losses.append(float(np.mean(batch_losses)))
        if not np.isfinite(losses[-1]):
            stopped = "non_finite"
        if stopped != "done":
            break
    val = None if X_val is None else np.asarray(pipe.predict(X_val), dtype=float)
    return {"losses": losses, "epoch_times": times, "epochs_done": len(times), "stopped": stopped,
            "elapsed_s": clock() - start, "val_outputs": val}
