"""Derivatives written in terms of the activation's OUTPUT, as many tutorials do: dsigmoid(y),
dtanh(y), drelu(y) get y = f(x) and the network calls them on its stored activations; the
squared error is 1/2 of the per-example sum, averaged over the batch."""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500.0, 500.0)))


def dsigmoid(y):
    return y * (1.0 - y)


def tanh(x):
    return np.tanh(x)


def dtanh(y):
    return 1.0 - y * y


def relu(x):
    return np.maximum(x, 0.0)


def drelu(y):
    return (y > 0).astype(float)


def squared_error(prediction, target):
    return 0.5 * np.sum((prediction - target) ** 2) / prediction.shape[0]


def squared_error_gradient(prediction, target):
    return (prediction - target) / prediction.shape[0]


class MLP:
    def __init__(self, n_in, n_hidden, n_out, hidden="tanh"):
        self.W1 = np.random.randn(n_in, n_hidden) * 0.1
        self.b1 = np.zeros(n_hidden)
        self.W2 = np.random.randn(n_hidden, n_out) * 0.1
        self.b2 = np.zeros(n_out)
        self.f, self.df = {"tanh": (tanh, dtanh), "sigmoid": (sigmoid, dsigmoid), "relu": (relu, drelu)}[hidden]

    def forward(self, X):
        self.X = X
        self.h = self.f(X @ self.W1 + self.b1)
        return self.h @ self.W2 + self.b2

    def backward(self, dout):
        self.dW2 = self.h.T @ dout
        self.db2 = dout.sum(axis=0)
        dh = dout @ self.W2.T * self.df(self.h)
        self.dW1 = self.X.T @ dh
        self.db1 = dh.sum(axis=0)
