"""Parameters as small objects holding .data and .grad; Linear takes one shape tuple
(in, out) and averages its gradients over the batch; Softmax has a forward only (the loss
folds its gradient in); the loss is called as loss(output, target) and .gradient() after."""
import numpy as np


class Parameter(object):
    def __init__(self, data, requires_grad=True):
        self.data = data
        self.grad = None
        self.requires_grad = requires_grad

    @property
    def T(self):
        return self.data.T


class Layer(object):
    def forward(self, *args):
        raise NotImplementedError

    def backward(self, *args):
        raise NotImplementedError


class Linear(Layer):
    def __init__(self, shape, requires_grad=True, bias=True):
        """shape = (in_size, out_size)"""
        W = np.random.randn(*shape) * np.sqrt(2 / shape[0])
        self.W = Parameter(W, requires_grad)
        self.b = Parameter(np.zeros(shape[-1]), requires_grad) if bias else None

    def forward(self, x):
        self.x = x
        out = np.dot(x, self.W.data)
        if self.b is not None:
            out = out + self.b.data
        return out

    def backward(self, eta):
        batch_size = eta.shape[0]
        self.W.grad = np.dot(self.x.T, eta) / batch_size
        if self.b is not None:
            self.b.grad = np.sum(eta, axis=0) / batch_size
        return np.dot(eta, self.W.T)


class ReLU(Layer):
    def forward(self, x):
        self.x = x
        return np.maximum(0, x)

    def backward(self, eta):
        return eta * (self.x > 0)


class Softmax(Layer):
    def forward(self, x):
        v = np.exp(x - x.max(axis=-1, keepdims=True))
        return v / v.sum(axis=-1, keepdims=True)


class CrossEntropyLoss(object):
    def __init__(self):
        self.classifier = Softmax()

    def __call__(self, output, target):
        """output: raw scores (B, C); target: one-hot (B, C)."""
        self.a = self.classifier.forward(output)
        self.y = target
        shifted = output - output.max(axis=-1, keepdims=True)
        log_a = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        return -np.sum(log_a * self.y, axis=-1).mean()

    def gradient(self):
        return self.a - self.y
