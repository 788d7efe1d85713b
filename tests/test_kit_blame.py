"""The kit's own failures are never the student's error (SPEC 0.2, 0.6): a call the kit guessed
that does not fit the code, a reshape or a conversion of the student's answer in the kit's code,
an inventory that says one thing while the check finds another. Each submission is a few lines
written for this test, with the API shape seen in public student code.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conformance.adapters import build_adapter
from conformance.adapters.base import Missing
from conformance.loader import load_impl

ROOT = Path(__file__).resolve().parents[1]


def adapter_for(tmp_path, source: str, name: str = "sub.py", **kw):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return build_adapter(load_impl(str(path)), **kw)


def suite(tmp_path, source: str, *components: str, name: str = "impl.py") -> dict:
    """The --report entries of ``components`` from the fast tier run on ``source``."""
    impl, report = tmp_path / name, tmp_path / f"{name}.json"
    impl.write_text(textwrap.dedent(source))
    files = [f"conformance/test_{c}.py" for c in components]
    subprocess.run([sys.executable, "-m", "pytest", *files, "--impl", str(impl), "--report", str(report),
                    "-m", "not slow", "-q", "-p", "no:cacheprovider", "-o", "addopts="],
                   cwd=ROOT, capture_output=True, text=True, timeout=600)
    return json.loads(report.read_text())


# --- a layer taking its activation as an object -----------------------------------------------

ACTIVATION_OBJECTS = """
import numpy as np

class Activation:
    def forward(self, x):
        raise NotImplementedError

class Passthrough(Activation):
    def forward(self, x):
        return x.copy()

    def backward(self, dz):
        return dz.copy()

class Rect(Activation):
    def forward(self, x):
        self.x = x
        return np.maximum(0, x)

    def backward(self, dz):
        return dz * (self.x > 0)

class Scaled:
    def __init__(self, scale=0.01):
        self.scale = scale

    def weights(self, n_in, n_out):
        return self.scale * np.random.randn(n_in, n_out)

class Dense:
    def __init__(self, n_in, n_out, initializer=Scaled(), activator=Rect()):
        self.W = initializer.weights(n_in, n_out)
        self.b = np.zeros((1, n_out))
        self.activator = activator

    def forward(self, x):
        self.x = x
        return self.activator.forward(x @ self.W + self.b)

    def backward(self, dz):
        dz = self.activator.backward(dz)
        self.dW = self.x.T @ dz
        self.db = dz.sum(axis=0, keepdims=True)
        return dz @ self.W.T
"""


def test_an_activation_object_is_replaced_by_the_submissions_identity(tmp_path):
    adapter = adapter_for(tmp_path, ACTIVATION_OBJECTS)
    text = adapter.found.text("linear")
    assert "built as Dense(5, 3, activator=Passthrough())" in text and "matches x W + b" in text, text
    one, two = (adapter.make_layer("linear", in_features=5, out_features=3, seed=s) for s in (0, 1))
    assert one.obj.activator is not two.obj.activator  # a fresh identity per layer: no shared state
    rng = np.random.default_rng(0)
    W, b, x = rng.normal(size=(3, 5)), rng.normal(size=3), rng.normal(size=(4, 5))
    one.set_params({"W": W, "b": b})
    np.testing.assert_allclose(one.forward(x), x @ W.T + b)


def test_an_initialiser_that_takes_an_object_is_not_handed_a_name(tmp_path):
    adapter = adapter_for(tmp_path, ACTIVATION_OBJECTS)
    try:
        adapter.init_draw("xavier", 64, 32, 0)
    except Missing as exc:  # never the AttributeError of the student's constructor handed "xavier"
        assert "initializer= takes an object" in str(exc), exc
    # a Dense alone ties the code to dense_net by its name only: that assignment's He is not assumed
    with pytest.raises(Missing, match="initializer= takes an object.*by its names alone"):
        adapter.init_draw("he", 64, 32, 0)
    chosen = adapter_for(tmp_path, ACTIVATION_OBJECTS, style="dense_net")
    W, claim = chosen.init_draw("he", 64, 32, 0)  # the constructor's own draw, judged as the assignment's He
    assert W.shape == (32, 64) and np.std(W) == pytest.approx(0.01, rel=0.1)


REQUIRED_ACTIVATION = """
import numpy as np

