"""One example at a time as a column vector (n, 1), in the style of the online-book network:
layers keep w (n_out, n_in) and b (n_out, 1), sigmoid_prime takes the weighted input z, and the
quadratic cost's derivative is (a - y)."""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def sigmoid_prime(z):
    """Derivative of the sigmoid, as a function of the weighted input z."""
    return sigmoid(z) * (1 - sigmoid(z))


def quadratic_cost(a, y):
    return 0.5 * np.linalg.norm(a - y) ** 2


def cost_derivative(output_activations, y):
    return output_activations - y


class Layer(object):
    def __init__(self, n_in, n_out):
        self.w = np.random.randn(n_out, n_in) / np.sqrt(n_in)
        self.b = np.random.randn(n_out, 1)

    def feedforward(self, a):
        self.a_in = a
        return np.dot(self.w, a) + self.b

    def backprop(self, delta):
        self.nabla_w = np.dot(delta, self.a_in.T)
        self.nabla_b = delta
        return np.dot(self.w.T, delta)


class Network(object):
    def __init__(self, sizes):
        self.layers = [Layer(n, m) for n, m in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for layer in self.layers:
            a = sigmoid(layer.feedforward(a))
        return a

    def backprop(self, x, y):
        zs, a = [], x
        for layer in self.layers:
            z = layer.feedforward(a)
            zs.append(z)
            a = sigmoid(z)
        delta = cost_derivative(a, y) * sigmoid_prime(zs[-1])
        for layer, z in zip(reversed(self.layers), reversed([None] + zs[:-1])):
            delta = layer.backprop(delta)
            if z is not None:
                delta = delta * sigmoid_prime(z)
        return [(l.nabla_w, l.nabla_b) for l in self.layers]
