"""Discovery by behaviour (conformance/adapters/discovery): components are found by what they do,
whatever they are called, a buggy one is still found, and bad input gets one sentence.

Each submission here is a few lines written for this test; the zoo (tests/zoo) covers the API
shapes at large and bench/zoo.py measures it.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from conformance.adapters import AdapterError, build_adapter
from conformance.adapters.base import Missing
from conformance.loader import load_impl

DENSE_IN_OUT = """
import numpy as np

class Zq1:
    def __init__(self, n_inputs, n_neurons):
        self.q1 = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.q2 = np.zeros((1, n_neurons))

    def forward(self, inputs):
        self.q3 = inputs
        self.output = inputs @ self.q1 + self.q2

    def backward(self, dvalues):
        self.q4 = self.q3.T @ dvalues
        self.q5 = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = dvalues @ self.q1.T
"""

COLUMN_FUNCTIONS = """
import numpy as np

def linear_forward(A, W, b):
    return W @ A + b, (A, W, b)

def linear_backward(dZ, cache):
    A, W, b = cache
    return W.T @ dZ, dZ @ A.T, dZ.sum(axis=1, keepdims=True)

def sigmoid(z):
    return 1 / (1 + np.exp(-z))

def sigmoid_prime(a):
    return a * (1 - a)

def cost(AL, Y):
    return float(-np.sum(Y * np.log(AL)) / Y.shape[1])
"""

SELF_UPDATING = """
import numpy as np

class FC:
    def __init__(self, input_size, output_size):
        self.weights = np.random.rand(input_size, output_size) - 0.5
        self.bias = np.random.rand(1, output_size) - 0.5

    def forward_propagation(self, input_data):
        self.input = input_data
        return input_data @ self.weights + self.bias

    def backward_propagation(self, output_error, learning_rate):
        input_error = output_error @ self.weights.T
        self.weights -= learning_rate * self.input.T @ output_error
        self.bias -= learning_rate * output_error.sum(axis=0, keepdims=True)
        return input_error

def mse(y_true, y_pred):
    return np.mean((y_true - y_pred) ** 2)

def mse_prime(y_true, y_pred):
    return 2 * (y_pred - y_true) / y_true.size