class Layer:
    def __init__(self, n_in, n_out, activation):
        self.W = np.random.randn(n_in, n_out) * 0.1
        self.b = np.zeros(n_out)
        self.activation = activation

    def forward(self, x):
        self.x = x
        z = x @ self.W + self.b
        return z if self.activation is None else np.maximum(z, 0)

    def backward(self, dy):
        self.dW = self.x.T @ dy
        self.db = dy.sum(axis=0)
        return dy @ self.W.T
"""


def test_a_required_activation_argument_is_filled_once(tmp_path):
    text = adapter_for(tmp_path, REQUIRED_ACTIVATION).found.text("linear")
    assert text.startswith("Layer: built as Layer(5, 3") and "matches x W + b" in text, text


# --- a self-updating layer whose bias update is dy itself ----------------------------------------

UNSUMMED_BIAS_UPDATE = """
import numpy as np

class FullyConnected:
    def __init__(self, n_in, n_out):
        self.weights = np.random.rand(n_in, n_out) - 0.5
        self.bias = np.random.rand(1, n_out) - 0.5

    def forward_propagation(self, x):
        self.x = x
        return x @ self.weights + self.bias

    def backward_propagation(self, err, rate):
        dx = err @ self.weights.T
        self.weights -= rate * self.x.T @ err
        self.bias = self.bias - rate * err
        return dx

def relu(x):
    return np.maximum(x, 0)

def relu_prime(x):
    return (x > 0).astype(float)

def mse(y_true, y_pred):
    return np.mean((y_true - y_pred) ** 2)

def mse_prime(y_true, y_pred):
    return 2 * (y_pred - y_true) / y_true.size
"""


def test_a_bias_updated_by_each_sample_is_judged_never_reshaped_by_the_kit(tmp_path):
    layer = adapter_for(tmp_path, UNSUMMED_BIAS_UPDATE).make_layer("linear", in_features=5, out_features=3)
    rng = np.random.default_rng(3)
    x, dy = rng.normal(size=(4, 5)), rng.normal(size=(4, 3))
    layer.forward(x)
    layer.backward(dy)
    np.testing.assert_allclose(layer.get_grads()["b"], dy, atol=1e-12)  # one row per sample, for the judge to name
    assert layer.obj.bias.shape == (1, 3)  # put back in its own shape
    report = suite(tmp_path, UNSUMMED_BIAS_UPDATE, "linear", "model_gradcheck")["components"]
    for comp in ("linear", "model_gradcheck"):
        assert report[comp]["verdict"] == "fail" and "bias_gradient_not_summed" in report[comp]["diagnosis"], report[comp]


# --- an engine whose backward takes a seed, and whose only reduction is broken ------------------

SEEDED_ENGINE = """
import numpy as np

class Arr:
    def __init__(self, data, _parents=()):
        self.data = np.asarray(data, dtype=float)
        self.grad = np.zeros_like(self.data)
        self._parents = _parents
        self._back = lambda: None

    def __add__(self, other):
        out = Arr(self.data + other.data, (self, other))
        def _back():
            self.grad += out.grad
            other.grad += out.grad
        out._back = _back
        return out

    def __mul__(self, other):
        out = Arr(self.data * other.data, (self, other))
        def _back():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._back = _back
        return out

    def relu(self):
        out = Arr(np.maximum(self.data, 0), (self,))
        def _back():
            self.grad += (self.data > 0) * out.grad
        out._back = _back
        return out

    def mean(self, axis=None):
        out = Arr(self.data.mean(axis=axis), (self,))
        def _back():
            self.grad += np.ones(self.data.shape[axis]) * out.grad / self.data.size  # axis=None breaks here
        out._back = _back
        return out

    def backward(self, gradient=None):
        order, seen = [], set()
        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for p in node._parents:
                    visit(p)
                order.append(node)
        visit(self)
        self.grad = np.ones_like(self.data) if gradient is None else gradient
        for node in reversed(order):
            node._back()

