"""A computer-vision course's layer API ported from Lua: Linear(in_neurons, out_neurons) with
W (out, in) and a column bias B (out, 1) on row-major batches; backward(input, gradOutput)
sets gradW/gradB; the criterion takes (input, target) with integer targets."""
import numpy as np


class Linear:
    def __init__(self, in_neurons, out_neurons):
        self.W = np.random.normal(0, 0.1, (out_neurons, in_neurons))
        self.B = np.zeros((out_neurons, 1))
        self.gradW = np.zeros_like(self.W)
        self.gradB = np.zeros_like(self.B)
        self.output = None
        self.gradInput = None

    def forward(self, input):
        self.output = input @ self.W.T + self.B.T
        return self.output

    def backward(self, input, gradOutput):
        self.gradInput = gradOutput @ self.W
        self.gradW = gradOutput.T @ input
        self.gradB = gradOutput.sum(axis=0).reshape(-1, 1)
        return self.gradInput

    def clearGradParam(self):
        self.gradW.fill(0)
        self.gradB.fill(0)


class ReLU:
    def forward(self, input):
        self.output = np.maximum(input, 0)
        return self.output

    def backward(self, input, gradOutput):
        self.gradInput = gradOutput * (input > 0)
        return self.gradInput


class Criterion:
    def forward(self, input, target):
        """input: scores (batch, classes); target: class ids (batch,)."""
        shifted = input - input.max(axis=1, keepdims=True)
        logZ = np.log(np.exp(shifted).sum(axis=1))
        picked = shifted[np.arange(len(target)), target.astype(int)]
        return np.mean(logZ - picked)

    def backward(self, input, target):
        shifted = input - input.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        onehot = np.zeros_like(probs)
        onehot[np.arange(len(target)), target.astype(int)] = 1
        return (probs - onehot) / len(target)
