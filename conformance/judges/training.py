"""Judges for training_xor, training_spiral and training_mnist.

The probe runs the kit's loop (conformance/training.py) on the student's pipeline and returns
validation outputs only; the labels stay here. Thresholds and budgets are in TASKS
(``conformance/cases/training.py``); the ones for mnist-5k and fashion-mnist are calibrated by
bench/calibrate_training.py (the reference model, same loop, budget and epochs: threshold =
measured accuracy - margin) and recorded in SPEC.md.
"""
from __future__ import annotations

import numpy as np

from conformance.cases.training import Task
from conformance.judges.models import with_network_note
from conformance.outcome import Outcome, failed, passed


def _numbers(values) -> list[float]:
    """A list of floats from the probe's answer, or [] when it is not one (the judge fails closed elsewhere)."""
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        return []


def _accuracies(per_epoch, y_val: np.ndarray) -> list[float]:
    """Validation accuracy after each epoch from the predicted classes (fail closed: [] when any
    entry is not one class per validation sample)."""
    try:
        rows = [np.asarray(c) for c in per_epoch or []]
    except (TypeError, ValueError):
        return []
    if any(r.shape != y_val.shape for r in rows):
        return []
    return [float(np.mean(r == y_val)) for r in rows]


def _out_of_budget(task: Task, name: str, outputs: dict, times: list, prefix: str, evidence: dict) -> Outcome:
    """The budget ran out: timeout, with the pace measured and what would make it fit."""
    given = _numbers([outputs.get("seconds_per_epoch")])
    per_epoch = given[0] if given else float(np.mean(times)) if times else None
    evidence = {**evidence, "seconds_per_epoch": per_epoch,
                "plot": {"kind": "training", "dataset": task.dataset, "losses": evidence["losses"],
                         "threshold": evidence["threshold"], "accuracy": None, "accuracies": []}}
    pace = ("no epoch time measured" if per_epoch is None else
            f"about {per_epoch:.2f} CPU s per epoch, so {task.epochs} epochs need about "
            f"{per_epoch * task.epochs:.0f} s")
    scalar = "scalar engine" in " ".join(str(v) for v in (outputs.get("conventions") or {}).values())
    advice = ("your network runs on a scalar autograd engine (one Python object per number), which this "
              "task's budget, set for array code, cannot fit; its gradients and the small tasks (training_xor, "
              "training_spiral's task for scalar engines) are judged all the same" if scalar else
              "vectorise the batch (no Python loop over samples) and avoid copying weights every step")
    return Outcome("timeout", f"{prefix}{name} ran out of its {task.budget_s:g} CPU s budget after "
                   f"{outputs.get('epochs_done')} of {task.epochs} epochs ({pace}): {advice}.",
                   "too_slow", evidence)


def judge_training(task: Task, inputs: dict, outputs: dict, y_val: np.ndarray, *, threshold: float,
                   data_note: str = "") -> Outcome:
    return with_network_note(_judge_training(task, inputs, outputs, y_val, threshold=threshold, data_note=data_note),
                             outputs)


