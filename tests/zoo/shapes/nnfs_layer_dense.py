"""Dense net after the 'from scratch' book style: every object stores its result in .output
(forward returns nothing) and its gradients in .dinputs/.dweights/.dbiases."""
import numpy as np


class Layer_Dense:
    def __init__(self, n_inputs, n_neurons):
        # one column of weights per neuron
        self.weights = np.random.randn(n_inputs, n_neurons) * 0.01
        self.biases = np.zeros((1, n_neurons))

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)


class Activation_ReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        # the gradient flows only where the input was positive
        self.dinputs = np.where(self.inputs > 0, dvalues, 0.0)


class Activation_Softmax:
    def forward(self, inputs):
        self.inputs = inputs
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)

    def backward(self, dvalues):
        self.dinputs = np.empty_like(dvalues)
        for i in range(len(dvalues)):
            s = self.output[i].reshape(-1, 1)
            jacobian = np.diagflat(s) - np.dot(s, s.T)
            self.dinputs[i] = np.dot(jacobian, dvalues[i])


class Loss:
    def calculate(self, output, y):
        return np.mean(self.forward(output, y))


class Loss_CategoricalCrossentropy(Loss):
    def forward(self, y_pred, y_true):
        """one loss per sample; y_true holds class ids (N,) or one-hot rows (N, C)"""
        p = np.clip(y_pred, 1e-7, 1.0)
        if y_true.ndim == 2:
            picked = (p * y_true).sum(axis=1)
        else:
            picked = p[np.arange(len(p)), y_true]
        return -np.log(picked)

    def backward(self, dvalues, y_true):
        n, k = dvalues.shape
        target = y_true if y_true.ndim == 2 else np.eye(k)[y_true]
        clipped = np.clip(dvalues, 1e-7, 1 - 1e-7)
        self.dinputs = -target / clipped / n
