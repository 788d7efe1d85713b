"""Model(input_dim).add_layer(kind, units=..., activation=...): the model builds its layers from a
kind name ("dense", "dropout"...); update(lr) on the model steps every layer; the loss is a
softmax cross-entropy class called as loss(y_true one-hot, logits)."""
import numpy as np


class DenseLayer:
    def __init__(self, n_in, units, activation=None):
        self.w = np.random.randn(n_in, units) * np.sqrt(1.0 / n_in)
        self.b = np.zeros((1, units))
        self.activation = activation

    def forward(self, x):
        self.x = x
        self.z = x @ self.w + self.b
        if self.activation == "tanh":
            return np.tanh(self.z)
        if self.activation == "relu":
            return np.maximum(self.z, 0)
        return self.z

    def backward(self, grad_out):
        if self.activation == "tanh":
            grad_out = grad_out * (1 - np.tanh(self.z) ** 2)
        elif self.activation == "relu":
            grad_out = grad_out * (self.z > 0)
        self.dw = self.x.T @ grad_out
        self.db = np.sum(grad_out, axis=0, keepdims=True)
        return grad_out @ self.w.T

    def update(self, lr):
        self.w -= lr * self.dw
        self.b -= lr * self.db


class DropoutLayer:
    def __init__(self, rate=0.5):
        self.rate = rate
        self.training = True

    def forward(self, x):
        if not self.training or self.rate == 0:
            return x
        self.mask = (np.random.rand(*x.shape) >= self.rate) / (1 - self.rate)
        return x * self.mask

    def backward(self, grad_out):
        return grad_out * self.mask if self.training and self.rate else grad_out

    def update(self, lr):
        pass


class SoftmaxCrossEntropy:
    def __call__(self, y_true, logits):
        shifted = logits - np.max(logits, axis=1, keepdims=True)
        self.log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        self.y_true = y_true
        return -np.sum(y_true * self.log_p) / len(y_true)

    def backward(self):
        return (np.exp(self.log_p) - self.y_true) / len(self.y_true)


class Model:
    def __init__(self, input_dim):
        self.input_dim = input_dim
        self.layers = []
        self.loss = SoftmaxCrossEntropy()

    def add_layer(self, kind, units=None, activation=None, rate=0.5):
        if kind == "dense":
            n_in = self.input_dim
            for layer in reversed(self.layers):
                if isinstance(layer, DenseLayer):
                    n_in = layer.w.shape[1]
                    break
            self.layers.append(DenseLayer(n_in, units, activation))
        elif kind == "dropout":
            self.layers.append(DropoutLayer(rate))
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
        return self

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad):
        for layer in self.layers[::-1]:
            grad = layer.backward(grad)
        return grad

    def update(self, lr):
        for layer in self.layers:
            layer.update(lr)

    def train_step(self, x, y_onehot, lr):
        loss = self.loss(y_onehot, self.forward(x))
        self.backward(self.loss.backward())
        self.update(lr)
        return loss
