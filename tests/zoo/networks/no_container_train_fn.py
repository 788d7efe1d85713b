"""No container at all: layer classes with forward/backward/update(lr), and a training function that
builds the layers and chains them by hand (the order of the calls is the network)."""
import numpy as np


class Layer:
    def __init__(self, fan_in, fan_out, rng=None):
        rng = np.random.default_rng() if rng is None else rng
        self.weights = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        self.bias = np.zeros(fan_out)

    def forward(self, inputs):
        self.inputs = inputs
        return inputs @ self.weights + self.bias

    def backward(self, grad):
        self.grad_weights = self.inputs.T @ grad
        self.grad_bias = grad.sum(axis=0)
        return grad @ self.weights.T

    def update(self, lr):
        self.weights -= lr * self.grad_weights
        self.bias -= lr * self.grad_bias


class Relu:
    def forward(self, inputs):
        self.inputs = inputs
        return np.maximum(inputs, 0)

    def backward(self, grad):
        return np.where(self.inputs > 0, grad, 0)


class Sigmoid:
    def forward(self, inputs):
        self.out = 1 / (1 + np.exp(-np.clip(inputs, -500, 500)))
        return self.out

    def backward(self, grad):
        return grad * self.out * (1 - self.out)


class SoftmaxCrossEntropyLoss:
    def forward(self, scores, labels):
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        self.probs = exp / exp.sum(axis=1, keepdims=True)
        self.labels = labels
        picked = scores[np.arange(len(labels)), labels]
        return float(np.mean(np.log(exp.sum(axis=1)) - picked))

    def backward(self):
        grad = self.probs.copy()
        grad[np.arange(len(self.labels)), self.labels] -= 1
        return grad / len(self.labels)


def train(X, y, hidden_size=16, n_classes=2, lr=0.1, epochs=100, batch_size=32, seed=0):
    rng = np.random.default_rng(seed)
    layer1 = Layer(X.shape[1], hidden_size, rng)
    act1 = Relu()
    layer2 = Layer(hidden_size, n_classes, rng)
    loss_fn = SoftmaxCrossEntropyLoss()
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            scores = layer2.forward(act1.forward(layer1.forward(X[idx])))
            losses.append(loss_fn.forward(scores, y[idx]))
            grad = loss_fn.backward()
            grad = layer2.backward(grad)
            grad = act1.backward(grad)
            layer1.backward(grad)
            layer1.update(lr)
            layer2.update(lr)
    return (layer1, act1, layer2), losses


def predict(layers, X):
    layer1, act1, layer2 = layers
    return np.argmax(layer2.forward(act1.forward(layer1.forward(X))), axis=1)
