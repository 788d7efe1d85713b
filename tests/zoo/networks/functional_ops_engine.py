"""An autograd engine with no operators: Node(array) keeps .value and .grad, the operations are
functions (add, mul, matmul, relu, total) that build nodes with a closure each, and the walk over
the graph is a function too, run_backward(root): a node's own backprop() moves one step only.
Broadcast operands are summed back to their shape; gradients add up until zero_grad()."""
import numpy as np


class Node:
    def __init__(self, value, parents=(), step=None):
        self.value = np.asarray(value, dtype=float)
        self.grad = np.zeros_like(self.value)
        self.parents = parents
        self.step = step

    def backprop(self):
        if self.step is not None:
            self.step(self.grad)

    def zero_grad(self):
        self.grad = np.zeros_like(self.value)


def _unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def add(a, b):
    def step(g):
        a.grad += _unbroadcast(g, a.value.shape)
        b.grad += _unbroadcast(g, b.value.shape)
    return Node(a.value + b.value, (a, b), step)


def mul(a, b):
    def step(g):
        a.grad += _unbroadcast(g * b.value, a.value.shape)
        b.grad += _unbroadcast(g * a.value, b.value.shape)
    return Node(a.value * b.value, (a, b), step)


def matmul(a, b):
    def step(g):
        a.grad += g @ b.value.T
        b.grad += a.value.T @ g
    return Node(a.value @ b.value, (a, b), step)


def relu(a):
    def step(g):
        a.grad += g * (a.value > 0)
    return Node(np.maximum(a.value, 0.0), (a,), step)


def total(a):
    def step(g):
        a.grad += np.ones_like(a.value) * g
    return Node(a.value.sum(), (a,), step)


def run_backward(root):
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    root.grad = np.ones_like(root.value)
    for node in reversed(order):
        node.backprop()
