"""A correct submission built on its own autograd engine (issue #12): a reverse-mode ``Tensor``
over numpy arrays, layers holding parameter Tensors, and a loss made of Tensor operations.
Gradients appear only after ``loss.backward()``; ``zero_grad()`` resets them between steps."""
import numpy as np


def _reduce_to(grad, shape):
    """A gradient of a broadcast result, summed back to the operand's ``shape``."""
    grad = np.asarray(grad, dtype=float)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    def __init__(self, data, parents=(), grad_fn=None):
        self.data = np.asarray(data, dtype=float)
        self.grad = np.zeros_like(self.data)
        self._parents = parents
        self._grad_fn = grad_fn  # out.grad -> one gradient per parent

    def _push(self, grad):
        self.grad = self.grad + _reduce_to(grad, self.data.shape)

    def __add__(self, other):
        return Tensor(self.data + other.data, (self, other), lambda g: (g, g))

    def __sub__(self, other):
        return Tensor(self.data - other.data, (self, other), lambda g: (g, -g))

    def __mul__(self, other):
        return Tensor(self.data * other.data, (self, other), lambda g: (g * other.data, g * self.data))

    def __matmul__(self, other):
        return Tensor(self.data @ other.data, (self, other), lambda g: (g @ other.data.T, self.data.T @ g))

    def exp(self):
        e = np.exp(self.data)
        return Tensor(e, (self,), lambda g: (g * e,))

    def log(self):
        return Tensor(np.log(self.data), (self,), lambda g: (g / self.data,))

    def relu(self):
        return Tensor(np.maximum(self.data, 0.0), (self,), lambda g: (g * (self.data > 0),))

    def sigmoid(self):
        s = 0.5 * (1.0 + np.tanh(0.5 * self.data))
        return Tensor(s, (self,), lambda g: (g * s * (1 - s),))

    def tanh(self):
        t = np.tanh(self.data)
        return Tensor(t, (self,), lambda g: (g * (1 - t ** 2),))

    def square(self):
        return Tensor(self.data ** 2, (self,), lambda g: (2 * self.data * g,))

    def sum(self):
        return Tensor(self.data.sum(), (self,), lambda g: (np.ones_like(self.data) * g,))

    def mean(self):
        return Tensor(self.data.mean(), (self,), lambda g: (np.ones_like(self.data) * g / self.data.size,))

    def zero_grad(self):
        self.grad = np.zeros_like(self.data)

    def backward(self):
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for parent in node._parents:
                    visit(parent)
                order.append(node)

        visit(self)
        for node in order[:-1]:
            if node._grad_fn is not None:  # intermediate results start from zero; leaves keep theirs
                node.grad = np.zeros_like(node.data)
        self.grad = np.ones_like(self.data)
        for node in reversed(order):
            if node._grad_fn is not None:
                for parent, grad in zip(node._parents, node._grad_fn(node.grad)):
                    parent._push(grad)


class Linear:
    def __init__(self, in_features, out_features, rng=None):
        rng = rng or np.random.default_rng(0)
        self.weight = Tensor(he_normal(in_features, out_features, rng).T)
        self.bias = Tensor(np.zeros(out_features))

    def __call__(self, x):
        return x @ self.weight + self.bias

    def parameters(self):
        return [self.weight, self.bias]

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()


class ReLU:
    def __call__(self, x):
        return x.relu()


class Sigmoid:
    def __call__(self, x):
        return x.sigmoid()


class Tanh:
    def __call__(self, x):
        return x.tanh()


def mse_loss(prediction, target):
    return (prediction - target).square().mean()


class SGD:
    def __init__(self, parameters, lr=0.1):
        self.parameters, self.lr = list(parameters), lr

    def step(self):
        for p in self.parameters:
            p.data = p.data - self.lr * p.grad

    def zero_grad(self):
        for p in self.parameters:
            p.zero_grad()


def he_normal(fan_in, fan_out, rng):
    return rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)
