"""A plain mini-batch training loop that records what a student wants to plot.

    >>> import numpy as np
    >>> from reference import Linear, ReLU, Sequential, SoftmaxCrossEntropy, SGD
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(64, 2)), rng.integers(0, 2, 64)
    >>> model = Sequential(Linear(2, 8, rng=rng), ReLU(), Linear(8, 2, rng=rng))
    >>> history = train(model, SoftmaxCrossEntropy(), SGD(model.parameters(), lr=0.1), X, y,
    ...                 epochs=3, batch_size=16, rng=rng)
    >>> len(history.loss)
    3
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class History:
    """Per epoch: mean batch loss, training accuracy, validation accuracy (when X_val/y_val are
    given) and, per parameterised layer ("<index>.<class name>"), the mean gradient norm."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    grad_norms: dict[str, list[float]] = field(default_factory=dict)


def accuracy(scores, labels):
    """Fraction of rows whose argmax is the label (int ids (B,) or one-hot rows (B, C))."""
    labels = np.asarray(labels)
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    return float(np.mean(scores.argmax(axis=1) == labels))


def train(model, loss_fn, optimizer, X, y, *, epochs, batch_size, rng, X_val=None, y_val=None):
    """Shuffle with ``rng`` each epoch; forward, loss, backward and one optimizer step per batch."""
    history = History()
    layers = {f"{i}.{type(layer).__name__}": layer for i, layer in enumerate(model.layers) if layer.params}
    for _ in range(epochs):
        model.train()
        losses, correct, norms = [], 0, {name: [] for name in layers}
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            scores = model.forward(X[batch])
            losses.append(loss_fn.forward(scores, y[batch]))
            model.backward(loss_fn.backward(), input_grad=False)   # the data needs no gradient
            for name, layer in layers.items():
                norms[name].append(float(np.sqrt(sum(np.sum(g * g) for g in layer.grads.values()))))
            optimizer.step()
            correct += accuracy(scores, y[batch]) * len(batch)
        history.loss.append(float(np.mean(losses)))
        history.accuracy.append(correct / len(X))
        for name, values in norms.items():
            history.grad_norms.setdefault(name, []).append(float(np.mean(values)))
        if X_val is not None and y_val is not None:
            model.eval()
            history.val_accuracy.append(accuracy(model.forward(X_val), y_val))
            model.train()
    return history
