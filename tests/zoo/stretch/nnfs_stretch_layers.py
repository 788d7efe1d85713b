import numpy as np


class Layer_BatchNorm:
    def __init__(self, n_features, epsilon=1e-5, momentum=0.1):
        self.epsilon = epsilon
        self.momentum = momentum
        self.gamma = np.ones((1, n_features))
        self.beta = np.zeros((1, n_features))
        self.running_mean = np.zeros((1, n_features))
        self.running_variance = np.ones((1, n_features))

    def forward(self, inputs, training):
        self.inputs = inputs
        if training:
            mean = np.mean(inputs, axis=0, keepdims=True)
            variance = np.var(inputs, axis=0, keepdims=True)
            n = inputs.shape[0]
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
            self.running_variance = (1 - self.momentum) * self.running_variance + self.momentum * variance * n / (n - 1)
        else:
            mean, variance = self.running_mean, self.running_variance
        self.inv_std = 1 / np.sqrt(variance + self.epsilon)
        self.normalised = (inputs - mean) * self.inv_std
        self.output = self.gamma * self.normalised + self.beta

    def backward(self, dvalues):
        self.dgamma = np.sum(dvalues * self.normalised, axis=0, keepdims=True)
        self.dbeta = np.sum(dvalues, axis=0, keepdims=True)
        dnorm = dvalues * self.gamma
        self.dinputs = self.inv_std * (dnorm - np.mean(dnorm, axis=0, keepdims=True)
                                       - self.normalised * np.mean(dnorm * self.normalised, axis=0, keepdims=True))


class Layer_Dropout:
    def __init__(self, rate):
        self.rate = 1 - rate

    def forward(self, inputs, training):
        self.inputs = inputs
        if not training:
            self.output = inputs.copy()
            return
        self.binary_mask = np.random.binomial(1, self.rate, size=inputs.shape) / self.rate
        self.output = inputs * self.binary_mask

    def backward(self, dvalues):
        self.dinputs = dvalues * self.binary_mask
