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


NEURON_LIST = """
import numpy as np

class Zn:
    def __init__(self, k):
        self.q1 = np.random.randn(k) * 0.1
        self.q2 = 0.0

class Zl:
    def __init__(self, k, m):
        self.q3 = [Zn(k) for _ in range(m)]

    def forward(self, x):
        self.q4 = x
        return np.stack([x @ u.q1 + u.q2 for u in self.q3], axis=1)

    def backward(self, dy):
        dx = np.zeros_like(self.q4)
        for j, u in enumerate(self.q3):
            u.q5 = self.q4.T @ dy[:, j]
            u.q6 = dy[:, j].sum()
            dx += np.outer(dy[:, j], u.q1)
        return dx
"""


def test_a_layer_kept_as_a_list_of_neuron_objects_is_a_linear_layer(tmp_path):
    adapter = adapter_for(tmp_path, NEURON_LIST)
    assert "W (out, in) in .q3[*].q1, bias (out,) in .q3[*].q2" in adapter.found.text("linear")
    layer = adapter.make_layer("linear", in_features=4, out_features=3)
    rng = np.random.default_rng(3)
    W, b, x, dy = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    layer.set_params({"W": W, "b": b})
    assert isinstance(layer.obj.q3[1].q2, float)  # each neuron keeps its bias as a number
    np.testing.assert_allclose(layer.forward(x), x @ W.T + b)
    np.testing.assert_allclose(layer.backward(dy), dy @ W)
    np.testing.assert_allclose(layer.get_grads()["W"], dy.T @ x)
    np.testing.assert_allclose(layer.get_grads()["b"], dy.sum(axis=0))


OPTIONAL_INPUT = """
import numpy as np

class Slot:
    def __init__(self, value=None):
        self.value, self.dvalue = value, None

class Node:
    def __init__(self):
        self.slots = {}
    def put(self, key, value):
        self.slots.setdefault(key, Slot()).value = value
    def take(self, key):
        return self.slots[key].value if key in self.slots else None
    def put_d(self, key, d):
        self.slots.setdefault(key, Slot()).dvalue = d

class Mix(Node):
    def __init__(self, a, b):
        super().__init__()
        self.put("w", np.random.randn(a, b) * 0.1)
        self.put("c", np.zeros((1, b)))
    def forward(self, x=None):
        if x is not None:
            self.put("x", x)
        return self.take("x") @ self.take("w") + self.take("c")
    def backward(self, d):
        self.put_d("w", self.take("x").T @ d)
        self.put_d("c", d.sum(axis=0, keepdims=True))
        self.put_d("x", d @ self.take("w").T)

class Clip0(Node):
    def forward(self, x=None):
        if x is not None:
            self.put("x", x)
        return np.maximum(self.take("x"), 0)
    def backward(self, d):
        self.put_d("x", d * (self.take("x") > 0))
"""


def test_a_forward_whose_input_defaults_to_none_is_a_forward(tmp_path):
    """``forward(self, x=None)`` (it reuses the stored input when called bare) takes the input; the
    arrays live in objects behind accessors, and backward stores every gradient there."""
    adapter = adapter_for(tmp_path, OPTIONAL_INPUT)
    assert adapter.found.text("linear").startswith("Mix:") and adapter.found.text("relu").startswith("Clip0:")
    layer = adapter.make_layer("linear", in_features=4, out_features=3)
    rng = np.random.default_rng(4)
    W, b, x, dy = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    layer.set_params({"W": W, "b": b})
    np.testing.assert_allclose(layer.forward(x), x @ W.T + b)
    np.testing.assert_allclose(layer.backward(dy), dy @ W)
    np.testing.assert_allclose(layer.get_grads()["W"], dy.T @ x)
    relu = adapter.make_layer("relu")
    np.testing.assert_allclose(relu.forward(x), np.maximum(x, 0))
    np.testing.assert_allclose(relu.backward(x), x * (x > 0))


ONE_COLUMN = """
import numpy as np

class Zd:
    def __init__(self, k, m):
        self.q1 = np.random.randn(m, k) * 0.1
        self.q2 = np.zeros((m, 1))

    def forward(self, x):
        self.q3 = x
        return self.q1 @ x + self.q2

    def backward(self, g, lr):
        out = self.q1.T @ g
        self.q1 -= lr * g @ self.q3.T
        self.q2 -= lr * g
        return out

class Zs:
    def forward(self, x):
        e = np.exp(x - x.max())
        self.q4 = e / e.sum()
        return self.q4

    def backward(self, g, lr):
        return self.q4 * (g - self.q4.T @ g)
"""


