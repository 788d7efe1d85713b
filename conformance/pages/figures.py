"""Pictures for the feedback pages, drawn with matplotlib from a check's ``plot`` data
(``conformance.checking.report_entry``) and returned as inline PNG data URIs (the pages load
nothing from anywhere).

* ``arrays``      expected, got and got - expected as heatmaps: a transposed gradient shows as a
                  mirrored pattern, a 1/B-scaled one as the same pattern paler, a sign error as
                  the colours swapped;
* ``training``    loss and validation accuracy per epoch, with the accuracy threshold as a line;
* ``non_finite``  the inputs of a stability check, the ones that gave NaN/inf marked.

Only matplotlib's object API is used (``Figure``, never ``pyplot``), so drawing changes no
global state of a student's session (no current figure, no backend switch).
"""
from __future__ import annotations

import base64
import io

import numpy as np

DPI = 72


def new_figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def to_data_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _as_2d(values) -> np.ndarray | None:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return None
    if arr.size == 0:
        return None
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(1, -1)
    elif arr.ndim > 2:
        arr = arr.reshape(arr.shape[0], -1)
    return arr


def _heatmap(ax, values: np.ndarray, title: str, vmax: float, cmap: str = "RdBu_r") -> None:
    image = ax.imshow(np.nan_to_num(values), cmap=cmap, vmin=-vmax, vmax=vmax, aspect="auto",
                      interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xticks(range(values.shape[1]) if values.shape[1] <= 12 else [])
    ax.set_yticks(range(values.shape[0]) if values.shape[0] <= 12 else [])
    ax.tick_params(labelsize=7)
    ax.figure.colorbar(image, ax=ax, shrink=0.8).ax.tick_params(labelsize=7)


def arrays(plot: dict) -> str | None:
    """Expected | got | got - expected, expected and got on one colour scale."""
    expected, got = _as_2d(plot.get("expected")), _as_2d(plot.get("got"))
    if expected is None or got is None or expected.shape != got.shape:
        return None
    diff = got - expected
    scale = float(np.nanmax(np.abs(np.concatenate([expected.ravel(), got.ravel()])))) or 1.0
    rows, cols = expected.shape
    width = min(3 * max(2.2, 0.35 * cols + 1.2), 12)
    fig = new_figure(width, min(max(1.6, 0.3 * rows + 1.0), 4.5))
    axes = fig.subplots(1, 3)
    _heatmap(axes[0], expected, "expected", scale)
    _heatmap(axes[1], got, "got (yours)", scale)
    _heatmap(axes[2], diff, "got - expected", float(np.nanmax(np.abs(diff))) or 1.0)
    return to_data_uri(fig)


def training(plot: dict) -> str | None:
    """Loss per epoch (left axis) and validation accuracy per epoch (right axis) with the threshold."""
    losses = [float(v) for v in plot.get("losses") or []]
    accuracies = [float(v) for v in plot.get("accuracies") or []]
    threshold = plot.get("threshold")
    if not losses and not accuracies:
        return None
    fig = new_figure(6.0, 2.8)
    ax = fig.subplots()
    epochs = np.arange(1, len(losses) + 1)
    ax.plot(epochs, np.where(np.isfinite(losses), losses, np.nan), color="tab:blue", marker="o" if len(losses) < 30 else None,
            label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss", color="tab:blue")
    acc_ax = ax.twinx()
    if accuracies:
        acc_ax.plot(np.arange(1, len(accuracies) + 1), accuracies, color="tab:green",
                    marker="o" if len(accuracies) < 30 else None, label="validation accuracy")
    elif plot.get("accuracy") is not None:
        acc_ax.plot([max(len(losses), 1)], [float(plot["accuracy"])], "o", color="tab:green", label="validation accuracy")
    if threshold is not None:
        acc_ax.axhline(float(threshold), color="tab:red", linestyle="--", label=f"threshold {float(threshold):.0%}")
    acc_ax.set_ylim(0, 1.02)
    acc_ax.set_ylabel("accuracy", color="tab:green")
    handles = ax.get_legend_handles_labels()[0] + acc_ax.get_legend_handles_labels()[0]
    acc_ax.legend(handles=handles, fontsize=8, loc="center right")
    ax.set_title(f"training on {plot.get('dataset', '?')}", fontsize=10)
    return to_data_uri(fig)


def non_finite(plot: dict) -> str | None:
    """The input values, those whose output was NaN or inf circled in red."""
    x, bad = _as_2d(plot.get("x")), _as_2d(plot.get("bad"))
    if x is None or bad is None or x.shape != bad.shape:
        return None
    rows, cols = x.shape
    fig = new_figure(min(max(3.0, 0.45 * cols + 1.5), 10), min(max(1.6, 0.35 * rows + 1.0), 4.5))
    ax = fig.subplots()
    _heatmap(ax, x, f"inputs; circled: {plot.get('output', 'output')} is NaN or inf",
             float(np.nanmax(np.abs(x))) or 1.0)
    r, c = np.nonzero(bad > 0)
    ax.scatter(c, r, s=120, facecolors="none", edgecolors="red", linewidths=1.8)
    return to_data_uri(fig)


DRAW = {"arrays": arrays, "training": training, "non_finite": non_finite}


def draw(plot) -> str | None:
    """The data URI of ``plot``'s picture, or None (no plot, an unknown kind, unusable data, or
    matplotlib missing: the page then shows the numbers only)."""
    if not isinstance(plot, dict) or plot.get("kind") not in DRAW:
        return None
    try:
        return DRAW[plot["kind"]](plot)
    except ImportError:
        return None
