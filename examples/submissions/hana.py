"""Element-wise activations with forward(z) and derivative(z)."""
import numpy as np


class ReLU:
    def forward(self, z):
        return np.maximum(0.0, z)

    def derivative(self, z):
        return (z > 0).astype(float)


class Sigmoid:
    def forward(self, z):
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))

    def derivative(self, z):
        return z * (1 - z)


class Tanh:
    def forward(self, z):
        return np.tanh(z)

    def derivative(self, z):
        return 1 - np.tanh(z) ** 2

"""One-hidden-layer MLP on ONE sample: a1 = W1 x + b1, h1 = phi(a1), f = W2 h1 + b2, L = (f - y)^2 / 2."""
import numpy as np


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

"""Central differences of L = (f - y)^2 / 2 for every parameter of a OneHiddenLayerMLP."""
import numpy as np


def _loss(model, x, y):
    f = model.forward(x)
    return 0.5 * (f - y) ** 2


def check_all_gradients(model, x, y, epsilon=1e-5, threshold=1e-7):
    f = model.forward(x)
    analytical = model.backward(x, y, f)
    params = model.get_parameters()
    results = {}
    for name, value in params.items():
        numerical = np.zeros_like(value)
        for ix in np.ndindex(value.shape):
            old = value[ix]
            value[ix] = old + epsilon
            model.set_parameters({name: value})
            plus = _loss(model, x, y)
            value[ix] = old - epsilon
            model.set_parameters({name: value})
            minus = _loss(model, x, y)
            value[ix] = old
            model.set_parameters({name: value})
            numerical[ix] = (plus - minus) / (2 * epsilon)
        grad = analytical["dL_d" + name]
        error = np.linalg.norm(grad - numerical) / max(np.linalg.norm(grad) + np.linalg.norm(numerical), 1e-12)
        results[name] = {"error": float(error), "passed": bool(error < threshold)}
    return results

"""SGD over a batch: the mean of the per-sample gradients; train() and evaluate()."""
import numpy as np


class SGD:
    def __init__(self, learning_rate=0.01):
        self.learning_rate = learning_rate

    def step(self, model, grads):
        params = model.get_parameters()
        for name in params:
            params[name] = params[name] - self.learning_rate * grads["dL_d" + name]
        model.set_parameters(params)


def batch_gradients(model, X, y):
    total = None
    loss = 0.0
    for x_i, y_i in zip(X, y):
        f = model.forward(x_i)
        loss += 0.5 * (f - y_i) ** 2
        grads = model.backward(x_i, y_i, f)
        total = grads if total is None else {k: total[k] + grads[k] for k in total}
    n = len(X)
    return loss / n, {k: v / n for k, v in total.items()}


def evaluate(model, X, y, threshold=0.5):
    preds = np.array([model.forward(x_i) for x_i in X])
    loss = float(np.mean(0.5 * (preds - y) ** 2))
    accuracy = float(np.mean((preds >= threshold).astype(int) == y))
    return {"loss": loss, "accuracy": accuracy}


def train(model, X, y, optimizer, n_epochs=100, batch_size=32, X_val=None, y_val=None,
          verbose=False, print_every=10, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    history = {"train_loss": [], "val_loss": []}
    for epoch in range(n_epochs):
        order = rng.permutation(len(X))
        losses = []
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            loss, grads = batch_gradients(model, X[idx], y[idx])
            optimizer.step(model, grads)
            losses.append(loss)
        history["train_loss"].append(float(np.mean(losses)))
        if X_val is not None:
            history["val_loss"].append(evaluate(model, X_val, y_val)["loss"])
        if verbose and epoch % print_every == 0:
            print(f"epoch {epoch}: loss {history['train_loss'][-1]:.4f}")
    return history

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
