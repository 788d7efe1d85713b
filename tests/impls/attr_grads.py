"""A correct implementation in the attr_grads style (assignment 001's API).

Convention, consistent end to end: the loss gradient is per sample (probs - onehot, not divided
by the batch size) and every Linear layer averages its parameter gradients over the batch.
"""
import numpy as np


class Linear:
    def __init__(self, in_features, out_features, init="he"):
        self.in_features = in_features
        self.out_features = out_features
        if init == "he":
            std = np.sqrt(2.0 / in_features)
        else:
            std = np.sqrt(2.0 / (in_features + out_features))
        self.W = np.random.randn(in_features, out_features) * std
        self.b = np.zeros(out_features)
        self.cache = {}
        self.dW = None
        self.db = None

    def forward(self, X):
        self.cache["X"] = X
        return X @ self.W + self.b

    def backward(self, dZ):
        X = self.cache["X"]
        batch_size = X.shape[0]
        self.dW = X.T @ dZ / batch_size
        self.db = np.mean(dZ, axis=0)
        dX = dZ @ self.W.T
        return dX

    def __call__(self, X):
        return self.forward(X)


class ReLU:
    def __init__(self):
        self.cache = {}

    def forward(self, Z):
        self.cache["Z"] = Z
        return np.maximum(0, Z)

    def backward(self, dA):
        Z = self.cache["Z"]
        mask = (Z > 0).astype(float)
        return dA * mask

    def __call__(self, Z):
        return self.forward(Z)


class Sigmoid:
    def __init__(self):
        self.cache = {}

    def forward(self, Z):
        A = 1.0 / (1.0 + np.exp(-np.clip(Z, -500, 500)))
        self.cache["A"] = A
        return A

    def backward(self, dA):
        A = self.cache["A"]
        return dA * A * (1 - A)

    def __call__(self, Z):
        return self.forward(Z)


class Tanh:
    def __init__(self):
        self.cache = {}

    def forward(self, Z):
        A = np.tanh(Z)
        self.cache["A"] = A
        return A

    def backward(self, dA):
        A = self.cache["A"]
        return dA * (1 - A ** 2)

    def __call__(self, Z):
        return self.forward(Z)


class Softmax:
    def __init__(self):
        self.cache = {}

    def forward(self, Z):
        shifted = Z - np.max(Z, axis=1, keepdims=True)
        exps = np.exp(shifted)
        probs = exps / np.sum(exps, axis=1, keepdims=True)
        self.cache["probs"] = probs
        return probs

    def __call__(self, Z):
        return self.forward(Z)


class CrossEntropyLoss:
    def __init__(self, epsilon=1e-300):
        self.epsilon = epsilon
        self.cache = {}

    def forward(self, probs, targets):
        batch_size = probs.shape[0]
        picked = np.clip(probs[np.arange(batch_size), targets], self.epsilon, 1.0)
        self.cache["probs"] = probs
        self.cache["targets"] = targets
        return -np.mean(np.log(picked))

    def backward(self):
        """d(loss)/d(logits) per sample; the Linear layers average over the batch."""
        probs = self.cache["probs"]
        targets = self.cache["targets"]
        grad = probs.copy()
        grad[np.arange(probs.shape[0]), targets] -= 1
        return grad

    def __call__(self, probs, targets):
        return self.forward(probs, targets)


class MLP:
    def __init__(self, layer_sizes):
        self.layers = []
        self.activations = []
        for i in range(len(layer_sizes) - 1):
            self.layers.append(Linear(layer_sizes[i], layer_sizes[i + 1]))
            if i < len(layer_sizes) - 2:
                self.activations.append(ReLU())
        self.softmax = Softmax()
        print(f"Created MLP: {' -> '.join(map(str, layer_sizes))}")

    def forward(self, X):
        out = X
        for i in range(len(self.layers) - 1):
            out = self.layers[i](out)
            out = self.activations[i](out)
        out = self.layers[-1](out)
        return self.softmax(out)

    def backward(self, grad):
        grad = self.layers[-1].backward(grad)
        for i in range(len(self.layers) - 2, -1, -1):
            grad = self.activations[i].backward(grad)
            grad = self.layers[i].backward(grad)

    def predict(self, X):
        return np.argmax(self.forward(X), axis=1)

    def __call__(self, X):
        return self.forward(X)


class SGD:
    """Plain SGD, or classical momentum when momentum > 0: v = momentum * v - lr * g; W += v."""

    def __init__(self, learning_rate=0.01, momentum=0.0):
        self.lr = learning_rate
        self.momentum = momentum
        self.velocity = {}

    def step(self, model):
        for i, layer in enumerate(model.layers):
            for name in ("W", "b"):
                grad = getattr(layer, "d" + name)
                v = self.velocity.get((i, name), np.zeros_like(grad))
                v = self.momentum * v - self.lr * grad
                self.velocity[(i, name)] = v
                setattr(layer, name, getattr(layer, name) + v)
