"""The kit's own training loop: drives a student's pipeline (model + loss + optimizer).

It runs inside the probe (the student's side) and never sees validation labels: it returns the
validation outputs, the loss history and the epoch times; the judge computes the accuracy.
The loop stops itself when the time budget is spent and says so. Time is the CPU time of the
thread that trains (``time.thread_time``), not the wall clock: a grading machine busy with other
work gives the same submission the same verdict.
"""
from __future__ import annotations

import time

import numpy as np

FIRST_STEPS = 20


def fit(pipe, X, y, *, epochs: int, batch_size: int, lr: float, rng: np.random.Generator,
        budget_s: float, X_val=None, clock=time.thread_time) -> dict:
    """Mini-batch training of ``pipe`` (a PipelineHandle) on X (N, d), int labels y (N,).

    Each step is the student's own forward + loss + backward (``loss_and_grads``) followed by
    the student's own update (``sgd_step(lr)``). Returns
    {"losses": [mean batch loss per epoch, the unfinished one included], "first_losses": [the first
     FIRST_STEPS batch losses, to tell a loss that climbs from the start], "epoch_times": [CPU s of
     each finished epoch], "epochs_done": int, "seconds_per_epoch": float | None, "stopped": "done" |
     "budget" | "non_finite", "elapsed_s": float, "val_outputs": array | None (None when the budget ran
     out), "val_classes": [the predicted validation class per sample after each finished epoch, for
     the accuracy curve]}.
    ``seconds_per_epoch`` is the mean finished epoch, or, when the budget ran out inside the first
    epoch, that epoch's time extrapolated from the steps it ran (what a too-slow verdict reports).
    """
    start = clock()
    losses, first, times, stopped, estimate = [], [], [], "done", None
    val_classes = []  # per finished epoch but the last (whose outputs are val_outputs)
    n = len(X)
    steps_per_epoch = -(-n // batch_size)
    for _ in range(epochs):
        t0, batch_losses = clock(), []
        order = rng.permutation(n)
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            loss, _ = pipe.loss_and_grads(X[idx], y[idx])
            pipe.sgd_step(lr)
            batch_losses.append(float(loss))
            if len(first) < FIRST_STEPS:
                first.append(batch_losses[-1])
            if clock() - start > budget_s:
                stopped = "budget"
                break
        losses.append(float(np.mean(batch_losses)))
        if stopped == "budget" and len(batch_losses) < steps_per_epoch:
            # an unfinished epoch does not count; if it is the first, extrapolate its time from its steps
            estimate = (clock() - t0) * steps_per_epoch / len(batch_losses)
        else:
            times.append(clock() - t0)
        if not np.isfinite(losses[-1]):
            stopped = "non_finite"
        if stopped != "done":
            break
        if X_val is not None and len(times) < epochs:
            val_classes.append(predicted_classes(pipe.predict(X_val)))
    # a loop out of its budget is judged on its pace alone: no more work is asked of the code
    val = None if X_val is None or stopped == "budget" else np.asarray(pipe.predict(X_val), dtype=float)
    if val is not None and stopped == "done":
        val_classes.append(predicted_classes(val))
    return {"losses": losses, "first_losses": first, "epoch_times": times, "epochs_done": len(times),
            "seconds_per_epoch": float(np.mean(times)) if times else estimate, "stopped": stopped,
            "elapsed_s": clock() - start, "val_outputs": val, "val_classes": val_classes}


def predicted_classes(outputs) -> np.ndarray:
    """The class of each row: the argmax, or output >= 0.5 for a single output column."""
    out = np.asarray(outputs, dtype=float)
    if out.ndim != 2:
        return np.zeros(0, dtype=np.int64)
    return (out[:, 0] >= 0.5).astype(np.int64) if out.shape[1] == 1 else np.argmax(out, axis=1)
