"""Optimisers in the calling conventions real student code uses (conformance/adapters/discovery/
optimisers.py): hooks called around each step, a step count handed to each update, a momentum told
apart from a learning-rate decay by what it does, optimiser classes nested in a namespace class,
Nielsen's update_mini_batch with a regularisation strength, and layers that step themselves one
sample at a time. Each source is our own small code of the shape real code has, graded through the
real probe and judge."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conformance.adapters import build_adapter
from conformance.cases.optim import build_optim
from conformance.judges import optim
from conformance.loader import load_impl
from conformance.probes.optim import trajectory
from conformance.runner import InProcessRunner, ProbeFailure

ZOO = Path(__file__).parent / "zoo" / "networks"


def write(tmp_path, source: str, name="student.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return build_adapter(load_impl(str(path)))


def graded(adapter, kind):
    case = build_optim(kind)
    out = trajectory(adapter, case)
    return optim.judge_optim(case, out), out["conventions"]["api"]


DENSE = '''
import numpy as np

class Dense:
    def __init__(self, n_in, n_out):
        self.weights = 0.1 * np.random.randn(n_in, n_out)
        self.biases = np.zeros((1, n_out))
    def forward(self, x):
        self.inputs = x
        return x @ self.weights + self.biases
    def backward(self, dvalues):
        self.dweights = self.inputs.T @ dvalues
        self.dbiases = dvalues.sum(axis=0, keepdims=True)
        return dvalues @ self.weights.T
'''

# the step count lives in a hook: pre_update_params() decays the rate, post_update_params() counts
HOOKED_ADAM = DENSE + '''
class AdamWithHooks:
    def __init__(self, learning_rate=0.001, decay=0.0, epsilon=1e-8, beta_1=0.9, beta_2=0.999):
        self.learning_rate, self.decay, self.epsilon = learning_rate, decay, epsilon
        self.beta_1, self.beta_2 = beta_1, beta_2
        self.rate, self.done = learning_rate, 0
    def pre_update_params(self):
        self.rate = self.learning_rate / (1.0 + self.decay * self.done)
    def update_params(self, layer):
        if not hasattr(layer, "moments"):
            layer.moments = {p: [np.zeros_like(getattr(layer, p)), np.zeros_like(getattr(layer, p))]
                             for p in ("weights", "biases")}
        k = self.done + 1
        for p in ("weights", "biases"):
            g = getattr(layer, "d" + p)
            m, v = layer.moments[p]
            m = self.beta_1 * m + (1 - self.beta_1) * g
            v = self.beta_2 * v + (1 - self.beta_2) * g * g
            layer.moments[p] = [m, v]
            step = self.rate * (m / (1 - self.beta_1 ** k)) / (np.sqrt(v / (1 - self.beta_2 ** k)) + self.epsilon)
            setattr(layer, p, getattr(layer, p) - step)
    def post_update_params(self):
        self.done += 1
'''

# the same Adam driven by one method that calls its own hooks: they must not be called twice
SELF_HOOKED_ADAM = HOOKED_ADAM.replace("    def post_update_params(self):", '''    def step(self, layers):
        self.pre_update_params()
        for layer in layers:
            self.update_params(layer)
        self.post_update_params()
    def post_update_params(self):''').replace("def update_params(self, layer)", "def apply_one(self, layer)") \
    .replace("self.update_params(layer)", "self.apply_one(layer)")

# MiNNi's shape: beta is a learning-rate decay, gamma the momentum; an AdaGrad that takes a beta too
DECAY_AND_GAMMA = DENSE + '''
class Descent:
    def __init__(self, eta=1.0, beta=0.0, gamma=0.0):
        self.eta, self.beta, self.gamma = eta, beta, gamma
        self.t, self.eta_t = 0, eta
    def pre_update(self):
        self.eta_t = self.eta / (1.0 + self.beta * self.t)
    def update(self, layer):
        if not hasattr(layer, "vel_w"):
            layer.vel_w, layer.vel_b = np.zeros_like(layer.weights), np.zeros_like(layer.biases)
        layer.vel_w = self.gamma * layer.vel_w - self.eta_t * layer.dweights
        layer.vel_b = self.gamma * layer.vel_b - self.eta_t * layer.dbiases
        layer.weights = layer.weights + layer.vel_w
        layer.biases = layer.biases + layer.vel_b
    def post_update(self):
        self.t += 1

class AdaGradDecay:
    def __init__(self, eta=1.0, beta=0.0):
        self.eta, self.beta, self.t, self.eta_t = eta, beta, 0, eta
    def pre_update(self):
        self.eta_t = self.eta / (1.0 + self.beta * self.t)
    def update(self, layer):
        if not hasattr(layer, "acc_w"):
            layer.acc_w, layer.acc_b = np.zeros_like(layer.weights), np.zeros_like(layer.biases)
        layer.acc_w = layer.acc_w + layer.dweights ** 2
        layer.acc_b = layer.acc_b + layer.dbiases ** 2
        layer.weights = layer.weights - self.eta_t * layer.dweights / (np.sqrt(layer.acc_w) + 1e-7)
        layer.biases = layer.biases - self.eta_t * layer.dbiases / (np.sqrt(layer.acc_b) + 1e-7)
    def post_update(self):
        self.t += 1
'''

# update_params(layer, epoch): the count feeds a decay, and Adam's bias correction as epoch + 1
EPOCH_ARG = DENSE + '''
class SGDEpochs:
    def __init__(self, learning_rate=1.0, decay=0.0, momentum=0.0):
        self.learning_rate, self.decay, self.momentum = learning_rate, decay, momentum
    def rate(self, epoch):
        return self.learning_rate / (1.0 + self.decay * epoch)
    def update_params(self, layer, epoch):
        if not hasattr(layer, "vw"):
            layer.vw, layer.vb = np.zeros_like(layer.weights), np.zeros_like(layer.biases)
        layer.vw = self.momentum * layer.vw - self.rate(epoch) * layer.dweights
        layer.vb = self.momentum * layer.vb - self.rate(epoch) * layer.dbiases
        layer.weights += layer.vw
        layer.biases += layer.vb

class AdamEpochs:
    def __init__(self, learning_rate=0.001, epsilon=1e-8, beta_1=0.9, beta_2=0.999):
        self.learning_rate, self.epsilon, self.beta_1, self.beta_2 = learning_rate, epsilon, beta_1, beta_2
    def update_params(self, layer, epoch):
        if not hasattr(layer, "mw"):
            layer.mw, layer.mb = np.zeros_like(layer.weights), np.zeros_like(layer.biases)
            layer.sw, layer.sb = np.zeros_like(layer.weights), np.zeros_like(layer.biases)
        layer.mw = self.beta_1 * layer.mw + (1 - self.beta_1) * layer.dweights
        layer.mb = self.beta_1 * layer.mb + (1 - self.beta_1) * layer.dbiases
        layer.sw = self.beta_2 * layer.sw + (1 - self.beta_2) * layer.dweights ** 2
        layer.sb = self.beta_2 * layer.sb + (1 - self.beta_2) * layer.dbiases ** 2
        c1, c2 = 1 - self.beta_1 ** (epoch + 1), 1 - self.beta_2 ** (epoch + 1)
        layer.weights -= self.learning_rate * (layer.mw / c1) / (np.sqrt(layer.sw / c2) + self.epsilon)
        layer.biases -= self.learning_rate * (layer.mb / c1) / (np.sqrt(layer.sb / c2) + self.epsilon)
'''

# the torch-flavoured engine of the zoo, its optimisers nested in a namespace class and handed the model
ENGINE = (ZOO / "tensor_module_engine.py").read_text().split("class Optimizer:")[0]
NESTED = ENGINE + '''
class optim:
    class SGD:
        def __init__(self, model, lr):
            self.model, self.lr = model, lr
        def step(self):
            for p in self.model.parameters():
                p.data = p.data - self.lr * p.grad
        def zero_grad(self):
            for p in self.model.parameters():
                p.grad = None

    class Adam:
        def __init__(self, model, lr=0.001, b1=0.9, b2=0.999, eps=1e-8):
            self.model, self.lr, self.b1, self.b2, self.eps = model, lr, b1, b2, eps
            self.m, self.v, self.t = {}, {}, 0
        def step(self):
            self.t += 1
            for p in self.model.parameters():
                m = self.b1 * self.m.get(id(p), 0.0) + (1 - self.b1) * p.grad
                v = self.b2 * self.v.get(id(p), 0.0) + (1 - self.b2) * p.grad ** 2
                self.m[id(p)], self.v[id(p)] = m, v
                m_hat, v_hat = (m / (1 - self.b1 ** self.t)), v / (1 - self.b2 ** self.t)
                p.data = p.data - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
'''

# Nielsen's network2: update_mini_batch(mini_batch, eta, lmbda, n) with L2 weight decay
NIELSEN = (ZOO / "nielsen_network_sizes.py").read_text()
NETWORK2 = NIELSEN.replace("def update_mini_batch(self, mini_batch, eta):",
                           "def update_mini_batch(self, mini_batch, eta, lmbda, n):") \
    .replace("self.weights = [w - (eta / len(mini_batch)) * nw",
             "self.weights = [(1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw") \
    .replace("self.update_mini_batch(training_data[k:k + mini_batch_size], eta)",
             "self.update_mini_batch(training_data[k:k + mini_batch_size], eta, 0.0, n)")

# a layer stepping itself in backward(error, lr), its bias error one row per sample (not summed):
# it works one sample at a time, as its network feeds it
SELF_UPDATING = (ZOO / "self_updating_layers.py").read_text()
PER_SAMPLE_BIAS = SELF_UPDATING.replace("self.bias_error = output_error.sum(axis=0, keepdims=True)",
                                        "self.bias_error = output_error")

# a layer built with its rate, stepping itself in backward(dy) (no lr argument), chained by a list container
HELD_RATE = '''
import numpy as np

class Affine:
    def __init__(self, n_in, n_out, lr=0.01):
        self.W = np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in)
        self.b = np.zeros((1, n_out))
        self.lr = lr

    def forward(self, X):
        self.X = X
        return X @ self.W + self.b

    def backward(self, dOut):
        dX = dOut @ self.W.T
        self.W -= self.lr * (self.X.T @ dOut)
        self.b -= self.lr * dOut.sum(axis=0, keepdims=True)
        return dX

class Rectifier:
    def forward(self, X):
        self.mask = X > 0
        return X * self.mask

    def backward(self, dOut):
        return dOut * self.mask

class Stack:
    def __init__(self, layers):
        self.layers = layers

    def forward(self, X):
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, grad):
        for layer in reversed(self.layers):
            grad = layer.backward(grad)

class LogitLoss:
    def forward(self, z, y):
        shifted = z - z.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.p, self.y = np.exp(logp), y
        return -logp[np.arange(len(y)), y].mean()

    def backward(self):
        g = self.p.copy()
        g[np.arange(len(self.y)), self.y] -= 1
        return g / len(self.y)
'''

CASES = [  # (id, source, kind, verdict, words of the api the kit drove)
    ("hooks_around_each_step", HOOKED_ADAM, "adam", "pass",
     "update_params(layer), with pre_update_params() before and post_update_params() after each step"),
    ("hooks_the_step_calls_itself", SELF_HOOKED_ADAM, "adam", "pass", "AdamWithHooks(lr).step(list)"),
    ("hooks_adam_counting_wrong", HOOKED_ADAM.replace("k = self.done + 1", "k = self.done + 2"), "adam", "fail",
     "pre_update_params()"),
    ("gamma_is_the_momentum", DECAY_AND_GAMMA, "momentum", "pass", "Descent(lr).update(layer)"),
    ("gamma_momentum_sign_error", DECAY_AND_GAMMA.replace("layer.weights = layer.weights + layer.vel_w",
                                                          "layer.weights = layer.weights - layer.vel_w"),
     "momentum", "fail", "Descent"),
    ("gamma_zero_is_sgd", DECAY_AND_GAMMA, "sgd", "pass", "Descent(lr).update(layer)"),
    ("epoch_argument_sgd", EPOCH_ARG, "sgd", "pass", "update_params(layer, epoch) with epoch counting steps from 0"),
    ("epoch_argument_momentum", EPOCH_ARG, "momentum", "pass", "SGDEpochs(lr).update_params(layer, epoch)"),
    ("epoch_argument_adam", EPOCH_ARG, "adam", "pass", "AdamEpochs(lr).update_params(layer, epoch)"),
    ("epoch_counted_from_one", EPOCH_ARG.replace("(epoch + 1)", "epoch"), "adam", "pass",
     "epoch counting steps from 1"),
    ("nested_sgd_on_model_parameters", NESTED, "sgd", "pass", "optim.SGD(model, lr).step() with model.parameters()"),
    ("nested_adam_on_model_parameters", NESTED, "adam", "pass", "optim.Adam(model, lr).step()"),
    ("nested_adam_without_correction", NESTED.replace("(m / (1 - self.b1 ** self.t))", "m"), "adam", "fail",
     "optim.Adam"),
    ("network2_mini_batch_with_lmbda", NETWORK2, "sgd", "pass", "update_mini_batch(mini_batch, lr, lmbda=0, n=1)"),
    ("self_updating_per_sample_bias", PER_SAMPLE_BIAS, "sgd", "pass", "FCLayer.backward(dy, lr)"),
    ("self_updating_per_sample_bias_sign", PER_SAMPLE_BIAS.replace("self.bias -= learning_rate * self.bias_error",
                                                                   "self.bias += learning_rate * self.bias_error"),
     "sgd", "fail", "FCLayer.backward(dy, lr)"),
    ("self_updating_with_its_own_rate", HELD_RATE, "sgd", "pass",
     "Affine.backward(dy) with the rate it was built with set to the kit's lr"),
    ("self_updating_with_its_own_rate_sign", HELD_RATE.replace("self.W -= self.lr", "self.W += self.lr"),
     "sgd", "fail", "Affine.backward(dy)"),
]


@pytest.mark.parametrize("case_id, source, kind, verdict, api", CASES, ids=[c[0] for c in CASES])
def test_optimiser_convention(tmp_path, case_id, source, kind, verdict, api):
    outcome, how = graded(write(tmp_path, source), kind)
    assert outcome.verdict == verdict, outcome.message
    assert api in how, how


def test_a_decay_named_beta_is_not_a_momentum(tmp_path):
    """AdaGradDecay(eta, beta) takes a beta, but its first step is not proportional to the gradient:
    it is neither momentum nor plain SGD; Descent's gamma carries a velocity and is the momentum."""
    adapter = write(tmp_path, DECAY_AND_GAMMA)
    found = adapter.found.optimisers
    assert found["momentum"].name == "Descent" and "gamma taken as the momentum" in found["momentum"].how
    assert all(f.name != "AdaGradDecay" for f in found.values()), found
    alone = write(tmp_path, DECAY_AND_GAMMA.split("class Descent")[0] + "class AdaGradDecay" +
                  DECAY_AND_GAMMA.split("class AdaGradDecay")[1], "adagrad_only.py")
    with pytest.raises(ProbeFailure) as info:
        InProcessRunner(alone).call("optim.trajectory", build_optim("momentum"))
    assert info.value.kind == "missing"


def test_a_container_of_layers_stepping_with_their_own_rate_reads_gradients_over_that_rate(tmp_path):
    """Affine(.., lr=0.01) steps itself inside Stack.backward: the gradient is the step over 0.01, not
    over the kit's 0.1 (a factor 10 the student never wrote)."""
    from conformance.cases import models
    from conformance.judges.models import judge_pipeline

    case = models.build_gradcheck(seed=0, sizes=(5, 7, 4), batch=6, directions=3)
    out = InProcessRunner(write(tmp_path, HELD_RATE)).call("model_gradcheck.pipeline", case)
    outcome = judge_pipeline(case, out)
    assert outcome.verdict == "pass", outcome.message
    assert "update themselves" in out["conventions"]["built"] and "(0.01)" in out["conventions"]["built"]
