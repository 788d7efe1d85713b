"""Lazily built layers: Dense(units) only learns its input size on the first forward, when it
creates W (input_dim, units). Tanh and Softmax are objects with forward/backward; the loss is
a sparse categorical cross-entropy (int labels) that takes logits when from_logits=True."""
import numpy as np


class Dense:
    def __init__(self, units):
        self.units = units
        self.W = None
        self.b = None

    def build(self, input_dim):
        self.W = np.random.randn(input_dim, self.units) * np.sqrt(2.0 / input_dim)
        self.b = np.zeros(self.units)

    def forward(self, x):
        if self.W is None:
            self.build(x.shape[-1])
        self.x = x
        return x @ self.W + self.b

    def backward(self, dy):
        self.dW = self.x.T @ dy
        self.db = dy.sum(axis=0)
        return dy @ self.W.T


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dy):
        return dy * (1.0 - np.square(self.out))


class Softmax:
    def forward(self, x):
        z = np.exp(x - x.max(axis=-1, keepdims=True))
        self.out = z / z.sum(axis=-1, keepdims=True)
        return self.out

    def backward(self, dy):
        s = self.out
        return s * (dy - (dy * s).sum(axis=-1, keepdims=True))


class SparseCategoricalCrossentropy:
    def __init__(self, from_logits=False):
        self.from_logits = from_logits

    def _probs(self, y_pred):
        if self.from_logits:
            z = np.exp(y_pred - y_pred.max(axis=-1, keepdims=True))
            return z / z.sum(axis=-1, keepdims=True)
        return np.clip(y_pred, 1e-12, 1.0)

    def __call__(self, y_true, y_pred):
        n = len(y_true)
        if self.from_logits:
            z = y_pred - y_pred.max(axis=-1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        else:
            logp = np.log(self._probs(y_pred))
        return -logp[np.arange(n), y_true].mean()

    def backward(self, y_true, y_pred):
        n = len(y_true)
        p = self._probs(y_pred)
        onehot = np.eye(p.shape[-1])[y_true]
        if self.from_logits:
            return (p - onehot) / n
        return -onehot / p / n
