"""training_*: the kit's loop (budget, non-finite stop), the judge's verdicts on hand-made answers,
MNIST-class data resolution, and one real run of the XOR task on a hand-made pipeline."""
import itertools

import numpy as np
import pytest

from checks_fakes import FakeAdapter, FakePipeline
from conformance.judges import training
from conformance.runner import InProcessRunner
from conformance.training import fit

TASK = training.TASKS["xor"]


def fake_clock(step):
    ticks = itertools.count()
    return lambda: next(ticks) * step


def test_loop_stops_itself_at_the_budget():
    X, y = np.random.default_rng(0).standard_normal((64, 2)), np.zeros(64, int)
    out = fit(FakePipeline([2, 3, 2]), X, y, epochs=100, batch_size=8, lr=0.1, rng=np.random.default_rng(0),
              budget_s=1.0, X_val=X[:5], clock=fake_clock(0.1))
    assert out["stopped"] == "budget" and out["epochs_done"] < 100 and out["val_outputs"].shape == (5, 2)


def test_loop_reports_non_finite_losses():
    pipe = FakePipeline([2, 3, 2])
    pipe.loss_and_grads = lambda x, labels: (float("nan"), {})
    pipe.sgd_step = lambda lr: None
    X, y = np.random.default_rng(0).standard_normal((16, 2)), np.zeros(16, int)
    out = fit(pipe, X, y, epochs=5, batch_size=8, lr=0.1, rng=np.random.default_rng(0), budget_s=60, X_val=X)
    assert out["stopped"] == "non_finite" and out["epochs_done"] == 1


def answer(acc, stopped="done", classes=2, n=100, rng=np.random.default_rng(0)):
    y_val = rng.integers(0, classes, n)
    right = np.arange(n) < int(round(acc * n))
    pred = np.where(right, y_val, (y_val + 1) % classes)
    return {"val_outputs": np.eye(classes)[pred], "losses": [0.7, 0.3], "epoch_times": [0.01, 0.01],
            "epochs_done": 2, "stopped": stopped}, y_val


@pytest.mark.parametrize("acc, stopped, verdict, cause", [
    (0.90, "done", "pass", None),
    (0.80, "done", "fail", "did_not_learn"),
    (0.95, "budget", "timeout", "too_slow"),
    (0.95, "non_finite", "fail", "diverged"),
])
def test_training_verdicts(acc, stopped, verdict, cause):
    out, y_val = answer(acc, stopped)
    outcome = training.judge_training(TASK, {}, out, y_val, threshold=0.85)
    assert (outcome.verdict, outcome.cause) == (verdict, cause), outcome.message
    assert outcome.evidence["accuracy"] == pytest.approx(acc)


def test_too_slow_message_gives_the_epoch_time():
    out, y_val = answer(0.9, "budget")
    assert "0.01 s per epoch" in training.judge_training(TASK, {}, out, y_val, threshold=0.85).message


def test_single_output_models_are_read_at_one_half():
    y_val = np.array([0, 1, 1, 0])
    out = {"val_outputs": np.array([[0.1], [0.7], [0.4], [0.2]]), "stopped": "done", "losses": [1.0]}
    assert training.judge_training(TASK, {}, out, y_val, threshold=0.5).evidence["accuracy"] == 0.75


@pytest.mark.parametrize("vals", [None, np.zeros((3, 2)), np.zeros(100)])
def test_malformed_validation_outputs_fail_closed(vals):
    out, y_val = answer(0.9)
    out["val_outputs"] = vals
    assert training.judge_training(TASK, {}, out, y_val, threshold=0.85).cause == "malformed_answer"


def test_validation_labels_are_never_sent():
    X, y, Xv, yv = training.load_data(TASK)
    case = training.build_training(TASK, X, y, Xv)
    assert not any(isinstance(v, np.ndarray) and v.shape == yv.shape and np.array_equal(v, yv) for v in case.values())


def test_mnist_resolution_order_and_missing_sentence(monkeypatch):
    from reference import datasets

    have = {"mnist": False, "mnist-5k": False, "fashion-mnist": True}
    monkeypatch.setattr(datasets, "available",
                        lambda name, **kw: datasets.Availability(name, have[name], fix=f"fetch {name}"))
    name, note = training.resolve_mnist()
    assert name == "fashion-mnist" and "mnist not available, fix: fetch mnist" in note
    have["fashion-mnist"] = False
    name, note = training.resolve_mnist()
    assert name is None and "fetch mnist-5k" in note


@pytest.mark.parametrize("pipeline, verdict", [({}, "pass"), ({"loss_avg": False}, "fail")])
def test_spiral_task_separates_a_correct_pipeline_from_a_b_times_gradient(pipeline, verdict):
    task = training.TASKS["spiral"]
    X, y, Xv, yv = training.load_data(task)
    case = training.build_training(task, X, y, Xv)
    out = InProcessRunner(FakeAdapter(pipeline=pipeline)).call("training.fit", case)
    assert training.judge_training(task, case, out, yv, threshold=task.threshold).verdict == verdict
