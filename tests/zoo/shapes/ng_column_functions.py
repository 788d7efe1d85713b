"""Deep-learning-course style: data in columns (features, m), W (n_l, n_{l-1}), b (n_l, 1),
helpers returning (value, cache), gradients averaged over the m examples inside linear_backward,
and a categorical cost on (classes, m) probabilities."""
import numpy as np


def initialize_parameters(layer_dims):
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * 0.01
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def linear_forward(A, W, b):
    Z = np.dot(W, A) + b
    cache = (A, W, b)
    return Z, cache


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = np.dot(dZ, A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def sigmoid(Z):
    A = 1 / (1 + np.exp(-np.clip(Z, -500, 500)))
    cache = Z
    return A, cache


def sigmoid_backward(dA, cache):
    Z = cache
    s = 1 / (1 + np.exp(-np.clip(Z, -500, 500)))
    dZ = dA * s * (1 - s)
    return dZ


def relu(Z):
    A = np.maximum(0, Z)
    cache = Z
    return A, cache


def relu_backward(dA, cache):
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def compute_cost(AL, Y):
    """AL, Y: (classes, m); Y one-hot."""
    m = Y.shape[1]
    cost = -np.sum(Y * np.log(np.clip(AL, 1e-12, 1.0))) / m
    return float(np.squeeze(cost))


def compute_cost_backward(AL, Y):
    # per-example derivative; linear_backward divides by m
    return -Y / np.clip(AL, 1e-12, 1.0)
