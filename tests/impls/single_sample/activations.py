"""Element-wise activations with forward(z) and derivative(z)."""
import numpy as np


class ReLU:
    def forward(self, z):
        return np.maximum(0.0, z)

    def derivative(self, z):
        return (z > 0).astype(float)


class Sigmoid:
    def forward(self, z):
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))

    def derivative(self, z):
        s = self.forward(z)
        return s * (1 - s)


class Tanh:
    def forward(self, z):
        return np.tanh(z)

    def derivative(self, z):
        return 1 - np.tanh(z) ** 2
