"""The reference against PyTorch (float64): every fixture builder on fresh seeds, plus the pieces
fixtures do not cover (max pooling, running statistics over many batches, long optimizer runs)."""
from __future__ import annotations

import numpy as np
import pytest

import reference as ref
from conftest import torch_oracle
from fixtures import generate

torch = pytest.importorskip("torch")
F = torch.nn.functional
TOL = dict(rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", sorted(generate.CASES))
def test_reference_matches_torch_autograd(name, seed):
    """Forward values, input gradients, parameter gradients, trajectories, running statistics."""
    arrays = generate.build(name, seed=seed)
    for key, value in torch_oracle(name, arrays).items():
        np.testing.assert_allclose(arrays[key], value, **TOL, err_msg=f"{name} seed {seed}: {key}")


@pytest.mark.parametrize("kernel, stride, shape", [(2, None, (2, 3, 4, 6)), (3, 2, (1, 2, 7, 5)), (2, 1, (1, 1, 3, 3))])
def test_maxpool2d_matches_torch(kernel, stride, shape):
    rng = np.random.default_rng(kernel)
    x = rng.permutation(np.prod(shape)).reshape(shape).astype(float)   # no ties
    layer = ref.MaxPool2D(kernel, stride)
    y = layer.forward(x)
    dy = rng.normal(size=y.shape)
    xt = torch.tensor(x, requires_grad=True)
    yt = F.max_pool2d(xt, kernel, stride)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), **TOL)
    np.testing.assert_allclose(layer.backward(dy), xt.grad.numpy(), **TOL)


def test_batchnorm_running_statistics_follow_torch_over_many_batches():
    rng = np.random.default_rng(5)
    ours, theirs = ref.BatchNorm1d(4, momentum=0.2), torch.nn.BatchNorm1d(4, momentum=0.2).double()
    for batch in (2, 7, 3, 16):
        x = rng.normal(size=(batch, 4)) * 3 + 1
        ours.forward(x)
        theirs(torch.tensor(x))
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), **TOL)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), **TOL)
    x = rng.normal(size=(5, 4))
    np.testing.assert_allclose(ours.eval().forward(x), theirs.eval()(torch.tensor(x)).detach().numpy(), **TOL)


@pytest.mark.parametrize("kind", ["sgd", "classical", "ema", "adam"])
def test_optimizers_follow_torch_on_a_network(kind):
    """200 steps on a small network's real gradients, parameters in several groups and shapes."""
    rng = np.random.default_rng(11)
    model = ref.Sequential(ref.Linear(3, 4, rng=rng), ref.Tanh(), ref.Linear(4, 2, rng=rng))
    tparams = [torch.tensor(p[k].copy(), requires_grad=True) for p, _ in model.parameters() for k in ("W", "b")]
    lr, mu = 0.05, 0.9
    if kind == "adam":
        ours, theirs = ref.Adam(model.parameters(), lr=lr), torch.optim.Adam(tparams, lr=lr)
    else:
        momentum = 0.0 if kind == "sgd" else mu
        ours = ref.SGD(model.parameters(), lr=lr, momentum=momentum, form="ema" if kind == "ema" else "classical")
        theirs = torch.optim.SGD(tparams, lr=lr * (1 - mu) if kind == "ema" else lr, momentum=momentum)
    x, labels = rng.normal(size=(16, 3)), rng.integers(0, 2, size=16)
    loss = ref.SoftmaxCrossEntropy()
    for _ in range(200):
        loss.forward(model.forward(x), labels)
        model.backward(loss.backward())
        ours.step()
        theirs.zero_grad()
        W0, b0, W1, b1 = tparams
        F.cross_entropy(torch.tanh(torch.tensor(x) @ W0.T + b0) @ W1.T + b1, torch.tensor(labels)).backward()
        theirs.step()
    got = [p[k] for p, _ in model.parameters() for k in ("W", "b")]
    for ours_p, theirs_p in zip(got, tparams):
        np.testing.assert_allclose(ours_p, theirs_p.detach().numpy(), rtol=1e-9, atol=1e-9)
