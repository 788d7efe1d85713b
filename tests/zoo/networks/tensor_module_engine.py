"""A torch-flavoured autograd: Tensor with .data/.grad (None until a backward reaches it),
Parameter(Tensor), Module with parameters() found by walking attributes, Linear(in, out) with weight
(out, in), Sequential-free MLP(sizes); losses built from Tensor ops; optimisers over
model.parameters() with step() and zero_grad(), state kept per parameter."""
import numpy as np


def _unbroadcast(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    def __init__(self, data, parents=(), backward_fn=None, requires_grad=False):
        self.data = np.array(data, dtype=np.float64)
        self.grad = None
        self.parents = parents
        self.backward_fn = backward_fn
        self.requires_grad = requires_grad or any(p.requires_grad for p in parents)

    def _accumulate(self, g):
        if self.requires_grad:
            self.grad = g.copy() if self.grad is None else self.grad + g

    def __add__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)

        def backward_fn(g):
            self._accumulate(_unbroadcast(g, self.data.shape))
            other._accumulate(_unbroadcast(g, other.data.shape))
        return Tensor(self.data + other.data, (self, other), backward_fn)

    def __neg__(self):
        return Tensor(-self.data, (self,), lambda g: self._accumulate(-g))

    def __sub__(self, other):
        return self + (-(other if isinstance(other, Tensor) else Tensor(other)))

    def __mul__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)

        def backward_fn(g):
            self._accumulate(_unbroadcast(g * other.data, self.data.shape))
            other._accumulate(_unbroadcast(g * self.data, other.data.shape))
        return Tensor(self.data * other.data, (self, other), backward_fn)

    def __matmul__(self, other):
        def backward_fn(g):
            self._accumulate(g @ other.data.T)
            other._accumulate(self.data.T @ g)
        return Tensor(self.data @ other.data, (self, other), backward_fn)

    @property
    def T(self):
        return Tensor(self.data.T, (self,), lambda g: self._accumulate(g.T))

    def relu(self):
        return Tensor(np.maximum(self.data, 0), (self,), lambda g: self._accumulate(g * (self.data > 0)))

    def tanh(self):
        t = np.tanh(self.data)
        return Tensor(t, (self,), lambda g: self._accumulate(g * (1 - t * t)))

    def sum(self):
        return Tensor(self.data.sum(), (self,), lambda g: self._accumulate(np.full_like(self.data, g)))

    def mean(self):
        n = self.data.size
        return Tensor(self.data.mean(), (self,), lambda g: self._accumulate(np.full_like(self.data, g / n)))

    def logsumexp(self):
        """log(sum(exp(x))) over the last axis, keeping it (shape (..., 1))."""
        m = self.data.max(axis=-1, keepdims=True)
        e = np.exp(self.data - m)
        out = m + np.log(e.sum(axis=-1, keepdims=True))
        softmax = e / e.sum(axis=-1, keepdims=True)
        return Tensor(out, (self,), lambda g: self._accumulate(g * softmax))

    def backward(self):
        order, seen = [], set()

        def visit(t):
            if id(t) not in seen:
                seen.add(id(t))
                for p in t.parents:
                    visit(p)
                order.append(t)
        visit(self)
        self.grad = np.ones_like(self.data)
        for t in reversed(order):
            if t.backward_fn is not None:
                t.backward_fn(t.grad)


class Parameter(Tensor):
    def __init__(self, data):
        super().__init__(data, requires_grad=True)


class Module:
    def parameters(self):
        params = []
        for value in vars(self).values():
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, Parameter):
                    params.append(item)
                elif isinstance(item, Module):
                    params.extend(item.parameters())
        return params

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def __call__(self, x):
        return self.forward(x)


class Linear(Module):
    def __init__(self, in_features, out_features):
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Parameter(np.random.uniform(-bound, bound, (out_features, in_features)) * np.sqrt(6))
        self.bias = Parameter(np.zeros(out_features))

    def forward(self, x):
        return x @ self.weight.T + self.bias


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class Tanh(Module):
    def forward(self, x):
        return x.tanh()


class MLP(Module):
    def __init__(self, sizes, activation=ReLU):
        self.layers = []
        for i in range(len(sizes) - 1):
            self.layers.append(Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                self.layers.append(activation())

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def log_softmax(logits):
    return logits - logits.logsumexp()


def cross_entropy(logits, target):
    """Mean cross-entropy of logits (Tensor (B, C)) and int labels."""
    onehot = np.eye(logits.data.shape[1])[np.asarray(target)]
    return -(log_softmax(logits) * onehot).sum() * (1.0 / len(onehot))


def mse_loss(pred, target):
    diff = pred - target
    return (diff * diff).mean()


class Optimizer:
    def __init__(self, params):
        self.params = list(params)

    def zero_grad(self):
        for p in self.params:
            p.grad = None


class SGD(Optimizer):
    def __init__(self, params, lr=0.01, momentum=0.0):
        super().__init__(params)
        self.lr, self.momentum = lr, momentum
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if self.momentum:
                self.velocity[i] = self.momentum * self.velocity[i] + p.grad
                p.data -= self.lr * self.velocity[i]
            else:
                p.data -= self.lr * p.grad


class Adam(Optimizer):
    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.state = [{"step": 0, "m": np.zeros_like(p.data), "v": np.zeros_like(p.data)} for p in self.params]

    def step(self):
        beta1, beta2 = self.betas
        for p, s in zip(self.params, self.state):
            if p.grad is None:
                continue
            s["step"] += 1
            s["m"] = beta1 * s["m"] + (1 - beta1) * p.grad
            s["v"] = beta2 * s["v"] + (1 - beta2) * p.grad ** 2
            m_hat = s["m"] / (1 - beta1 ** s["step"])
            v_hat = s["v"] / (1 - beta2 ** s["step"])
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
