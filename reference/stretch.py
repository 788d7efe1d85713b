"""Stretch layers: BatchNorm1d, LayerNorm, Dropout, Conv2D (im2col) and MaxPool2D, same Module protocol.

    >>> import numpy as np
    >>> conv = Conv2D(1, 2, 3, padding=1, rng=np.random.default_rng(0))
    >>> conv.forward(np.ones((4, 1, 5, 5))).shape      # NCHW in, NCHW out
    (4, 2, 5, 5)
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from reference import init as initializers
from reference.layers import Module


class BatchNorm1d(Module):
    """Normalise each feature of x (B, F) over the batch, then scale by gamma and shift by beta.

    Train mode uses the batch statistics (biased variance, as in the formula) and updates the
    running statistics like PyTorch: running = (1 - momentum) running + momentum batch_stat, with
    the unbiased variance for running_var. Eval mode normalises with the running statistics.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, *, dtype=np.float64):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.params["gamma"] = np.ones(num_features, dtype=dtype)
        self.params["beta"] = np.zeros(num_features, dtype=dtype)
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)

    def forward(self, x):
        if self.training:
            batch = len(x)
            if batch < 2:
                raise ValueError("BatchNorm1d: a training batch needs at least 2 samples to estimate a "
                                 "variance; use a larger batch or call eval() first.")
            mean, var = x.mean(axis=0), x.var(axis=0)                       # (F,), biased
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mean
            self.running_var = (1 - m) * self.running_var + m * var * (batch / (batch - 1))
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1 / np.sqrt(var + self.eps)
        x_hat = (x - mean) * inv_std                                        # (B, F)
        self._save(x_hat, inv_std, self.training)
        return self.params["gamma"] * x_hat + self.params["beta"]

    def backward(self, dy):
        x_hat, inv_std, training = self._saved()
        self.grads["gamma"] = (dy * x_hat).sum(axis=0)
        self.grads["beta"] = dy.sum(axis=0)
        dx_hat = dy * self.params["gamma"]
        if not training:                  # the statistics are constants in eval mode
            return dx_hat * inv_std
        # mean and variance depend on x too: subtract their share of the gradient
        return inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))


class LayerNorm(Module):
    """Normalise each sample of x (B, F) over its features, then scale by gamma and shift by beta.

    No running statistics and no train/eval difference: every row brings its own mean and
    (biased) variance, so a batch of one is fine.
    """

    def __init__(self, num_features, eps=1e-5, *, dtype=np.float64):
        super().__init__()
        self.eps = eps
        self.params["gamma"] = np.ones(num_features, dtype=dtype)
        self.params["beta"] = np.zeros(num_features, dtype=dtype)

    def forward(self, x):
        mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)     # (B, 1), biased
        inv_std = 1 / np.sqrt(var + self.eps)
        x_hat = (x - mean) * inv_std                                                 # (B, F)
        self._save(x_hat, inv_std)
        return self.params["gamma"] * x_hat + self.params["beta"]

    def backward(self, dy):
        x_hat, inv_std = self._saved()
        self.grads["gamma"] = (dy * x_hat).sum(axis=0)                              # (F,)
        self.grads["beta"] = dy.sum(axis=0)                                          # (F,)
        dx_hat = dy * self.params["gamma"]                                           # (B, F)
        # each row's mean and variance depend on that row: subtract their share, row by row
        return inv_std * (dx_hat - dx_hat.mean(axis=1, keepdims=True)
                          - x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True))


class Dropout(Module):
    """Inverted dropout: in train mode each element is kept with probability 1 - p and scaled by
    1 / (1 - p), so eval mode is the identity. ``forward(x, mask=keep)`` uses a given 0/1 keep
    mask instead of drawing one (for tests and fixtures)."""

    def __init__(self, p=0.5, *, rng=None):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}.")
        self.p = p
        self.rng = np.random.default_rng() if rng is None else rng

    def forward(self, x, mask=None):
        if not self.training:
            self._save(None)
            return x
        keep = self.rng.random(x.shape) >= self.p if mask is None else np.asarray(mask, dtype=bool)
        scale = 1 / (1 - self.p)
        self._save((keep, scale))
        return x * keep * scale

    def backward(self, dy):
        saved = self._saved()
        if saved is None:
            return dy
        keep, scale = saved
        return dy * keep * scale


