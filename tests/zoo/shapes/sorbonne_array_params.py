"""The same course API with the weight matrix itself in self._parameters (in, out), a separate
bias (1, out), ReLU and Softmax modules, and a log-softmax cross-entropy taking (y, yhat)
with one-hot y and raw scores yhat."""
import numpy as np


class Module(object):
    def __init__(self):
        self._parameters = None
        self._gradient = None

    def zero_grad(self):
        pass

    def forward(self, X):
        raise NotImplementedError

    def update_parameters(self, gradient_step=1e-3):
        pass

    def backward_update_gradient(self, input, delta):
        pass

    def backward_delta(self, input, delta):
        raise NotImplementedError


class Linear(Module):
    def __init__(self, input_dim, output_dim):
        super().__init__()
        self.input_dim, self.output_dim = input_dim, output_dim
        self._parameters = np.random.randn(input_dim, output_dim) * np.sqrt(2 / input_dim)
        self._bias = np.zeros((1, output_dim))
        self.zero_grad()

    def zero_grad(self):
        self._gradient = np.zeros((self.input_dim, self.output_dim))
        self._gradient_bias = np.zeros((1, self.output_dim))

    def forward(self, X):
        assert X.shape[1] == self.input_dim
        return np.dot(X, self._parameters) + self._bias

    def backward_update_gradient(self, input, delta):
        self._gradient += np.dot(input.T, delta)
        self._gradient_bias += np.sum(delta, axis=0, keepdims=True)

    def backward_delta(self, input, delta):
        return np.dot(delta, self._parameters.T)

    def update_parameters(self, gradient_step=1e-3):
        self._parameters -= gradient_step * self._gradient
        self._bias -= gradient_step * self._gradient_bias


class ReLU(Module):
    def forward(self, X):
        return np.maximum(X, 0.0)

    def backward_delta(self, input, delta):
        return np.where(input > 0, delta, 0.0)


def stable_softmax(X):
    e = np.exp(X - X.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class Softmax(Module):
    def forward(self, X):
        return stable_softmax(X)

    def backward_delta(self, input, delta):
        s = stable_softmax(input)
        return s * (delta - np.sum(delta * s, axis=1, keepdims=True))


class CELogSoftmax(object):
    def forward(self, y, yhat):
        m = yhat.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(yhat - m).sum(axis=1))
        return np.mean(-np.sum(y * yhat, axis=1) + lse)

    def backward(self, y, yhat):
        return (stable_softmax(yhat) - y) / len(y)
