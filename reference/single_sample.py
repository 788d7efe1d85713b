"""The single-sample one-hidden-layer MLP of assignment 004 (x is ONE sample of shape (d,)):

    a1 = W1 x + b1   (h,)        h1 = phi(a1)   (h,)        f = W2 h1 + b2   (a number)
    L  = (f - y)^2 / 2           dL/df = f - y

W1 (h, d), b1 (h,), W2 (1, h), b2 (1,); phi is ReLU (ReLU'(0) = 0) or the sigmoid.

    >>> import numpy as np
    >>> model = OneHiddenLayerMLP(2, 2)
    >>> model.set_parameters({"W1": np.array([[1.0, -2.0], [0.5, 1.0]]), "b1": np.zeros(2),
    ...                       "W2": np.array([[1.0, -1.0]]), "b2": np.zeros(1)})
    >>> f = model.forward(np.array([1.0, -1.0])); f, model.loss(f, 2.0)
    (3.0, 0.5)
"""
from __future__ import annotations

import numpy as np

from reference import init as initializers
from reference.layers import sigmoid

SHAPES = {"W1": lambda d, h: (h, d), "b1": lambda d, h: (h,), "W2": lambda d, h: (1, h), "b2": lambda d, h: (1,)}


class OneHiddenLayerMLP:
    def __init__(self, input_dim, hidden_dim, activation="relu", *, rng=None):
        if activation not in ("relu", "sigmoid"):
            raise ValueError(f"OneHiddenLayerMLP: activation must be 'relu' or 'sigmoid', not {activation!r}.")
        rng = np.random.default_rng() if rng is None else rng
        draw = initializers.he_normal if activation == "relu" else initializers.xavier_normal
        self.input_dim, self.hidden_dim, self.activation = input_dim, hidden_dim, activation
        self.W1, self.b1 = draw(input_dim, hidden_dim, rng), np.zeros(hidden_dim)
        self.W2, self.b2 = draw(hidden_dim, 1, rng), np.zeros(1)
        self.a1_cache = self.h1_cache = None

    def phi(self, a):
        return np.maximum(a, 0) if self.activation == "relu" else sigmoid(a)

    def phi_prime(self, a):
        if self.activation == "relu":
            return (a > 0).astype(a.dtype)
        s = sigmoid(a)
        return s * (1 - s)

    def forward(self, x):
        """f for one sample x (d,); keeps a1_cache and h1_cache for backward."""
        self.a1_cache = self.W1 @ x + self.b1            # (h, d) @ (d,) -> (h,)
        self.h1_cache = self.phi(self.a1_cache)          # (h,)
        return float((self.W2 @ self.h1_cache + self.b2)[0])  # (1, h) @ (h,) -> (1,)

    def loss(self, f, y):
        return 0.5 * float(f - y) ** 2

    def backward(self, x, y, f):
        """Gradients of L = (f - y)^2 / 2 at the last forward (which must have been on this x)."""
        if self.a1_cache is None:
            raise RuntimeError("OneHiddenLayerMLP.backward was called before forward: call f = model.forward(x) first.")
        df = float(f - y)                                  # dL/df
        dh1 = df * self.W2[0]                              # (h,)
        da1 = dh1 * self.phi_prime(self.a1_cache)          # (h,)
        return {
            "dL_dW1": np.outer(da1, x),                    # (h,) x (d,) -> (h, d)
            "dL_db1": da1,                                 # (h,)
            "dL_dW2": df * self.h1_cache[None, :],         # (1, h)
            "dL_db2": np.array([df]),                      # (1,)
        }

    def get_parameters(self):
        return {name: getattr(self, name).copy() for name in SHAPES}

    def set_parameters(self, params):
        for name, value in params.items():
            if name not in SHAPES:
                raise KeyError(f"OneHiddenLayerMLP.set_parameters: unknown parameter {name!r}; use W1, b1, W2, b2.")
            want = SHAPES[name](self.input_dim, self.hidden_dim)
            value = np.array(value, dtype=np.float64)
            if value.shape != want:
                raise ValueError(f"OneHiddenLayerMLP.set_parameters: {name} must have shape {want}, got {value.shape}.")
            setattr(self, name, value)
