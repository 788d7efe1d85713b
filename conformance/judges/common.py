"""Arithmetic every judge shares: fail-closed array reading, numerical VJPs from forward values at
kit-chosen points, scale detection and bug matching (the tolerances are ``conformance.tolerances``).

Typical judge::

    def forward(case, out):
        got = read_array(out, "y", shape=(4, 3))
        if isinstance(got, Outcome):          # missing key, wrong shape, NaN...: already a fail
            return got
        expected = ...                        # with the reference
        return compare(got, expected, FORWARD, what="Linear forward output")
"""
from __future__ import annotations

import numpy as np

from conformance.outcome import Outcome, failed, passed
from conformance.tolerances import EPS, GRADIENT, SCALE, Tolerance


def where_largest(got: np.ndarray, expected: np.ndarray) -> dict:
    """Index and values of the largest absolute difference (shapes must agree)."""
    diff = np.abs(np.asarray(got, dtype=float) - np.asarray(expected, dtype=float))
    if diff.size == 0:
        return {}
    idx = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return {"index": [int(i) for i in idx], "expected": float(np.asarray(expected)[idx]),
            "got": float(np.asarray(got)[idx]), "abs_error": float(diff[idx])}


def read_array(out: dict, key: str, what: str, shape: tuple | None = None,
               finite: bool = True) -> np.ndarray | Outcome:
    """``out[key]`` as a float array, or a fail Outcome saying what is wrong with it."""
    if not isinstance(out, dict) or key not in out or out[key] is None:
        return failed(f"{what} was not returned.", "wrong_shape")
    try:
        arr = np.asarray(out[key])
    except Exception:
        return failed(f"{what} is not an array.", "wrong_dtype")
    if arr.dtype.kind not in "fiu":
        return failed(f"{what} has dtype {arr.dtype}, expected a float array.", "wrong_dtype")
    if shape is not None and arr.shape != tuple(shape):
        return failed(f"{what} has shape {arr.shape}, expected {tuple(shape)}.", "wrong_shape",
                      expected=list(shape), got=list(arr.shape))
    if finite and not np.all(np.isfinite(arr)):
        return failed(f"{what} contains NaN or inf.", None)
    return arr.astype(float)


def close(got, expected, tol: Tolerance) -> bool:
    return bool(np.allclose(got, expected, rtol=tol.rtol, atol=tol.atol))


def compare(got: np.ndarray, expected: np.ndarray, tol: Tolerance, what: str,
            cause: str | None = None, message: str = "") -> Outcome:
    """pass if ``got`` matches ``expected`` within ``tol``; otherwise a fail with the evidence."""
    if np.shape(got) != np.shape(expected):
        return failed(f"{what} has shape {np.shape(got)}, expected {np.shape(expected)}.", "wrong_shape")
    if close(got, expected, tol):
        return passed(message or f"{what} matches.")
    return failed(f"{what} does not match the expected values (tolerance {tol.name}: "
                  f"rtol={tol.rtol:g}, atol={tol.atol:g}).", cause,
                  where=where_largest(got, expected), **excerpt(expected, got))


PLOT_MAX_VALUES = 4096  # arrays up to this size travel whole in the report, for the feedback's heatmaps


def excerpt(expected, got, n: int = 6) -> dict:
    """The first few values of both arrays, for the feedback; and, when both are small and of one
    shape, both whole under ``plot`` (``kind`` "arrays"), which the HTML feedback draws as heatmaps
    of expected, got and their difference (never printed as text)."""
    e, g = np.ravel(expected)[:n], np.ravel(got)[:n]
    out = {"expected": np.round(e, 6).tolist(), "got": np.round(g, 6).tolist()}
    if np.shape(expected) == np.shape(got) and 0 < np.size(got) <= PLOT_MAX_VALUES:
        out["plot"] = {"kind": "arrays", "expected": np.asarray(expected, dtype=float),
                       "got": np.asarray(got, dtype=float)}
    return out


def fit_scale(got: np.ndarray, base: np.ndarray, tol: Tolerance = SCALE) -> float | None:
    """c such that got == c * base within ``tol``, or None when no constant fits."""
    if np.shape(got) != np.shape(base):
        return None
    denom = float(np.sum(base * base))
    if denom == 0.0:
        return 1.0 if close(got, base, tol) else None
    c = float(np.sum(got * base) / denom)
    return c if close(got, c * base, tol) else None


def which_scale(got: np.ndarray, base: np.ndarray, factors: dict[str, float],
                tol: Tolerance = SCALE) -> str | None:
    """The name in ``factors`` (e.g. {"summed": 1, "averaged": 1/B}) with got == factor * base."""
    for name, factor in factors.items():
        if np.shape(got) == np.shape(base) and close(got, factor * np.asarray(base), tol):
            return name
    return None


def match_bug(got: np.ndarray, predictions, tol: Tolerance = GRADIENT) -> str | None:
    """The cause whose predicted (buggy) answer ``got`` matches, trying them in order.
    ``predictions``: {cause: array} or [(cause, array), ...] (one cause may predict several answers)."""
    pairs = predictions.items() if isinstance(predictions, dict) else predictions
    for cause, predicted in pairs:
        if predicted is not None and np.shape(predicted) == np.shape(got) and close(got, predicted, tol):
            return cause
    return None


def numerical_vjp(values_at_points: np.ndarray, dy: np.ndarray, shape: tuple, eps: float = EPS) -> np.ndarray:
    """d<dy, f>/dx from f evaluated at ``plus_minus_points(x)`` (first axis of ``values_at_points``).

    For a loss, pass dy = 1.0 and scalar values."""
    values = np.asarray(values_at_points, dtype=float)
    v = values.reshape(values.shape[0], -1)
    weighted = v @ np.broadcast_to(np.asarray(dy, dtype=float), values.shape[1:]).ravel()
    return ((weighted[0::2] - weighted[1::2]) / (2 * eps)).reshape(shape)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / max(||a|| + ||b||, tiny): the gradcheck error the assignments use."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))
