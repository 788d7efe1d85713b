"""A two-layer network of functions whose parameters come from the course's helper file, which was
not handed in: there is no initialiser here. forward_and_cost(X, Y, params) reads params["w1"],
params["b1"], params["w2"], params["b2"] (samples as rows, w (in, out), b (1, out)), runs a tanh
hidden layer and sigmoid outputs, and returns the cost with a cache dict; grads_of(X, Y, cache)
returns the gradients under "dw1".. keys. Nothing steps: the kit's SGD does."""
import numpy as np


def forward_and_cost(X, Y, params):
    h_in = X @ params["w1"] + params["b1"]
    h = np.tanh(h_in)
    o_in = h @ params["w2"] + params["b2"]
    o = 0.5 * (1.0 + np.tanh(0.5 * o_in))
    n = X.shape[0]
    cost = -np.sum(Y * np.log(o) + (1.0 - Y) * np.log(1.0 - o)) / n
    cache = {"X": X, "h": h, "o": o, "w2": params["w2"]}
    return cost, cache


def grads_of(X, Y, cache):
    n = X.shape[0]
    d_o = (cache["o"] - Y) / n
    dw2 = cache["h"].T @ d_o
    db2 = d_o.sum(axis=0, keepdims=True)
    d_h = (d_o @ cache["w2"].T) * (1.0 - cache["h"] ** 2)
    dw1 = X.T @ d_h
    db1 = d_h.sum(axis=0, keepdims=True)
    return {"dw1": dw1, "db1": db1, "dw2": dw2, "db2": db2}
