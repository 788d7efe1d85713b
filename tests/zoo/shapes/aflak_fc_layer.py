"""Layers that update themselves: backward_propagation(output_error, learning_rate) applies the
SGD step inside the layer and returns the input error. Activations are generic layers built
from an (activation, activation_prime) pair of plain functions; the loss is mse/mse_prime."""
import numpy as np


class Layer:
    """Base class: forward_propagation(x) -> y; backward_propagation(dE/dy, lr) -> dE/dx."""

    def __init__(self):
        self.input = None
        self.output = None

    def forward_propagation(self, input):
        raise NotImplementedError

    def backward_propagation(self, output_error, learning_rate):
        raise NotImplementedError


class FCLayer(Layer):
    def __init__(self, input_size, output_size):
        super().__init__()
        self.weights = np.random.uniform(-0.5, 0.5, (input_size, output_size))
        self.bias = np.random.uniform(-0.5, 0.5, (1, output_size))

    def forward_propagation(self, input_data):
        self.input = input_data
        self.output = self.input @ self.weights + self.bias
        return self.output

    def backward_propagation(self, output_error, learning_rate):
        # error to hand back, computed with the weights this forward used
        back = output_error @ self.weights.T
        w_step = self.input.T @ output_error
        b_step = output_error.sum(axis=0, keepdims=True)
        self.weights -= learning_rate * w_step
        self.bias -= learning_rate * b_step
        return back


class ActivationLayer(Layer):
    def __init__(self, activation, activation_prime):
        super().__init__()
        self.activation = activation
        self.activation_prime = activation_prime

    def forward_propagation(self, input_data):
        self.input = input_data
        self.output = self.activation(input_data)
        return self.output

    def backward_propagation(self, output_error, learning_rate):
        # nothing to learn here: learning_rate is unused
        return output_error * self.activation_prime(self.input)


def tanh(x):
    return np.tanh(x)


def tanh_prime(x):
    t = np.tanh(x)
    return 1.0 - t * t


def relu(x):
    return np.where(x > 0, x, 0.0)


def relu_prime(x):
    return (x > 0).astype(float)


def mse(y_true, y_pred):
    return float(np.mean((y_pred - y_true) ** 2))


def mse_prime(y_true, y_pred):
    return 2 * (y_pred - y_true) / y_true.size
