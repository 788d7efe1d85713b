"""The functions discovery compares a student's outputs with, and how far apart two outputs are.

These only *identify* (which component is this?); judging is done by the judges against the
reference. A family holds a function and the forms its common bugs take, so that a softmax over
the wrong axis is still recognised as the softmax (and then fails its checks).
"""
from __future__ import annotations

import numpy as np

# The probe input for activations: 3 x 4, spread over [-3, 3], no zero, no two values alike.
PROBE_X = np.array([[-2.7, -1.3, 0.4, 2.2], [1.1, -0.35, -2.05, 0.8], [2.9, 0.15, -0.9, -1.75]])


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def shifted_softmax(x, shift_axis, sum_axis):
    """The max taken over one axis, the sum over the other: a softmax over the wrong axis that
    keeps its stable shift (the shift then no longer cancels)."""
    e = np.exp(x - x.max(axis=shift_axis, keepdims=True))
    return e / e.sum(axis=sum_axis, keepdims=True)


FORWARD = {  # softmax: rows, columns and whole array first (gather reads them by position)
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: np.maximum(x, 0.01 * x), lambda x: np.minimum(x, 0.0)),
    "sigmoid": (sigmoid, lambda x: sigmoid(-x), lambda x: 1.0 / (1.0 + np.exp(x))),
    "tanh": (np.tanh, lambda x: -np.tanh(x), lambda x: 2 * sigmoid(x) - 1),
    "softmax": (lambda x: softmax(x, 1), lambda x: softmax(x, 0), lambda x: np.exp(x) / np.exp(x).sum(),
                lambda x: shifted_softmax(x, 1, 0), lambda x: shifted_softmax(x, 0, 1)),
}

DERIVATIVE = {  # f'(x) as a function of the input x
    "relu": lambda x: (x > 0).astype(float),
    "sigmoid": lambda x: sigmoid(x) * (1 - sigmoid(x)),
    "tanh": lambda x: 1 - np.tanh(x) ** 2,
}
DERIVATIVE_OF_OUTPUT = {  # f'(x) written in terms of y = f(x)
    "relu": lambda y: (y > 0).astype(float),
    "sigmoid": lambda y: y * (1 - y),
    "tanh": lambda y: 1 - y ** 2,
}
DERIVATIVE_BUGS = {  # the catalogued wrong derivatives (SPEC 2, 3, 4) as functions of z and a = f(z); not "a" alone,
    # which any function handing back its argument would match
    "relu": (lambda z, a: (z < 0).astype(float), lambda z, a: -(z > 0).astype(float)),  # mask inverted; sign error
    "sigmoid": (lambda z, a: z * (1 - z), lambda z, a: 1 - a, lambda z, a: a * (1 + a), lambda z, a: -a * (1 - a)),
    "tanh": (lambda z, a: 1 - z ** 2, lambda z, a: 1 - a, lambda z, a: a ** 2, lambda z, a: 1 + a ** 2,
             lambda z, a: a ** 2 - 1),
}
FORWARD_OF = {"relu": FORWARD["relu"][0], "sigmoid": sigmoid, "tanh": np.tanh, "softmax": lambda x: softmax(x, 1)}


def distance(got, expected) -> float:
    """Relative distance ||got - expected|| / ||expected||; inf when shapes differ or not finite."""
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return float("inf")
    expected = np.asarray(expected, dtype=float)
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        return float("inf")
    return float(np.linalg.norm(got - expected) / max(np.linalg.norm(expected), 1e-12))


def family_distance(kind: str, got, x=PROBE_X) -> float:
    with np.errstate(all="ignore"):
        return min(distance(got, f(x)) for f in FORWARD[kind])


def cosine(a, b) -> float:
    a, b = np.ravel(np.asarray(a, dtype=float)), np.ravel(np.asarray(b, dtype=float))
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return 0.0
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-300))


def one_hot(labels, classes: int) -> np.ndarray:
    out = np.zeros((len(labels), classes))
    out[np.arange(len(labels)), np.asarray(labels, dtype=int)] = 1.0
    return out
