"""Small 2-D problems the assignments train on, drawn from a numpy Generator you pass.

Defaults follow the course material:
* ``make_xor(n_samples=200, noise=0.1)``: the call of assignment 004 (Part 5, training set; its
  validation set is the same call with n_samples=100, and its bar is validation accuracy > 0.85).
* ``make_spiral(n_per_class=100, n_classes=3, noise=0.2)``: assignment 003 draws 100 points per
  class for 3 classes (300 in all, the size assignment 004's exercise asks for) and jitters the
  angle with a standard deviation of 0.2; each arm turns through 4 radians.
"""
from __future__ import annotations

import numpy as np

# XOR truth table: the four corners of the unit square and their class (a XOR b).
XOR_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_CLASSES = np.array([0, 1, 1, 0])


def _generator(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy Generator or an int seed, got {type(rng).__name__}.")


def make_xor(n_samples: int = 200, noise: float = 0.1, *, rng=None):
    """XOR: points near the corners of the unit square, class = x0 XOR x1 (rounded).

    Returns X float64 (n_samples, 2) and y int64 (n_samples,) in shuffled order. The four corners
    get n_samples // 4 points each (the first n_samples % 4 corners one more), so the two classes
    differ in size by at most one. ``noise`` is the standard deviation of the Gaussian jitter.

    >>> X, y = make_xor(8, rng=np.random.default_rng(0)); X.shape, sorted(y.tolist())
    ((8, 2), [0, 0, 0, 0, 1, 1, 1, 1])
    """
    rng = _generator(rng)
    corner = rng.permutation(np.arange(n_samples) % 4)
    X = XOR_CORNERS[corner] + noise * rng.standard_normal((n_samples, 2))
    return X, XOR_CLASSES[corner].astype(np.int64)


def make_spiral(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, *, rng=None):
    """Interleaved spiral arms, one per class, radius growing from 0 to 1 along each arm.

    Point i of arm k sits at radius s = i / (n_per_class - 1) and angle 4 (k + s) + noise * N(0, 1).
    Returns X float64 (n_per_class * n_classes, 2) and y int64, rows in shuffled order.
    """
    rng = _generator(rng)
    s = np.linspace(0.0, 1.0, n_per_class)
    y = np.repeat(np.arange(n_classes), n_per_class)
    radius = np.tile(s, n_classes)
    angle = 4.0 * (y + radius) + noise * rng.standard_normal(y.size)
    X = radius[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)
    order = rng.permutation(y.size)
    return X[order], y[order].astype(np.int64)


def one_hot(labels, n_classes: int | None = None, dtype=np.float64) -> np.ndarray:
    """(N,) integer class ids -> (N, n_classes) rows with a single 1.

    >>> one_hot(np.array([2, 0]), 3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"one_hot expects a 1-D array of integer class ids, got {labels.dtype} {labels.shape}.")
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"one_hot: class ids must lie in 0..{n_classes - 1}, got {labels.min()}..{labels.max()}.")
    out = np.zeros((labels.size, n_classes), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out
