"""training_*: the kit's loop (budget, non-finite stop), the judge's verdicts on hand-made answers,
MNIST-class data resolution, and one real run of the XOR task on a hand-made pipeline."""
import dataclasses
import itertools

import numpy as np
import pytest

from checks_fakes import FakeAdapter, FakePipeline, OutcomeCheck
from conformance.cases import training as cases
from conformance.judges import training
from conformance.runner import InProcessRunner
from conformance.training import fit

TASK = cases.TASKS["xor"]


def fake_clock(step):
    ticks = itertools.count()
    return lambda: next(ticks) * step


def test_loop_stops_itself_at_the_budget():
    X, y = np.random.default_rng(0).standard_normal((64, 2)), np.zeros(64, int)
    out = fit(FakePipeline([2, 3, 2]), X, y, epochs=100, batch_size=8, lr=0.1, rng=np.random.default_rng(0),
              budget_s=1.0, X_val=X[:5], clock=fake_clock(0.1))
    assert out["stopped"] == "budget" and out["epochs_done"] < 100 and out["val_outputs"] is None


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
    if stopped == "budget":  # judged on its pace: validation outputs are not read, so no accuracy
        assert "accuracy" not in outcome.evidence and outcome.evidence["seconds_per_epoch"] == pytest.approx(0.01)
    else:
        assert outcome.evidence["accuracy"] == pytest.approx(acc)


def test_too_slow_message_gives_the_epoch_time():
    out, y_val = answer(0.9, "budget")
    message = training.judge_training(TASK, {}, out, y_val, threshold=0.85).message
    assert "0.01 CPU s per epoch" in message and "vectorise the batch" in message
    out["conventions"] = {"loss": "the kit's softmax cross-entropy (a scalar engine need not define log or exp)"}
    message = training.judge_training(TASK, {}, out, y_val, threshold=0.85).message
    assert "scalar autograd engine" in message and "vectorise" not in message, message


@pytest.mark.parametrize("losses, says, never", [
    ([0.6933, 0.6951, 0.6938, 0.6941], "the loss stayed at about 0.693", "climbs"),  # a plateau: noise, not a sign error
    ([0.69, 0.8, 1.4, 2.3], "the update climbs the loss, check its sign", "plateau"),
])
def test_a_loss_that_stays_put_is_not_called_a_climbing_loss(losses, says, never):
    y_val = np.array([0, 1, 1, 0])
    out = {"val_outputs": np.full((4, 1), 0.5), "stopped": "done", "losses": losses}
    message = training.judge_training(TASK, {}, out, y_val, threshold=0.85).message
    assert says in message and never not in message, message


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
    X, y, Xv, yv = cases.load_data(TASK)
    case = cases.build_training(TASK, X, y, Xv)
    assert not any(isinstance(v, np.ndarray) and v.shape == yv.shape and np.array_equal(v, yv) for v in case.values())


def test_mnist_resolution_order_and_missing_sentence(monkeypatch):
    from reference import datasets

    have = {"mnist": False, "mnist-5k": False, "fashion-mnist": True}
    monkeypatch.setattr(datasets, "available",
                        lambda name, **kw: datasets.Availability(name, have[name], fix=f"fetch {name}"))
    name, note = cases.resolve_mnist()
    assert name == "fashion-mnist" and "mnist not available, fix: fetch mnist" in note
    have["fashion-mnist"] = False
    name, note = cases.resolve_mnist()
    assert name is None and "fetch mnist-5k" in note


@pytest.mark.parametrize("pipeline, verdict", [({}, "pass"), ({"loss_avg": False}, "fail")])
def test_spiral_task_separates_a_correct_pipeline_from_a_b_times_gradient(pipeline, verdict):
    task = cases.TASKS["spiral"]
    X, y, Xv, yv = cases.load_data(task)
    case = cases.build_training(task, X, y, Xv)
    out = InProcessRunner(FakeAdapter(pipeline=pipeline)).call("training.fit", case)
    assert training.judge_training(task, case, out, yv, threshold=task.threshold).verdict == verdict


