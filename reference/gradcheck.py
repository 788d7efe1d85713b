"""Gradient checking with central differences, in float64 (as torch.autograd.gradcheck does).

A layer's backward is checked through the scalar L = sum(forward(x) * dy), whose gradient with
respect to x is exactly backward(dy) and with respect to a parameter is grads[name].
With eps = 1e-6 in float64 the truncation error (~eps^2) and the rounding error (~1e-16 / eps)
are both around 1e-10, so a correct layer shows relative errors far below 1e-7 and a wrong
one shows errors of order 1.

    >>> import numpy as np
    >>> from reference.layers import Linear
    >>> rng = np.random.default_rng(0)
    >>> errors = check_gradients(Linear(4, 3, rng=rng), rng.normal(size=(5, 4)), rng.normal(size=(5, 3)))
    >>> sorted(errors), max(errors.values()) < 1e-7
    (['W', 'b', 'x'], True)
"""
from __future__ import annotations

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """d f / d x by central differences, one element at a time; f maps an array like x to a number.

    f is called on perturbed float64 copies of x; the caller's x is never changed.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        up = f(x.copy())
        x[i] = original - eps
        down = f(x.copy())
        x[i] = original
        grad[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a, b):
    """||a - b|| / (||a|| + ||b||): 0 for equal arrays, about 1 for unrelated ones; 0 when both are 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else 0.0


def check_gradients(layer, x, dy, eps=1e-6):
    """Relative errors of ``layer.backward`` against central differences:
    {"x": error of dL/dx, "<param>": error of grads[param], ...} for L = sum(forward(x) * dy).

    Parameters are perturbed by swapping in copies, and the originals are put back afterwards.
    The layer must be deterministic (Dropout: check with a fixed mask, see tests).
    """
    x, dy = np.asarray(x, dtype=np.float64), np.asarray(dy, dtype=np.float64)

    def loss_at(x_point):
        return float(np.sum(layer.forward(x_point) * dy))

    layer.forward(x.copy())
    analytic = {"x": np.asarray(layer.backward(dy.copy()))}
    analytic.update({name: np.asarray(g) for name, g in layer.grads.items()})

    numeric = {"x": numerical_gradient(loss_at, x, eps)}
    for name, original in list(layer.params.items()):
        def loss_with(value, name=name):
            layer.params[name] = value
            return loss_at(x.copy())

        try:
            numeric[name] = numerical_gradient(loss_with, original, eps)
        finally:
            layer.params[name] = original
    return {name: relative_error(analytic.get(name, np.full_like(n, np.nan)), n) for name, n in numeric.items()}
