"""Whole networks and optimisers found by behaviour (conformance/adapters/discovery/networks.py,
optimisers.py): small student files of our own, each correct or with one planted bug that only the
whole chain or the optimiser's trajectory reveals, graded through the real probes and judges."""
from __future__ import annotations

import textwrap

import pytest

from conformance.adapters import build_adapter
from conformance.adapters.base import Missing
from conformance.cases.models import build_gradcheck, checkable_sizes
from conformance.cases.optim import build_optim
from conformance.judges import models, optim
from conformance.loader import load_impl
from conformance.probes.models import pipeline_gradcheck
from conformance.probes.optim import trajectory
from conformance.runner import InProcessRunner, ProbeFailure

LAYERS = '''
import numpy as np

class Dense:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.1
        self.b = np.zeros((1, n_out))
    def forward(self, x):
        self.x = x
        return x @ self.W + self.b
    def backward(self, d):
        self.dW = self.x.T @ d
        self.db = d.sum(axis=0, keepdims=True)
        return d @ self.W.T

class Relu:
    def forward(self, x):
        self.m = x > 0
        return x * self.m
    def backward(self, d):
        return d * self.m

class SoftmaxCE:
    def forward(self, logits, y):
        z = logits - logits.max(axis=1, keepdims=True)
        self.p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        self.y = y
        return -np.log(self.p[np.arange(len(y)), y]).mean()
    def backward(self):
        g = self.p.copy()
        g[np.arange(len(self.y)), self.y] -= 1
        return g / len(self.y)
'''

CONTAINER_VARARGS = '''
class Net:
    def __init__(self, *layers):
        self.layers = list(layers)
    def forward(self, x):
        for l in self.layers:
            x = l.forward(x)
        return x
    def backward(self, grad):
        for l in reversed(self.layers):
            grad = l.backward(grad)
        return grad
'''

CONTAINER_ADD = '''
class Model:
    def __init__(self):
        self.stack = []
    def add(self, layer):
        self.stack.append(layer)
    def predict(self, x):
        for l in self.stack:
            x = l.forward(x)
        return x
    def backprop(self, grad):
        for l in self.stack[::-1]:
            grad = l.backward(grad)
'''

CONTAINER_SIZES = '''
class MLP:
    def __init__(self, sizes):
        self.parts = []
        for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
            self.parts.append(Dense(a, b))
            if k < len(sizes) - 2:
                self.parts.append(Relu())
    def forward(self, x):
        for p in self.parts:
            x = p.forward(x)
        return x
    def backward(self, grad):
        for p in reversed(self.parts):
            grad = p.backward(grad)
'''

SIZES_FIXED = '''
class MLP:
    def __init__(self, sizes):
        self.parts = [Dense(784, 128), Relu(), Dense(128, 10)]
    def forward(self, x):
        for p in self.parts:
            x = p.forward(x)
        return x
    def backward(self, grad):
        for p in reversed(self.parts):
            grad = p.backward(grad)
'''

SOFTMAX_LAYER_PROBS_CE = '''
import numpy as np

class Dense:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.1
        self.b = np.zeros(n_out)
    def forward(self, x):
        self.x = x
        return x @ self.W + self.b
    def backward(self, d):
        self.dW = self.x.T @ d
        self.db = d.sum(axis=0)
        return d @ self.W.T

class Relu:
    def forward(self, x):
        self.m = x > 0
        return x * self.m
    def backward(self, d):
        return d * self.m

class Softmax:
    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.s = e / e.sum(axis=1, keepdims=True)
        return self.s
    def backward(self, d):
        return self.s * (d - (d * self.s).sum(axis=1, keepdims=True))

class CrossEntropy:
    def forward(self, probs, y):
        self.p, self.y = probs, y
        return -np.log(probs[np.arange(len(y)), y] + 1e-300).mean()
    def backward(self):
        g = self.p.copy()
        g[np.arange(len(self.y)), self.y] -= 1
        return g / len(self.y)          # d/dlogits: the softmax is already accounted for

class Net:
    def __init__(self, layers):
        self.layers = layers
    def forward(self, x):
        for l in self.layers:
            x = l.forward(x)
        return x
    def backward(self, grad):
        for l in reversed(self.layers):
            grad = l.backward(grad)   # BUG: also through Softmax, though grad is already d/dlogits
'''

