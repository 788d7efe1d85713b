"""Randomness passed in: Linear(n_in, n_out, rng) draws W (n_out, n_in) from the Generator it is
given. Activations have forward(z) and derivative(z) (no backward); the MSE object has
value(pred, target) and grad(pred, target)."""
import numpy as np


class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_out, n_in))
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W.T + self.b

    def backward(self, dy):
        self.dW = dy.T @ self.x
        self.db = dy.sum(axis=0)
        return dy @ self.W


class ReLU:
    def forward(self, z):
        return np.maximum(z, 0.0)

    def derivative(self, z):
        return (z > 0).astype(float)


class Sigmoid:
    def forward(self, z):
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500.0, 500.0)))

    def derivative(self, z):
        s = self.forward(z)
        return s * (1.0 - s)


class Tanh:
    def forward(self, z):
        return np.tanh(z)

    def derivative(self, z):
        return 1.0 - np.tanh(z) ** 2


class MSE:
    def value(self, pred, target):
        return float(np.mean((pred - target) ** 2))

    def grad(self, pred, target):
        return 2.0 * (pred - target) / pred.size
