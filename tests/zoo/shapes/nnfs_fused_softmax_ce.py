"""Book-style dense net with snake_case gradient names (d_weights, d_inputs), sigmoid and tanh
activation objects, and softmax fused with the cross-entropy in one class."""
import numpy as np


class Layer_Dense:
    def __init__(self, n_inputs, n_neurons):
        self.weights = np.random.randn(n_inputs, n_neurons) * np.sqrt(1.0 / n_inputs)
        self.biases = np.zeros(n_neurons)

    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs @ self.weights + self.biases
        return self.output

    def backward(self, d_values):
        # gradients on the parameters
        self.d_weights = self.inputs.T @ d_values
        self.d_biases = d_values.sum(axis=0)
        # gradient on the inputs
        self.d_inputs = d_values @ self.weights.T


class Activation_Sigmoid:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = 1 / (1 + np.exp(-np.clip(inputs, -500, 500)))

    def backward(self, d_values):
        self.d_inputs = d_values * (1 - self.output) * self.output


class Activation_Tanh:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.tanh(inputs)

    def backward(self, d_values):
        self.d_inputs = d_values * (1 - self.output ** 2)


class Activation_Softmax_Loss_CategoricalCrossentropy:
    """Softmax and cross-entropy in one step; backward gives the gradient on the logits."""

    def forward(self, inputs, y_true):
        shifted = inputs - np.max(inputs, axis=1, keepdims=True)
        log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        self.output = np.exp(log_probs)
        if y_true.ndim == 2:
            y_true = np.argmax(y_true, axis=1)
        return -np.mean(log_probs[np.arange(len(inputs)), y_true])

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        if y_true.ndim == 1:
            one_hot = np.zeros_like(dvalues)
            one_hot[np.arange(samples), y_true] = 1
        else:
            one_hot = y_true
        self.d_inputs = (dvalues - one_hot) / samples
