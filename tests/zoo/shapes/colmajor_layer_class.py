"""Column-major classes: every array is (features, m) with one example per column.
FullyConnectedLayer(n_prev, n_units) keeps W (n_units, n_prev) and b (n_units, 1) and averages its
gradients over m; Softmax normalises each column; the categorical cross-entropy takes
(Y_hat, Y) with one-hot Y of shape (classes, m)."""
import numpy as np


class FullyConnectedLayer:
    def __init__(self, n_prev, n_units):
        self.W = np.random.randn(n_units, n_prev) * np.sqrt(2.0 / n_prev)
        self.b = np.zeros((n_units, 1))

    def forward(self, A_prev):
        self.A_prev = A_prev
        return self.W @ A_prev + self.b

    def backward(self, dZ):
        m = self.A_prev.shape[1]
        self.dW = dZ @ self.A_prev.T / m
        self.db = np.sum(dZ, axis=1, keepdims=True) / m
        return self.W.T @ dZ


class Sigmoid:
    def forward(self, Z):
        self.A = 1.0 / (1.0 + np.exp(-np.clip(Z, -500, 500)))
        return self.A

    def backward(self, dA):
        return dA * self.A * (1.0 - self.A)


class ReLU:
    def forward(self, Z):
        self.Z = Z
        return np.maximum(0, Z)

    def backward(self, dA):
        dZ = np.array(dA, copy=True)
        dZ[self.Z <= 0] = 0
        return dZ


class Softmax:
    def forward(self, Z):
        expZ = np.exp(Z - np.max(Z, axis=0, keepdims=True))
        self.A = expZ / np.sum(expZ, axis=0, keepdims=True)
        return self.A

    def backward(self, dA):
        return self.A * (dA - np.sum(dA * self.A, axis=0, keepdims=True))


class CategoricalCrossEntropy:
    def forward(self, Y_hat, Y):
        m = Y.shape[1]
        return -np.sum(Y * np.log(np.clip(Y_hat, 1e-15, 1.0))) / m

    def backward(self, Y_hat, Y):
        # per example: the layers average over m themselves
        return -Y / np.clip(Y_hat, 1e-15, 1.0)