# --- training_mnist: the too-slow verdict, the user's settings, a real run on mnist-5k ----------------

class StepClock:
    """A clock that only moves when the pipeline works: each training step costs ``step_s`` seconds."""

    def __init__(self, step_s):
        self.now, self.step_s = 0.0, step_s

    def __call__(self):
        return self.now

    def slow(self, pipe):
        inner = pipe.loss_and_grads

        def step(x, labels):
            self.now += self.step_s
            return inner(x, labels)
        pipe.loss_and_grads = step
        return pipe


@pytest.mark.parametrize("budget_s, epochs_done, pace", [
    (3.0, 0, "about 4.00 CPU s per epoch, so 10 epochs need about 40 s"),   # stopped inside the first epoch
    (5.0, 1, "about 4.00 CPU s per epoch, so 10 epochs need about 40 s"),   # one epoch finished, then stopped
])
def test_too_slow_pipeline_times_out_with_its_epoch_time_and_a_hint(budget_s, epochs_done, pace):
    clock = StepClock(0.5)                                               # 8 steps of 0.5 s: 4 s per epoch
    X, y = np.random.default_rng(0).standard_normal((64, 2)), np.zeros(64, int)
    out = fit(clock.slow(FakePipeline([2, 3, 2])), X, y, epochs=10, batch_size=8, lr=0.1,
              rng=np.random.default_rng(0), budget_s=budget_s, X_val=X[:4], clock=clock)
    assert (out["stopped"], out["epochs_done"], out["seconds_per_epoch"]) == ("budget", epochs_done, 4.0)
    assert out["val_outputs"] is None  # no more work is asked of code out of its budget
    task = dataclasses.replace(cases.TASKS["xor"], epochs=10, budget_s=budget_s)
    outcome = training.judge_training(task, {}, out, np.zeros(4, int), threshold=0.5)
    assert (outcome.verdict, outcome.cause) == ("timeout", "too_slow")
    assert f"budget after {epochs_done} of 10 epochs ({pace}): vectorise the batch" in outcome.message


SETTINGS = cases.MNIST_ENV


@pytest.mark.parametrize("environ, changed, note", [
    ({}, {}, ""),
    ({SETTINGS + "SIZES": "784,256,10", SETTINGS + "LR": "0.05"}, {"sizes": (784, 256, 10), "lr": 0.05},
     f"Settings from the environment: {SETTINGS}SIZES=784,256,10, {SETTINGS}LR=0.05."),
    ({SETTINGS + "EPOCHS": "5", SETTINGS + "BATCH_SIZE": "128", SETTINGS + "BUDGET_S": "600"},
     {"epochs": 5, "batch_size": 128, "budget_s": 600.0}, "EPOCHS=5"),
])
def test_mnist_hyper_parameters_are_the_tasks_unless_the_user_sets_them(environ, changed, note):
    for name in cases.MNIST_ORDER:
        default = cases.TASKS[name]
        task, said = cases.mnist_settings(default, environ)
        for field in ("sizes", "epochs", "batch_size", "lr", "budget_s"):
            assert getattr(task, field) == changed.get(field, getattr(default, field)), field
        assert task.threshold == default.threshold and note in said and bool(said) == bool(environ)


@pytest.mark.parametrize("var, raw", [("SIZES", "784,128"), ("SIZES", "100,10"), ("LR", "fast"), ("EPOCHS", "0"),
                                      ("BATCH_SIZE", "2.5")])
def test_malformed_mnist_settings_are_refused_with_the_fix(var, raw):
    with pytest.raises(ValueError, match=rf"{SETTINGS}{var}='{raw}' is not a valid setting .* set it like "
                                         rf"{SETTINGS}{var}=\S+ .*or unset it"):
        cases.mnist_settings(cases.TASKS["mnist"], {SETTINGS + var: raw})


