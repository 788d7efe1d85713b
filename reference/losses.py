"""Losses: ``forward(pred, target) -> float`` is the mean over the batch; ``backward()`` returns
d(mean loss)/d(pred), so the 1/B lives here and nowhere else.

    >>> import numpy as np
    >>> loss = SoftmaxCrossEntropy()
    >>> round(loss.forward(np.array([[2.0, 0.0], [0.0, 2.0]]), np.array([0, 1])), 4)
    0.1269
    >>> loss.backward().shape
    (2, 2)
"""
from __future__ import annotations

import numpy as np

from reference.layers import Module


def one_hot_like(target, scores):
    """Int class ids (B,) -> one-hot (B, C) in the dtype of ``scores``; a (B, C) target is returned as is."""
    target = np.asarray(target)
    if target.ndim == scores.ndim:
        return target.astype(scores.dtype, copy=False)   # float32 logits keep float32 gradients
    out = np.zeros_like(scores)
    out[np.arange(len(target)), target] = 1
    return out


class SoftmaxCrossEntropy(Module):
    """Softmax + cross-entropy fused on logits (B, C); targets: int ids (B,) or one-hot rows (B, C).

    log p = z - logsumexp(z), computed with z shifted by its row maximum, so it stays finite for
    logits of any size. The gradient of the mean loss is (softmax(z) - onehot) / B.
    """

    def forward(self, logits, target):
        t = one_hot_like(target, logits)
        z = logits - logits.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))   # (B, C)
        self._save(log_p, t)
        return float(-(t * log_p).sum() / len(logits))

    def backward(self):
        log_p, t = self._saved()
        return (np.exp(log_p) - t) / len(log_p)   # (B, C); rows of t sum to 1


class CrossEntropy(Module):
    """Cross-entropy on probabilities p (B, C) (e.g. after Softmax): mean over the batch of -sum t log p.

    Only the entries where t > 0 enter (0 * log 0 counts as 0), so exact zeros in p are harmless
    unless the target class itself has probability 0 (then the loss is honestly infinite).
    """

    def forward(self, probs, target):
        t = one_hot_like(target, probs)
        on = t > 0
        log_p = np.log(probs, out=np.zeros_like(probs), where=on)
        self._save(probs, t, on)
        return float(-(t * log_p).sum() / len(probs))

    def backward(self):
        probs, t, on = self._saved()
        # d/dp (-t log p) / B = -t / (p B), zero where t = 0
        return -np.divide(t, probs, out=np.zeros_like(probs), where=on) / len(probs)


class MSELoss(Module):
    """Mean over ALL elements of (pred - target)^2; gradient 2 (pred - target) / pred.size."""

    def forward(self, pred, target):
        diff = pred - np.asarray(target, dtype=pred.dtype)   # the gradient takes pred's dtype
        self._save(diff)
        return float((diff * diff).mean())

    def backward(self):
        diff = self._saved()
        return 2 * diff / diff.size
