"""A small torch-like library: layers keep params/grads dicts (W is (in, out)), Sequential(*layers)
chains them, and the optimisers are built on model.parameters() and then step() with no argument."""
import numpy as np


class Linear:
    def __init__(self, in_features, out_features):
        scale = np.sqrt(2.0 / in_features)
        self.params = {"W": np.random.randn(in_features, out_features) * scale, "b": np.zeros(out_features)}
        self.grads = {"W": np.zeros((in_features, out_features)), "b": np.zeros(out_features)}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads["W"][...] = self.x.T @ dout
        self.grads["b"][...] = dout.sum(axis=0)
        return dout @ self.params["W"].T


class ReLU:
    params, grads = {}, {}

    def forward(self, x):
        self.mask = x > 0
        return np.where(self.mask, x, 0.0)

    def backward(self, dout):
        return np.where(self.mask, dout, 0.0)


class Tanh:
    params, grads = {}, {}

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out ** 2)


class Sequential:
    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def parameters(self):
        return [(layer.params, layer.grads) for layer in self.layers if layer.params]


class CrossEntropyLoss:
    """Softmax and cross-entropy in one, on logits and integer labels."""

    def forward(self, logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.probs = np.exp(log_probs)
        self.labels = labels
        return -log_probs[np.arange(len(labels)), labels].mean()

    def backward(self):
        n = len(self.labels)
        d = self.probs.copy()
        d[np.arange(n), self.labels] -= 1.0
        return d / n


class SGD:
    def __init__(self, parameters, lr=0.01):
        self.parameters = parameters
        self.lr = lr

    def step(self):
        for params, grads in self.parameters:
            for key in params:
                params[key] -= self.lr * grads[key]


class Momentum:
    def __init__(self, parameters, lr=0.01, momentum=0.9):
        self.parameters = parameters
        self.lr = lr
        self.momentum = momentum
        self.velocity = [{k: np.zeros_like(v) for k, v in params.items()} for params, _ in parameters]

    def step(self):
        for (params, grads), vel in zip(self.parameters, self.velocity):
            for key in params:
                vel[key] = self.momentum * vel[key] + grads[key]
                params[key] -= self.lr * vel[key]


class Adam:
    def __init__(self, parameters, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.parameters = parameters
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [{k: np.zeros_like(v) for k, v in params.items()} for params, _ in parameters]
        self.v = [{k: np.zeros_like(v) for k, v in params.items()} for params, _ in parameters]
        self.t = 0

    def step(self):
        self.t += 1
        for (params, grads), m, v in zip(self.parameters, self.m, self.v):
            for key in params:
                g = grads[key]
                m[key] = self.beta1 * m[key] + (1 - self.beta1) * g
                v[key] = self.beta2 * v[key] + (1 - self.beta2) * g * g
                m_hat = m[key] / (1 - self.beta1 ** self.t)
                v_hat = v[key] / (1 - self.beta2 ** self.t)
                params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def numerical_gradient(f, x, h=1e-5):
    """Central differences of the scalar function f() with respect to the array x (changed in place)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
        it.iternext()
    return grad


def gradient_check(model, loss_fn, x, labels, tol=1e-6):
    """Largest relative error between backprop and numerical gradients over every parameter."""
    loss_fn.forward(model.forward(x), labels)
    model.backward(loss_fn.backward())
    worst = 0.0
    for params, grads in model.parameters():
        for key in params:
            analytic = grads[key].copy()
            numeric = numerical_gradient(lambda: loss_fn.forward(model.forward(x), labels), params[key])
            err = np.abs(analytic - numeric).max() / max(1e-12, np.abs(analytic).max() + np.abs(numeric).max())
            worst = max(worst, err)
    return worst, worst < tol
