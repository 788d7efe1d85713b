"""train() and the single-sample model: they learn, record history, and honour their APIs."""
from __future__ import annotations

import numpy as np
import pytest

import reference as ref


def xor_blobs(n, rng, noise=0.25):
    """Four blobs at (+-1, +-1); the label is 1 when the two signs differ (not linearly separable)."""
    signs = rng.choice([-1.0, 1.0], size=(n, 2))
    X = signs + rng.normal(scale=noise, size=(n, 2))
    return X, (signs[:, 0] != signs[:, 1]).astype(int)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_train_learns_xor(dtype):
    rng = np.random.default_rng(0)
    X, y = xor_blobs(400, rng)
    X_val, y_val = xor_blobs(200, rng)
    X, X_val = X.astype(dtype), X_val.astype(dtype)
    model = ref.Sequential(ref.Linear(2, 16, rng=rng, dtype=dtype), ref.ReLU(), ref.Linear(16, 2, rng=rng, dtype=dtype))
    history = ref.train(model, ref.SoftmaxCrossEntropy(), ref.SGD(model.parameters(), lr=0.2, momentum=0.9), X, y,
                        epochs=30, batch_size=32, rng=rng, X_val=X_val, y_val=y_val)
    assert len(history.loss) == len(history.accuracy) == len(history.val_accuracy) == 30
    assert history.val_accuracy[-1] >= 0.95 and history.accuracy[-1] >= 0.95
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert sorted(history.grad_norms) == ["0.Linear", "2.Linear"]
    assert all(len(v) == 30 and all(g > 0 for g in v) for v in history.grad_norms.values())
    assert model.layers[0].params["W"].dtype == dtype


def test_linear_model_cannot_learn_xor():
    """The same loop without a hidden layer stays near chance: the XOR test above is not trivial."""
    rng = np.random.default_rng(0)
    X, y = xor_blobs(400, rng)
    model = ref.Sequential(ref.Linear(2, 2, rng=rng))
    history = ref.train(model, ref.SoftmaxCrossEntropy(), ref.SGD(model.parameters(), lr=0.2), X, y,
                        epochs=30, batch_size=32, rng=rng, X_val=X, y_val=y)
    assert history.val_accuracy[-1] < 0.7


def test_train_is_reproducible_from_the_generator():
    def run():
        rng = np.random.default_rng(3)
        X, y = xor_blobs(64, rng)
        model = ref.Sequential(ref.Linear(2, 4, rng=rng), ref.Tanh(), ref.Linear(4, 2, rng=rng))
        ref.train(model, ref.SoftmaxCrossEntropy(), ref.Adam(model.parameters(), lr=0.01), X, y,
                  epochs=3, batch_size=10, rng=rng)
        return model.layers[0].params["W"]
    np.testing.assert_array_equal(run(), run())


def test_single_sample_mlp_api():
    model = ref.OneHiddenLayerMLP(3, 4, "sigmoid", rng=np.random.default_rng(0))
    params = model.get_parameters()
    assert {k: v.shape for k, v in params.items()} == {"W1": (4, 3), "b1": (4,), "W2": (1, 4), "b2": (1,)}
    params["W1"][:] = 0                                     # a copy: the model is untouched
    assert np.any(model.get_parameters()["W1"] != 0)
    f = model.forward(np.array([0.5, -1.0, 2.0]))
    assert isinstance(f, float) and model.a1_cache.shape == model.h1_cache.shape == (4,)
    assert np.all((model.h1_cache > 0) & (model.h1_cache < 1))
    with pytest.raises(ValueError, match=r"W1 must have shape \(4, 3\)"):
        model.set_parameters({"W1": np.zeros((3, 4))})
    with pytest.raises(ValueError, match="activation"):
        ref.OneHiddenLayerMLP(2, 2, "softplus")


def test_single_sample_mlp_fits_one_point_by_gradient_descent():
    rng = np.random.default_rng(1)
    model = ref.OneHiddenLayerMLP(2, 8, rng=rng)
    x, y = np.array([0.3, -0.7]), 1.5
    for _ in range(100):
        grads = model.backward(x, y, model.forward(x))
        model.set_parameters({k: v - 0.05 * grads[f"dL_d{k}"] for k, v in model.get_parameters().items()})
    assert model.loss(model.forward(x), y) < 1e-6


@pytest.mark.parametrize("module", ["gradcheck", "init", "layers", "losses", "optim", "single_sample", "stretch", "train"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"reference.{module}"))
    assert result.attempted > 0 and result.failed == 0
