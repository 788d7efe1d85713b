"""Layers: one short class per component, forward and backward side by side.

Conventions (the kit's canonical ones, PyTorch-familiar):
  * a batch is the first axis: x (B, features);
  * ``Linear`` stores W (out, in) and b (out,) in ``params``; ``backward`` fills ``grads``;
  * every ``backward(dy)`` returns the exact vector-Jacobian product dy -> dL/dx of its own
    ``forward``: no batch averaging inside a layer (only the loss averages over the batch);
  * a forward's cache serves exactly one backward; a backward without a forward raises.

    >>> import numpy as np
    >>> layer = Linear(3, 2, rng=np.random.default_rng(0))
    >>> y = layer.forward(np.ones((4, 3)))            # (4, 2)
    >>> dx = layer.backward(np.ones((4, 2)))          # (4, 3); layer.grads["W"] is (2, 3)
"""
from __future__ import annotations

import numpy as np

from reference import init as initializers


class Module:
    """Base class: ``params``/``grads`` dicts (same keys), ``forward``/``backward``, train/eval."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True
        self._cache = None

    def __call__(self, x):
        return self.forward(x)

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def _save(self, *values):
        self._cache = values

    def _saved(self):
        """The values the last forward saved; used once, so a stale cache can never be reused."""
        if self._cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward was called without a matching forward: call forward(x) "
                f"first (each forward serves one backward; a layer used twice needs two instances).")
        values, self._cache = self._cache, None
        return values if len(values) > 1 else values[0]

    def __repr__(self):
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"


class Linear(Module):
    """y = x @ W.T + b with W (out_features, in_features), b (out_features,)."""

    def __init__(self, in_features, out_features, *, rng=None, init="he", dtype=np.float64):
        super().__init__()
        draw = {"he": initializers.he_normal, "xavier": initializers.xavier_normal,
                "he_uniform": initializers.he_uniform, "xavier_uniform": initializers.xavier_uniform}
        if init not in draw:
            raise ValueError(f"Linear: unknown init {init!r}; use one of {', '.join(draw)}.")
        rng = np.random.default_rng() if rng is None else rng
        self.params["W"] = draw[init](in_features, out_features, rng, dtype=dtype)
        self.params["b"] = np.zeros(out_features, dtype=dtype)

    def forward(self, x):
        if x.ndim != 2:
            raise ValueError(f"Linear.forward: x must be a batch of shape (B, in_features), got {x.shape}; "
                             f"for one sample pass x[None, :].")
        self._save(x)
        y = x @ self.params["W"].T   # (B, in) @ (in, out) -> (B, out)
        y += self.params["b"]
        return y

    def backward(self, dy, input_grad=True):
        x = self._saved()
        self.grads["W"] = dy.T @ x           # (out, B) @ (B, in) -> (out, in)
        self.grads["b"] = dy.sum(axis=0)     # (out,)
        if not input_grad:                   # x is the data: nobody needs dL/dx (see Sequential.backward)
            return None
        return dy @ self.params["W"]         # (B, out) @ (out, in) -> (B, in)


class ReLU(Module):
    """max(x, 0); the derivative at exactly 0 is taken as 0 (as PyTorch does)."""

    def forward(self, x):
        self._save(x > 0)
        return np.maximum(x, 0)

    def backward(self, dy):
        positive = self._saved()
        return dy * positive


def sigmoid(x):
    """1 / (1 + exp(-x)) without overflow: exp is only ever taken of -|x|."""
    e = np.exp(-np.abs(x))                       # in (0, 1]
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Module):
    def forward(self, x):
        y = sigmoid(x)
        self._save(y)
        return y

    def backward(self, dy):
        y = self._saved()
        return dy * y * (1 - y)                  # sigma' = sigma (1 - sigma)


class Tanh(Module):
    def forward(self, x):
        y = np.tanh(x)
        self._save(y)
        return y

    def backward(self, dy):
        y = self._saved()
        return dy * (1 - y * y)                  # tanh' = 1 - tanh^2


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)), shifted by the row maximum so exp never overflows."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Softmax(Module):
    """Softmax over the last axis."""

    def forward(self, x):
        s = softmax(x)
        self._save(s)
        return s

    def backward(self, dy):
        s = self._saved()
        # J = diag(s) - s s^T per row, so dy J = s * (dy - <dy, s>)
        return s * (dy - (dy * s).sum(axis=-1, keepdims=True))


class Flatten(Module):
    """(B, ...) -> (B, prod(...))."""

    def forward(self, x):
        self._save(x.shape)
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self._saved())


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy, input_grad=True):
        """dL/dx of the whole stack; with ``input_grad=False`` (training) None, and a first Linear
        skips dx = dy @ W: the data needs no gradient (autograd skips it too), and for a 784-wide
        input it is the largest matrix product of an MLP's step (~28% of its FLOPs)."""
        if not self.layers:
            return dy
        first, *rest = self.layers
        for layer in reversed(rest):
            dy = layer.backward(dy)
        if input_grad:
            return first.backward(dy)
        if isinstance(first, Linear):
            first.backward(dy, input_grad=False)
        else:
            first.backward(dy)
        return None

    def parameters(self):
        """[(params, grads), ...] for every layer that has parameters (what optimizers take)."""
        return [(layer.params, layer.grads) for layer in self.layers if layer.params]

    def train(self):
        for layer in self.layers:
            layer.train()
        return super().train()

    def eval(self):
        for layer in self.layers:
            layer.eval()
        return super().eval()

    def __repr__(self):
        return "Sequential(" + ", ".join(map(repr, self.layers)) + ")"