def test_a_softmax_whose_backward_takes_one_column_is_looped_as_columns(tmp_path):
    adapter = adapter_for(tmp_path, ONE_COLUMN)
    sm = adapter.make_layer("softmax")
    assert "one sample as a column at a time" in adapter.found.text("softmax")
    z, dy = np.random.default_rng(5).normal(size=(2, 4, 3))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sm.forward(z), p)
    np.testing.assert_allclose(sm.backward(dy), p * (dy - (p * dy).sum(axis=1, keepdims=True)))


PER_SAMPLE_BIAS = """
import numpy as np

def q0(z):
    return 1 / (1 + np.exp(-z))

class Zc:
    def __init__(self, k, m):
        self.q1 = np.random.randn(m, k)
        self.q2 = np.random.randn(m, 1)

    def feed(self, a):
        self.q3 = a
        return self.q1 @ a + self.q2

    def back(self, d):
        self.q4 = d @ self.q3.T
        self.q5 = d
        return self.q1.T @ d
"""

PER_SAMPLE_NETWORK = """
class Zn:
    def __init__(self, sizes):
        self.q6 = [Zc(a, b) for a, b in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for u in self.q6:
            a = q0(u.feed(a))
        return a

    def backprop(self, x, y):
        outs, a = [], x
        for u in self.q6:
            a = q0(u.feed(a))
            outs.append(a)
        d = (a - y) * a * (1 - a)
        for i in reversed(range(len(self.q6))):
            d = self.q6[i].back(d)
            if i:
                d = d * outs[i - 1] * (1 - outs[i - 1])
        return [u.q5 for u in self.q6], [u.q4 for u in self.q6]
"""


def test_a_per_sample_bias_gradient_is_right_only_where_the_network_takes_one_sample(tmp_path):
    alone = adapter_for(tmp_path, PER_SAMPLE_BIAS, name="alone.py")
    assert "one sample at a time" not in alone.found.text("linear")
    assert set(alone.found.linear.backward.grads_from) == {"W"}  # on a batch, no (out, 1) bias gradient: judged so
    with_net = adapter_for(tmp_path, PER_SAMPLE_BIAS + PER_SAMPLE_NETWORK, name="net.py")
    assert "one sample at a time as its network Zn.backprop(x, y) takes them" in with_net.found.text("linear")
    layer = with_net.make_layer("linear", in_features=4, out_features=3)
    rng = np.random.default_rng(6)
    W, b, x, dy = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    layer.set_params({"W": W, "b": b})
    np.testing.assert_allclose(layer.forward(x), x @ W.T + b)
    np.testing.assert_allclose(layer.backward(dy), dy @ W)
    np.testing.assert_allclose(layer.get_grads()["b"], dy.sum(axis=0))


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


PAIRED_TABLE = """
    import numpy as np
    def q1(z):
        return np.maximum(0.0, z)
    def q2(z):
        return np.where(z > 0, z, 0.0)
    def q3(z):
        return 1.0 / (1.0 + np.exp(-z))
    def q4(z):
        return np.tanh(z)
    TABLE = {"a": (q1, q2)}
    BOTH = [q3, q4]
"""


def test_a_derivative_paired_in_the_students_table_is_the_derivative_whatever_it_answers(tmp_path):
    """q2 answers exactly what q1 does (the bug: relu handed back where its derivative belongs), so
    behaviour alone makes it a second relu; the file's own table pairs it with q1 as (f, f'), so it
    is q1's derivative, and the relu is found and then fails. A list of two functions of different
    kinds is no such pair: q3 and q4 stay the sigmoid and the tanh."""
    adapter = adapter_for(tmp_path, PAIRED_TABLE)
    assert adapter.found.text("relu") == "q1: function q1 matches relu; derivative: q2(z), its pair in your table TABLE"
    assert adapter.found.name("sigmoid") == "q3" and adapter.found.name("tanh") == "q4"
    layer = adapter.make_layer("relu")
    x = np.array([[-1.0, 2.0, 0.5]])
    layer.forward(x)
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), [[0.0, 2.0, 0.5]])  # dy * q2(z): the bug, judged
    got, _, _ = _verdict(tmp_path, PAIRED_TABLE, "relu")
    assert got == "fail"


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


