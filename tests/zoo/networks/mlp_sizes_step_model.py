"""MLP(layer_sizes) that builds its own Linear/ReLU layers (W (in, out), dW/db attributes) and
returns logits; the loss is a pair of functions; optimisers take the model: opt.step(model).
Momentum is the EMA form v = beta v + (1 - beta) g, state kept per layer index."""
import numpy as np


class Linear:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in)
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dy):
        self.dW = self.x.T @ dy  # (in, B) @ (B, out)
        self.db = dy.sum(axis=0)
        return dy @ self.W.T


class ReLU:
    def forward(self, x):
        self.active = x > 0
        return x * self.active

    def backward(self, dy):
        return dy * self.active


class MLP:
    def __init__(self, layer_sizes):
        self.layers = []
        for i, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
            self.layers.append(Linear(n_in, n_out))
            if i < len(layer_sizes) - 2:
                self.layers.append(ReLU())

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy):
        for layer in self.layers[::-1]:
            dy = layer.backward(dy)
        return dy

    def linear_layers(self):
        return [layer for layer in self.layers if isinstance(layer, Linear)]


def log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def cross_entropy(logits, y):
    return -log_softmax(logits)[np.arange(len(y)), y].mean()


def cross_entropy_grad(logits, y):
    p = np.exp(log_softmax(logits))
    p[np.arange(len(y)), y] -= 1.0
    return p / len(y)


class SGD:
    def __init__(self, lr):
        self.lr = lr

    def step(self, model):
        for layer in model.linear_layers():
            layer.W -= self.lr * layer.dW
            layer.b -= self.lr * layer.db


class Momentum:
    def __init__(self, lr, beta=0.9):
        self.lr, self.beta = lr, beta
        self.v = {}

    def step(self, model):
        for i, layer in enumerate(model.linear_layers()):
            vW, vb = self.v.get(i, (0.0, 0.0))
            vW = self.beta * vW + (1 - self.beta) * layer.dW
            vb = self.beta * vb + (1 - self.beta) * layer.db
            self.v[i] = (vW, vb)
            layer.W -= self.lr * vW
            layer.b -= self.lr * vb


class Adam:
    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def step(self, model):
        self.t += 1
        for i, layer in enumerate(model.linear_layers()):
            for j, (param, grad) in enumerate(((layer.W, layer.dW), (layer.b, layer.db))):
                key = (i, j)
                self.m[key] = self.beta1 * self.m.get(key, 0.0) + (1 - self.beta1) * grad
                self.v[key] = self.beta2 * self.v.get(key, 0.0) + (1 - self.beta2) * grad * grad
                m_hat = self.m[key] / (1 - self.beta1 ** self.t)
                v_hat = self.v[key] / (1 - self.beta2 ** self.t)
                param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def grad_check(model, x, y, eps=1e-5):
    """Relative error between backprop and central differences over all the model's parameters."""
    model.backward(cross_entropy_grad(model.forward(x), y))
    analytic, numeric = [], []
    for layer in model.linear_layers():
        for param, grad in ((layer.W, layer.dW), (layer.b, layer.db)):
            analytic.append(grad.ravel().copy())
            num = np.zeros(param.size)
            flat = param.reshape(-1)
            for k in range(param.size):
                old = flat[k]
                flat[k] = old + eps
                up = cross_entropy(model.forward(x), y)
                flat[k] = old - eps
                down = cross_entropy(model.forward(x), y)
                flat[k] = old
                num[k] = (up - down) / (2 * eps)
            numeric.append(num)
    a, n = np.concatenate(analytic), np.concatenate(numeric)
    return np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12)
