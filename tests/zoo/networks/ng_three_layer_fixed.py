"""Three layers written out by hand over a dict of parameters: setup(dims) builds W1..W3 and b1..b3
for any dims, but forward_pass(X, parameters) reads exactly three layers (ReLU, ReLU, sigmoid) and
returns (A3, cache) with the cache a tuple; cost_of(A3, Y) is the binary cross-entropy with
nansum; backward_pass(X, Y, cache) takes the data first and gives dW/db averaged over the columns."""
import numpy as np


def setup(dims):
    gen = np.random.default_rng(11)
    parameters = {}
    for k in range(1, len(dims)):
        parameters[f"W{k}"] = gen.standard_normal((dims[k], dims[k - 1])) * np.sqrt(2.0 / dims[k - 1])
        parameters[f"b{k}"] = np.zeros((dims[k], 1))
    return parameters


def forward_pass(X, parameters):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    A2 = np.maximum(Z2, 0)
    Z3 = parameters["W3"] @ A2 + parameters["b3"]
    A3 = 1.0 / (1.0 + np.exp(-Z3))
    return A3, (Z1, A1, parameters["W1"], Z2, A2, parameters["W2"], Z3, A3, parameters["W3"])


def cost_of(A3, Y):
    m = Y.shape[1]
    return float(np.nansum(-Y * np.log(A3) - (1 - Y) * np.log(1 - A3)) / m)


def backward_pass(X, Y, cache):
    m = X.shape[1]
    Z1, A1, W1, Z2, A2, W2, Z3, A3, W3 = cache
    dZ3 = A3 - Y
    dW3 = dZ3 @ A2.T / m
    db3 = dZ3.sum(axis=1, keepdims=True) / m
    dZ2 = (W3.T @ dZ3) * (A2 > 0)
    dW2 = dZ2 @ A1.T / m
    db2 = dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * (A1 > 0)
    dW1 = dZ1 @ X.T / m
    db1 = dZ1.sum(axis=1, keepdims=True) / m
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dZ2": dZ2, "dW2": dW2, "db2": db2,
            "dZ1": dZ1, "dW1": dW1, "db1": db1}
