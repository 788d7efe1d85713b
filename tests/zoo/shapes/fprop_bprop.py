"""fprop/bprop naming: FC(m, n) keeps weight (n, m) like torch, bprop(grad) stores grad_weight
and grad_bias; activations and the softmax cross-entropy use the same two verbs, the loss as
fprop(logits, labels) then bprop()."""
import numpy as np


class FC:
    def __init__(self, m, n):
        bound = 1.0 / np.sqrt(m)
        self.weight = np.random.uniform(-bound, bound, (n, m))
        self.bias = np.random.uniform(-bound, bound, n)

    def fprop(self, x):
        self.x = x
        return x.dot(self.weight.T) + self.bias

    def bprop(self, grad):
        self.grad_weight = grad.T.dot(self.x)
        self.grad_bias = grad.sum(0)
        return grad.dot(self.weight)


class ReLU:
    def fprop(self, x):
        self.x = x
        return np.maximum(x, 0.0)

    def bprop(self, grad):
        return grad * (self.x > 0.0)


class Tanh:
    def fprop(self, x):
        self.y = np.tanh(x)
        return self.y

    def bprop(self, grad):
        return grad * (1.0 - self.y ** 2)


class SoftmaxCE:
    def fprop(self, logits, labels):
        z = logits - logits.max(1, keepdims=True)
        self.logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        self.labels = labels
        return -self.logp[np.arange(len(labels)), labels].mean()

    def bprop(self):
        g = np.exp(self.logp)
        g[np.arange(len(self.labels)), self.labels] -= 1.0
        return g / len(self.labels)
