"""Module API of a French master's course: forward(X), backward_update_gradient(input, delta)
accumulating into self._gradient, backward_delta(input, delta) returning the input gradient,
zero_grad(); losses take (y, yhat), the target first. Parameters live in a dict."""
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


class Loss(object):
    def forward(self, y, yhat):
        raise NotImplementedError

    def backward(self, y, yhat):
        raise NotImplementedError


class Linear(Module):
    def __init__(self, input, output):
        super().__init__()
        self._parameters = {
            "W": np.random.uniform(-1, 1, (input, output)) / np.sqrt(input),
            "b": np.zeros(output),
        }
        self.zero_grad()

    def zero_grad(self):
        self._gradient = {k: np.zeros_like(v) for k, v in self._parameters.items()}

    def forward(self, X):
        return X @ self._parameters["W"] + self._parameters["b"]

    def backward_update_gradient(self, input, delta):
        self._gradient["W"] += input.T @ delta
        self._gradient["b"] += delta.sum(axis=0)

    def backward_delta(self, input, delta):
        return delta @ self._parameters["W"].T

    def update_parameters(self, gradient_step=1e-3):
        for k in self._parameters:
            self._parameters[k] -= gradient_step * self._gradient[k]


class TanH(Module):
    def forward(self, X):
        return np.tanh(X)

    def backward_delta(self, input, delta):
        return delta * (1 - np.tanh(input) ** 2)


class Sigmoide(Module):
    def forward(self, X):
        return 1 / (1 + np.exp(-np.clip(X, -300, 300)))

    def backward_delta(self, input, delta):
        s = self.forward(input)
        return delta * s * (1 - s)


class MSELoss(Loss):
    def forward(self, y, yhat):
        # squared error per example, averaged over the batch
        return np.mean(np.sum((y - yhat) ** 2, axis=1))

    def backward(self, y, yhat):
        return -2 * (y - yhat)
