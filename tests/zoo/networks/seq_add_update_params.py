"""Sequential().add(layer) in the style of the popular from-scratch book: LinearLayer keeps weights
(in, out), biases (1, out) and dweights/dbiases; optimisers expose update_params(layer) and keep
their state (velocities, moment estimates, step count) on the layer itself."""
import numpy as np


class LinearLayer:
    def __init__(self, n_inputs, n_neurons):
        self.weights = 0.1 * np.random.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))
        self.optimizer_state = {}  # filled by the optimiser on its first update

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases
        return self.output

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        self.dinputs = np.dot(dvalues, self.weights.T)
        return self.dinputs


class ReLUActivation:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)
        return self.output

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0
        return self.dinputs


class SoftmaxActivation:
    def forward(self, inputs):
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)
        return self.output

    def backward(self, dvalues):
        dot = np.sum(dvalues * self.output, axis=1, keepdims=True)
        self.dinputs = self.output * (dvalues - dot)
        return self.dinputs


class CategoricalCrossentropy:
    def forward(self, y_pred, y_true):
        clipped = np.clip(y_pred, 1e-7, 1.0)
        correct = clipped[range(len(y_pred)), y_true]
        return np.mean(-np.log(correct))

    def backward(self, dvalues, y_true):
        samples, labels = dvalues.shape
        one_hot = np.eye(labels)[y_true]
        self.dinputs = -one_hot / np.clip(dvalues, 1e-7, 1.0) / samples
        return self.dinputs


class Sequential:
    def __init__(self):
        self.layers = []

    def add(self, layer):
        self.layers.append(layer)
        return self

    def forward(self, X):
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, dvalues):
        for layer in reversed(self.layers):
            dvalues = layer.backward(dvalues)
        return dvalues

    def trainable_layers(self):
        return [layer for layer in self.layers if isinstance(layer, LinearLayer)]


class SGDOptimizer:
    def __init__(self, learning_rate=1.0, momentum=0.0):
        self.learning_rate = learning_rate
        self.momentum = momentum

    def update_params(self, layer):
        if self.momentum:
            state = layer.optimizer_state
            if "w_velocity" not in state:
                state["w_velocity"] = np.zeros_like(layer.weights)
                state["b_velocity"] = np.zeros_like(layer.biases)
            state["w_velocity"] = self.momentum * state["w_velocity"] - self.learning_rate * layer.dweights
            state["b_velocity"] = self.momentum * state["b_velocity"] - self.learning_rate * layer.dbiases
            layer.weights += state["w_velocity"]
            layer.biases += state["b_velocity"]
        else:
            layer.weights -= self.learning_rate * layer.dweights
            layer.biases -= self.learning_rate * layer.dbiases


class AdamOptimizer:
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def update_params(self, layer):
        s = layer.optimizer_state
        if "t" not in s:
            s.update(t=0, w_m=np.zeros_like(layer.weights), w_v=np.zeros_like(layer.weights),
                     b_m=np.zeros_like(layer.biases), b_v=np.zeros_like(layer.biases))
        s["t"] += 1
        b1, b2 = self.beta_1, self.beta_2
        s["w_m"] = b1 * s["w_m"] + (1 - b1) * layer.dweights
        s["b_m"] = b1 * s["b_m"] + (1 - b1) * layer.dbiases
        s["w_v"] = b2 * s["w_v"] + (1 - b2) * layer.dweights ** 2
        s["b_v"] = b2 * s["b_v"] + (1 - b2) * layer.dbiases ** 2
        w_m_hat = s["w_m"] / (1 - b1 ** s["t"])
        b_m_hat = s["b_m"] / (1 - b1 ** s["t"])
        w_v_hat = s["w_v"] / (1 - b2 ** s["t"])
        b_v_hat = s["b_v"] / (1 - b2 ** s["t"])
        layer.weights -= self.learning_rate * w_m_hat / (np.sqrt(w_v_hat) + self.epsilon)
        layer.biases -= self.learning_rate * b_m_hat / (np.sqrt(b_v_hat) + self.epsilon)