# --- real-code idioms (each source written for this test) -------------------------------------

FORWARD_FORGETS_ITS_INPUT = """
import numpy as np

class Dense:
    def __init__(self, n_in, n_out):
        self.weights = 0.1 * np.random.randn(n_in, n_out)
        self.biases = np.zeros((1, n_out))

    def forward(self, inputs):
        self.output = inputs @ self.weights + self.biases

    def backward(self, dvalues):
        self.dweights = self.inputs.T @ dvalues
        self.dbiases = dvalues.sum(axis=0, keepdims=True)
        self.dinputs = dvalues @ self.weights.T

class Rectifier:
    def forward(self, inputs):
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0
"""

SOFTMAX_BACKWARD_RAISES = """
import numpy as np

class Softmax:
    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.out = e / e.sum(axis=1, keepdims=True)
        return self.out

    def backward(self, dy):
        width = self.out.shape[1]
        return np.tile(self.out, width * None) * dy
"""

BACKWARD_THE_KIT_CANNOT_CALL = """
import numpy as np

class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dy, *, lr):
        return dy * (1 - self.y ** 2)
"""

CONSTRUCTOR_RAISES = """
import numpy as np

class Squash:
    def __init__(self, f):
        self.f = f

    def forward(self, x):
        return self.f(x)

class Tanh(Squash):
    def __init__(self):
        super().__init__(np.tanh) + 1
"""

BASE_CLASS_IMPORT_FAILED = """
import numpy as np
import criterion_base_missing as crit

class MSECriterion(crit.Criterion):
    def updateOutput(self, x, t):
        return np.mean((x - t) ** 2)
"""

FORGOTTEN_IMPORT = """
import numpy as np

def affine_forward(x, w, b):
    flat = reduce(lambda a, c: a * c, x.shape[1:])
    out = x.reshape(x.shape[0], flat) @ w + b
    return out, (x, w, b)

def affine_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)

def relu(x):
    return maximum(x, 0)
"""

NAME_FIRST_CONSTRUCTORS = """
import numpy as np

class Unit:
    def __init__(self, name):
        self.name = name

class FullyConnected(Unit):
    def __init__(self, name, n_in, n_out, init_std):
        super().__init__(name)
        self.W = np.random.randn(n_in, n_out) * init_std
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dy):
        self.grad_W = self.x.T @ dy
        self.grad_b = dy.sum(axis=0)
        return dy @ self.W.T

class TanhUnit(Unit):
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dy):
        return dy * (1 - self.y ** 2)
"""

SHAPE_TUPLE_CONSTRUCTOR = """
import numpy as np

class FC:
    def __init__(self, input_shape):
        self.w = np.random.randn(*input_shape) * 0.1
        self.b = np.zeros((1, input_shape[1]))

    def forward(self, x):
        self.x = x
        return x @ self.w + self.b

    def backward(self, dy):
        self.dw = self.x.T @ dy
        self.db = dy.sum(axis=0, keepdims=True)
        return dy @ self.w.T
"""

DATA_LOADING_CONSTRUCTOR = """
import pickle
import numpy as np

class Sigmoid:
    def __init__(self, cache_file="weights_cache.pkl"):
        self.cache = None
        if cache_file is not None:
            with open(cache_file, "rb") as f:
                self.cache = pickle.load(f)

    def forward(self, x):
        self.y = 0.5 * (1 + np.tanh(0.5 * x))
        return self.y

    def backward(self, dy):
        return dy * self.y * (1 - self.y)
"""

TRAINING_FLAG_FORWARD = """
import numpy as np

class Layer_Dense:
    def __init__(self, n_inputs, n_neurons):
        self.weights = 0.01 * np.random.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))

    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = inputs @ self.weights + self.biases

    def backward(self, dvalues):
        self.dweights = self.inputs.T @ dvalues
        self.dbiases = dvalues.sum(axis=0, keepdims=True)
        self.dinputs = dvalues @ self.weights.T

class Activation_ReLU:
    def forward(self, inputs, training):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0

    def predictions(self, outputs):
        return outputs

class Activation_Sigmoid:
    def forward(self, inputs, training):
        self.output = 1 / (1 + np.exp(-np.clip(inputs, -500, 500)))

    def backward(self, dvalues):
        self.dinputs = dvalues * (1 - self.output) * self.output

    def predictions(self, outputs):
        return (outputs > 0.5) * 1
"""

