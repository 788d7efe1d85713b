"""A binary classifier of plain functions, one hidden layer fixed by its code: the parameters come
from make_params(n_in, n_hidden, n_out) as W1 (n_hidden, n_in), b1 (n_hidden, 1), W2, b2; samples
are columns; tanh hidden, one sigmoid output whose shape the forward asserts; a binary
cross-entropy cost(A2, Y) on 0/1 labels in a (1, m) row; backprop(parameters, cache, X, Y) takes
its arguments in that order; step(parameters, grads, learning_rate) names every key by hand."""
import numpy as np


def make_params(n_in, n_hidden, n_out):
    gen = np.random.default_rng(3)
    return {"W1": gen.standard_normal((n_hidden, n_in)) * 0.5, "b1": np.zeros((n_hidden, 1)),
            "W2": gen.standard_normal((n_out, n_hidden)) * 0.5, "b2": np.zeros((n_out, 1))}


def squash(z):
    return 1.0 / (1.0 + np.exp(-z))


def run_forward(X, parameters):
    hidden_pre = parameters["W1"] @ X + parameters["b1"]
    hidden = np.tanh(hidden_pre)
    out_pre = parameters["W2"] @ hidden + parameters["b2"]
    prob = squash(out_pre)
    assert prob.shape == (1, X.shape[1])
    return prob, {"H": hidden, "P": prob}


def cost(A2, Y):
    count = Y.shape[1]
    total = np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
    return float(-total / count)


def backprop(parameters, cache, X, Y):
    count = X.shape[1]
    delta_out = cache["P"] - Y
    dW2 = delta_out @ cache["H"].T / count
    db2 = np.sum(delta_out, axis=1, keepdims=True) / count
    delta_hidden = (parameters["W2"].T @ delta_out) * (1 - cache["H"] ** 2)
    dW1 = delta_hidden @ X.T / count
    db1 = np.sum(delta_hidden, axis=1, keepdims=True) / count
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def step(parameters, grads, learning_rate=0.5):
    W1 = parameters["W1"] - learning_rate * grads["dW1"]
    b1 = parameters["b1"] - learning_rate * grads["db1"]
    W2 = parameters["W2"] - learning_rate * grads["dW2"]
    b2 = parameters["b2"] - learning_rate * grads["db2"]
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def fit(X, Y, n_hidden=4, rounds=1000):
    parameters = make_params(X.shape[0], n_hidden, 1)
    for _ in range(rounds):
        prob, cache = run_forward(X, parameters)
        parameters = step(parameters, backprop(parameters, cache, X, Y))
    return parameters
