"""Keras argument order: Dense(units, input_dim) (outputs first) with W (input_dim, units);
activations are one class Activation(name); the cross-entropy object is called as
loss(y_true, y_pred) on one-hot targets and probabilities, with gradient(y_true, y_pred)."""
import numpy as np


class Dense:
    def __init__(self, units, input_dim):
        self.units = units
        self.W = np.random.randn(input_dim, units) * np.sqrt(1.0 / input_dim)
        self.b = np.zeros(units)

    def forward(self, inputs):
        self.inputs = inputs
        return inputs @ self.W + self.b

    def backward(self, grad):
        self.dW = self.inputs.T @ grad
        self.db = grad.sum(axis=0)
        return grad @ self.W.T


class Activation:
    def __init__(self, name):
        self.name = name

    def forward(self, x):
        if self.name == "relu":
            self.out = np.maximum(x, 0)
        elif self.name == "sigmoid":
            self.out = 1 / (1 + np.exp(-np.clip(x, -100, 100)))
        else:
            raise ValueError(self.name)
        return self.out

    def backward(self, grad):
        if self.name == "relu":
            return grad * (self.out > 0)
        return grad * self.out * (1 - self.out)


class CategoricalCrossentropy:
    def __call__(self, y_true, y_pred):
        p = np.clip(y_pred, 1e-7, 1.0)
        return float(np.mean(-np.sum(y_true * np.log(p), axis=-1)))

    def gradient(self, y_true, y_pred):
        safe = np.clip(y_pred, 1e-7, 1.0)
        return -(y_true / safe) / y_true.shape[0]