ACTIVATION_BACKWARD_TAKES_Z = """
import numpy as np

def relu(Z):
    return np.maximum(0, Z)

def relu_backward(dA, cache):
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ

def linear_forward(A, W, b):
    return W @ A + b, (A, W, b)

def linear_backword(dZ, cache):
    A, W, b = cache
    m = A.shape[1]
    return W.T @ dZ, dZ @ A.T / m, np.sum(dZ) / m
"""

MASK_BESIDE_SIGMOID_DERIVATIVE = """
import numpy as np

def relu(z):
    return np.maximum(z, 0)

def sigmoid(z):
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))

def sigmoid_backward(z):
    s = sigmoid(z)
    return s * (1 - s)

def relu_backward(dz, z):
    dh = np.array(dz, copy=True)
    dh[z <= 0] = 0
    dh[z > 0] = 1
    return dh
"""

LOSS_METHOD_PAIRS = """
import numpy as np

class MSE_Loss:
    def get_loss(self, y_pred, y_true):
        return np.mean((y_pred - y_true) ** 2)

    def get_grad(self, y_pred, y_true):
        return 2 * (y_pred - y_true) / y_pred.size

class SoftmaxWithLoss:
    def forward(self, x, labels):
        shifted = x - x.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.p = np.exp(logp)
        self.labels = labels
        loss = -np.mean(logp[np.arange(len(x)), labels])
        return self.p, loss

    def backward(self):
        dx = self.p.copy()
        dx[np.arange(len(dx)), self.labels] -= 1
        self.dx = dx / len(dx)

class Tanh:
    def forward(self, x):
        self.state = np.tanh(x)
        return self.state

    def backward(self, state=None):
        if state is not None:
            return 1 - state ** 2
        return 1 - self.state ** 2
"""

BINARY_BESIDE_CATEGORICAL = """
import numpy as np

def mse(y_true, y_pred):
    return np.mean((y_true - y_pred) ** 2)

def mse_prime(y_true, y_pred):
    return 2 * (y_pred - y_true) / np.size(y_true)

def bce(y_true, y_pred):
    return -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))

def bce_prime(y_true, y_pred):
    return ((1 - y_true) / (1 - y_pred) - y_true / y_pred) / np.size(y_true)
"""

CATEGORICAL = """

def categorical_cross_entropy(y_true, y_pred):
    return -np.mean(np.sum(y_true * np.log(np.clip(y_pred, 1e-12, 1.0)), axis=1))

def categorical_cross_entropy_prime(y_true, y_pred):
    return -y_true / np.clip(y_pred, 1e-12, 1.0) / len(y_true)
"""

LOG_LOSS_IS_BINARY = """
import numpy as np

class Log_loss:
    def get_loss(self, y_pred, y_true):
        y_true = y_true.reshape(y_pred.shape)
        p = np.clip(y_pred, 1e-12, 1 - 1e-12)
        return -np.sum(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)) / len(y_pred)

    def get_grad(self, y_pred, y_true):
        p = np.clip(y_pred, 1e-12, 1 - 1e-12)
        return (p - y_true) / (p * (1 - p)) / len(y_pred)
"""

BACKWARD_PARAMETER_SAYS_UPSTREAM = """
import numpy as np

class Tanh:
    def forward(self, x):
        self.x = x
        return np.tanh(x)

    def backward(self, d_y):
        self.activation_grad = 1.0 - np.tanh(d_y) ** 2
        return self.activation_grad
"""

ACTIVATIONS_AS_METHODS_WITH_A_FLAG = """
import numpy as np

class Net:
    def __init__(self, hidden=(8,), data_file="mnist_cache.pkl", lr=0.1):
        self.train = None
        if data_file is not None:
            with open(data_file, "rb") as f:
                self.train = f.read()

    def relu(self, x, grad=False):
        if grad:
            return (x > 0).astype(float)
        return np.maximum(x, 0)

    def tanh(self, x, grad=False):
        if grad:
            return 1 - np.tanh(x) ** 2
        return np.tanh(x)

    def softmax(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def backward(self, cache, labels):
        return {"dW1": cache["A1"].T @ labels}
"""

