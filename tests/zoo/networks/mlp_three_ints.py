"""One class for the whole network: MLP(n_inputs, n_hidden, n_classes) holding W1, b1, W2, b2 as
attributes (W (in, out)), tanh hidden units, softmax output, backward(y) filling dW1.., and the
update as a method sgd_step(lr). Adam keeps its state per parameter name."""
import numpy as np


def tanh(z):
    return np.tanh(z)


def tanh_derivative(z):
    return 1.0 - np.tanh(z) ** 2


def softmax(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def cross_entropy(probs, y):
    return float(-np.mean(np.log(probs[np.arange(len(y)), y] + 1e-12)))


class MLP:
    def __init__(self, n_inputs, n_hidden, n_classes, seed=0):
        rng = np.random.default_rng(seed)
        self.W1 = rng.normal(0, 1 / np.sqrt(n_inputs), (n_inputs, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.W2 = rng.normal(0, 1 / np.sqrt(n_hidden), (n_hidden, n_classes))
        self.b2 = np.zeros(n_classes)

    def forward(self, X):
        self.X = X
        self.z1 = X @ self.W1 + self.b1
        self.h = tanh(self.z1)
        self.probs = softmax(self.h @ self.W2 + self.b2)
        return self.probs

    def loss(self, X, y):
        return cross_entropy(self.forward(X), y)

    def backward(self, y):
        n = len(y)
        dz2 = self.probs.copy()
        dz2[np.arange(n), y] -= 1
        dz2 /= n
        self.dW2 = self.h.T @ dz2
        self.db2 = dz2.sum(axis=0)
        dz1 = (dz2 @ self.W2.T) * tanh_derivative(self.z1)
        self.dW1 = self.X.T @ dz1
        self.db1 = dz1.sum(axis=0)

    def sgd_step(self, lr):
        self.W1 -= lr * self.dW1
        self.b1 -= lr * self.db1
        self.W2 -= lr * self.dW2
        self.b2 -= lr * self.db2

    def params_and_grads(self):
        return {"W1": (self.W1, self.dW1), "b1": (self.b1, self.db1),
                "W2": (self.W2, self.dW2), "b2": (self.b2, self.db2)}


class Adam:
    """adam.step(model): moment estimates kept per parameter name, arrays updated in place."""

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.lr, self.betas, self.eps = lr, betas, eps
        self.m, self.v, self.t = {}, {}, 0

    def step(self, model):
        self.t += 1
        b1, b2 = self.betas
        for name, (p, g) in model.params_and_grads().items():
            self.m[name] = b1 * self.m.get(name, np.zeros_like(p)) + (1 - b1) * g
            self.v[name] = b2 * self.v.get(name, np.zeros_like(p)) + (1 - b2) * g ** 2
            m_hat = self.m[name] / (1 - b1 ** self.t)
            v_hat = self.v[name] / (1 - b2 ** self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
