"""Every reference backward against central differences, in float64.

Tolerance: relative error < 1e-7. With eps = 1e-6 a correct float64 gradient shows ~1e-10,
a wrong one (a missing factor, a transposed weight, a forgotten term) shows 1e-2 or more.
Inputs stay away from kinks (ReLU at 0, ties in max pooling) so differences are well defined.
"""
from __future__ import annotations

import numpy as np
import pytest

import reference as ref
from reference.gradcheck import check_gradients, numerical_gradient, relative_error

TOL = 1e-7


def away_from_zero(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 2.0, size=shape)


def distinct(rng, shape):
    """Values with no ties (max pooling is differentiable there)."""
    return rng.permutation(np.prod(shape)).reshape(shape) / 10.0 + rng.uniform(0, 0.01, size=shape)


def conv(ic, oc, k, stride, padding):
    def make(rng):
        layer = ref.Conv2D(ic, oc, k, stride=stride, padding=padding, rng=rng)
        layer.params["b"] = rng.normal(size=oc)
        return layer
    return make


def with_bias(make):
    def build(rng):
        layer = make(rng)
        layer.params["b"] = rng.normal(size=layer.params["b"].shape)
        return layer
    return build


# name: (layer factory(rng), input shape, input maker)
LAYERS = {
    "linear": (with_bias(lambda rng: ref.Linear(3, 5, rng=rng)), (4, 3), None),
    "linear-batch1": (with_bias(lambda rng: ref.Linear(6, 2, rng=rng)), (1, 6), None),
    "relu": (lambda rng: ref.ReLU(), (4, 5), away_from_zero),
    "sigmoid": (lambda rng: ref.Sigmoid(), (4, 5), None),
    "tanh": (lambda rng: ref.Tanh(), (4, 5), None),
    "softmax": (lambda rng: ref.Softmax(), (4, 5), None),
    "flatten": (lambda rng: ref.Flatten(), (2, 3, 2, 2), None),
    "batchnorm-train": (lambda rng: ref.BatchNorm1d(3), (6, 3), None),
    "batchnorm-eval": (lambda rng: ref.BatchNorm1d(3).eval(), (6, 3), None),
    "layernorm": (lambda rng: ref.LayerNorm(5), (4, 5), None),
    "layernorm-batch1": (lambda rng: ref.LayerNorm(4), (1, 4), None),
    "conv2d": (conv(3, 4, 3, 1, 0), (2, 3, 5, 6), None),
    "conv2d-stride2-pad1": (conv(2, 3, 3, 2, 1), (2, 2, 6, 5), None),
    "conv2d-rect-kernel": (conv(1, 2, (2, 3), 1, 1), (1, 1, 4, 4), None),
    "maxpool2d": (lambda rng: ref.MaxPool2D(2), (2, 3, 4, 6), distinct),
    "maxpool2d-overlap": (lambda rng: ref.MaxPool2D(3, stride=2), (1, 2, 7, 5), distinct),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_backward_matches_central_differences(name):
    make, shape, draw = LAYERS[name]
    rng = np.random.default_rng(sorted(LAYERS).index(name))
    layer = make(rng)
    if "batchnorm" in name:
        layer.params["gamma"] = rng.uniform(0.5, 2, size=shape[1])
        layer.params["beta"] = rng.normal(size=shape[1])
        layer.running_mean, layer.running_var = rng.normal(size=shape[1]), rng.uniform(0.5, 2, size=shape[1])
    x = (draw or (lambda r, s: r.normal(size=s)))(rng, shape)
    dy = rng.normal(size=np.shape(layer.forward(x.copy())))
    errors = check_gradients(layer, x, dy)
    assert set(errors) == {"x", *layer.params}
    assert max(errors.values()) < TOL, errors


def test_dropout_backward_with_a_fixed_mask():
    rng = np.random.default_rng(0)
    x, dy = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    mask = rng.random((4, 6)) >= 0.4
    layer = ref.Dropout(0.4)
    layer.forward(x, mask=mask)
    numeric = numerical_gradient(lambda z: np.sum(layer.forward(z, mask=mask) * dy), x)
    layer.forward(x, mask=mask)
    assert relative_error(layer.backward(dy), numeric) < TOL


LOSSES = {
    "softmax_ce-int": (ref.SoftmaxCrossEntropy, "int"),
    "softmax_ce-onehot": (ref.SoftmaxCrossEntropy, "onehot"),
    "ce_probs-int": (ref.CrossEntropy, "int"),
    "ce_probs-onehot": (ref.CrossEntropy, "onehot"),
    "mse": (ref.MSELoss, "float"),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("batch", [1, 5])
def test_loss_backward_is_the_gradient_of_the_mean_loss(name, batch):
    cls, targets = LOSSES[name]
    rng = np.random.default_rng(batch)
    pred = rng.normal(size=(batch, 4))
    if cls is ref.CrossEntropy:
        pred = ref.softmax(pred)
    labels = rng.integers(0, 4, size=batch)
    target = {"int": labels, "onehot": np.eye(4)[labels], "float": rng.normal(size=(batch, 4))}[targets]
    loss = cls()
    numeric = numerical_gradient(lambda z: loss.forward(z, target), pred)
    loss.forward(pred, target)
    assert relative_error(loss.backward(), numeric) < TOL


def make_model(rng, hidden=ref.ReLU):
    return ref.Sequential(ref.Linear(4, 6, rng=rng), hidden(), ref.Linear(6, 5, rng=rng), ref.Tanh(),
                          ref.Linear(5, 3, rng=rng))


@pytest.mark.parametrize("hidden", [ref.ReLU, ref.Sigmoid])
def test_sequential_end_to_end_gradients(hidden):
    rng = np.random.default_rng(7)
    model, loss = make_model(rng, hidden), ref.SoftmaxCrossEntropy()
    x, labels = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)

    def loss_at(z=x):
        return loss.forward(model.forward(z), labels)

    loss_at()
    dx = model.backward(loss.backward())
    assert relative_error(dx, numerical_gradient(loss_at, x)) < TOL
    for params, grads in model.parameters():
        for key, original in list(params.items()):
            def loss_with(value, key=key, params=params):
                params[key] = value
                return loss_at()
            numeric = numerical_gradient(loss_with, original)
            params[key] = original
            assert relative_error(grads[key], numeric) < TOL, key


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_single_sample_mlp_gradients(activation):
    rng = np.random.default_rng(3)
    model = ref.OneHiddenLayerMLP(3, 5, activation, rng=rng)
    x, y = rng.normal(size=3), 0.7
    grads = model.backward(x, y, model.forward(x))
    params = model.get_parameters()
    for key, value in params.items():
        def loss_with(v, key=key):
            model.set_parameters({**params, key: v})
            return model.loss(model.forward(x), y)
        numeric = numerical_gradient(loss_with, value)
        assert relative_error(grads[f"dL_d{key}"], numeric) < TOL, key
        assert grads[f"dL_d{key}"].shape == value.shape


def test_check_gradients_flags_a_wrong_backward():
    """The checker itself must be able to fail: a Linear whose dW misses a transpose-free factor."""
    class HalfGradientLinear(ref.Linear):
        def backward(self, dy):
            dx = super().backward(dy)
            self.grads["W"] = self.grads["W"] / 2
            return dx

    rng = np.random.default_rng(0)
    errors = check_gradients(HalfGradientLinear(4, 3, rng=rng), rng.normal(size=(5, 4)), rng.normal(size=(5, 3)))
    assert errors["W"] > 0.1 and errors["x"] < TOL and errors["b"] < TOL


def test_check_gradients_restores_parameters_and_leaves_inputs_alone():
    rng = np.random.default_rng(1)
    layer = ref.Linear(3, 2, rng=rng)
    W = layer.params["W"]
    before = W.copy()
    x, dy = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    x0, dy0 = x.copy(), dy.copy()
    check_gradients(layer, x, dy)
    assert layer.params["W"] is W and np.array_equal(W, before)
    assert np.array_equal(x, x0) and np.array_equal(dy, dy0)


@pytest.mark.parametrize("a, b, expected", [
    (np.zeros(3), np.zeros(3), 0.0),
    (np.array([1.0, 2.0]), np.array([1.0, 2.0]), 0.0),
    (np.array([1.0, 0.0]), np.array([-1.0, 0.0]), 1.0),
    (np.array([3.0, 4.0]), np.array([0.0, 0.0]), 1.0),
])
def test_relative_error(a, b, expected):
    assert relative_error(a, b) == pytest.approx(expected)


def test_training_backward_skips_only_the_data_gradient():
    """Sequential.backward(dy, input_grad=False) returns None and fills exactly the same parameter
    gradients as the full backward (it only drops the first Linear's dx = dy @ W)."""
    rng = np.random.default_rng(11)
    model, loss = make_model(rng), ref.SoftmaxCrossEntropy()
    x, labels = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
    grads = []
    for input_grad in (True, False):
        loss.forward(model.forward(x), labels)
        dx = model.backward(loss.backward(), input_grad=input_grad)
        assert (dx is None) == (not input_grad)
        grads.append([{k: g.copy() for k, g in layer_grads.items()} for _, layer_grads in model.parameters()])
    for full, training in zip(*grads):
        assert sorted(full) == sorted(training)
        for key in full:
            np.testing.assert_array_equal(full[key], training[key])
