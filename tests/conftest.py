"""Helpers shared by the kit's own tests.

Optional data sets: mark a test ``@pytest.mark.needs_data("fashion-mnist")``; the marker's arguments
go to ``reference.datasets.available`` (e.g. ``needs_data("mnist", split="test", data_dir=SHARED_MNIST)``).
When the data cannot be had here, the test is skipped with the command that fixes it; when
``BACKPROP_KIT_REQUIRE_DATA=1`` (CI sets it) the skip becomes a failure, so CI cannot pass by skipping.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REQUIRE_DATA_ENV = "BACKPROP_KIT_REQUIRE_DATA"
REQUIRE_SANDBOX_ENV = "BACKPROP_KIT_REQUIRE_SANDBOX"  # the same, for the grader's namespaces (user ns, setpriv)
REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"  # the genuine MNIST test files, beside the repo


def skip_or_fail(reason: str, require: str = REQUIRE_DATA_ENV) -> None:
    """Skip with ``reason`` on a user machine; fail instead when the variable ``require`` is 1."""
    if os.environ.get(require) == "1":
        pytest.fail(f"{reason} ({require}=1 turns this skip into a failure)", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item):
    for mark in item.iter_markers("needs_data"):
        from reference import datasets

        report = datasets.available(*mark.args, **mark.kwargs)
        if not report:
            skip_or_fail(f"data set {report.name} is not available here; fix: {report.fix}")


# --- the PyTorch oracle: a fixture case's outputs recomputed with autograd in float64 ------------

def torch_oracle(name: str, arrays: dict) -> dict:
    """The outputs of case ``name`` (a fixtures.generate.CASES key) from its inputs, by torch autograd.

    Returns numpy arrays under the fixture's own names (y, dx, dW, loss, thetas, ...).
    """
    import torch
    import torch.nn.functional as F

    def t(key, grad=False):
        return torch.tensor(arrays[key], dtype=torch.float64, requires_grad=grad)

    def through(fn, *param_keys):
        x, params = t("x", True), {k: t(k, True) for k in param_keys}
        y = fn(x, *params.values())
        y.backward(t("dy"))
        return {"y": y, "dx": x.grad, **{f"d{k}": p.grad for k, p in params.items()}}

    def trajectory(make_optimizer):
        A, c, theta = t("A"), t("c"), t("theta0", True)
        opt, thetas = make_optimizer([theta]), [theta.detach().clone()]
        for _ in range(len(arrays["thetas"]) - 1):
            opt.zero_grad()
            (0.5 * theta @ A @ theta - c @ theta).backward()
            opt.step()
            thetas.append(theta.detach().clone())
        return {"thetas": torch.stack(thetas)}

    component = name.split("-")[0]
    hyper = {k: float(arrays[k]) for k in ("lr", "momentum", "beta1", "beta2", "eps", "p") if k in arrays}
    if component == "linear":
        out = through(lambda x, W, b: x @ W.T + b, "W", "b")
    elif component in ("relu", "sigmoid", "tanh", "softmax"):
        out = through({"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
                       "softmax": lambda x: torch.softmax(x, dim=1)}[component])
    elif component == "cross_entropy":
        wrt = "logits" if "logits" in arrays else "probs"
        scores = t(wrt, True)
        if "labels" in arrays:
            labels = torch.tensor(arrays["labels"])
            loss = (F.cross_entropy(scores, labels) if wrt == "logits"
                    else -torch.log(scores.gather(1, labels[:, None])).mean())
        else:
            loss = (F.cross_entropy(scores, t("targets")) if wrt == "logits"
                    else -(t("targets") * torch.log(scores)).sum() / len(scores))
        loss.backward()
        out = {"loss": loss, f"d{wrt}": scores.grad}
    elif component == "mse":
        pred = t("pred", True)
        loss = F.mse_loss(pred, t("target"))
        loss.backward()
        out = {"loss": loss, "dpred": pred.grad}
    elif component in ("sgd", "momentum"):
        lr, mu = hyper["lr"], hyper.get("momentum", 0.0)
        if name.endswith("ema"):  # v = mu v + (1 - mu) g, theta -= lr v  ==  torch's form with lr (1 - mu)
            lr = lr * (1 - mu)
        out = trajectory(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=mu))
    elif component == "adam":
        out = trajectory(lambda ps: torch.optim.Adam(ps, lr=hyper["lr"], betas=(hyper["beta1"], hyper["beta2"]),
                                                     eps=hyper["eps"]))
    elif component == "batchnorm":
        mean, var = t("running_mean0"), t("running_var0")
        out = through(lambda x, g, b: F.batch_norm(x, mean, var, g, b, training=True, momentum=hyper["momentum"],
                                                   eps=hyper["eps"]), "gamma", "beta")
        out.update(running_mean=mean, running_var=var, y_eval=F.batch_norm(
            t("x_eval"), mean, var, t("gamma"), t("beta"), training=False, eps=hyper["eps"]))
    elif component == "layernorm":
        out = through(lambda x, g, b: F.layer_norm(x, (x.shape[1],), g, b, eps=float(arrays["eps"])), "gamma", "beta")
    elif component == "dropout":
        out = through(lambda x: x * t("mask") / (1 - hyper["p"]))
    elif component == "conv2d":
        stride, padding = int(arrays["stride"]), int(arrays["padding"])
        out = through(lambda x, W, b: F.conv2d(x, W, b, stride=stride, padding=padding), "W", "b")
    elif component == "model":
        act = torch.tanh if "tanh" in name else torch.relu
        layers = sorted(int(k[1:]) for k in arrays if k[0] == "W")
        x = t("x", True)
        params = {f"{p}{i}": t(f"{p}{i}", True) for i in layers for p in "Wb"}
        h = x
        for i in layers:
            h = h @ params[f"W{i}"].T + params[f"b{i}"]
            h = act(h) if i != layers[-1] else h
        loss = F.cross_entropy(h, torch.tensor(arrays["labels"]))
        loss.backward()
        out = {"logits": h, "loss": loss, "dx": x.grad, **{f"d{k}": p.grad for k, p in params.items()}}
    else:
        raise KeyError(f"torch_oracle: no oracle for case {name!r}; add one to tests/conftest.py.")
    return {k: v.detach().numpy() for k, v in out.items()}


@pytest.fixture
def missing_data():
    """``skip_or_fail``, for tests that find out only while running that a data set is missing."""
    return skip_or_fail


# --- the mutation library's catch rate (tests/test_mutants.py fills mutants.RESULTS) ---------------

def pytest_terminal_summary(terminalreporter, exitstatus, config):
    import sys

    results = getattr(sys.modules.get("mutants"), "RESULTS", None)
    if results:
        caught = sum(results.values())
        terminalreporter.write_line(f"mutants caught with the intended diagnosis: {caught}/{len(results)} "
                                    f"({100.0 * caught / len(results):.1f}%)")