def test_the_user_can_ask_for_one_mnist_data_set_and_gets_no_other(monkeypatch):
    from reference import datasets

    have = {"mnist": True, "mnist-5k": True, "fashion-mnist": False}
    monkeypatch.setattr(datasets, "available",
                        lambda name, **kw: datasets.Availability(name, have[name], fix=f"fetch {name}"))
    assert cases.resolve_mnist(environ={})[0] == "mnist"
    name, note = cases.resolve_mnist(environ={SETTINGS + "DATASET": "mnist-5k"})
    assert name == "mnist-5k" and "as BACKPROP_KIT_MNIST_DATASET asks" in note
    name, note = cases.resolve_mnist(environ={SETTINGS + "DATASET": "fashion-mnist"})
    assert name is None and "asks for fashion-mnist only" in note and "fetch fashion-mnist" in note
    name, note = cases.resolve_mnist(environ={SETTINGS + "DATASET": "cifar"})
    assert name is None and "use one of mnist, mnist-5k, fashion-mnist" in note


def _sgd_climbs_the_loss(self):
    for _, p, g in self.pairs():
        p += self.lr * g          # the planted bug: + instead of -


@pytest.mark.needs_data("mnist-5k")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the sign error overflows on purpose
@pytest.mark.parametrize("bug, verdict, says", [
    (None, "pass", "training on mnist-5k: validation accuracy"),
    ("sgd_sign", "fail", "the update climbs the loss, check its sign"),
])
def test_mnist_5k_passes_the_reference_and_fails_an_sgd_sign_error(monkeypatch, bug, verdict, says):
    import reference
    from conformance.adapters import build_adapter
    from conformance.loader import load_impl

    if bug == "sgd_sign":
        monkeypatch.setattr(reference.SGD, "step", _sgd_climbs_the_loss)
    for var in [SETTINGS + s for s in (*cases.MNIST_SETTINGS, "DATASET")]:
        monkeypatch.delenv(var, raising=False)
    runner = InProcessRunner(build_adapter(load_impl("reference"), style="canonical"))
    outcome = OutcomeCheck(runner).train("mnist-5k", data_note="training_mnist used mnist-5k.")
    assert outcome.verdict == verdict and says in outcome.message, outcome.message
    assert outcome.message.startswith("training_mnist used mnist-5k.") and outcome.evidence["dataset"] == "mnist-5k"
    assert (outcome.cause, outcome.evidence["threshold"]) == (None if bug is None else "did_not_learn", 0.89)


def test_user_settings_reach_the_probe_and_the_message(monkeypatch):
    monkeypatch.setenv(SETTINGS + "EPOCHS", "1")
    monkeypatch.setenv(SETTINGS + "SIZES", "784,16,10")
    sent = []

    class Recorder:
        def call(self, probe, case, timeout=None):
            if probe != "training.fit":  # the network's own sizes, asked first: none fixed here
                return {"sizes": list(case["sizes"])}
            sent.append(case)
            return {"val_outputs": np.eye(10)[[0, 0]], "losses": [1.0], "epoch_times": [0.1], "epochs_done": 1,
                    "stopped": "done"}
    monkeypatch.setattr(cases, "load_data", lambda task: (np.zeros((4, 784)), np.zeros(4, int),
                                                             np.zeros((2, 784)), np.zeros(2, int)))
    outcome = OutcomeCheck(Recorder()).train("fashion-mnist", data_note="training_mnist used fashion-mnist.")
    assert sent[0]["epochs"] == 1 and sent[0]["sizes"] == [784, 16, 10]
    assert outcome.verdict == "pass" and outcome.message.startswith(
        f"training_mnist used fashion-mnist. Settings from the environment: {SETTINGS}SIZES=784,16,10, "
        f"{SETTINGS}EPOCHS=1.")
    monkeypatch.setenv(SETTINGS + "LR", "-1")
    outcome = OutcomeCheck(Recorder()).train("mnist", data_note="")
    assert outcome.verdict == "error" and f"{SETTINGS}LR='-1' is not a valid setting" in outcome.message


