"""A scalar autograd engine of another shape: Var keeps one number in .value and its gradient in
.adjoint; backprop() orders the graph without recursion (an explicit stack) and each node's
rule adds into its parents' adjoints. The maths are module functions (tanh(v), sigmoid(v),
exp(v), log(v)). Dense(n_in, n_out) holds a 2-D list W[i][j] (in, out) and a list b; Net(sizes)
chains Dense layers (tanh between, linear last), each called on one sample as a list; params()
lists every Var and clear_grads() zeroes them."""
import math
import random


class Var:
    def __init__(self, value, parents=()):
        self.value = float(value)
        self.adjoint = 0.0
        self.parents = parents  # ((parent, local derivative), ...)

    def __add__(self, other):
        other = other if isinstance(other, Var) else Var(other)
        return Var(self.value + other.value, ((self, 1.0), (other, 1.0)))

    __radd__ = __add__

    def __sub__(self, other):
        other = other if isinstance(other, Var) else Var(other)
        return Var(self.value - other.value, ((self, 1.0), (other, -1.0)))

    def __mul__(self, other):
        other = other if isinstance(other, Var) else Var(other)
        return Var(self.value * other.value, ((self, other.value), (other, self.value)))

    __rmul__ = __mul__

    def __pow__(self, k):
        return Var(self.value ** k, ((self, k * self.value ** (k - 1)),))

    def backprop(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for parent, _ in node.parents:
                if id(parent) not in seen:
                    stack.append((parent, False))
        self.adjoint = 1.0
        for node in reversed(order):
            for parent, local in node.parents:
                parent.adjoint += local * node.adjoint


def tanh(v):
    t = math.tanh(v.value)
    return Var(t, ((v, 1.0 - t * t),))


def sigmoid(v):
    s = 1.0 / (1.0 + math.exp(-v.value))
    return Var(s, ((v, s * (1.0 - s)),))


def exp(v):
    e = math.exp(v.value)
    return Var(e, ((v, e),))


def log(v):
    return Var(math.log(v.value), ((v, 1.0 / v.value),))


class Dense:
    def __init__(self, n_in, n_out, act=None):
        scale = math.sqrt(1.0 / n_in)
        self.W = [[Var(random.gauss(0.0, scale)) for _ in range(n_out)] for _ in range(n_in)]
        self.b = [Var(0.0) for _ in range(n_out)]
        self.act = act

    def __call__(self, xs):
        outs = []
        for j in range(len(self.b)):
            z = self.b[j]
            for i, x in enumerate(xs):
                z = z + x * self.W[i][j]
            outs.append(self.act(z) if self.act else z)
        return outs

    def params(self):
        return [w for row in self.W for w in row] + self.b


class Net:
    def __init__(self, sizes):
        self.layers = [Dense(a, b, tanh if k < len(sizes) - 2 else None)
                       for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]

    def __call__(self, xs):
        for layer in self.layers:
            xs = layer(xs)
        return xs

    def params(self):
        return [p for layer in self.layers for p in layer.params()]

    def clear_grads(self):
        for p in self.params():
            p.adjoint = 0.0


def squared_error(outs, targets):
    """sum over outputs of (out - target)^2 (for the student's own loop)."""
    total = Var(0.0)
    for o, t in zip(outs, targets):
        total = total + (o - t) ** 2
    return total
