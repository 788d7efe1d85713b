"""DenseLayer(n_in, n_out, activation='linear') used through predict(X) and trained by
backward(grad, lr), which steps the weights itself; derivative helpers take the activation's
OUTPUT (dsigmoid(y) = y (1 - y), dtanh(y) = 1 - y^2); the MSE returns (loss, gradient)."""
import numpy as np


def sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def dsigmoid(y):
    return y * (1.0 - y)


def tanh(x):
    return np.tanh(x)


def dtanh(y):
    return 1.0 - y ** 2


def identity(x):
    return x


def didentity(y):
    return np.ones_like(y)


FUNCS = {"linear": (identity, didentity), "sigmoid": (sigmoid, dsigmoid), "tanh": (tanh, dtanh)}


def mse_loss(y_pred, y_true):
    n = y_pred.shape[0]
    loss = np.sum((y_pred - y_true) ** 2) / n
    grad = 2 * (y_pred - y_true) / n
    return loss, grad


class DenseLayer:
    def __init__(self, n_in, n_out, activation="linear"):
        self.weights = np.random.randn(n_in, n_out) * np.sqrt(1.0 / n_in)
        self.biases = np.zeros(n_out)
        self.act, self.dact = FUNCS[activation]

    def predict(self, X):
        self.X = X
        self.output = self.act(X @ self.weights + self.biases)
        return self.output

    def backward(self, grad, lr):
        delta = grad * self.dact(self.output)
        dX = delta @ self.weights.T
        self.weights -= lr * self.X.T @ delta
        self.biases -= lr * delta.sum(axis=0)
        return dX
