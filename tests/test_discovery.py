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


# --- mistakes discovery made on real student code, each as a small file written for this table ---

BIAS_GRAD_APART = """
import numpy as np

class Layer:
    def __init__(self, n_in, n_out):
        self.params = {"W": np.random.randn(n_out, n_in) * 0.1}
        self.bias = np.zeros(n_out)
        self.grads = {}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"].T + self.bias

    def backward(self, dy):
        self.grads["W"] = dy.T @ self.x
        self.bias_grad = dy.sum(axis=0)
        return dy @ self.params["W"]
"""

BIAS_GRAD_BESIDE_A_PARAMETER = """
import numpy as np

class Param:
    def __init__(self, value):
        self.value = value
        self.grad = np.zeros_like(value)

class Linear:
    def __init__(self, n_in, n_out):
        self.W = Param(np.random.randn(n_in, n_out) * 0.1)
        self.b = np.zeros((1, n_out))

    def forward(self, x):
        self.x = x
        return x @ self.W.value + self.b

    def backward(self, dy):
        self.W.grad = self.x.T @ dy
        self.db = dy.sum(axis=0)
        return dy @ self.W.value.T
"""

NO_BIAS = """
import numpy as np

class Dense:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.1

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dy):
        self.dW = self.x.T @ dy
        return dy @ self.W.T
"""

SEEN_DTYPES = """
import numpy as np

SEEN = []

def relu(x):
    SEEN.append(np.asarray(x).dtype.str)
    out = np.maximum(x, 0)
    return np.zeros(out.shape, dtype=int) if not out.any() else out

def relu_derivative(x):
    SEEN.append(np.asarray(x).dtype.str)
    return x > 0
"""

VECTORIZED_RELU = """
import numpy as np

def q1(x):
    return np.vectorize(lambda v: max(0, v))(x)  # int output when the first element is negative

def q2(x):
    return (x > 0).astype(float)
"""

LEAKY_BESIDE_RELU = """
import numpy as np

def relu(x):
    return np.maximum(x, 0.0)

def relu_prime(x):
    return (x > 0).astype(float)

class LeakyReLU:
    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, 0.01 * x)

    def backward(self, dy):
        return dy * np.where(self.x > 0, 1.0, 0.01)
"""

STATIC_BACKWARD_IS_DERIVATIVE = """
import numpy as np

class ReLU:
    @staticmethod
    def forward(x):
        return np.maximum(0, x)

    @staticmethod
    def backward(x):
        return (x > 0).astype(float)
"""

BACKWARD_READS_STORED_INPUT = """
import numpy as np

class ReLU:
    def forward(self, x):
        self.x = x
        return np.maximum(0, x)

    def backward(self, grad):
        # the mask of grad where dy * mask(x) was meant; it also zeroes the stored input's minimum
        return (grad > 0) * (self.x > self.x.min())
"""

SOFTMAX_OVER_COLUMNS_ALONE = """
import numpy as np

def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
"""

SOFTMAX_OVER_COLUMNS_WITH_COLUMN_LOSS = """
import numpy as np

def softmax_forward(Z):
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    A = e / e.sum(axis=0, keepdims=True)
    return A, A

def softmax_backward(dA, cache):
    A = cache
    return A * (dA - (dA * A).sum(axis=0, keepdims=True))

def compute_cost(AL, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(np.clip(AL, 1e-12, 1.0))) / m)
"""

DERIVATIVES_OF_THE_INPUT = """
import numpy as np

def sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(x, -500, 500)))

def sigmoid_derivative(x):
    s = sigmoid(x)
    return s * (1 - s)

def tanh(x):
    return np.tanh(x)

def tanh_derivative(x):
    return 1 - np.tanh(x) ** 2
"""

DERIVATIVES_OF_THE_OUTPUT = DERIVATIVES_OF_THE_INPUT.replace("    s = sigmoid(x)\n    return s * (1 - s)",
                                                             "    return x * (1 - x)") \
    .replace("return 1 - np.tanh(x) ** 2", "return 1 - x ** 2")