class Rectify:
    def __call__(self, x):
        return x.relu()
"""


def test_a_backward_taking_a_seed_is_used_when_its_scalar_form_raises(tmp_path):
    adapter = adapter_for(tmp_path, SEEDED_ENGINE)
    from conformance.adapters.discovery import autograd
    text = autograd.text(adapter.found, "autograd")
    assert "backward(seed) fills .grad" in text, text
    relu = adapter.make_layer("relu")
    rng = np.random.default_rng(4)
    x, dy = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    relu.forward(x)
    np.testing.assert_allclose(relu.backward(dy), dy * (x > 0))


OPTIMISER_RESETS = SEEDED_ENGINE + """

class Plain:
    def __init__(self, params, lr=0.1):
        self.params, self.lr = list(params), lr

    def step(self):
        for p in self.params:
            p.data -= self.lr * p.grad

    def zero_grad(self):
        for p in self.params:
            p.grad = np.zeros_like(p.data)
"""

MODULE_RESETS = SEEDED_ENGINE + """

class Block:
    @property
    def parameters(self):
        return []

    def zero_grad(self):
        for p in self.parameters:
            p.grad = np.zeros_like(p.data)
"""


@pytest.mark.parametrize("source, reset", [(SEEDED_ENGINE, None), (OPTIMISER_RESETS, "Plain.zero_grad()"),
                                           (MODULE_RESETS, "Block.zero_grad()")], ids=["none", "optimiser", "module"])
def test_an_optimiser_or_module_zero_grad_is_a_reset(tmp_path, source, reset):
    entry = suite(tmp_path, source, "autograd")["components"]["autograd"]
    check = next(c for c in entry["checks"] if c["name"].startswith("test_autograd_zero_grad"))
    if reset is None:
        assert check["outcome"] == "fail" and "zero_grad_missing" in check.get("cause", "zero_grad_missing"), check
    else:
        assert check["outcome"] == "pass", check
        assert reset in check["message"], check


ENGINE_DROPOUT = SEEDED_ENGINE + """

class Dropout:
    def __init__(self, p=0.5):
        self.p, self.training = p, False

    def train(self):
        self.training = True

    def eval(self):
        self.training = False

    def forward(self, x):
        if not self.training:
            return x
        x = x if isinstance(x, Arr) else Arr(x)
        mask = (np.random.rand(*x.data.shape) >= self.p) / (1 - self.p)
        out = Arr(x.data * mask, (x,))
        def _back():
            x.grad += out.grad * mask
        out._back = _back
        return out
"""


def test_a_dropout_answering_with_engine_values_is_read_through_the_engine(tmp_path):
    layer = adapter_for(tmp_path, ENGINE_DROPOUT).make_layer("dropout", p=0.5)
    layer.set_training(True)
    x = np.full((40, 50), 2.0)
    y = np.asarray(layer.forward(x), dtype=float)  # the probe's conversion raised on the engine's value
    kept = y != 0
    assert 0.4 < kept.mean() < 0.6 and np.allclose(y[kept], 4.0)
    dy = np.full_like(x, 3.0)
    np.testing.assert_allclose(layer.backward(dy), np.where(kept, 6.0, 0.0))
    layer.set_training(False)
    np.testing.assert_allclose(layer.forward(x), x)
    entry = suite(tmp_path, ENGINE_DROPOUT, "dropout")["components"]["dropout"]
    assert entry["verdict"] == "pass", entry


# --- a helper that is not a loss -----------------------------------------------------------------

RELATIVE_ERROR_HELPER = """
import numpy as np

