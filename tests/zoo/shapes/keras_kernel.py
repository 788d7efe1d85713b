"""Keras-flavoured names: Dense(input_dim, units, activation='linear') keeps a kernel
(input_dim, units) and a bias, is called as layer(x); activations are callable objects with a
gradient(x) method; the MSE object is called as loss(y_true, y_pred)."""
import numpy as np


class Linear:
    def __call__(self, x):
        return x

    def gradient(self, x):
        return np.ones_like(x)


class Sigmoid:
    def __call__(self, x):
        return 1.0 / (1.0 + np.exp(-np.clip(x, -250.0, 250.0)))

    def gradient(self, x):
        s = self(x)
        return s * (1.0 - s)


class Tanh:
    def __call__(self, x):
        return np.tanh(x)

    def gradient(self, x):
        return 1.0 - np.tanh(x) ** 2


ACTIVATIONS = {"linear": Linear, "sigmoid": Sigmoid, "tanh": Tanh}


class Dense:
    def __init__(self, input_dim, units, activation="linear"):
        limit = np.sqrt(6.0 / (input_dim + units))
        self.kernel = np.random.uniform(-limit, limit, size=(input_dim, units))
        self.bias = np.zeros(units)
        self.activation = ACTIVATIONS[activation]()

    def __call__(self, inputs):
        self.inputs = inputs
        self.z = inputs @ self.kernel + self.bias
        return self.activation(self.z)

    def backward(self, grad):
        grad = grad * self.activation.gradient(self.z)
        self.grad_kernel = self.inputs.T @ grad
        self.grad_bias = grad.sum(axis=0)
        return grad @ self.kernel.T


class MeanSquaredError:
    def __call__(self, y_true, y_pred):
        return np.mean((y_true - y_pred) ** 2)

    def gradient(self, y_true, y_pred):
        return 2 * (y_pred - y_true) / y_true.size
