"""The deep-learning-from-scratch book's layers: Affine(W, b) is built from arrays the caller
creates (W (in, out)), Sigmoid caches its output, softmax and cross_entropy_error are plain
functions, and SoftmaxWithLoss.forward(x, t) / backward(dout=1) works on the scores (through a
log-softmax, so very wrong scores still give the right loss)."""
import numpy as np


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    """y: probabilities (N, C) or (C,); t: labels or one-hot rows."""
    y = np.atleast_2d(y)
    labels = t.argmax(axis=-1) if np.size(t) == y.size else np.atleast_1d(t)
    n = y.shape[0]
    return -np.sum(np.log(np.maximum(y[np.arange(n), labels], 1e-7))) / n


def cross_entropy_from_scores(x, t):
    if t.size == x.size:
        t = t.argmax(axis=1)
    batch_size = x.shape[0]
    z = x - np.max(x, axis=-1, keepdims=True)
    log_y = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    return -np.sum(log_y[np.arange(batch_size), t]) / batch_size


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = None
        self.x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x_shape = x.shape
        self.x = x.reshape(len(x), -1)  # images become rows
        return self.x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.x_shape)


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        out = 1 / (1 + np.exp(-np.clip(x, -500, 500)))
        self.out = out
        return out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_from_scores(x, self.t)
        return self.loss

    def backward(self, dout=1):
        n = self.y.shape[0]
        target = self.t if self.t.size == self.y.size else np.eye(self.y.shape[1])[self.t]
        return dout * (self.y - target) / n
