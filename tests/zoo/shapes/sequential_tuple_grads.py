"""Every layer's backward returns (grad_input, [parameter gradients]) and keeps nothing; the
parameters are listed in self.params = [W, b]; the cross-entropy takes probabilities and int
labels, forward(probs, labels) then backward()."""
import numpy as np


class Linear:
    def __init__(self, in_size, out_size):
        self.W = np.random.randn(in_size, out_size) * 0.01
        self.b = np.zeros((1, out_size))
        self.params = [self.W, self.b]

    def forward(self, X):
        self.X = X
        return np.dot(X, self.W) + self.b

    def backward(self, nextgrad):
        gradW = np.dot(self.X.T, nextgrad)
        gradB = np.sum(nextgrad, axis=0, keepdims=True)
        gradInput = np.dot(nextgrad, self.W.T)
        return gradInput, [gradW, gradB]


class ReLU:
    def __init__(self):
        self.params = []

    def forward(self, X):
        self.X = X
        return np.maximum(X, 0)

    def backward(self, nextgrad):
        gradInput = np.where(self.X > 0, nextgrad, 0)
        return gradInput, []


class Softmax:
    def __init__(self):
        self.params = []

    def forward(self, X):
        exps = np.exp(X - np.max(X, axis=1, keepdims=True))
        self.p = exps / np.sum(exps, axis=1, keepdims=True)
        return self.p

    def backward(self, nextgrad):
        gradInput = self.p * (nextgrad - np.sum(nextgrad * self.p, axis=1, keepdims=True))
        return gradInput, []


class CrossEntropy:
    def forward(self, probs, labels):
        self.probs, self.labels = probs, labels
        n = len(labels)
        return -np.mean(np.log(np.clip(probs[np.arange(n), labels], 1e-12, 1)))

    def backward(self):
        n = len(self.labels)
        grad = np.zeros_like(self.probs)
        grad[np.arange(n), self.labels] = -1 / np.clip(self.probs[np.arange(n), self.labels], 1e-12, 1)
        return grad / n