def _judge_training(task: Task, inputs: dict, outputs: dict, y_val: np.ndarray, *, threshold: float,
                    data_note: str = "") -> Outcome:
    name = f"training on {task.dataset}"
    if not isinstance(outputs, dict):
        return failed(f"{name}: the training loop returned no validation outputs.", "malformed_answer")
    times, losses = _numbers(outputs.get("epoch_times")), _numbers(outputs.get("losses"))
    evidence = {"dataset": task.dataset, "threshold": threshold, "epochs_done": outputs.get("epochs_done"),
                "epochs": task.epochs, "epoch_times_s": times, "losses": losses, "budget_s": task.budget_s,
                "hyper": {"sizes": list(inputs.get("sizes", task.sizes)), "lr": task.lr,
                          "batch_size": task.batch_size}, "data": data_note}
    prefix = f"{data_note} " if data_note else ""
    if outputs.get("stopped") == "budget":  # judged on its pace: the loop asks no validation outputs then
        return _out_of_budget(task, name, outputs, times, prefix, evidence)
    if outputs.get("val_outputs") is None:
        return failed(f"{name}: the training loop returned no validation outputs.", "malformed_answer")
    try:
        out = np.asarray(outputs["val_outputs"], float)
    except (TypeError, ValueError):
        return failed(f"{name}: the validation outputs are not numeric.", "malformed_answer")
    if out.ndim != 2 or out.shape[0] != len(y_val):
        return failed(f"{name}: validation outputs have shape {out.shape}, expected ({len(y_val)}, classes).",
                      "malformed_answer")
    pred = (out[:, 0] >= 0.5).astype(int) if out.shape[1] == 1 else np.argmax(out, axis=1)
    acc = float(np.mean(pred == y_val)) if np.all(np.isfinite(out)) else 0.0
    evidence.update(accuracy=acc, plot={"kind": "training", "dataset": task.dataset, "losses": losses,
                                        "threshold": threshold, "accuracy": acc,
                                        "accuracies": _accuracies(outputs.get("val_classes"), y_val)})
    stopped = outputs.get("stopped")
    head = [v for v in _numbers(outputs.get("first_losses")) if np.isfinite(v)]
    climbed = len(head) >= 5 and all(b > a for a, b in zip(head, head[1:5]))  # up at each of the first steps
    if (stopped == "non_finite" or not np.all(np.isfinite(out))) and climbed:
        return failed(f"{prefix}{name}: the loss rose at every one of the first steps ({head[0]:.3f} -> "
                      f"{head[4]:.3f} after 4 steps, {head[-1]:.3g} after {len(head) - 1}) until it became NaN or "
                      f"inf: the update climbs the loss, check its sign (theta -= lr * grad) and the sgd and "
                      f"model_gradcheck checks.", "did_not_learn", **evidence)
    if stopped == "non_finite" or not np.all(np.isfinite(out)):
        return failed(f"{prefix}{name}: the loss became NaN or inf (losses {losses[-3:]}): look for an "
                      f"unstable softmax/log or a gradient scaled B times too large.", "diverged", **evidence)
    if acc >= threshold:
        each = f", {1000 * sum(times) / len(times):.1f} ms each" if times else ""
        return passed(f"{prefix}{name}: validation accuracy {acc:.1%} >= {threshold:.0%} in "
                      f"{sum(times):.1f} s ({len(times)} epochs{each}).", **evidence)
    small = _small_initial_weights(inputs.get("sizes", task.sizes), outputs.get("initial_weight_stds"))
    advice = (f"if model_gradcheck and sgd pass, look at the initial weights first: {small}" if small else
              "if model_gradcheck passes, compare your update step with the sgd check")
    if len(losses) > 1 and abs(losses[-1] - losses[0]) < 0.01 * abs(losses[0]):
        trend = (f"the loss stayed at about {losses[0]:.3f} ({losses[0]:.4f} -> {losses[-1]:.4f}): the network hardly "
                 f"moved from where it started")
        advice = "when model_gradcheck and sgd pass, look at the initial weights: " + (
            small or "weights drawn at a scale like 0.01 leave a small network on a plateau at this learning rate "
                     "(He or Xavier scaling trains)")
    elif len(losses) > 1 and losses[-1] > losses[0]:
        trend = (f"the loss rose from {losses[0]:.3f} to {losses[-1]:.3f}: the update climbs the loss, check "
                 f"its sign (theta -= lr * grad)")
    elif len(losses) > 1 and losses[-1] == losses[0]:
        trend = "the loss did not decrease"
    else:
        trend = f"the loss went from {losses[0]:.3f} to {losses[-1]:.3f}" if losses else "no loss was recorded"
    return failed(f"{prefix}{name}: validation accuracy {acc:.1%} < {threshold:.0%} after {task.epochs} epochs "
                  f"at lr {task.lr:g} ({trend}); {advice}.", "did_not_learn", **evidence)


def _small_initial_weights(sizes, stds) -> str:
    """A sentence when a layer's initial weights are drawn far smaller than He scaling (std below a
    tenth of sqrt(2 / fan_in), as 0.01 * randn is for any fan-in under 20,000); else ""."""
    stds = _numbers(stds or [])
    if not stds or len(stds) != len(sizes) - 1:
        return ""
    he = [float(np.sqrt(2.0 / n)) for n in sizes[:-1]]
    k = min(range(len(stds)), key=lambda i: stds[i] / he[i])
    if stds[k] >= 0.1 * he[k]:
        return ""
    return (f"your layer {k + 1}'s weights start with std {stds[k]:.3g}, where He scaling gives {he[k]:.3g} for "
            f"its {sizes[k]} inputs; weights that small start the network near a flat region and it learns "
            f"slowly at this learning rate (He or Xavier scaling trains)")
