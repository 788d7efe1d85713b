"""Toy data sets; randomness comes from a numpy Generator argument."""
import numpy as np


def generate_xor_data(n_samples=200, noise=0.1, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    corners = rng.integers(0, 2, size=(n_samples, 2))
    X = corners + noise * rng.normal(size=(n_samples, 2))
    y = (corners[:, 0] ^ corners[:, 1]).astype(float)
    return X, y


def generate_spiral_data(n_samples=300, n_classes=3, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    per_class = n_samples // n_classes
    X, y = [], []
    for c in range(n_classes):
        r = np.linspace(0.0, 1.0, per_class)
        t = np.linspace(c * 4, (c + 1) * 4, per_class) + 0.2 * rng.normal(size=per_class)
        X.append(np.c_[r * np.sin(t), r * np.cos(t)])
        y.append(np.full(per_class, c))
    return np.concatenate(X), np.concatenate(y)
