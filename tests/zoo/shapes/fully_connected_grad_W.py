"""FullyConnected(input_dim, num_neurons) caching its input and storing grad_W/grad_b;
a sigmoid layer that caches its output; an MSE object with forward(prediction, target) and a
backward() that reuses what forward saw."""
import numpy as np


class FullyConnected(object):
    """A fully connected (dense) layer: z = x W + b."""

    def __init__(self, input_dim, num_neurons):
        self.W = 0.1 * np.random.randn(input_dim, num_neurons)
        self.b = np.zeros((1, num_neurons))
        self.input_cache = None
        self.grad_W = None
        self.grad_b = None

    def forward(self, input_):
        self.input_cache = input_
        z = np.dot(input_, self.W) + self.b
        return z

    def backward(self, gradient_top):
        self.grad_W = np.dot(self.input_cache.T, gradient_top)
        self.grad_b = np.sum(gradient_top, axis=0, keepdims=True)
        return np.dot(gradient_top, self.W.T)


class SigmoidLayer(object):
    def forward(self, input_):
        self.out_cache = 1.0 / (1.0 + np.exp(-np.clip(input_, -60.0, 60.0)))
        return self.out_cache

    def backward(self, gradient_top):
        y = self.out_cache
        return gradient_top * y * (1.0 - y)


class MeanSquaredError(object):
    def forward(self, prediction, target):
        self.diff = prediction - target
        return 0.5 * np.mean(self.diff ** 2)

    def backward(self):
        return self.diff / self.diff.size
