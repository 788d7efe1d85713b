"""Sequential([layers]) ending in a Softmax layer; the cross-entropy takes probabilities and its
backward already returns d/dlogits (p - onehot) / B, so the model's backward starts below the
softmax. Optimisers take the model: opt.step(model), momentum and Adam state kept per layer."""
import numpy as np


class Dense:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_out, n_in) * np.sqrt(1.0 / n_in)
        self.b = np.zeros(n_out)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def forward(self, x):
        self.x = x
        return x @ self.W.T + self.b

    def backward(self, grad):
        self.dW = grad.T @ self.x  # (out, B) @ (B, in)
        self.db = grad.sum(axis=0)
        return grad @ self.W


class ReLU:
    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, grad):
        return grad * (self.x > 0)


class Sigmoid:
    def forward(self, x):
        self.y = 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))
        return self.y

    def backward(self, grad):
        return grad * self.y * (1.0 - self.y)


class Softmax:
    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.p = e / e.sum(axis=1, keepdims=True)
        return self.p

    def backward(self, grad):
        return self.p * (grad - (grad * self.p).sum(axis=1, keepdims=True))


class CrossEntropy:
    def forward(self, probs, labels):
        self.probs, self.labels = probs, labels
        return float(-np.mean(np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None))))

    def backward(self):
        """Gradient with respect to the logits below the softmax (the two fused)."""
        g = self.probs.copy()
        g[np.arange(len(self.labels)), self.labels] -= 1
        return g / len(self.labels)


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad):
        layers = self.layers[:-1] if isinstance(self.layers[-1], Softmax) else self.layers
        for layer in reversed(layers):
            grad = layer.backward(grad)
        return grad


def trainable(model):
    return [layer for layer in model.layers if isinstance(layer, Dense)]


class SGD:
    def __init__(self, lr=0.1):
        self.lr = lr

    def step(self, model):
        for layer in trainable(model):
            layer.W -= self.lr * layer.dW
            layer.b -= self.lr * layer.db


class MomentumSGD:
    def __init__(self, lr=0.1, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.state = {}

    def step(self, model):
        for layer in trainable(model):
            vW, vb = self.state.get(id(layer), (np.zeros_like(layer.W), np.zeros_like(layer.b)))
            vW = self.momentum * vW - self.lr * layer.dW
            vb = self.momentum * vb - self.lr * layer.db
            layer.W += vW
            layer.b += vb
            self.state[id(layer)] = (vW, vb)


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.state = {}

    def step(self, model):
        for layer in trainable(model):
            if id(layer) not in self.state:
                zeros = [np.zeros_like(layer.W), np.zeros_like(layer.b)]
                self.state[id(layer)] = {"t": 0, "m": [z.copy() for z in zeros], "v": [z.copy() for z in zeros]}
            s = self.state[id(layer)]
            s["t"] += 1
            steps = []
            for i, g in enumerate((layer.dW, layer.db)):
                s["m"][i] = self.beta1 * s["m"][i] + (1 - self.beta1) * g
                s["v"][i] = self.beta2 * s["v"][i] + (1 - self.beta2) * g ** 2
                m_hat = s["m"][i] / (1 - self.beta1 ** s["t"])
                v_hat = s["v"][i] / (1 - self.beta2 ** s["t"])
                steps.append(self.lr * m_hat / (np.sqrt(v_hat) + self.eps))
            layer.W -= steps[0]
            layer.b -= steps[1]
