"""One-hidden-layer MLP on ONE sample: a1 = W1 x + b1, h1 = phi(a1), f = W2 h1 + b2, L = (f - y)^2 / 2."""
import numpy as np

from .activations import ReLU, Sigmoid, Tanh

ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


class OneHiddenLayerMLP:
    def __init__(self, input_dim, hidden_dim, activation="relu"):
        self.input_dim = input_dim
        self.hidden_dim = hidden_dim
        self.activation_name = activation
        self.activation = ACTIVATIONS[activation]()
        if activation == "relu":
            std = np.sqrt(2.0 / input_dim)
        else:
            std = np.sqrt(2.0 / (input_dim + hidden_dim))
        self.W1 = np.random.randn(hidden_dim, input_dim) * std
        self.b1 = np.zeros(hidden_dim)
        self.W2 = np.random.randn(1, hidden_dim) * np.sqrt(2.0 / (hidden_dim + 1))
        self.b2 = np.zeros(1)
        self.a1_cache = None
        self.h1_cache = None

    def __repr__(self):
        return f"OneHiddenLayerMLP({self.input_dim} -> {self.hidden_dim} ({self.activation_name}) -> 1)"

    def forward(self, x):
        self.a1_cache = self.W1 @ x + self.b1
        self.h1_cache = self.activation.forward(self.a1_cache)
        f = self.W2 @ self.h1_cache + self.b2
        return float(f[0])

    def backward(self, x, y, f):
        dL_df = f - y
        dL_dW2 = dL_df * self.h1_cache[np.newaxis, :]
        dL_db2 = np.array([dL_df])
        dL_dh1 = dL_df * self.W2[0]
        dL_da1 = dL_dh1 * self.activation.derivative(self.a1_cache)
        dL_dW1 = np.outer(dL_da1, x)
        dL_db1 = dL_da1
        return {"dL_dW1": dL_dW1, "dL_db1": dL_db1, "dL_dW2": dL_dW2, "dL_db2": dL_db2}

    def get_parameters(self):
        return {"W1": self.W1.copy(), "b1": self.b1.copy(), "W2": self.W2.copy(), "b2": self.b2.copy()}

    def set_parameters(self, params):
        for name in ("W1", "b1", "W2", "b2"):
            if name in params:
                setattr(self, name, np.array(params[name], dtype=float))
