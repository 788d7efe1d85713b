"""NeuralNetwork(layer_sizes, activations, lr): Dense(in, out, activation) layers named by string,
one-hot targets, a softmax output layer whose backward takes d/dlogits straight from the loss
(softmax + cross-entropy fused), and update(lr) on every layer."""
import numpy as np


def relu(z):
    return np.maximum(0.0, z)


def relu_derivative(z):
    return (z > 0).astype(float)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1.0 - s)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS = {"relu": (relu, relu_derivative), "sigmoid": (sigmoid, sigmoid_derivative),
               "linear": (lambda z: z, lambda z: np.ones_like(z)), "softmax": (softmax, None)}


class Dense:
    def __init__(self, n_in, n_out, activation="linear"):
        self.W = np.random.randn(n_in, n_out) * np.sqrt(2.0 / (n_in + n_out))
        self.b = np.zeros((1, n_out))
        self.activation = activation

    def forward(self, X):
        self.X = X
        self.Z = X @ self.W + self.b
        self.A = ACTIVATIONS[self.activation][0](self.Z)
        return self.A

    def backward(self, dA):
        if self.activation == "softmax":
            dZ = dA  # the loss already gave d/dlogits
        else:
            dZ = dA * ACTIVATIONS[self.activation][1](self.Z)
        self.dW = self.X.T @ dZ
        self.db = dZ.sum(axis=0, keepdims=True)
        return dZ @ self.W.T

    def update(self, lr):
        self.W -= lr * self.dW
        self.b -= lr * self.db


def categorical_cross_entropy(Y, P):
    """Mean cross-entropy of one-hot targets Y and probabilities P."""
    return -np.sum(Y * np.log(np.clip(P, 1e-12, 1.0))) / Y.shape[0]


def softmax_cross_entropy_gradient(Y, P):
    """d(mean cross-entropy)/d(logits) when P = softmax(logits)."""
    return (P - Y) / Y.shape[0]


class NeuralNetwork:
    def __init__(self, layer_sizes, activations, lr=0.1):
        self.lr = lr
        self.layers = [Dense(n_in, n_out, act)
                       for n_in, n_out, act in zip(layer_sizes[:-1], layer_sizes[1:], activations)]

    def forward(self, X):
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, Y, P):
        grad = softmax_cross_entropy_gradient(Y, P)
        for layer in reversed(self.layers):
            grad = layer.backward(grad)

    def update(self):
        for layer in self.layers:
            layer.update(self.lr)

    def train(self, X, Y, epochs=100, batch_size=32):
        history = []
        for _ in range(epochs):
            order = np.random.permutation(len(X))
            for start in range(0, len(X), batch_size):
                idx = order[start:start + batch_size]
                P = self.forward(X[idx])
                history.append(categorical_cross_entropy(Y[idx], P))
                self.backward(Y[idx], P)
                self.update()
        return history

    def predict(self, X):
        return np.argmax(self.forward(X), axis=1)
