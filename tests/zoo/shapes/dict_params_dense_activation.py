"""Dense(input_dim, output_dim, activation=None) with self.params['W'] (in, out) and
self.grads['W']; the layer applies its activation itself when given one, looked up by name in a
table of plain (function, derivative) pairs; softmax is a plain function, and the cross-entropy
takes probabilities and int labels."""
import numpy as np


def relu(z):
    return np.maximum(0.0, z)


def relu_grad(z):
    return np.where(z > 0, 1.0, 0.0)


def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    return np.tanh(z)


def tanh_grad(z):
    return 1.0 - np.tanh(z) ** 2


ACTIVATIONS = {"relu": (relu, relu_grad), "sigmoid": (sigmoid, sigmoid_grad), "tanh": (tanh, tanh_grad)}


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(probs, labels):
    n = probs.shape[0]
    picked = np.clip(probs[np.arange(n), labels], 1e-12, None)
    return float(np.mean(-np.log(picked)))


def cross_entropy_grad(probs, labels):
    n = probs.shape[0]
    grad = np.zeros_like(probs)
    grad[np.arange(n), labels] = -1.0 / np.clip(probs[np.arange(n), labels], 1e-12, None)
    return grad / n


class Dense:
    def __init__(self, input_dim, output_dim, activation=None):
        self.params = {"W": np.random.randn(input_dim, output_dim) * np.sqrt(2.0 / input_dim),
                       "b": np.zeros(output_dim)}
        self.grads = {"W": np.zeros((input_dim, output_dim)), "b": np.zeros(output_dim)}
        self.activation = activation

    def forward(self, X):
        self.X = X
        self.Z = X @ self.params["W"] + self.params["b"]
        if self.activation is None:
            return self.Z
        f, _ = ACTIVATIONS[self.activation]
        return f(self.Z)

    def backward(self, dA):
        if self.activation is None:
            dZ = dA
        else:
            _, df = ACTIVATIONS[self.activation]
            dZ = dA * df(self.Z)
        self.grads["W"] = self.X.T @ dZ
        self.grads["b"] = dZ.sum(axis=0)
        return dZ @ self.params["W"].T
