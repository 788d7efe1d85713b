"""A scalar autograd engine whose nodes carry their own chain rule: Node keeps one number in .val
and its gradient in .grad, and each operation stores rule(g), which returns the (input, share of
g) pairs; backward() orders the graph with an explicit stack and adds each share into the input's
.grad. Module.parameters() and zero_grad(); Neuron(n_in) holds a list of weights and a bias Node,
Layer(n_in, n_out) a list of neurons, Net(sizes) the layers (tanh between, linear last), each
called on one sample as a list. The optimisers take the flat parameter list, as a lecture's
SGD(model.parameters(), lr) does: SGD and Momentum (a velocity per Node, keyed by id). mse is
one fused Node whose rule is written by hand instead of 3n small nodes."""
import math
import random


class Node:
    def __init__(self, val, inputs=(), rule=None):
        self.val = float(val)
        self.grad = 0.0
        self.inputs = tuple(inputs)
        self.rule = rule  # g -> ((input, share), ...)

    @staticmethod
    def lift(x):
        return x if isinstance(x, Node) else Node(x)

    def __add__(self, other):
        other = Node.lift(other)
        return Node(self.val + other.val, (self, other), lambda g: ((self, g), (other, g)))

    __radd__ = __add__

    def __mul__(self, other):
        other = Node.lift(other)
        return Node(self.val * other.val, (self, other), lambda g: ((self, g * other.val), (other, g * self.val)))

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + -Node.lift(other)

    def __rsub__(self, other):
        return Node.lift(other) + -self

    def __pow__(self, k):
        return Node(self.val ** k, (self,), lambda g: ((self, g * k * self.val ** (k - 1)),))

    def __truediv__(self, other):
        return self * Node.lift(other) ** -1

    def tanh(self):
        t = math.tanh(self.val)
        return Node(t, (self,), lambda g: ((self, g * (1.0 - t * t)),))

    def relu(self):
        return Node(max(self.val, 0.0), (self,), lambda g: ((self, g if self.val > 0 else 0.0),))

    def exp(self):
        e = math.exp(self.val)
        return Node(e, (self,), lambda g: ((self, g * e),))

    def log(self):
        return Node(math.log(self.val), (self,), lambda g: ((self, g / self.val),))

    def backward(self):
        order, seen, stack = [], {id(self)}, [(self, iter(self.inputs))]
        while stack:
            node, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                stack.pop()
                order.append(node)
            elif id(nxt) not in seen:
                seen.add(id(nxt))
                stack.append((nxt, iter(nxt.inputs)))
        self.grad = 1.0
        for node in reversed(order):
            if node.rule is not None:
                for inp, share in node.rule(node.grad):
                    inp.grad += share


class Module:
    def parameters(self):
        return []

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    def __init__(self, n_in, squash=True):
        self.weights = [Node(random.gauss(0.0, 1.0 / math.sqrt(n_in))) for _ in range(n_in)]
        self.bias = Node(0.0)
        self.squash = squash

    def __call__(self, xs):
        z = self.bias
        for w, x in zip(self.weights, xs):
            z = z + w * x
        return z.tanh() if self.squash else z

    def parameters(self):
        return self.weights + [self.bias]


class Layer(Module):
    def __init__(self, n_in, n_out, squash=False):
        self.neurons = [Neuron(n_in, squash) for _ in range(n_out)]

    def __call__(self, xs):
        return [n(xs) for n in self.neurons]

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class Net(Module):
    def __init__(self, sizes):
        last = len(sizes) - 2
        self.layers = [Layer(a, b, squash=k < last) for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]

    def __call__(self, xs):
        for layer in self.layers:
            xs = layer(xs)
        return xs

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def mse(preds, targets):
    """mean over the outputs of (pred - target)^2 as one Node (a flat list of Nodes, plain targets)."""
    n = len(preds)
    diffs = [p.val - t for p, t in zip(preds, targets)]
    value = sum(d * d for d in diffs) / n
    return Node(value, preds, lambda g: tuple((p, g * 2.0 * d / n) for p, d in zip(preds, diffs)))


class SGD:
    def __init__(self, params, lr=0.1):
        self.params = list(params)
        self.lr = lr

    def zero_grad(self):
        for p in self.params:
            p.grad = 0.0

    def step(self):
        for p in self.params:
            p.val -= self.lr * p.grad


class Momentum(SGD):
    def __init__(self, params, lr=0.1, momentum=0.9):
        super().__init__(params, lr)
        self.momentum = momentum
        self.velocity = {id(p): 0.0 for p in self.params}

    def step(self):
        for p in self.params:
            v = self.momentum * self.velocity[id(p)] + p.grad
            self.velocity[id(p)] = v
            p.val -= self.lr * v
