"""Affine(m, n) whose backward hands everything back as a tuple (dx, dw, db) instead of storing
it; a mask-based Relu; a fused SoftmaxWithLoss taking int or one-hot targets t."""
import numpy as np


class Affine:
    def __init__(self, m, n):
        self.w = np.random.randn(m, n) * np.sqrt(2.0 / m)
        self.b = np.zeros(n)
        self.x = None

    def forward(self, x):
        self.x = x
        return np.dot(x, self.w) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.w.T)
        dw = np.dot(self.x.T, dout)
        db = np.sum(dout, axis=0)
        return dx, dw, db


class Relu:
    def __init__(self):
        self.keep = None

    def forward(self, x):
        self.keep = x > 0
        return np.where(self.keep, x, 0.0)

    def backward(self, dout):
        dx = dout.copy()
        dx[~self.keep] = 0
        return dx


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        c = np.max(x, axis=1, keepdims=True)
        log_y = (x - c) - np.log(np.sum(np.exp(x - c), axis=1, keepdims=True))
        self.y = np.exp(log_y)
        self.t = t
        batch_size = x.shape[0]
        if t.ndim == 2:
            self.loss = -np.sum(t * log_y) / batch_size
        else:
            self.loss = -np.sum(log_y[np.arange(batch_size), t]) / batch_size
        return self.loss

    def backward(self, dout=1):
        n = self.y.shape[0]
        onehot = self.t if self.t.ndim == 2 else np.eye(self.y.shape[1])[self.t]
        return dout * (self.y - onehot) / n
