"""A port of the Lua-torch module API to numpy, as in a popular homework: updateOutput,
updateGradInput, accGradParameters; forward(input) and backward(input, gradOutput) wrap them;
criteria take (input, target)."""
import numpy as np


class Module(object):
    def __init__(self):
        self.output = None
        self.gradInput = None
        self.training = True

    def forward(self, input):
        return self.updateOutput(input)

    def backward(self, input, gradOutput):
        self.updateGradInput(input, gradOutput)
        self.accGradParameters(input, gradOutput)
        return self.gradInput

    def updateOutput(self, input):
        raise NotImplementedError

    def updateGradInput(self, input, gradOutput):
        raise NotImplementedError

    def accGradParameters(self, input, gradOutput):
        pass

    def zeroGradParameters(self):
        pass

    def getParameters(self):
        return []

    def getGradParameters(self):
        return []


class Linear(Module):
    def __init__(self, n_in, n_out):
        super(Linear, self).__init__()
        stdv = 1.0 / np.sqrt(n_in)
        self.W = np.random.uniform(-stdv, stdv, size=(n_out, n_in))
        self.b = np.random.uniform(-stdv, stdv, size=n_out)
        self.gradW = np.zeros_like(self.W)
        self.gradb = np.zeros_like(self.b)

    def updateOutput(self, input):
        self.output = np.dot(input, self.W.T) + self.b
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = np.dot(gradOutput, self.W)
        return self.gradInput

    def accGradParameters(self, input, gradOutput):
        self.gradW = np.dot(gradOutput.T, input)
        self.gradb = np.sum(gradOutput, axis=0)

    def zeroGradParameters(self):
        self.gradW.fill(0)
        self.gradb.fill(0)

    def getParameters(self):
        return [self.W, self.b]

    def getGradParameters(self):
        return [self.gradW, self.gradb]


class ReLU(Module):
    def updateOutput(self, input):
        self.output = np.maximum(input, 0)
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = np.multiply(gradOutput, input > 0)
        return self.gradInput


class Sigmoid(Module):
    def updateOutput(self, input):
        self.output = 1.0 / (1.0 + np.exp(-np.clip(input, -100, 100)))
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput * self.output * (1.0 - self.output)
        return self.gradInput


class SoftMax(Module):
    def updateOutput(self, input):
        shifted = np.subtract(input, input.max(axis=1, keepdims=True))
        self.output = np.exp(shifted)
        self.output /= self.output.sum(axis=1, keepdims=True)
        return self.output

    def updateGradInput(self, input, gradOutput):
        p = self.output
        self.gradInput = p * (gradOutput - np.sum(gradOutput * p, axis=1, keepdims=True))
        return self.gradInput


class Criterion(object):
    def __init__(self):
        self.output = None
        self.gradInput = None

    def forward(self, input, target):
        return self.updateOutput(input, target)

    def backward(self, input, target):
        return self.updateGradInput(input, target)


class MSECriterion(Criterion):
    def updateOutput(self, input, target):
        self.output = np.sum(np.power(input - target, 2)) / input.size
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput = (input - target) * 2 / input.size
        return self.gradInput
