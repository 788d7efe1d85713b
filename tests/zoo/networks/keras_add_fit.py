"""Keras-like: model = Sequential(); model.add(Dense(units, activation=..., input_dim=...)) (the first
layer names its input size, later ones are built from the previous layer's units);
model.compile(loss=..., optimizer=...); model.fit(X, y, epochs, batch_size); model.predict(X).
Optimisers apply_gradients(pairs of (gradient, variable)), their slots keyed per variable."""
import numpy as np


def _relu(x):
    return np.maximum(x, 0.0)


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Dense:
    def __init__(self, units, activation=None, input_dim=None):
        self.units = units
        self.activation = activation
        self.input_dim = input_dim
        self.kernel = None

    def build(self, input_dim):
        self.input_dim = input_dim
        self.kernel = np.random.normal(0.0, np.sqrt(2.0 / input_dim), (input_dim, self.units))
        self.bias = np.zeros(self.units)

    def __call__(self, inputs):
        self.inputs = inputs
        z = inputs @ self.kernel + self.bias
        if self.activation == "relu":
            self.outputs = _relu(z)
        elif self.activation == "softmax":
            self.outputs = _softmax(z)
        else:
            self.outputs = z
        return self.outputs

    def backward(self, grad):
        if self.activation == "relu":
            grad = grad * (self.outputs > 0)
        elif self.activation == "softmax":
            s = self.outputs
            grad = s * (grad - (grad * s).sum(axis=-1, keepdims=True))
        self.kernel_grad = self.inputs.T @ grad
        self.bias_grad = grad.sum(axis=0)
        return grad @ self.kernel.T


class SparseCategoricalCrossentropy:
    """loss(y_true int, y_pred probabilities); gradient(y_true, y_pred) is d/dy_pred of the mean."""

    def __call__(self, y_true, y_pred):
        p = np.clip(y_pred[np.arange(len(y_true)), y_true], 1e-7, 1.0)
        return float(np.mean(-np.log(p)))

    def gradient(self, y_true, y_pred):
        g = np.zeros_like(y_pred)
        rows = np.arange(len(y_true))
        g[rows, y_true] = -1.0 / np.clip(y_pred[rows, y_true], 1e-7, 1.0)
        return g / len(y_true)


class SGD:
    def __init__(self, learning_rate=0.01, momentum=0.0):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.slots = {}

    def apply_gradients(self, grads_and_vars):
        for grad, var in grads_and_vars:
            if self.momentum:
                v = self.slots.get(id(var), np.zeros_like(var))
                v = self.momentum * v - self.learning_rate * grad
                self.slots[id(var)] = v
                var += v
            else:
                var -= self.learning_rate * grad


class Adam:
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        self.learning_rate = learning_rate
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.slots = {}

    def apply_gradients(self, grads_and_vars):
        for grad, var in grads_and_vars:
            slot = self.slots.setdefault(id(var), {"m": np.zeros_like(var), "v": np.zeros_like(var), "t": 0})
            slot["t"] += 1
            slot["m"] = self.beta_1 * slot["m"] + (1 - self.beta_1) * grad
            slot["v"] = self.beta_2 * slot["v"] + (1 - self.beta_2) * np.square(grad)
            m_hat = slot["m"] / (1 - self.beta_1 ** slot["t"])
            v_hat = slot["v"] / (1 - self.beta_2 ** slot["t"])
            var -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)


class Sequential:
    def __init__(self):
        self.layers = []

    def add(self, layer):
        if layer.input_dim is None:
            layer.input_dim = self.layers[-1].units
        layer.build(layer.input_dim)
        self.layers.append(layer)

    def compile(self, loss, optimizer):
        self.loss = loss
        self.optimizer = optimizer

    def predict(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    @property
    def trainable_weights(self):
        return [w for layer in self.layers for w in (layer.kernel, layer.bias)]

    def train_on_batch(self, x, y):
        y_pred = self.predict(x)
        loss = self.loss(y, y_pred)
        grad = self.loss.gradient(y, y_pred)
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        grads = [g for layer in self.layers for g in (layer.kernel_grad, layer.bias_grad)]
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return loss

    def fit(self, x, y, epochs=1, batch_size=32, verbose=0):
        history = {"loss": []}
        for _ in range(epochs):
            order = np.random.permutation(len(x))
            losses = [self.train_on_batch(x[order[i:i + batch_size]], y[order[i:i + batch_size]])
                      for i in range(0, len(x), batch_size)]
            history["loss"].append(float(np.mean(losses)))
        return history
