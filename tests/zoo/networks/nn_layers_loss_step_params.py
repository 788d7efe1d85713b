"""NeuralNetwork(layers, loss) holding layer objects and a loss object; the layers average their
parameter gradients over the batch themselves, so the loss gradient is left unscaled (p - y).
Optimisers: opt.step(params, grads) on lists of arrays, momentum and Adam state per list index."""
import numpy as np


class FullyConnected:
    def __init__(self, input_dim, output_dim):
        limit = np.sqrt(6.0 / (input_dim + output_dim))
        self.W = np.random.uniform(-limit, limit, (output_dim, input_dim))
        self.b = np.zeros(output_dim)

    def forward(self, x):
        self.x = x
        return x @ self.W.T + self.b

    def backward(self, delta):
        batch = delta.shape[0]
        self.grad_W = delta.T @ self.x / batch
        self.grad_b = delta.sum(axis=0) / batch
        return delta @ self.W


class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, delta):
        return delta * (1 - self.y ** 2)


class ReLU:
    def forward(self, x):
        self.x = x
        return np.maximum(x, 0.0)

    def backward(self, delta):
        return delta * (self.x > 0)


class SoftmaxCrossEntropy:
    def forward(self, logits, target):
        z = logits - logits.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        self.p = np.exp(log_p)
        self.target = target
        return float(np.mean(-log_p[np.arange(len(target)), target]))

    def backward(self):
        delta = self.p.copy()
        delta[np.arange(len(self.target)), self.target] -= 1
        return delta  # the layers divide by the batch size


class NeuralNetwork:
    def __init__(self, layers, loss):
        self.layers = layers
        self.loss = loss

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def compute_loss(self, x, target):
        return self.loss.forward(self.forward(x), target)

    def backward(self):
        delta = self.loss.backward()
        for layer in reversed(self.layers):
            delta = layer.backward(delta)

    def params(self):
        return [p for layer in self.layers if isinstance(layer, FullyConnected) for p in (layer.W, layer.b)]

    def grads(self):
        return [g for layer in self.layers if isinstance(layer, FullyConnected) for g in (layer.grad_W, layer.grad_b)]


class SGD:
    def __init__(self, lr=0.1):
        self.lr = lr

    def step(self, params, grads):
        for p, g in zip(params, grads):
            p -= self.lr * g


class SGDMomentum:
    def __init__(self, lr=0.1, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.velocities = None

    def step(self, params, grads):
        if self.velocities is None:
            self.velocities = [np.zeros_like(p) for p in params]
        for i, (p, g) in enumerate(zip(params, grads)):
            self.velocities[i] = self.momentum * self.velocities[i] + g
            p -= self.lr * self.velocities[i]


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = self.v = None
        self.t = 0

    def step(self, params, grads):
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g ** 2
            m_hat = self.m[i] / (1 - self.beta1 ** self.t)
            v_hat = self.v[i] / (1 - self.beta2 ** self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