# A loss named mse that only takes one output column: every reading the kit allows raises in its own
# line (the reshape). Named so, that is the student's error there; unnamed, it claims nothing; one that
# needs the engine's tensors (an AttributeError) may be the kit's call not fitting: missing.
ONE_COLUMN_MSE = """
import numpy as np

def mse_loss(pred, target):
    n = pred.shape[0]
    pred, target = pred.reshape((n, 1)), target.reshape((n, 1))
    return np.mean((pred - target) ** 2), 2 * (pred - target) / n
"""


REAL_CODE_IDIOMS = [  # (id, source, component, verdict of the suite, a piece of the inventory sentence)
    ("backward-raises-forward-kept-no-input", FORWARD_FORGETS_ITS_INPUT, "linear", "error",
     "backward: backward (dy) raised AttributeError: 'Dense' object has no attribute 'inputs' (in backward"),
    ("relu-backward-raises", FORWARD_FORGETS_ITS_INPUT, "relu", "error",
     "backward: Rectifier.backward raised AttributeError: 'Rectifier' object has no attribute 'inputs' (in backward"),
    ("softmax-backward-raises-typeerror", SOFTMAX_BACKWARD_RAISES, "softmax", "error",
     "backward: Softmax.backward raised TypeError: unsupported operand"),
    ("constructor-raises-named-class", CONSTRUCTOR_RAISES, "tanh", "error",
     "Tanh: named like tanh, but Tanh() raised TypeError: unsupported operand type(s) for +: 'NoneType' and 'int' (in "
     "__init__"),
    ("dropped-definition-named", BASE_CLASS_IMPORT_FAILED, "mse", "missing",
     "line 5 was not run (UnavailableAttribute: crit.Criterion is not available while grading"),
    ("dropped-definition-named-fix-it", BASE_CLASS_IMPORT_FAILED, "mse", "missing",
     "`class MSECriterion(crit.Criterion):`); fix it and the mse defined there can be found and checked"),
    ("forgotten-import-in-linear-forward", FORGOTTEN_IMPORT, "linear", "error",
     "affine_forward: a function f(x, W, b) named like a linear layer's forward; it raised NameError: name 'reduce' "
     "is not defined (in affine_forward"),
    ("forgotten-import-in-relu", FORGOTTEN_IMPORT, "relu", "error",
     "relu: named like relu, but relu(x) raised NameError: name 'maximum' is not defined"),
    ("name-first-linear", NAME_FIRST_CONSTRUCTORS, "linear", "pass",
     "FullyConnected: built as FullyConnected(n_in=5, n_out=3, name='fullyconnected', init_std=0.1)"),
    ("name-label-is-not-a-kind", NAME_FIRST_CONSTRUCTORS, "relu", "missing", "not found; tried TanhUnit('tanh') (nearest "
     "to tanh"),
    ("name-label-built-as-what-it-computes", NAME_FIRST_CONSTRUCTORS, "tanh", "pass",
     "TanhUnit('tanh'): class TanhUnit('tanh').forward matches tanh; backward: TanhUnit('tanh').backward"),
    ("shape-tuple-constructor", SHAPE_TUPLE_CONSTRUCTOR, "linear", "pass", "FC: built as FC((5, 3))"),
    ("file-default-constructor", DATA_LOADING_CONSTRUCTOR, "sigmoid", "pass",
     "Sigmoid: class Sigmoid.forward matches sigmoid; backward: Sigmoid.backward"),
    ("file-default-that-cannot-be-avoided", DATA_LOADING_CONSTRUCTOR.replace("        if cache_file is not None:\n", "        if True:\n"),
     "sigmoid", "error", "Sigmoid: named like sigmoid, but Sigmoid() raised FileNotFoundError"),
    ("nnfs-training-flag-linear", TRAINING_FLAG_FORWARD, "linear", "pass",
     "Layer_Dense: built as Layer_Dense(5, 3); forward (forward) matches x W + b"),
    ("nnfs-training-flag-relu-not-predictions", TRAINING_FLAG_FORWARD, "relu", "pass",
     "Activation_ReLU: class Activation_ReLU.forward matches relu"),
    ("nnfs-training-flag-sigmoid", TRAINING_FLAG_FORWARD, "sigmoid", "pass",
     "Activation_Sigmoid: class Activation_Sigmoid.forward matches sigmoid"),
    ("coursera-relu-backward-cache-is-z", ACTIVATION_BACKWARD_TAKES_Z, "relu", "pass",
     "relu: function relu matches relu; backward: relu_backward(dout, z) (its cache is the forward's input)"),
    ("misspelt-functional-partner", ACTIVATION_BACKWARD_TAKES_Z, "linear", "fail",
     "linear_forward/linear_backword: functional pair"),
    ("relu-not-paired-with-sigmoid-derivative", MASK_BESIDE_SIGMOID_DERIVATIVE, "relu", "fail",
     "relu: function relu matches relu; backward: relu_backward(dout, z)"),
    ("get-loss-get-grad", LOSS_METHOD_PAIRS, "mse", "pass", "MSE_Loss.get_loss(predictions, targets) matches MSE "
     "(mean); gradient from MSE_Loss.get_grad"),
    ("forward-returns-probs-and-loss", LOSS_METHOD_PAIRS, "cross_entropy", "pass",
     "SoftmaxWithLoss.forward(logits, int labels) matches cross-entropy (mean); gradient from SoftmaxWithLoss.backward"),
    ("backward-without-upstream-gradient", LOSS_METHOD_PAIRS, "tanh", "pass",
     "Tanh: class Tanh.forward matches tanh; derivative: Tanh.backward() after a forward"),
    ("binary-ce-is-not-categorical", BINARY_BESIDE_CATEGORICAL, "cross_entropy", "missing",
     "not found; tried bce (value"),
    ("binary-ce-beside-categorical", BINARY_BESIDE_CATEGORICAL + CATEGORICAL, "cross_entropy", "pass",
     "categorical_cross_entropy: categorical_cross_entropy(one-hot targets, probabilities) matches cross-entropy (mean); "
     "gradient from categorical_cross_entropy_prime"),
    ("log-loss-claims-no-categorical-ce", LOG_LOSS_IS_BINARY, "cross_entropy", "missing", "not found; tried Log_loss"),
    ("backward-d_y-is-a-vjp", BACKWARD_PARAMETER_SAYS_UPSTREAM, "tanh", "fail",
     "Tanh: class Tanh.forward matches tanh; backward: Tanh.backward"),
    ("methods-with-grad-flag-relu", ACTIVATIONS_AS_METHODS_WITH_A_FLAG, "relu", "pass",
     "Net: class Net.relu matches relu; derivative: Net.relu(z, grad=True)"),
    ("methods-with-grad-flag-tanh", ACTIVATIONS_AS_METHODS_WITH_A_FLAG, "tanh", "pass",
     "Net: class Net.tanh matches tanh; derivative: Net.tanh(z, grad=True)"),
    ("methods-without-flag-softmax", ACTIVATIONS_AS_METHODS_WITH_A_FLAG, "softmax", "missing",
     "Net: class Net.softmax matches softmax; no backward or derivative found"),
    ("kit-call-mismatch-stays-missing", BACKWARD_THE_KIT_CANNOT_CALL, "tanh", "missing",
     "Tanh: class Tanh.forward matches tanh; no backward or derivative found"),
    ("named-loss-raising-in-its-own-line-is-error", ONE_COLUMN_MSE, "mse", "error",
     "mse_loss: named like MSE, but mse_loss raised ValueError: cannot reshape array of size 12 into shape (4,1) "
     "(in mse_loss, "),
    ("unnamed-loss-raising-claims-nothing", ONE_COLUMN_MSE.replace("mse_loss", "q7"), "mse", "missing",
     "nothing in the submission behaves like it (no candidate)"),
    ("named-loss-wanting-tensors-stays-missing",
     ONE_COLUMN_MSE.replace("n = pred.shape[0]", "n = pred.value.shape[0]"), "mse", "missing",
     "nothing in the submission behaves like it (no candidate)"),
]


