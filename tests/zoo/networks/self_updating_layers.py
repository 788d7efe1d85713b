"""Layers that update themselves: backward(output_error, learning_rate) computes the gradients,
returns the input error and takes the SGD step itself. Network(loss, loss_prime) with add(layer),
predict(x) and fit(x, y, epochs, learning_rate, batch_size)."""
import numpy as np


class Layer:
    def forward(self, input_data):
        raise NotImplementedError

    def backward(self, output_error, learning_rate):
        raise NotImplementedError


class FCLayer(Layer):
    def __init__(self, input_size, output_size):
        self.weights = np.random.randn(input_size, output_size) / np.sqrt(input_size)
        self.bias = np.zeros((1, output_size))
        self.weights_error = np.zeros_like(self.weights)
        self.bias_error = np.zeros_like(self.bias)

    def forward(self, input_data):
        self.input = input_data
        return input_data @ self.weights + self.bias

    def backward(self, output_error, learning_rate):
        input_error = output_error @ self.weights.T
        self.weights_error = self.input.T @ output_error
        self.bias_error = output_error.sum(axis=0, keepdims=True)
        self.weights -= learning_rate * self.weights_error
        self.bias -= learning_rate * self.bias_error
        return input_error


class ActivationLayer(Layer):
    def __init__(self, activation, activation_prime):
        self.activation = activation
        self.activation_prime = activation_prime

    def forward(self, input_data):
        self.input = input_data
        return self.activation(input_data)

    def backward(self, output_error, learning_rate):
        return self.activation_prime(self.input) * output_error


class SoftmaxLayer(Layer):
    def forward(self, input_data):
        e = np.exp(input_data - input_data.max(axis=1, keepdims=True))
        self.output = e / e.sum(axis=1, keepdims=True)
        return self.output

    def backward(self, output_error, learning_rate):
        s = self.output
        return s * (output_error - np.sum(output_error * s, axis=1, keepdims=True))


def tanh(x):
    return np.tanh(x)


def tanh_prime(x):
    return 1 - np.tanh(x) ** 2


def relu(x):
    return np.maximum(x, 0)


def relu_prime(x):
    return (x > 0).astype(float)


def cross_entropy(y_true, y_pred):
    """y_true one-hot, y_pred probabilities; mean over the batch."""
    return -np.sum(y_true * np.log(np.clip(y_pred, 1e-12, 1.0))) / len(y_true)


def cross_entropy_prime(y_true, y_pred):
    return -y_true / np.clip(y_pred, 1e-12, 1.0) / len(y_true)


class Network:
    def __init__(self, loss=cross_entropy, loss_prime=cross_entropy_prime):
        self.layers = []
        self.loss = loss
        self.loss_prime = loss_prime

    def add(self, layer):
        self.layers.append(layer)

    def predict(self, input_data):
        output = input_data
        for layer in self.layers:
            output = layer.forward(output)
        return output

    def fit(self, x_train, y_train, epochs, learning_rate, batch_size=32):
        errors = []
        for _ in range(epochs):
            order = np.random.permutation(len(x_train))
            for i in range(0, len(x_train), batch_size):
                idx = order[i:i + batch_size]
                output = self.predict(x_train[idx])
                errors.append(self.loss(y_train[idx], output))
                error = self.loss_prime(y_train[idx], output)
                for layer in reversed(self.layers):
                    error = layer.backward(error, learning_rate)
        return errors
