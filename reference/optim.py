"""Optimizers over ``[(params, grads), ...]`` (what ``Sequential.parameters()`` returns).

Parameters are updated in place, looked up by key at every step (so a layer whose
``params[k]`` array was replaced is still updated), and state (velocities, moments) is kept per
(group, key).

    >>> import numpy as np
    >>> p, g = {"w": np.array([1.0, -2.0])}, {"w": np.array([0.5, 0.5])}
    >>> SGD([(p, g)], lr=0.1).step(); p["w"]
    array([ 0.95, -2.05])
"""
from __future__ import annotations

import numpy as np


class Optimizer:
    def __init__(self, parameters, lr):
        self.groups = list(parameters.parameters() if hasattr(parameters, "parameters") else parameters)
        self.lr = lr
        self.state: dict[tuple[int, str], dict[str, np.ndarray]] = {}

    def pairs(self):
        """(state dict, parameter array, gradient array) for every parameter."""
        for i, (params, grads) in enumerate(self.groups):
            for key, p in params.items():
                yield self.state.setdefault((i, key), {}), p, grads[key]

    def step(self):
        raise NotImplementedError


class SGD(Optimizer):
    """Plain SGD, or SGD with momentum in one of two forms (``form=``):

    "classical": v = mu v - lr g;        theta += v
                 (the same trajectory as PyTorch's v = mu v + g, theta -= lr v, for a fixed lr)
    "ema":       v = mu v + (1 - mu) g;  theta -= lr v
                 (an exponential moving average: steps are (1 - mu) times smaller)
    Velocities start at zero.
    """

    def __init__(self, parameters, lr, momentum=0.0, form="classical"):
        super().__init__(parameters, lr)
        if form not in ("classical", "ema"):
            raise ValueError(f"SGD: form must be 'classical' or 'ema', not {form!r}.")
        self.momentum, self.form = momentum, form

    def step(self):
        lr, mu = self.lr, self.momentum
        for state, p, g in self.pairs():
            if mu == 0:
                p -= lr * g
                continue
            v = state.setdefault("v", np.zeros_like(p))
            if self.form == "classical":
                v *= mu
                v -= lr * g
                p += v
            else:
                v *= mu
                v += (1 - mu) * g
                p -= lr * v


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba, Algorithm 1; the same updates as torch.optim.Adam):

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  m_hat = m / (1 - b1^t);  v_hat = v / (1 - b2^t)
    theta -= lr m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(self, parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(parameters, lr)
        self.betas, self.eps, self.t = tuple(betas), eps, 0

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        for state, p, g in self.pairs():
            m = state.setdefault("m", np.zeros_like(p))
            v = state.setdefault("v", np.zeros_like(p))
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            m_hat = m / (1 - b1 ** self.t)
            v_hat = v / (1 - b2 ** self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
