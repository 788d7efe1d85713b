"""A micrograd-style engine over numpy arrays: Value(data) records the operations that made it and
backward() walks them in reverse topological order, each node's _backward adding into .grad.
Neuron-free: Layer(nin, nout) holds a weight Value (nin, nout) and a bias Value (nout,);
MLP(nin, nouts) stacks them (ReLU between); parameters() and zero_grad() as in the original.
The update is written by hand: p.data -= lr * p.grad."""
import numpy as np


def _reduce_to(grad, shape):
    """Sum the broadcast axes of grad so it matches shape."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for i, n in enumerate(shape):
        if n == 1 and grad.shape[i] != 1:
            grad = grad.sum(axis=i, keepdims=True)
    return grad


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = np.asarray(data, dtype=float)
        self.grad = np.zeros_like(self.data)
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += _reduce_to(out.grad, self.data.shape)
            other.grad += _reduce_to(out.grad, other.data.shape)
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += _reduce_to(other.data * out.grad, self.data.shape)
            other.grad += _reduce_to(self.data * out.grad, other.data.shape)
        out._backward = _backward
        return out

    def __matmul__(self, other):
        out = Value(self.data @ other.data, (self, other), "@")

        def _backward():
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad
        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other if isinstance(other, Value) else Value(-np.asarray(other, dtype=float)))

    def __truediv__(self, other):
        return self * other ** -1

    def __pow__(self, k):
        out = Value(self.data ** k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(np.maximum(self.data, 0), (self,), "relu")

        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(np.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        out = Value(np.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def sum(self, axis=None, keepdims=False):
        out = Value(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum")

        def _backward():
            g = out.grad if keepdims or axis is None else np.expand_dims(out.grad, axis)
            self.grad += np.broadcast_to(g, self.data.shape)
        out._backward = _backward
        return out

    def backward(self):
        topo, seen = [], set()

        def build(v):
            if v not in seen:
                seen.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = np.ones_like(self.data)
        for v in reversed(topo):
            v._backward()


class Module:
    def zero_grad(self):
        for p in self.parameters():
            p.grad = np.zeros_like(p.data)

    def parameters(self):
        return []


class Layer(Module):
    def __init__(self, nin, nout, nonlin=True):
        self.w = Value(np.random.uniform(-1, 1, (nin, nout)) * np.sqrt(3.0 / nin))
        self.b = Value(np.zeros(nout))
        self.nonlin = nonlin

    def __call__(self, x):
        act = x @ self.w + self.b
        return act.relu() if self.nonlin else act

    def parameters(self):
        return [self.w, self.b]


class MLP(Module):
    def __init__(self, nin, nouts):
        sz = [nin] + list(nouts)
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def cross_entropy(logits, labels):
    """Mean softmax cross-entropy of logits (a Value (B, C)) and int labels, built from Value ops."""
    shift = Value(logits.data.max(axis=1, keepdims=True))  # a constant: softmax ignores it
    exps = (logits - shift).exp()
    probs = exps / exps.sum(axis=1, keepdims=True)
    onehot = np.eye(logits.data.shape[1])[labels]
    return -((probs.log() * onehot).sum()) * (1.0 / len(labels))


def mse(pred, target):
    diff = pred - target
    return (diff * diff).sum() * (1.0 / diff.data.size)


def train(model, X, y, lr=0.1, epochs=100, batch_size=32):
    losses = []
    for _ in range(epochs):
        order = np.random.permutation(len(X))
        for i in range(0, len(X), batch_size):
            idx = order[i:i + batch_size]
            loss = cross_entropy(model(Value(X[idx])), y[idx])
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= lr * p.grad
            losses.append(float(loss.data))
    return losses