def _verdict(tmp_path, source: str, component: str) -> tuple[str, str, str]:
    """(verdict, diagnosis, inventory sentence) of ``component`` from the suite run on ``source``."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    impl, report = tmp_path / f"{component}_impl.py", tmp_path / f"{component}_report.json"
    impl.write_text(textwrap.dedent(source))
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pytest", f"conformance/test_{component}.py", "--impl", str(impl), "--report",
                    str(report), "-m", "not slow", "-q", "-p", "no:cacheprovider", "-o", "addopts="],
                   cwd=root, capture_output=True, text=True, timeout=300)
    entry = json.loads(report.read_text())["components"][component]
    adapter = adapter_for(tmp_path, source, name=f"{component}_found.py")
    return entry["verdict"], entry["diagnosis"], adapter.found.text(component)


MISTAKES = [  # (id, source, component, verdict of the suite, a piece of the inventory sentence)
    ("bias-grad-not-beside-dW", BIAS_GRAD_APART, "linear", "pass", "gradients in .grads['W']/.bias_grad"),
    ("dW-in-a-parameter", BIAS_GRAD_BESIDE_A_PARAMETER, "linear", "pass", "gradients in .W.grad/.db"),
    ("no-bias", NO_BIAS, "linear", "fail", "matches x W with W (in, out) in .W, no bias:"),
    ("int-and-bool-answers", SEEN_DTYPES, "relu", "pass", "derivative: relu_derivative(z)"),
    ("vectorize-int-output", VECTORIZED_RELU, "relu", "fail", "q1: function q1 is nearest to relu; derivative: q2(z)"),
    ("exact-relu-beats-leaky", LEAKY_BESIDE_RELU, "relu", "pass",
     "relu: function relu matches relu; derivative: relu_prime(z); also matched: LeakyReLU"),
    ("static-backward-derivative", STATIC_BACKWARD_IS_DERIVATIVE, "relu", "pass", "derivative: backward(z)"),
    ("static-backward-derivative-inverted", STATIC_BACKWARD_IS_DERIVATIVE.replace("(x > 0).astype", "(x < 0).astype"),
     "relu", "fail", "ReLU: class ReLU.forward matches relu"),
    ("backward-reading-the-forward-is-a-vjp", BACKWARD_READS_STORED_INPUT, "relu", "fail",
     "ReLU: class ReLU.forward matches relu; backward: ReLU.backward"),
    ("softmax-columns-unknown-layout", SOFTMAX_OVER_COLUMNS_ALONE, "softmax", "fail",
     "normalises over axis 0 (columns): no linear layer found to say how samples are laid out, nor a loss taking "
     "columns, so judged as rows"),
    ("softmax-columns-loss-says", SOFTMAX_OVER_COLUMNS_WITH_COLUMN_LOSS, "softmax", "pass",
     "normalises over axis 0 (columns): no linear layer found, and compute_cost takes samples as columns, so judged "
     "as columns"),
    ("derivative-against-module-convention",
     DERIVATIVES_OF_THE_INPUT.replace("return 1 - np.tanh(x) ** 2", "return 1 - x ** 2"), "tanh", "fail",
     "derivatives here take z: sigmoid_derivative is the derivative given it, tanh_derivative only given a = f(z) "
     "(a tie: the canonical z); so tanh_derivative is judged given z"),
    ("derivatives-all-of-the-input", DERIVATIVES_OF_THE_INPUT, "tanh", "pass",
     "derivative: tanh_derivative(z); derivatives here take z"),
    ("derivatives-all-of-the-output", DERIVATIVES_OF_THE_OUTPUT, "tanh", "pass",
     "derivative: tanh_derivative(a = f(z)); derivatives here take a = f(z)"),
]


@pytest.mark.parametrize("source, component, verdict, sentence", [pytest.param(*row[1:], id=row[0]) for row in MISTAKES])
def test_discovery_mistakes_seen_on_student_code(tmp_path, source, component, verdict, sentence):
    got, diagnosis, text = _verdict(tmp_path, source, component)
    assert sentence in text, text
    assert got == verdict, diagnosis


def test_no_bias_fails_naming_it_and_dx_is_still_judged(tmp_path):
    got, diagnosis, _ = _verdict(tmp_path, NO_BIAS, "linear")
    assert got == "fail" and "has no bias" in diagnosis, diagnosis
    layer = adapter_for(tmp_path, NO_BIAS).make_layer("linear", in_features=5, out_features=3)
    rng = np.random.default_rng(5)
    W, x, dy = rng.normal(size=(3, 5)), rng.normal(size=(4, 5)), rng.normal(size=(4, 3))
    layer.set_params({"W": W, "b": np.zeros(3)})
    np.testing.assert_allclose(layer.forward(x), x @ W.T)
    np.testing.assert_allclose(layer.backward(dy), dy @ W)
    with pytest.raises(Missing, match="no bias"):
        layer.get_grads()


def test_the_kit_hands_activations_float64(tmp_path):
    adapter = adapter_for(tmp_path, SEEN_DTYPES)
    relu = adapter.make_layer("relu")
    seen = adapter.namespace["SEEN"]
    relu.forward(np.array([[-1, 2], [3, -4]]))  # ints from a caller: the kit converts before the student sees them
    relu.backward(np.ones((2, 2)))
    assert seen and set(seen) == {np.dtype(np.float64).str}, seen
    out = relu.forward(-np.ones((2, 3)))  # the student's int answer is handed on as it is, for the judge to name
    assert out.dtype.kind == "i"


def test_backward_read_as_a_derivative_only_when_it_ignores_the_forward(tmp_path):
    from conformance.adapters.discovery.activations import _is_derivative
    from conformance.adapters.discovery.maths import PROBE_X

    dy = np.linspace(-1.0, 1.0, PROBE_X.size).reshape(PROBE_X.shape)
    stored = (dy > 0) * (PROBE_X > PROBE_X.min())
    assert _is_derivative(stored, dy, "relu")  # at the kit's probe it looks like relu'(dy) ...
    assert adapter_for(tmp_path, BACKWARD_READS_STORED_INPUT).found.activations["relu"].backward[0] == "method"  # ... yet
    assert adapter_for(tmp_path, STATIC_BACKWARD_IS_DERIVATIVE, name="s.py").found.activations["relu"].backward[0] == \
        "derivative"