@pytest.mark.parametrize("source, component, verdict, sentence",
                         [pytest.param(*row[1:], id=row[0]) for row in REAL_CODE_IDIOMS])
def test_real_code_idioms(tmp_path, source, component, verdict, sentence):
    got, diagnosis, text = _verdict(tmp_path, source, component)
    assert sentence in text, text
    assert got == verdict, diagnosis


def test_a_binary_cross_entropy_pairs_with_its_own_derivative(tmp_path):
    from conformance.adapters.discovery import losses

    adapter = adapter_for(tmp_path, BINARY_BESIDE_CATEGORICAL)
    defs = adapter.found.defs
    bce = next(c for c in losses.score("bce", dict(defs)["bce"], 0) if c.kind == "cross_entropy")
    losses.find_gradient(bce, defs)
    assert bce.grad[0] == "function" and bce.grad[1] == "bce_prime", bce.grad  # never mse_prime


NETWORK_METHODS = """
import numpy as np

class Net:
    def __init__(self, sizes):
        self.weights = [np.random.randn(b, a) for a, b in zip(sizes[:-1], sizes[1:])]

    def squash(self, z):
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))

    def squash_prime(self, z):
        return self.squash(z) * (1 - self.squash(z))

    def sigmoid(self, z):
        return self.squash(z)

    def sigmoid_prime(self, z):
        return self.squash_prime(z)
"""