OPTIMISERS = '''
import numpy as np

def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config

def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config

class AdamOpt:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps, self.m, self.v, self.t = lr, beta1, beta2, eps, None, None, 0
    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros_like(v) for k, v in params.items()}
            self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t += 1
        for k in params:
            self.m[k] = self.b1 * self.m[k] + (1 - self.b1) * grads[k]
            self.v[k] = self.b2 * self.v[k] + (1 - self.b2) * grads[k] ** 2
            mh = self.m[k] / (1 - self.b1 ** self.t)
            vh = self.v[k] / (1 - self.b2 ** self.t)
            params[k] -= self.lr * mh / (np.sqrt(vh) + self.eps)
'''

PARAM_OBJECTS = '''
import numpy as np

class Param:
    def __init__(self, data):
        self.data = data
        self.grad = np.zeros_like(data)

class Descent:
    def __init__(self, parameters, lr=0.1):
        self.parameters, self.lr = list(parameters), lr
    def step(self):
        for p in self.parameters:
            p.data -= self.lr * p.grad
'''


def write(tmp_path, source: str, name="student.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return build_adapter(load_impl(str(path)))


def gradcheck(adapter):
    case = build_gradcheck(0)
    out = pipeline_gradcheck(adapter, case)
    return models.judge_pipeline(case, out), out["conventions"]


def optimiser(adapter, kind):
    case = build_optim(kind)
    out = trajectory(adapter, case)
    return optim.judge_optim(case, out), out


COLUMN_NET_NO_COST = '''
import numpy as np

def squash(z):
    return 1.0 / (1.0 + np.exp(-z))

class Net:
    """Column vectors; backprop(x, y) -> (bias grads, weight grads); no cost function, only its derivative."""
    def __init__(self, sizes):
        rng = np.random.default_rng(1)
        self.sizes = sizes
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
        self.weights = [rng.standard_normal((n, m)) for m, n in zip(sizes[:-1], sizes[1:])]
    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = squash(w @ a + b)
        return a
    def backprop(self, x, y):
        acts, zs = [x], []
        for b, w in zip(self.biases, self.weights):
            zs.append(w @ acts[-1] + b)
            acts.append(squash(zs[-1]))
        delta = self.cost_derivative(acts[-1], y) * squash(zs[-1]) * (1 - squash(zs[-1]))
        gb, gw = [None] * len(self.biases), [None] * len(self.weights)
        gb[-1], gw[-1] = delta, delta @ acts[-2].T
        for k in range(2, len(self.sizes)):
            s = squash(zs[-k])
            delta = (self.weights[-k + 1].T @ delta) * s * (1 - s)
            gb[-k], gw[-k] = delta, delta @ acts[-k - 1].T
        return gb, gw
    def cost_derivative(self, out, y):
        return out - y
'''


def test_a_network_with_only_its_cost_derivative_is_checked_on_the_quadratic_cost(tmp_path):
    outcome, conventions = gradcheck(write(tmp_path, COLUMN_NET_NO_COST))
    assert outcome.verdict == "pass", outcome.message
    assert "the quadratic cost 1/2 ||a - y||^2 (your cost_derivative(a, y) is its derivative" in conventions["loss"]
    wrong = COLUMN_NET_NO_COST.replace("delta = self.cost_derivative(acts[-1], y) * squash(zs[-1]) * (1 - squash(zs[-1]))",
                                       "delta = self.cost_derivative(acts[-1], y)")  # the output's sigmoid' forgotten
    outcome, _ = gradcheck(write(tmp_path, wrong, "wrong.py"))
    assert outcome.verdict == "fail", outcome.message


def test_a_network_whose_constructor_requires_an_activation_name_is_built_with_one_its_code_knows(tmp_path):
    """Net(sizes, activation_mode) with the names in a module table ('Sigmoid', 'ReLU'): built with
    'ReLU' as the code spells it; a wrong derivative behind that name still fails."""
    table = '''
def rectify(z):
    return np.maximum(z, 0.0)

def rectify_prime(z):
    return (z > 0).astype(float)

def squash_prime(z):
    return squash(z) * (1 - squash(z))

KINDS = {"Sigmoid": (squash, squash_prime), "ReLU": (rectify, rectify_prime)}
'''
    source = COLUMN_NET_NO_COST.replace("class Net:", table + "\nclass Net:").replace(
        "def __init__(self, sizes):", "def __init__(self, sizes, activation_mode):\n"
        "        self.f, self.f_prime = KINDS[activation_mode]").replace(
        "a = squash(w @ a + b)", "a = self.f(w @ a + b)").replace(
        "acts.append(squash(zs[-1]))", "acts.append(self.f(zs[-1]))").replace(
        "delta = self.cost_derivative(acts[-1], y) * squash(zs[-1]) * (1 - squash(zs[-1]))",
        "delta = self.cost_derivative(acts[-1], y) * self.f_prime(zs[-1])").replace(
        "s = squash(zs[-k])\n            delta = (self.weights[-k + 1].T @ delta) * s * (1 - s)",
        "delta = (self.weights[-k + 1].T @ delta) * self.f_prime(zs[-k])")
    outcome, conventions = gradcheck(write(tmp_path, source))
    assert outcome.verdict == "pass", outcome.message
    assert "Net(sizes, 'ReLU')" in conventions["built"], conventions["built"]
    wrong = source.replace("return (z > 0).astype(float)", "return np.maximum(z, 0.0)")  # relu' as relu
    outcome, _ = gradcheck(write(tmp_path, wrong, "wrong.py"))
    assert outcome.verdict == "fail", outcome.message


BATCH_COLUMNS_NET = '''
import numpy as np

def column_softmax(Z):
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)

def categorical_ce(truth, guess):
    return float(-np.sum(truth * np.log(guess)) / truth.shape[1])

class TwoLayer:
    """Samples as the columns of one matrix; backward(X, Y) reads what forward(X) cached and
    returns (dW1, db1, dW2, db2) averaged over the columns; sizes are keyword defaults."""
    def __init__(self, n_in=784, n_hid=64, n_out=10):
        rng = np.random.default_rng(4)
        self.W1, self.b1 = rng.standard_normal((n_hid, n_in)) * 0.3, np.zeros((n_hid, 1))
        self.W2, self.b2 = rng.standard_normal((n_out, n_hid)) * 0.3, np.zeros((n_out, 1))
    def forward(self, X):
        self.Z1 = self.W1 @ X + self.b1
        self.A1 = np.maximum(self.Z1, 0)
        self.P = column_softmax(self.W2 @ self.A1 + self.b2)
        return self.P
    def backward(self, X, Y):
        m = X.shape[1]
        dZ2 = self.P - Y
        dW2, db2 = dZ2 @ self.A1.T / m, dZ2.sum(axis=1, keepdims=True) / m
        dZ1 = (self.W2.T @ dZ2) * (self.Z1 > 0)
        return dZ1 @ X.T / m, dZ1.sum(axis=1, keepdims=True) / m, dW2, db2
'''


def test_a_batch_of_columns_with_a_backward_that_needs_its_forward_first(tmp_path):
    outcome, conventions = gradcheck(write(tmp_path, BATCH_COLUMNS_NET))
    assert outcome.verdict == "pass", outcome.message
    assert "the whole batch as columns (features, B), after TwoLayer.forward(X)" in conventions["built"], conventions
    summed = BATCH_COLUMNS_NET.replace("db2 = dZ2 @ self.A1.T / m, dZ2.sum(axis=1, keepdims=True) / m",
                                       "db2 = dZ2 @ self.A1.T / m, dZ2.sum(axis=1, keepdims=True)")
    outcome, _ = gradcheck(write(tmp_path, summed, "summed.py"))
    assert outcome.verdict == "fail", outcome.message
    # two hidden layers cannot be had from its three sizes: the kit's guess, never the student's error
    with pytest.raises(Missing, match=r"TwoLayer cannot be built with 3 layers \(2-64-32-3\)"):
        write(tmp_path, BATCH_COLUMNS_NET, "again.py").make_pipeline([2, 64, 32, 3])


COST_ARGUMENT_NET = '''
import numpy as np

def squash(z):
    return 1.0 / (1.0 + np.exp(-z))

class SquaredCost:
    def __call__(self, a, y):
        return 0.5 * float(np.sum((a - y) ** 2))
    def delta(self, a, y, z):
        return (a - y) * squash(z) * (1 - squash(z))

class LogCost:
    def __call__(self, a, y):
        return float(np.sum(-y * np.log(a) - (1 - y) * np.log(1 - a)))
    def delta(self, a, y, z):
        return a - y

class Net:
    """Net(sizes, cost) with the cost an object of the student's; backpropagate(X, Y) on a batch of
    columns returns (bias grads, weight grads) summed over the batch."""
    def __init__(self, sizes, cost):
        rng = np.random.default_rng(8)
        self.cost = cost
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
        self.weights = [rng.standard_normal((n, m)) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]
    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = squash(w @ a + b)
        return a
    def backpropagate(self, X, Y):
        acts, zs = [X], []
        for b, w in zip(self.biases, self.weights):
            zs.append(w @ acts[-1] + b)
            acts.append(squash(zs[-1]))
        delta = self.cost.delta(acts[-1], Y, zs[-1])
        gb, gw = [None] * len(self.biases), [None] * len(self.weights)
        gb[-1], gw[-1] = delta.sum(axis=1, keepdims=True), delta @ acts[-2].T
        for k in range(2, len(self.weights) + 1):
            s = squash(zs[-k])
            delta = (self.weights[-k + 1].T @ delta) * s * (1 - s)
            gb[-k], gw[-k] = delta.sum(axis=1, keepdims=True), delta @ acts[-k - 1].T
        return gb, gw
'''


def test_a_network_built_with_its_own_cost_object_is_judged_on_that_cost(tmp_path):
    outcome, conventions = gradcheck(write(tmp_path, COST_ARGUMENT_NET))
    assert outcome.verdict == "pass", outcome.message
    assert "built as Net(sizes, LogCost())" in conventions["built"], conventions
    assert conventions["loss"].startswith("LogCost.__call__ on the batch's outputs"), conventions
    wrong = COST_ARGUMENT_NET.replace("        return a - y\n", "        return (a - y) * squash(z)\n")
    outcome, _ = gradcheck(write(tmp_path, wrong, "wrong.py"))
    assert outcome.verdict == "fail", outcome.message


NETWORKS = [  # (id, source, verdict, words the conventions' "built" must contain, cause on fail)
    ("chained", LAYERS, "pass", "chained by the kit", None),
    ("varargs_container", LAYERS + CONTAINER_VARARGS, "pass", "Net(*layers)", None),
    ("add_container", LAYERS + CONTAINER_ADD, "pass", ".add(layer)", None),
    ("sizes_container", LAYERS + CONTAINER_SIZES, "pass", "MLP(sizes)", None),
    ("double_average", LAYERS.replace("self.dW = self.x.T @ d", "self.dW = self.x.T @ d / len(d)"), "fail",
     "chained", None),
    ("softmax_jacobian_in_container", SOFTMAX_LAYER_PROBS_CE, "fail", "Net([layers])", None),
]


@pytest.mark.parametrize("case_id, source, verdict, built, cause", NETWORKS, ids=[n[0] for n in NETWORKS])
def test_whole_network_found_by_behaviour(tmp_path, case_id, source, verdict, built, cause):
    outcome, conventions = gradcheck(write(tmp_path, source))
    assert outcome.verdict == verdict, outcome.message
    assert built in conventions["built"], conventions


def test_double_average_is_named(tmp_path):
    source = LAYERS.replace("self.dW = self.x.T @ d", "self.dW = self.x.T @ d / len(d)")
    outcome, _ = gradcheck(write(tmp_path, source))
    assert "1/B" in outcome.message or "average" in outcome.message, outcome.message


def test_softmax_jacobian_on_dlogits_is_named(tmp_path):
    outcome, _ = gradcheck(write(tmp_path, SOFTMAX_LAYER_PROBS_CE))
    assert "softmax" in outcome.message.lower(), outcome.message


def test_a_container_with_fixed_sizes_is_not_used_and_says_why(tmp_path):
    adapter = write(tmp_path, LAYERS + SIZES_FIXED)
    assert adapter.found.container is None
    assert any("MLP" in r and "sizes" in r for r in adapter.found.rejected["container"]), adapter.found.rejected
    outcome, conventions = gradcheck(adapter)  # the layers are still judged, chained by the kit
    assert outcome.verdict == "pass" and "chained" in conventions["built"]


FIXED_NETWORK = """
import numpy as np

class Zk:
    def __init__(self):
        r = np.random.default_rng(1)
        self.q1, self.q2 = r.normal(0, 0.1, (30, 9)), np.zeros(9)
        self.q3, self.q4 = r.normal(0, 0.1, (9, 6)), np.zeros(6)

    def forward(self, X):
        self.q5 = X
        self.q6 = np.maximum(X @ self.q1 + self.q2, 0)
        s = self.q6 @ self.q3 + self.q4
        e = np.exp(s - s.max(axis=1, keepdims=True))
        self.q7 = e / e.sum(axis=1, keepdims=True)
        return self.q7

    def loss(self, X, y):
        p, n = self.forward(X), len(y)
        d = p.copy()
        d[np.arange(n), y] -= 1
        d /= n
        dh = (d @ self.q3.T) * (self.q6 > 0)
        g = {"q1": self.q5.T @ dh, "q2": dh.sum(0), "q3": self.q6.T @ d, "q4": d.sum(0)}
        return float(-np.mean(np.log(p[np.arange(n), y]))), g
"""


def test_a_network_that_fixes_its_sizes_is_checked_at_them_and_says_so(tmp_path):
    adapter = write(tmp_path, FIXED_NETWORK)
    assert adapter.network_sizes([5, 7, 4]) == [30, 9, 6]
    case = build_gradcheck(0, sizes=checkable_sizes({"sizes": adapter.network_sizes([5, 7, 4])}))
    outcome = models.judge_pipeline(case, InProcessRunner(adapter).call("model_gradcheck.pipeline", case))
    assert outcome.verdict == "pass", outcome.message
    with pytest.raises(Exception, match="fixes its sizes at 30-9-6 in its code"):
        adapter.make_pipeline([2, 8, 2])
    buggy = write(tmp_path, FIXED_NETWORK.replace("d /= n", "d /= n * n"), "buggy.py")
    outcome = models.judge_pipeline(case, InProcessRunner(buggy).call("model_gradcheck.pipeline", case))
    assert (outcome.verdict, outcome.cause) == ("fail", "double_batch_average")


def test_a_network_that_fixes_its_sizes_trains_at_them_when_the_task_allows(tmp_path):
    """A model that always builds 2-16-2 trains on XOR (2 inputs, 2 classes) at 2-16-2 through the
    suite's own training check, which says so; spiral (3 classes) cannot use it and is missing."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from conformance.cases.training import TASKS, own_sizes

    source = FIXED_NETWORK.replace("(30, 9)", "(2, 16)").replace("np.zeros(9)", "np.zeros(16)") \
        .replace("(9, 6)", "(16, 2)").replace("np.zeros(6)", "np.zeros(2)")
    impl, report = tmp_path / "fixed_xor.py", tmp_path / "report.json"
    impl.write_text(source)
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pytest", "conformance/test_training_xor.py", "conformance/test_training_spiral.py",
                    "--impl", str(impl), "--report", str(report), "-q", "-p", "no:cacheprovider", "-o", "addopts="],
                   cwd=root, capture_output=True, text=True, timeout=600)
    entries = json.loads(report.read_text())["components"]
    xor, spiral = entries["training_xor"], entries["training_spiral"]
    assert xor["verdict"] == "pass", xor
    assert "own sizes 2-16-2" in json.dumps(xor), xor
    assert spiral["verdict"] == "missing" and "fixes its sizes at 2-16-2" in json.dumps(spiral), spiral
    case, said = own_sizes(TASKS["mnist"], {"sizes": [784, 128, 10]}, {"sizes": [784, 100, 10]})
    assert case["sizes"] == [784, 100, 10] and "784-100-10" in said
    for other in ({"sizes": [784, 100, 5]}, {"sizes": [30, 9, 10]}, {"sizes": [784, 128, 10]}, None):
        assert own_sizes(TASKS["mnist"], {"sizes": [784, 128, 10]}, other) == ({"sizes": [784, 128, 10]}, "")


def test_sizes_a_probe_claims_are_used_only_when_plausible():
    assert checkable_sizes({"sizes": [784, 128, 10]}) == (784, 128, 10)
    for bad in ({"sizes": [784, -1, 10]}, {"sizes": "784"}, {"sizes": [10**6, 2, 2]}, None, {"sizes": [3, True, 2]}):
        assert checkable_sizes(bad) == (5, 7, 4)


def test_the_kit_steps_with_the_students_sgd_when_found(tmp_path):
    adapter = write(tmp_path, LAYERS + OPTIMISERS)
    pipe = adapter.make_pipeline([5, 7, 4])
    assert "sgd" in pipe.conventions["update"]
    bare = write(tmp_path, LAYERS, "bare.py").make_pipeline([5, 7, 4])
    assert "kit's plain SGD" in bare.conventions["update"]


HOLDS_ARRAYS = '''
import numpy as np

class RMSLike:
    """Adam on the arrays it is given once; each step is handed the gradients, in the same order."""
    def __init__(self, params, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0
    def step(self, grads):
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
            self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * g * g
            p -= self.lr * (self.m[i] / (1 - self.b1 ** self.t)) / (np.sqrt(self.v[i] / (1 - self.b2 ** self.t)) + self.eps)
'''

LAYER_LISTS = '''
import numpy as np

class Affine:
    def __init__(self, n_in, n_out):
        self.kernel = np.random.randn(n_out, n_in) * 0.1
        self.offset = np.zeros(n_out)
    def forward(self, x):
        self.x = x
        return x @ self.kernel.T + self.offset
    def backward(self, d):
        self.d_kernel = d.T @ self.x
        self.d_offset = d.sum(axis=0)
        return d @ self.kernel
    def parameters(self):
        return [self.kernel, self.offset]
    def gradients(self):
        return [self.d_kernel, self.d_offset]

class HeavyBall:
    """Momentum that is handed the network once and walks its layers at each step."""
    def __init__(self, net, lr=0.01, momentum=0.9):
        self.net, self.lr, self.momentum, self.v = net, lr, momentum, {}
    def step(self):
        for layer in self.net.layers:
            for j, (p, g) in enumerate(zip(layer.parameters(), layer.gradients())):
                key = (id(layer), j)
                self.v[key] = self.momentum * self.v.get(key, 0.0) - self.lr * g
                p += self.v[key]
'''

OPTIMISER_CASES = [  # (id, source, kind, verdict, the api the kit drove)
    ("holds_arrays_step_grads", HOLDS_ARRAYS, "adam", "pass", "RMSLike(params list, lr).step(grads list)"),
    ("holds_arrays_step_grads_t_per_array", HOLDS_ARRAYS.replace("        self.t += 1\n", "").replace(
        "            self.m[i] = ", "            self.t += 1\n            self.m[i] = "), "adam", "fail", "RMSLike"),
    ("holds_model_walks_layers", LAYER_LISTS, "momentum", "pass", "HeavyBall(model with .layers, lr).step()"),
    ("holds_model_velocity_sign", LAYER_LISTS.replace("p += self.v[key]", "p -= self.v[key]"), "momentum", "fail",
     "HeavyBall"),
    ("config_sgd", OPTIMISERS, "sgd", "pass", "sgd(w, dw, config)"),
    ("config_momentum", OPTIMISERS, "momentum", "pass", "sgd_momentum(w, dw, config)"),
    ("class_adam_dicts", OPTIMISERS, "adam", "pass", "AdamOpt(lr).update(params, grads)"),
    ("param_objects", PARAM_OBJECTS, "sgd", "pass", "Descent([param objects"),
    ("momentum_sign_error", OPTIMISERS.replace("return w + v, config", "return w - v, config"), "momentum", "fail",
     "sgd_momentum"),
    ("adam_without_bias_correction", OPTIMISERS.replace("mh = self.m[k] / (1 - self.b1 ** self.t)", "mh = self.m[k]"),
     "adam", "fail", "AdamOpt"),
    ("layer_step", LAYERS + '''
class GD:
    def __init__(self, lr=0.1):
        self.lr = lr
    def step(self, layers):
        for l in layers:
            l.W -= self.lr * l.dW
            l.b -= self.lr * l.db
''', "sgd", "pass", "GD(lr).step(list)"),
]


@pytest.mark.parametrize("case_id, source, kind, verdict, api", OPTIMISER_CASES, ids=[c[0] for c in OPTIMISER_CASES])
def test_optimiser_found_by_behaviour(tmp_path, case_id, source, kind, verdict, api):
    outcome, out = optimiser(write(tmp_path, source), kind)
    assert outcome.verdict == verdict, outcome.message
    assert api in out["conventions"]["api"], out["conventions"]


def test_no_optimiser_is_missing_with_a_sentence(tmp_path):
    runner = InProcessRunner(write(tmp_path, LAYERS))
    with pytest.raises(ProbeFailure) as info:
        runner.call("optim.trajectory", build_optim("adam"))
    assert info.value.kind == "missing"
    assert "no adam optimiser found by behaviour" in info.value.message


def test_an_optimiser_that_moves_nothing_is_not_taken(tmp_path):
    frozen = PARAM_OBJECTS.replace("p.data -= self.lr * p.grad", "pass")
    runner = InProcessRunner(write(tmp_path, frozen))
    with pytest.raises(ProbeFailure) as info:
        runner.call("optim.trajectory", build_optim("sgd"))
    assert info.value.kind == "missing" and "moved every parameter" in info.value.message, info.value.message


def test_init_reads_the_constructor_where_discovery_found_its_weights(tmp_path):
    """Assignment 003's style reads layer.params; this Dense keeps W in .W: the draw comes from the
    layer discovery found, judged as He because assignment 003 asks Dense for He and the code says
    nothing (issue #13). The name Dense alone only makes the kit guess that style: then the
    assignment's He is not assumed, and the check says so."""
    from conformance.cases.init import build_init
    from conformance.judges.init import kind_judge

    guessed = write(tmp_path, LAYERS)
    assert guessed.style == "dense_net" and guessed.base.weak
    out = InProcessRunner(guessed).call("init.draw", build_init(0))
    assert out["asked"] == [] and "matched to the dense_net style by its names alone" in out["he"], out["he"]
    adapter = build_adapter(load_impl(str(tmp_path / "student.py")), style="dense_net")
    case = build_init(0)
    out = InProcessRunner(adapter).call("init.draw", case)
    assert out["asked"] == ["he"] and "assignment asks" in out["claims"]["he"]
    he = kind_judge("he")(case, out)
    assert (he.verdict, he.cause) == ("fail", "wrong_init_variance")  # 0.1 * randn: variance 1e-2, not He at 512 inputs
    assert "matches no common initialiser" in he.message
    assert kind_judge("xavier")(case, out).verdict == "pass"  # not asked for, and absent


def test_a_students_own_attribute_error_is_not_taken_for_the_kits(tmp_path):
    from conformance.runner import kit_guess

    namespace = {}
    exec(compile("def forward(layer):\n    return layer.weights\n", str(tmp_path / "student.py"), "exec"), namespace)
    try:
        namespace["forward"](object())
    except AttributeError as exc:
        assert kit_guess(exc) is None  # raised on the student's own line
    else:
        pytest.fail("the student's forward should raise")


NUMERIC_GRADIENT = '''
def eval_numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        old = x[i]
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad
'''

LAYER_CHECKER = '''
def grad_check(layer, x, dout, eps=1e-6):
    layer.forward(x)
    dx = layer.backward(dout)
    num = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        xp = x.copy()
        xp[i] += eps
        xm = x.copy()
        xm[i] -= eps
        num[i] = (np.sum(layer.forward(xp) * dout) - np.sum(layer.forward(xm) * dout)) / (2 * eps)
    return np.max(np.abs(num - dx) / (np.abs(num) + np.abs(dx) + 1e-12))
'''

CHECKERS = [  # (id, source, verdict, cause)
    ("numerical_gradient_function", LAYERS + NUMERIC_GRADIENT, "pass", None),
    ("numerical_gradient_without_halving", LAYERS + NUMERIC_GRADIENT.replace("(fp - fm) / (2 * h)", "(fp - fm) / h"),
     "fail", "checker_too_strict"),
    ("layer_checker", LAYERS + LAYER_CHECKER, "pass", None),
    ("layer_checker_absolute_and_loose", LAYERS + LAYER_CHECKER.replace(
        "return np.max(np.abs(num - dx) / (np.abs(num) + np.abs(dx) + 1e-12))", "return np.max(np.abs(num - dx)) < 1.0"),
     "fail", "checker_too_lenient"),
    # the student's own Dense is wrong, yet the checker is judged on the kit's stand-in: still right
    ("layer_checker_beside_a_broken_layer", LAYERS.replace("return d @ self.W.T", "return d @ self.W.T * 2") + LAYER_CHECKER,
     "pass", None),
]


@pytest.mark.parametrize("case_id, source, verdict, cause", CHECKERS, ids=[c[0] for c in CHECKERS])
def test_gradient_checker_found_by_behaviour(tmp_path, case_id, source, verdict, cause):
    from conformance.judges.gradchecker import judge_gradchecker

    runner = InProcessRunner(write(tmp_path, source))
    outcome = judge_gradchecker({"seed": 0}, runner.call("gradient_checker.verdicts", {"seed": 0}))
    assert outcome.verdict == verdict, outcome.message
    assert outcome.cause == cause


def test_no_checker_is_missing_with_what_was_looked_for(tmp_path):
    with pytest.raises(ProbeFailure) as info:
        InProcessRunner(write(tmp_path, LAYERS)).call("gradient_checker.verdicts", {"seed": 0})
    assert info.value.kind == "missing" and "no gradient checker found by behaviour" in info.value.message


def test_a_fit_only_class_gets_the_sentence_that_says_what_the_kit_needs(tmp_path):
    source = '''
import numpy as np

class Classifier:
    def __init__(self, n_hidden=10):
        self.n_hidden = n_hidden
    def fit(self, X, y, epochs=10):
        self.W = np.zeros((X.shape[1], 3))
    def predict(self, X):
        return np.argmax(X @ self.W, axis=1)
'''
    with pytest.raises(ProbeFailure) as info:
        InProcessRunner(write(tmp_path, source)).call("model_gradcheck.pipeline", build_gradcheck(0))
    assert info.value.kind == "missing"
    assert "Classifier offers fit" in info.value.message and "--map" in info.value.message


def test_the_report_says_how_the_network_was_built(tmp_path):
    outcome, _ = gradcheck(write(tmp_path, LAYERS + CONTAINER_VARARGS))
    assert outcome.evidence["convention"].startswith("network: your container Net")


# A network of weight lists taking a batch of columns whose backprop reads an attribute only its own
# training loop sets (self.batch_size): it raises in its own line whatever the kit gives it. Found,
# and model_gradcheck is the student's error at that line; a raise the kit's inputs may have caused
# (a shape) leaves the network not found, as before.
UNSET_ATTRIBUTE_NET = '''
import numpy as np

def squash(z):
    return 1.0 / (1.0 + np.exp(-z))

class Columns:
    def __init__(self, sizes):
        rng = np.random.default_rng(0)
        self.weights = [rng.standard_normal((n, m)) for m, n in zip(sizes[:-1], sizes[1:])]
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]

    def feedforward(self, A):
        for W, b in zip(self.weights, self.biases):
            A = squash(W @ A + b)
        return A

    def cost_derivative(self, output, y):
        return output - y

    def train(self, X, Y, batch_size, eta):
        self.batch_size = batch_size

    def backprop(self, X, Y):
        grads_b = [np.zeros((b.shape[0], self.batch_size)) for b in self.biases]
        return grads_b, [np.zeros_like(W) for W in self.weights]
'''


def test_a_gradient_method_reading_an_attribute_only_training_sets_is_the_students_error(tmp_path):
    from conformance.runner import InProcessRunner, ProbeFailure

    adapter = write(tmp_path, UNSET_ATTRIBUTE_NET)
    assert "Columns.backprop(X, y) raised AttributeError: 'Columns' object has no attribute 'batch_size'" in \
        adapter.inventory()["model_gradcheck"].detail
    with pytest.raises(ProbeFailure) as info:
        InProcessRunner(adapter).call("model_gradcheck.pipeline", build_gradcheck(0))
    line = UNSET_ATTRIBUTE_NET.splitlines().index("        grads_b = [np.zeros((b.shape[0], self.batch_size)) "
                                                   "for b in self.biases]") + 1
    assert info.value.kind == "error" and f"student.py, line {line})" in info.value.message, info.value.message
    shaped = UNSET_ATTRIBUTE_NET.replace("self.batch_size)) for b", "X.shape[0] + Y.shape[5])) for b")
    with pytest.raises(ProbeFailure) as info:
        InProcessRunner(write(tmp_path, shaped, "shaped.py")).call("model_gradcheck.pipeline", build_gradcheck(0))
    assert info.value.kind == "missing", info.value.message