def _pair(k):
    return (k, k) if np.isscalar(k) else tuple(k)


def im2col(x, kh, kw, stride):
    """x (N, C, H, W) -> columns (N * Ho * Wo, C * kh * kw), one row per output position."""
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, Ho, Wo, kh, kw)
    n, c, ho, wo = windows.shape[:4]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw), (ho, wo)


def col2im(cols, x_shape, kh, kw, stride, out_hw):
    """The adjoint of im2col: add each column entry back onto the input position it came from."""
    n, c, h, w = x_shape
    ho, wo = out_hw
    cols = cols.reshape(n, ho, wo, c, kh, kw)
    dx = np.zeros(x_shape, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride] += cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dx


class Conv2D(Module):
    """2-D cross-correlation (what deep-learning libraries call convolution), NCHW.

    W (out_channels, in_channels, kh, kw), b (out_channels,); zero padding, integer stride.
    Implemented as one matrix product on im2col columns: Y = cols @ W_mat.T + b.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, *, rng=None,
                 dtype=np.float64):
        super().__init__()
        kh, kw = _pair(kernel_size)
        self.stride, self.padding = stride, padding
        rng = np.random.default_rng() if rng is None else rng
        fan_in = in_channels * kh * kw
        W = initializers.he_normal(fan_in, out_channels, rng, dtype=dtype)     # (oc, ic * kh * kw)
        self.params["W"] = W.reshape(out_channels, in_channels, kh, kw)
        self.params["b"] = np.zeros(out_channels, dtype=dtype)

    def forward(self, x):
        W = self.params["W"]
        oc, _, kh, kw = W.shape
        p = self.padding
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        cols, (ho, wo) = im2col(xp, kh, kw, self.stride)                       # (N*Ho*Wo, C*kh*kw)
        self._save(cols, xp.shape, (ho, wo))
        y = cols @ W.reshape(oc, -1).T + self.params["b"]                      # (N*Ho*Wo, oc)
        return y.reshape(len(x), ho, wo, oc).transpose(0, 3, 1, 2)

    def backward(self, dy):
        cols, padded_shape, out_hw = self._saved()
        W = self.params["W"]
        oc, _, kh, kw = W.shape
        dY = dy.transpose(0, 2, 3, 1).reshape(-1, oc)                          # (N*Ho*Wo, oc)
        self.grads["W"] = (dY.T @ cols).reshape(W.shape)                       # (oc, C*kh*kw) -> W.shape
        self.grads["b"] = dY.sum(axis=0)
        dcols = dY @ W.reshape(oc, -1)                                         # (N*Ho*Wo, C*kh*kw)
        dxp = col2im(dcols, padded_shape, kh, kw, self.stride, out_hw)
        p = self.padding
        return dxp[:, :, p:padded_shape[2] - p, p:padded_shape[3] - p]


class MaxPool2D(Module):
    """Maximum over each kernel window, NCHW; stride defaults to the kernel size.
    The gradient goes to the (first) maximum of each window."""

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel = _pair(kernel_size)
        self.stride = self.kernel[0] if stride is None else stride

    def forward(self, x):
        kh, kw = self.kernel
        n, c = x.shape[:2]
        cols, (ho, wo) = im2col(x.reshape(n * c, 1, *x.shape[2:]), kh, kw, self.stride)   # (N*C*Ho*Wo, kh*kw)
        argmax = cols.argmax(axis=1)
        self._save(argmax, cols.shape, x.shape, (ho, wo))
        return cols[np.arange(len(cols)), argmax].reshape(n, c, ho, wo)

    def backward(self, dy):
        argmax, cols_shape, x_shape, out_hw = self._saved()
        kh, kw = self.kernel
        n, c, h, w = x_shape
        dcols = np.zeros(cols_shape, dtype=dy.dtype)
        dcols[np.arange(len(dcols)), argmax] = dy.reshape(-1)
        return col2im(dcols, (n * c, 1, h, w), kh, kw, self.stride, out_hw).reshape(x_shape)