def relative_error(A, B):
    return np.max(np.abs(A - B) / np.maximum(1e-8, np.abs(A) + np.abs(B)))
"""


def test_an_unnamed_error_helper_far_from_every_loss_is_not_the_mse(tmp_path):
    adapter = adapter_for(tmp_path, RELATIVE_ERROR_HELPER)
    with pytest.raises(Missing, match="relative_error"):
        adapter.make_loss("mse")
    named = adapter_for(tmp_path, RELATIVE_ERROR_HELPER.replace("relative_error", "squared_error"), name="named.py")
    assert named.make_loss("mse").student_name == "squared_error"  # a name that claims it: kept, then judged


# --- the inventory says what the check runs ------------------------------------------------------

NUMERICAL_GRADIENT = """
import numpy as np

def numeric_grad(f, x, h=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
        it.iternext()
    return grad
"""


def test_the_inventory_names_the_gradient_checker_the_check_runs(tmp_path):
    adapter = adapter_for(tmp_path, NUMERICAL_GRADIENT)
    assert adapter.found.checker is not None
    found = adapter.inventory()["gradient_checker"]
    assert found.name == "numeric_grad" and "not found" not in found.detail, found


# --- a softmax backward written for the fold -----------------------------------------------------

PASSTHROUGH_SOFTMAX = """
import numpy as np

class Softmax:
    def forward(self, z):
        shifted = np.exp(z - z.max(axis=1, keepdims=True))
        self.p = shifted / shifted.sum(axis=1, keepdims=True)
        return self.p

    def backward(self, upstream):
        # the loss below already returns the gradient w.r.t. the logits
        return upstream
"""

LOSS_ON_LOGITS = """
class SoftmaxCE:
    def forward(self, z, y):
        shifted = z - z.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.p, self.y = np.exp(logp), y
        return -logp[np.arange(len(y)), y].mean()

    def backward(self):
        g = self.p.copy()
        g[np.arange(len(self.y)), self.y] -= 1
        return g / len(self.y)
"""

LOSS_ON_PROBABILITIES = """
class ProbCE:
    def forward(self, p, y):
        self.p, self.y = np.clip(p, 1e-12, 1.0), y
        return -np.log(self.p[np.arange(len(y)), y]).mean()

    def backward(self):
        g = np.zeros_like(self.p)
        g[np.arange(len(self.y)), self.y] = -1 / self.p[np.arange(len(self.y)), self.y]
        return g / len(self.y)
"""


def test_a_softmax_passing_dy_through_is_not_required_when_the_loss_returns_dlogits(tmp_path):
    """SPEC 0.6: the design is the fold written out; right in the student's pipeline."""
    report = suite(tmp_path, PASSTHROUGH_SOFTMAX + LOSS_ON_LOGITS, "softmax", "cross_entropy")
    softmax = report["components"]["softmax"]
    assert softmax["verdict"] == "pass", softmax["diagnosis"]
    waived = [c for c in softmax["checks"] if c.get("required") is False]
    assert waived and all(c["cause"] == "softmax_backward_passthrough" for c in waived)
    assert "passes dY through is what your pipeline needs" in softmax["diagnosis"]
    assert report["components"]["cross_entropy"]["verdict"] == "pass"


def test_a_softmax_passing_dy_through_fails_when_the_loss_returns_dprobs(tmp_path):
    report = suite(tmp_path, PASSTHROUGH_SOFTMAX + LOSS_ON_PROBABILITIES, "softmax", "cross_entropy")
    softmax = report["components"]["softmax"]
    assert softmax["verdict"] == "fail" and "softmax_backward_passthrough" in softmax["diagnosis"]
    assert all(c.get("required") is not False for c in softmax["checks"])
