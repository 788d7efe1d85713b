"""A beginner's object model: a layer is a list of Neuron objects, each with its own weight
vector and scalar bias; forward and backward loop over the neurons. The sigmoid helpers are
plain functions, the derivative taking the sigmoid's output."""
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(x, -500, 500)))


def sigmoid_derivative(output):
    return output * (1 - output)


class Neuron:
    def __init__(self, n_inputs):
        self.weights = np.random.uniform(-1, 1, n_inputs) / np.sqrt(n_inputs)
        self.bias = 0.0

    def activate(self, X):
        return X @ self.weights + self.bias


class NeuronLayer:
    def __init__(self, n_inputs, n_neurons):
        self.neurons = [Neuron(n_inputs) for _ in range(n_neurons)]

    def forward(self, X):
        self.X = X
        return np.stack([n.activate(X) for n in self.neurons], axis=1)

    def backward(self, dY):
        dX = np.zeros_like(self.X, dtype=float)
        for j, n in enumerate(self.neurons):
            n.dweights = self.X.T @ dY[:, j]
            n.dbias = dY[:, j].sum()
            dX += np.outer(dY[:, j], n.weights)
        return dX
