"""A module of plain functions: each activation with a *_derivative taking the pre-activation x,
a lookup table of the pairs, a row-wise softmax, and a categorical cross-entropy pair taking
(y_true, y_pred) with one-hot y_true and probabilities y_pred. A network class uses them."""
import numpy as np


def relu(x):
    return np.maximum(x, 0)


def relu_derivative(x):
    return np.asarray(x > 0, dtype=float)


def sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(x, -500, 500)))


def sigmoid_derivative(x):
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x):
    return np.tanh(x)


def tanh_derivative(x):
    return 1 - np.tanh(x) ** 2


def softmax(x):
    e_x = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e_x / e_x.sum(axis=1, keepdims=True)


def categorical_cross_entropy(y_true, y_pred):
    y_pred = np.clip(y_pred, 1e-12, 1.0)
    return -np.sum(y_true * np.log(y_pred)) / y_true.shape[0]


def categorical_cross_entropy_derivative(y_true, y_pred):
    y_pred = np.clip(y_pred, 1e-12, 1.0)
    return -y_true / y_pred / y_true.shape[0]


ACTIVATION_FUNCTIONS = {
    "relu": (relu, relu_derivative),
    "tanh": (tanh, tanh_derivative),
    "sigmoid": (sigmoid, sigmoid_derivative),
}


class NeuralNetwork:
    def __init__(self, layer_sizes, activation="relu"):
        self.weights = [np.random.randn(a, b) * np.sqrt(2 / a) for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]
        self.biases = [np.zeros(b) for b in layer_sizes[1:]]
        self.f, self.df = ACTIVATION_FUNCTIONS[activation]

    def forward(self, X):
        self.zs, self.activations = [], [X]
        a = X
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ W + b
            self.zs.append(z)
            a = softmax(z) if i == len(self.weights) - 1 else self.f(z)
            self.activations.append(a)
        return a

    def backward(self, y_true):
        m = y_true.shape[0]
        delta = (self.activations[-1] - y_true) / m
        grads = []
        for i in reversed(range(len(self.weights))):
            grads.append((self.activations[i].T @ delta, delta.sum(axis=0)))
            if i > 0:
                delta = (delta @ self.weights[i].T) * self.df(self.zs[i - 1])
        return grads[::-1]
