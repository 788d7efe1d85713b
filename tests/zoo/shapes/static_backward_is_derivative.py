"""Activations as classes of static methods where backward(x) returns the local derivative
f'(x), not a vector-Jacobian product; the linear layer's backward(x, grad) returns
(dx, dW, db) and stores nothing."""
import numpy as np


class ReLU:
    @staticmethod
    def forward(x):
        return np.maximum(0, x)

    @staticmethod
    def backward(x):
        return (x > 0).astype(float)


class Sigmoid:
    @staticmethod
    def forward(x):
        return 1 / (1 + np.exp(-np.clip(x, -500, 500)))

    @staticmethod
    def backward(x):
        s = Sigmoid.forward(x)
        return s * (1 - s)


class Tanh:
    @staticmethod
    def forward(x):
        return np.tanh(x)

    @staticmethod
    def backward(x):
        return 1 - np.tanh(x) ** 2


class LinearLayer:
    def __init__(self, in_dim, out_dim):
        self.weights = np.random.randn(in_dim, out_dim) * np.sqrt(2 / in_dim)
        self.biases = np.zeros(out_dim)

    def forward(self, x):
        return x @ self.weights + self.biases

    def backward(self, x, grad):
        dW = x.T @ grad
        db = grad.sum(axis=0)
        dx = grad @ self.weights.T
        return dx, dW, db