"""


def adapter_for(tmp_path, source: str, name: str = "sub.py", **kw):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return build_adapter(load_impl(str(path)), **kw)


def test_meaningless_names_are_found_by_behaviour(tmp_path):
    adapter = adapter_for(tmp_path, DENSE_IN_OUT)
    found = adapter.found.text("linear")
    assert found.startswith("Zq1:") and "(in, out) in .q1" in found and "(1, out) in .q2" in found, found
    layer = adapter.make_layer("linear", in_features=4, out_features=2)
    rng = np.random.default_rng(0)
    W, b, x, dy = rng.normal(size=(2, 4)), rng.normal(size=2), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    layer.set_params({"W": W, "b": b})
    np.testing.assert_allclose(layer.forward(x), x @ W.T + b)
    np.testing.assert_allclose(layer.backward(dy), dy @ W)
    grads = layer.get_grads()
    np.testing.assert_allclose(grads["W"], dy.T @ x)
    np.testing.assert_allclose(grads["b"], dy.sum(axis=0))


def test_column_major_functional_pair_and_output_derivative(tmp_path):
    adapter = adapter_for(tmp_path, COLUMN_FUNCTIONS)
    assert adapter.found.data == "cols"
    layer = adapter.make_layer("linear", in_features=3, out_features=2)
    rng = np.random.default_rng(1)
    W, b, x, dy = rng.normal(size=(2, 3)), rng.normal(size=2), rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    layer.set_params({"W": W, "b": b})
    np.testing.assert_allclose(layer.forward(x), x @ W.T + b)
    np.testing.assert_allclose(layer.backward(dy), dy @ W)
    np.testing.assert_allclose(layer.get_grads()["W"], dy.T @ x)
    sig = adapter.make_layer("sigmoid")
    assert "sigmoid_prime(a = f(z))" in adapter.found.text("sigmoid")
    z = rng.normal(size=(4, 3))
    s = 1 / (1 + np.exp(-z))
    sig.forward(z)
    np.testing.assert_allclose(sig.backward(np.ones_like(z)), s * (1 - s))
    loss = adapter.make_loss("cross_entropy")
    assert loss.conventions["input"] == "probs" and loss.conventions["targets"] == "onehot"


def test_self_updating_layer_gives_the_implied_gradient_and_keeps_its_weights(tmp_path):
    adapter = adapter_for(tmp_path, SELF_UPDATING)
    layer = adapter.make_layer("linear", in_features=4, out_features=3)
    rng = np.random.default_rng(2)
    W, b, x, dy = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=(2, 4)), rng.normal(size=(2, 3))
    layer.set_params({"W": W, "b": b})
    layer.forward(x)
    layer.backward(dy)
    np.testing.assert_allclose(layer.get_grads()["W"], dy.T @ x, atol=1e-12)
    np.testing.assert_allclose(layer.get_params()["W"], W)  # restored after the update
    assert "updates itself" in adapter.found.text("linear")
    mse = adapter.make_loss("mse")
    assert mse.conventions["argument_order"] == "target, pred"
    pred, target = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    assert mse.forward(pred, target) == pytest.approx(np.mean((pred - target) ** 2))
    np.testing.assert_allclose(mse.backward(), 2 * (pred - target) / pred.size)


def test_a_buggy_component_is_found_then_judged(tmp_path):
    buggy = DENSE_IN_OUT.replace("self.q4 = self.q3.T @ dvalues", "self.q4 = dvalues.T @ self.q3")
    adapter = adapter_for(tmp_path, buggy)
    assert adapter.found.name("linear") == "Zq1"
    layer = adapter.make_layer("linear", in_features=5, out_features=3)
    rng = np.random.default_rng(4)
    x, dy = rng.normal(size=(4, 5)), rng.normal(size=(4, 3))
    layer.forward(x)
    layer.backward(dy)
    got = layer.get_grads()["W"]
    # the transposed dW goes through the (in, out) layout's transpose and the reshape to (out, in)
    # that the style adapters do: the judge's transposed_gradient prediction is that very array
    np.testing.assert_allclose(got, (x.T @ dy).reshape(3, 5))
    assert not np.allclose(got, dy.T @ x)


def test_softmax_over_the_wrong_axis_is_still_the_softmax(tmp_path):
    adapter = adapter_for(tmp_path, """
        import numpy as np
        def q9(z):
            e = np.exp(z - z.max(axis=0, keepdims=True))
            return e / e.sum(axis=0, keepdims=True)
    """)
    assert adapter.found.name("softmax") == "q9"


@pytest.mark.parametrize("source, sentence", [
    ("", "not found: no class holds a (5, 3) or (3, 5) weight array"),
    ("def hello(name):\n    return 'hi ' + name\n", "not found: no class holds"),
    ("class Linear:\n    def __init__(self, a, b, c, d):\n        pass\n",
     "its constructor takes no pair of sizes the kit can fill"),
    ("import numpy as np\nclass Linear:\n    def __init__(self, n_in, n_out):\n"
     "        self.W = np.zeros((n_in, n_out))\n    def forward(self, x):\n        return list(x @ self.W)\n",
     "no method maps"),
])
def test_bad_input_gets_a_sentence(tmp_path, source, sentence):
    adapter = adapter_for(tmp_path, source)
    assert sentence in adapter.found.text("linear")
    with pytest.raises(Missing) as exc:
        adapter.make_layer("linear", in_features=5, out_features=3)
    assert "found by behaviour" in str(exc.value)


def test_map_pins_a_loss_order_and_rejects_unknown_keys(tmp_path):
    source = """
        import numpy as np
        def f(a, b):
            return np.mean((a - b) ** 2)
        def g(a, b):
            return 2 * (a - b) / a.size
    """
    (tmp_path / "api.toml").write_text('[mse]\nfunction = "f"\norder = "target, pred"\ngradient = "g"\n')
    adapter = adapter_for(tmp_path, source, map_file=str(tmp_path / "api.toml"))
    loss = adapter.make_loss("mse")
    assert loss.conventions["argument_order"] == "target, pred"
    pred, target = np.ones((2, 2)), np.zeros((2, 2))
    loss.forward(pred, target)
    np.testing.assert_allclose(loss.backward(), 2 * (target - pred) / 4)  # g as the map says it is called
    (tmp_path / "bad.toml").write_text('[linear]\nweights = "W"\n')
    with pytest.raises(AdapterError, match=r"\[linear\] has no key 'weights': write one of class"):
        adapter_for(tmp_path, source, map_file=str(tmp_path / "bad.toml"))
    (tmp_path / "bad2.toml").write_text('[linear]\nlayout = "sideways"\n')
    with pytest.raises(AdapterError, match="layout = 'sideways' is not allowed"):
        adapter_for(tmp_path, source, map_file=str(tmp_path / "bad2.toml"))


def test_discovery_is_deterministic_and_leaves_numpy_random_alone(tmp_path):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    texts = [adapter_for(tmp_path, SELF_UPDATING, name=f"s{i}.py").found.text("linear") for i in range(2)]
    assert texts[0] == texts[1]
    assert np.array_equal(np.random.get_state()[1], before)
