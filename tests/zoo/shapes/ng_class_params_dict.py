"""Column-major layer objects: NeuralLayer(n_in, n_out, activation='linear') keeps
params {'W' (n_out, n_in), 'b' (n_out, 1)} and grads {'dW', 'db'} averaged over the m columns,
applies its own activation, and the output is scored by softmax_cross_entropy(Z, Y), which
returns (cost, dZ) for one-hot Y of shape (classes, m)."""
import numpy as np


def relu(Z):
    return np.maximum(0, Z)


def sigmoid(Z):
    return 1 / (1 + np.exp(-np.clip(Z, -500, 500)))


class NeuralLayer:
    def __init__(self, n_in, n_out, activation="linear"):
        self.params = {"W": np.random.randn(n_out, n_in) * np.sqrt(2 / n_in), "b": np.zeros((n_out, 1))}
        self.grads = {}
        self.activation = activation

    def forward(self, A_prev):
        self.A_prev = A_prev
        self.Z = np.dot(self.params["W"], A_prev) + self.params["b"]
        if self.activation == "relu":
            return relu(self.Z)
        if self.activation == "sigmoid":
            return sigmoid(self.Z)
        return self.Z

    def backward(self, dA):
        m = self.A_prev.shape[1]
        if self.activation == "relu":
            dZ = dA * (self.Z > 0)
        elif self.activation == "sigmoid":
            s = sigmoid(self.Z)
            dZ = dA * s * (1 - s)
        else:
            dZ = dA
        self.grads["dW"] = np.dot(dZ, self.A_prev.T) / m
        self.grads["db"] = np.sum(dZ, axis=1, keepdims=True) / m
        return np.dot(self.params["W"].T, dZ)


def softmax_cross_entropy(Z, Y):
    """Z: scores (classes, m); Y: one-hot (classes, m) -> (cost, dZ) with dZ per example."""
    m = Y.shape[1]
    shifted = Z - Z.max(axis=0, keepdims=True)
    logA = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    cost = -np.sum(Y * logA) / m
    dZ = np.exp(logA) - Y
    return cost, dZ