def test_activations_written_as_methods_of_a_network_are_called_on_one_it_built(tmp_path):
    """Net(sizes).sigmoid(z) beside Net.sigmoid_prime(z): a bound method is a function candidate."""
    adapter = adapter_for(tmp_path, NETWORK_METHODS)
    found = adapter.found.text("sigmoid")
    assert found.startswith("Net.sigmoid:") and "called on a Net the kit built" in found, found
    assert "derivative: Net.sigmoid_prime(z)" in found, found
    layer = adapter.make_layer("sigmoid")
    x, dy = np.linspace(-3, 3, 12).reshape(3, 4), np.linspace(1, 2, 12).reshape(3, 4)
    y = layer.forward(x)
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(layer.backward(dy), dy * y * (1 - y))


def test_a_function_of_its_own_is_chosen_before_a_method_of_another_class(tmp_path):
    source = NETWORK_METHODS + """
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))

def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))
"""
    found = adapter_for(tmp_path, source).found.text("sigmoid")
    assert found.startswith("sigmoid: function sigmoid") and "also matched" in found, found


REGULARISED_PAIR = """
import numpy as np

def affine_fwd(A, W, b):
    return W @ A + b, (A, W, b)

def affine_bwd(dZ, cache, penalty_kind, lambd):
    A, W, b = cache
    m = A.shape[1]
    if penalty_kind == 'none':
        dW = dZ @ A.T / m
    elif penalty_kind == 'l2':
        dW = dZ @ A.T / m + lambd * W / m
    return W.T @ dZ, dW, dZ.sum(axis=1, keepdims=True) / m
"""


def test_a_backward_with_options_is_called_with_them_switched_off(tmp_path):
    """g(dZ, cache, penalty_kind, lambd): the strength 0, the mode the first literal its code compares
    it with; the inventory says which values the kit chose."""
    adapter = adapter_for(tmp_path, REGULARISED_PAIR)
    found = adapter.found.text("linear")
    assert "backward(dout, cache, penalty_kind='none', lambd=0.0)" in found, found
    layer = adapter.make_layer("linear", in_features=4, out_features=2)
    rng = np.random.default_rng(1)
    W, b, x, dy = rng.normal(size=(2, 4)), rng.normal(size=2), rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    layer.set_params({"W": W, "b": b})
    np.testing.assert_allclose(layer.forward(x), x @ W.T + b)
    np.testing.assert_allclose(layer.backward(dy), dy @ W)
    np.testing.assert_allclose(layer.get_grads()["W"], dy.T @ x / 3)


def test_an_option_the_kit_cannot_switch_off_is_not_guessed():
    from conformance.adapters.discovery.objects import switched_off

    def backward(dZ, cache, activation_fn):
        return activation_fn(dZ)

    def scaled(dZ, cache, lambd, mode):
        return dZ if mode == "plain" else lambd * dZ

    assert switched_off(backward, 2) is None
    call, fills = switched_off(scaled, 2)
    assert fills == {"lambd": 0.0, "mode": "plain"} and call(3.0, None) == 3.0
