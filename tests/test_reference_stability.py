"""Numerical hygiene of the reference: extreme inputs, batch size 1, dtypes, no warnings, no
mutation of the caller's arrays, stale caches, and algebraic properties (hypothesis, derandomized)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import reference as ref

PROPERTY = settings(derandomize=True, max_examples=60, deadline=None, database=None)


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def extreme_logits():
    return np.array([[1e3, -1e3, 0.0], [-1e3, -1e3, 1e3], [1e3, 1e3, -1e3], [-1e3, -1e3, -1e3]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_cross_entropy_at_plus_minus_1e3(dtype):
    logits, labels = extreme_logits().astype(dtype), np.array([1, 2, 0, 1])
    loss = ref.SoftmaxCrossEntropy()
    value = loss.forward(logits, labels)
    grad = loss.backward()
    # the first row puts 2000 nats on the wrong class; rows 2 and 3 are certain and right; row 4 is uniform
    assert value == pytest.approx((2000 + 0 + np.log(2) + np.log(3)) / 4, rel=1e-6)
    assert np.all(np.isfinite(grad)) and grad.dtype == dtype
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-6)
    s = ref.Softmax().forward(logits)
    assert np.all(np.isfinite(s)) and s.dtype == dtype
    np.testing.assert_allclose(s[3], [1 / 3] * 3, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_and_tanh_at_plus_minus_1e3(dtype):
    x = np.array([[-1e3, -40.0, 0.0, 40.0, 1e3]], dtype=dtype)
    for layer, expected in ((ref.Sigmoid(), [0, 0, 0.5, 1, 1]), (ref.Tanh(), [-1, -1, 0, 1, 1])):
        y = layer.forward(x)
        assert y.dtype == dtype
        np.testing.assert_allclose(y, np.array([expected], dtype=dtype), atol=1e-12 if dtype == np.float64 else 1e-6)
        dx = layer.backward(np.ones_like(x))
        assert np.all(np.isfinite(dx)) and dx[0, 0] == 0 and dx[0, -1] == 0


def test_relu_derivative_at_zero_is_zero():
    layer = ref.ReLU()
    layer.forward(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 3))), [[0.0, 0.0, 1.0]])


def test_cross_entropy_on_probabilities_with_exact_zeros():
    p = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    loss = ref.CrossEntropy()
    assert loss.forward(p, np.array([0, 1])) == pytest.approx(np.log(2) / 2)
    np.testing.assert_allclose(loss.backward(), [[-0.5, 0, 0], [0, -1.0, 0]])


def components(dtype, rng):
    """name -> (layer, x) for every layer of the reference, parameters in ``dtype``."""
    return {
        "linear": (ref.Linear(3, 5, rng=rng, dtype=dtype), (4, 3)),
        "relu": (ref.ReLU(), (4, 3)), "sigmoid": (ref.Sigmoid(), (4, 3)), "tanh": (ref.Tanh(), (4, 3)),
        "softmax": (ref.Softmax(), (4, 3)), "flatten": (ref.Flatten(), (2, 2, 3)),
        "batchnorm": (ref.BatchNorm1d(3, dtype=dtype), (4, 3)),
        "dropout": (ref.Dropout(0.5, rng=rng), (4, 3)),
        "conv2d": (ref.Conv2D(2, 3, 3, stride=2, padding=1, rng=rng, dtype=dtype), (2, 2, 5, 5)),
        "maxpool2d": (ref.MaxPool2D(2), (2, 2, 4, 4)),
        "sequential": (ref.Sequential(ref.Linear(3, 4, rng=rng, dtype=dtype), ref.ReLU(),
                                      ref.Linear(4, 2, rng=rng, dtype=dtype)), (4, 3)),
    }


NAMES = sorted(components(np.float64, np.random.default_rng(0)))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [1, 3])
def test_dtype_kept_inputs_untouched_and_batch_of_one(name, dtype, batch):
    rng = np.random.default_rng(0)
    layer, shape = components(dtype, rng)[name]
    if name == "batchnorm" and batch == 1:
        layer.eval()
    x = rng.normal(size=(batch, *shape[1:])).astype(dtype)
    x_before = x.copy()
    y = layer.forward(x)
    dy = rng.normal(size=y.shape).astype(dtype)
    dy_before = dy.copy()
    dx = layer.backward(dy)
    assert y.dtype == dtype and dx.dtype == dtype and dx.shape == x.shape
    grads = [g for _, gs in layer.parameters() for g in gs.values()] if name == "sequential" else list(layer.grads.values())
    assert all(g.dtype == dtype for g in grads)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dy, dy_before)


@pytest.mark.parametrize("loss_cls, target", [
    (ref.SoftmaxCrossEntropy, np.array([0, 2])), (ref.SoftmaxCrossEntropy, np.eye(3)[[0, 2]]),
    (ref.CrossEntropy, np.array([0, 2])), (ref.MSELoss, np.ones((2, 3))),
])
def test_losses_keep_float32_and_leave_inputs_alone(loss_cls, target):
    pred = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]], dtype=np.float32)
    pred_before, target_before = pred.copy(), target.copy()
    loss = loss_cls()
    assert np.isfinite(loss.forward(pred, target))
    assert loss.backward().dtype == np.float32
    np.testing.assert_array_equal(pred, pred_before)
    np.testing.assert_array_equal(target, target_before)


@pytest.mark.parametrize("make", [
    lambda ps: ref.SGD(ps, lr=0.1), lambda ps: ref.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: ref.SGD(ps, lr=0.1, momentum=0.9, form="ema"), lambda ps: ref.Adam(ps, lr=0.1),
])
def test_optimizers_keep_float32_and_update_in_place(make):
    W = np.ones((2, 3), dtype=np.float32)
    params, grads = {"W": W}, {"W": np.full((2, 3), 0.5, dtype=np.float32)}
    opt = make([(params, grads)])
    opt.step()
    opt.step()
    assert params["W"] is W and W.dtype == np.float32 and np.all(W < 1)


@pytest.mark.parametrize("name", NAMES)
def test_backward_without_forward_is_a_clear_error(name):
    layer, shape = components(np.float64, np.random.default_rng(0))[name]
    if name == "sequential":
        layer = layer.layers[0]
    with pytest.raises(RuntimeError, match="without a matching forward"):
        layer.backward(np.ones(shape))


def test_a_cache_serves_one_backward():
    layer = ref.Linear(2, 2, rng=np.random.default_rng(0))
    layer.forward(np.ones((1, 2)))
    layer.backward(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="forward"):
        layer.backward(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="forward"):
        ref.SoftmaxCrossEntropy().backward()
    with pytest.raises(RuntimeError, match="forward"):
        ref.OneHiddenLayerMLP(2, 2, rng=np.random.default_rng(0)).backward(np.ones(2), 1.0, 0.0)


def test_batchnorm_refuses_a_training_batch_of_one():
    with pytest.raises(ValueError, match="at least 2 samples"):
        ref.BatchNorm1d(3).forward(np.ones((1, 3)))


def test_dropout_is_inverted_and_identity_in_eval():
    x = np.ones((200, 50))
    layer = ref.Dropout(0.3, rng=np.random.default_rng(0))
    y = layer.forward(x)
    assert set(np.unique(y)) == {0.0, 1 / 0.7}
    assert abs(np.mean(y == 0) - 0.3) < 0.02
    np.testing.assert_array_equal(layer.backward(x), y)      # same mask, same scale
    layer.eval()
    assert layer.forward(x) is x and layer.backward(x) is x


@pytest.mark.parametrize("draw, std, limit", [
    (ref.he_normal, lambda i, o: np.sqrt(2 / i), None), (ref.xavier_normal, lambda i, o: np.sqrt(2 / (i + o)), None),
    (ref.he_uniform, None, lambda i, o: np.sqrt(6 / i)), (ref.xavier_uniform, None, lambda i, o: np.sqrt(6 / (i + o))),
])
def test_initialisers(draw, std, limit):
    W = draw(300, 200, np.random.default_rng(0))
    assert W.shape == (200, 300) and W.dtype == np.float64
    np.testing.assert_array_equal(W, draw(300, 200, np.random.default_rng(0)))
    assert draw(300, 200, np.random.default_rng(0), dtype=np.float32).dtype == np.float32
    if std:
        assert W.std() == pytest.approx(std(300, 200), rel=0.02)
    else:
        bound = limit(300, 200)
        assert W.max() <= bound and W.min() >= -bound and W.max() > 0.99 * bound
        assert W.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)


# --- properties --------------------------------------------------------------------------------

finite = st.floats(-50, 50, allow_nan=False)
matrices = arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)), elements=finite)


@PROPERTY
@given(matrices, st.floats(-1e3, 1e3))
def test_softmax_rows_sum_to_one_and_ignore_shifts(x, shift):
    s = ref.softmax(x)
    np.testing.assert_allclose(s.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_allclose(ref.softmax(x + shift), s, rtol=1e-9, atol=1e-15)


@PROPERTY
@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-1e3, 1e3)))
def test_sigmoid_is_in_unit_interval_and_symmetric(x):
    s = ref.sigmoid(x)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(ref.sigmoid(-x), 1 - s, atol=1e-15)


@PROPERTY
@given(matrices, st.floats(-3, 3), st.floats(-3, 3), st.integers(0, 2**32 - 1))
def test_backward_is_linear_in_the_upstream_gradient(x, a, b, seed):
    rng = np.random.default_rng(seed)
    layers = [ref.Linear(x.shape[1], 3, rng=rng), ref.ReLU(), ref.Sigmoid(), ref.Tanh(), ref.Softmax()]
    for layer in layers:
        y = layer.forward(x)
        dy1, dy2 = rng.normal(size=y.shape), rng.normal(size=y.shape)
        outs = []
        for dy in (dy1, dy2, a * dy1 + b * dy2):
            layer.forward(x)
            outs.append(layer.backward(dy))
        np.testing.assert_allclose(outs[2], a * outs[0] + b * outs[1], rtol=1e-9, atol=1e-9)


@PROPERTY
@given(matrices, st.integers(0, 2**32 - 1))
def test_softmax_cross_entropy_gradient_rows_sum_to_zero_and_scale_with_batch(logits, seed):
    labels = np.random.default_rng(seed).integers(0, logits.shape[1], size=len(logits))
    loss = ref.SoftmaxCrossEntropy()
    value = loss.forward(logits, labels)
    grad = loss.backward()
    assert value >= 0
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(grad * len(logits), ref.softmax(logits) - np.eye(logits.shape[1])[labels], atol=1e-12)


def test_linear_rejects_a_single_unbatched_sample():
    with pytest.raises(ValueError, match=r"x\[None, :\]"):
        ref.Linear(3, 2, rng=np.random.default_rng(0)).forward(np.ones(3))
