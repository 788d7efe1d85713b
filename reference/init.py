"""Weight initialisers: each returns a (fan_out, fan_in) matrix, the layout of ``Linear.W``.

    He (Kaiming), for ReLU layers:   normal std sqrt(2 / fan_in),  uniform limit sqrt(6 / fan_in)
    Xavier (Glorot), for tanh/sigmoid: normal std sqrt(2 / (fan_in + fan_out)),
                                     uniform limit sqrt(6 / (fan_in + fan_out))

    >>> import numpy as np
    >>> he_normal(784, 256, np.random.default_rng(0)).shape
    (256, 784)
"""
from __future__ import annotations

import numpy as np


def he_normal(fan_in, fan_out, rng, *, dtype=np.float64):
    std = np.sqrt(2 / fan_in)
    return rng.normal(0.0, std, size=(fan_out, fan_in)).astype(dtype, copy=False)


def he_uniform(fan_in, fan_out, rng, *, dtype=np.float64):
    limit = np.sqrt(6 / fan_in)
    return rng.uniform(-limit, limit, size=(fan_out, fan_in)).astype(dtype, copy=False)


def xavier_normal(fan_in, fan_out, rng, *, dtype=np.float64):
    std = np.sqrt(2 / (fan_in + fan_out))
    return rng.normal(0.0, std, size=(fan_out, fan_in)).astype(dtype, copy=False)


def xavier_uniform(fan_in, fan_out, rng, *, dtype=np.float64):
    limit = np.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_out, fan_in)).astype(dtype, copy=False)
