"""Functional layers that keep the weight as (out, in) like torch, with sigmoid/tanh caching
their output and an MSE that hands back (loss, grad)."""
import numpy as np


def linear_forward(x, W, b):
    # x (B, in) @ W.T (in, out) + b (out,)
    y = x @ W.T + b
    return y, (x, W)


def linear_backward(dy, cache):
    x, W = cache
    dx = dy @ W
    dW = dy.T @ x
    db = dy.sum(axis=0)
    return dx, dW, db


def sigmoid_forward(x):
    out = 0.5 * (1.0 + np.tanh(0.5 * x))
    cache = out
    return out, cache


def sigmoid_backward(dout, cache):
    s = cache
    return dout * s * (1.0 - s)


def tanh_forward(x):
    t = np.tanh(x)
    return t, t


def tanh_backward(dout, cache):
    t = cache
    return dout * (1.0 - t * t)


def mse_loss(pred, target):
    diff = pred - target
    loss = np.mean(diff ** 2)
    grad = 2.0 * diff / diff.size
    return loss, grad
