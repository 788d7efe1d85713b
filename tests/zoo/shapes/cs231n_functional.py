"""Layer functions in the lecture-assignment style: every forward returns (out, cache), every
backward takes (dout, cache); the softmax loss returns the value and the gradient together."""
import numpy as np


def affine_forward(x, w, b):
    """x: (N, D) (or (N, d1, ..., dk), flattened), w: (D, M), b: (M,) -> out (N, M)."""
    rows = x.reshape(x.shape[0], -1)
    out = rows @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = rows.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = np.where(x > 0, dout, 0.0)
    return dx


def softmax_loss(x, y):
    """x: scores (N, C), y: labels (N,) -> (loss, dx)."""
    N = x.shape[0]
    z = x - x.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return loss, dx / N


def affine_relu_forward(x, w, b):
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)