@pytest.mark.needs_data("mnist-5k")
def test_the_data_set_used_is_printed_and_in_the_report(tmp_path):
    """End to end through pytest: the user's settings apply, the data set is named on screen and in the report."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    suite = Path(training.__file__).resolve().parents[1] / "test_training_mnist.py"
    env = {**os.environ, SETTINGS + "DATASET": "mnist-5k", SETTINGS + "EPOCHS": "2", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", str(suite), "--impl", "reference", "--report", "r.json",
                           "-p", "no:cacheprovider", "-q"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    said = "training_mnist used mnist-5k (as BACKPROP_KIT_MNIST_DATASET asks)."
    assert done.returncode == 0 and f"backprop-kit: {said}" in done.stdout, done.stdout[-2000:]
    (check,) = json.loads((tmp_path / "r.json").read_text())["components"]["training_mnist"]["checks"]
    assert check["outcome"] == "pass" and check["message"].startswith(
        f"{said} Settings from the environment: {SETTINGS}EPOCHS=2. training on mnist-5k")


@pytest.mark.parametrize("junk", [{"first_losses": "abc"}, {"first_losses": [None, "x"]}, {"losses": 3},
                                  {"epoch_times": ["slow"], "stopped": "budget"}, {"seconds_per_epoch": "?",
                                                                                  "stopped": "budget"}])
def test_malformed_loss_and_time_lists_do_not_crash_the_judge(junk):
    out, y_val = answer(0.9)
    outcome = training.judge_training(TASK, {}, {**out, **junk}, y_val, threshold=0.85)
    assert outcome.verdict in ("pass", "timeout") and outcome.message


def test_initial_weight_scale_is_read_in_layer_order_and_named_when_far_below_he():
    from conformance.probes.training import initial_weight_stds

    pipe = FakePipeline([2, 64, 32, 3])
    pipe.p = {k: (v * 0.01 / np.std(v) if k.endswith("W") else v) for k, v in pipe.p.items()}  # 0.01 * randn
    pipe.p["4.W"] = pipe.p["4.W"] * 10.0  # the last layer larger: layer order, not sorted values
    stds = initial_weight_stds(pipe)
    assert np.allclose(stds, [0.01, 0.01, 0.1])
    out, y_val = answer(0.80, classes=3)
    out["losses"] = [1.099, 0.397]
    task = cases.TASKS["spiral"]
    out["initial_weight_stds"] = stds
    message = training.judge_training(task, {"sizes": [2, 64, 32, 3]}, out, y_val, threshold=0.9).message
    assert "look at the initial weights first: your layer 1's weights start with std 0.01, where He scaling " \
           "gives 1 for its 2 inputs" in message and "compare your update step" not in message, message
    out["initial_weight_stds"] = [1.0, 0.17, 0.25]  # He-scaled: the usual advice
    message = training.judge_training(task, {"sizes": [2, 64, 32, 3]}, out, y_val, threshold=0.9).message
    assert "initial weights" not in message and "compare your update step with the sgd check" in message


def test_a_plateau_from_small_initial_weights_names_them_once():
    out, y_val = answer(0.34, classes=3)
    out.update(losses=[1.0987, 1.0989], initial_weight_stds=[0.0082, 0.0095, 0.01])
    message = training.judge_training(cases.TASKS["spiral"], {"sizes": [2, 64, 32, 3]}, out, y_val,
                                      threshold=0.9).message
    assert "the loss stayed at about 1.099" in message and message.count("initial weights") == 1, message
    assert "your layer 1's weights start with std 0.0082" in message and "update step" not in message, message
