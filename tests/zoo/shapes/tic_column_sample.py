"""One sample at a time as a column (n, 1): Dense(input_size, output_size) keeps weights
(out, in) and bias (out, 1) and updates itself in backward(output_gradient, learning_rate);
activations subclass a generic Activation; Softmax is its own layer; mse/mse_prime on one sample."""
import numpy as np


class Layer:
    def forward(self, input):
        raise NotImplementedError

    def backward(self, output_gradient, learning_rate):
        raise NotImplementedError


class Dense(Layer):
    def __init__(self, input_size, output_size):
        scale = np.sqrt(1.0 / input_size)
        self.weights = np.random.randn(output_size, input_size) * scale
        self.bias = np.zeros((output_size, 1))

    def forward(self, input):
        self.input = input  # a column (input_size, 1)
        return self.weights @ input + self.bias

    def backward(self, output_gradient, learning_rate):
        grad_in = self.weights.T @ output_gradient
        self.weights -= learning_rate * (output_gradient @ self.input.T)
        self.bias -= learning_rate * output_gradient
        return grad_in


class Activation(Layer):
    """Elementwise layer from a function f and its derivative f' (of the input)."""

    def __init__(self, f, f_prime):
        self.f, self.f_prime = f, f_prime

    def forward(self, input):
        self.input = input
        return self.f(input)

    def backward(self, output_gradient, learning_rate):
        return output_gradient * self.f_prime(self.input)


def _logistic(x):
    return 1 / (1 + np.exp(-np.clip(x, -500, 500)))


class Tanh(Activation):
    def __init__(self):
        super().__init__(np.tanh, lambda x: 1 - np.tanh(x) ** 2)


class Sigmoid(Activation):
    def __init__(self):
        def slope(x):
            s = _logistic(x)
            return s * (1 - s)

        super().__init__(_logistic, slope)


class Softmax(Layer):
    def forward(self, input):
        tmp = np.exp(input - np.max(input))
        self.output = tmp / np.sum(tmp)
        return self.output

    def backward(self, output_gradient, learning_rate):
        p = self.output
        return p * (output_gradient - np.dot(p.T, output_gradient))


def mse(y_true, y_pred):
    return np.mean(np.square(y_pred - y_true))


def mse_prime(y_true, y_pred):
    return 2 * (y_pred - y_true) / np.size(y_true)
