import numpy as np


class BatchNormalization:
    def __init__(self, dim, momentum=0.99, epsilon=1e-3):
        self.momentum = momentum
        self.epsilon = epsilon
        self.gamma = np.ones(dim)
        self.beta = np.zeros(dim)
        self.moving_mean = np.zeros(dim)
        self.moving_variance = np.ones(dim)
        self.trainable_weights = [self.gamma, self.beta]
        self.gradients = [None, None]

    def __call__(self, inputs, training=False):
        if training:
            mean, variance = inputs.mean(axis=0), inputs.var(axis=0)
            self.moving_mean = self.moving_mean * self.momentum + mean * (1 - self.momentum)
            self.moving_variance = self.moving_variance * self.momentum + variance * (1 - self.momentum)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        self.training_call = training
        self.scale = 1.0 / np.sqrt(variance + self.epsilon)
        self.normed = (inputs - mean) * self.scale
        return self.gamma * self.normed + self.beta

    def backward(self, grad):
        self.gradients = [np.sum(grad * self.normed, axis=0), np.sum(grad, axis=0)]
        g = grad * self.gamma
        if not self.training_call:
            return g * self.scale
        return self.scale * (g - g.mean(axis=0) - self.normed * (g * self.normed).mean(axis=0))


class LayerNormalization:
    def __init__(self, dim, epsilon=1e-3):
        self.epsilon = epsilon
        self.gamma = np.ones(dim)
        self.beta = np.zeros(dim)
        self.gradients = [None, None]

    def __call__(self, inputs, training=False):
        mean = inputs.mean(axis=-1, keepdims=True)
        variance = inputs.var(axis=-1, keepdims=True)
        self.scale = 1.0 / np.sqrt(variance + self.epsilon)
        self.normed = (inputs - mean) * self.scale
        return self.gamma * self.normed + self.beta

    def backward(self, grad):
        self.gradients = [np.sum(grad * self.normed, axis=0), np.sum(grad, axis=0)]
        g = grad * self.gamma
        return self.scale * (g - g.mean(axis=-1, keepdims=True)
                             - self.normed * (g * self.normed).mean(axis=-1, keepdims=True))


class Dropout:
    def __init__(self, rate, seed=None):
        self.rate = rate
        self.generator = np.random.default_rng(seed)

    def __call__(self, inputs, training=False):
        if not training or self.rate == 0:
            self.keep = None
            return inputs
        self.keep = self.generator.random(inputs.shape) >= self.rate
        return inputs * self.keep / (1 - self.rate)

    def backward(self, grad):
        if self.keep is None:
            return grad
        return grad * self.keep / (1 - self.rate)
