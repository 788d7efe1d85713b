"""The answer key: a readable NumPy implementation of every component of the kit's spec.

Canonical conventions (ARCHITECTURE.md, "The reference API"): Linear W (out, in); every backward
is the exact vector-Jacobian product of its forward; only losses average over the batch;
randomness comes in as a numpy Generator (``rng=``); float64 by default, float32 kept end to end.
"""
from reference.gradcheck import check_gradients, numerical_gradient, relative_error
from reference.init import he_normal, he_uniform, xavier_normal, xavier_uniform
from reference.layers import Flatten, Linear, Module, ReLU, Sequential, Sigmoid, Softmax, Tanh, sigmoid, softmax
from reference.losses import CrossEntropy, MSELoss, SoftmaxCrossEntropy
from reference.optim import SGD, Adam
from reference.single_sample import OneHiddenLayerMLP
from reference.stretch import BatchNorm1d, Conv2D, Dropout, LayerNorm, MaxPool2D
from reference.train import History, accuracy, train

__all__ = [
    "Module", "Linear", "ReLU", "Sigmoid", "Tanh", "Softmax", "Flatten", "Sequential", "sigmoid", "softmax",
    "SoftmaxCrossEntropy", "CrossEntropy", "MSELoss", "SGD", "Adam",
    "he_normal", "he_uniform", "xavier_normal", "xavier_uniform",
    "numerical_gradient", "relative_error", "check_gradients",
    "BatchNorm1d", "LayerNorm", "Dropout", "Conv2D", "MaxPool2D", "train", "History", "accuracy", "OneHiddenLayerMLP",
]
from reference import datasets  # noqa: E402,F401
