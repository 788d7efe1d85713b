"""Style ``dense_net`` (assignment 003): ``Dense(input_dim, output_dim, activation=None)`` with
``params``/``grads`` dicts and W (out, in), activation objects with forward/backward (Softmax with
its Jacobian), ``NeuralNetwork(layer_sizes, activations, learning_rate)``, losses on one-hot
targets (``CrossEntropyLoss`` on probabilities, ``MSELoss``), ``update(lr)`` as plain SGD and
``check_gradients(network, X, y, loss_fn)`` returning a bool (and printing)."""
from __future__ import annotations

import numpy as np

from conformance.adapters._common import (
    ACTIVATION_NAMES, HolderOptimizer, ObjLoss, SlotPipeline, TableAdapter, construct, find,
    interpret_check, need, one_hot, plant_bug, probe_ce_grad, quiet,
)
from conformance.adapters.base import Missing


class _DenseStandIns:
    """One real Dense per kit parameter (its params["W"]), so that Dense.update(lr) does the step."""

    def __init__(self, Dense, params, grads):
        self.keys, self.layers = list(params), []
        for k in self.keys:
            layer = construct(Dense, 1, 1)
            layer.params = {"W": params[k], "b": np.zeros(0)}
            layer.grads = {"W": grads[k], "b": np.zeros(0)}
            self.layers.append(layer)

    def load(self, params, grads):
        for layer, k in zip(self.layers, self.keys):
            layer.params["W"][...] = params[k]
            layer.grads["W"][...] = grads[k]

    def read(self):
        return {k: layer.params["W"] for k, layer in zip(self.keys, self.layers)}


class DenseNetAdapter(TableAdapter):
    LAYER_NAMES = {"linear": ("Dense",), **ACTIVATION_NAMES, "dropout": ("Dropout",),
                   "batchnorm": ("BatchNorm", "BatchNorm1d")}
    INVENTORY = {
        "linear": (("Dense",), "Dense(input_dim, output_dim) without activation, params['W'] (out, in)"),
        "relu": (ACTIVATION_NAMES["relu"], "Activation with forward/backward"),
        "sigmoid": (ACTIVATION_NAMES["sigmoid"], "Activation with forward/backward"),
        "tanh": (ACTIVATION_NAMES["tanh"], "Activation with forward/backward"),
        "softmax": (ACTIVATION_NAMES["softmax"], "Softmax with a Jacobian backward"),
        "cross_entropy": (("CrossEntropyLoss",), "CrossEntropyLoss.forward(probs, one-hot)"),
        "mse": (("MSELoss",), "MSELoss.forward(pred, target)"),
        "model_gradcheck": (("NeuralNetwork",), "NeuralNetwork(sizes, activations) + its loss, grads from layer.grads"),
        "sgd": (("Dense.update",), "Dense.update(lr) is plain SGD"),
        "momentum": (("SGDMomentum", "Momentum"), "no momentum in this style"),
        "adam": (("Adam",), "no Adam in this style"),
        "gradient_checker": (("check_gradients",), "check_gradients(network, X, y, loss_fn) -> bool"),
        "init": (("Dense",), "Dense initialises He-normal"),
        "appendix_a": (("OneHiddenLayerMLP",), "single-sample MLP of Appendix A"),
        "training_xor": (("NeuralNetwork",), "NeuralNetwork + update(lr)"),
        "training_spiral": (("NeuralNetwork",), "NeuralNetwork + update(lr)"),
        "training_mnist": (("NeuralNetwork",), "NeuralNetwork + update(lr)"),
        "batchnorm": (("BatchNorm", "BatchNorm1d"), "batch normalisation layer"),
        "dropout": (("Dropout",), "dropout layer"),
        "conv2d": (("Conv2D", "Conv2d"), "convolution layer"),
    }

    def make_loss(self, kind):
        if kind == "cross_entropy":
            name, cls = need(self.namespace, "cross-entropy loss", "CrossEntropyLoss", "CrossEntropy")
            obj = construct(cls)
            conventions = {"input": "probs", "targets": "onehot",
                           **probe_ce_grad(obj.forward, obj.backward, wants_onehot=True)}
            return ObjLoss(obj, kind, name, conventions)
        if kind == "mse":
            return self._mse_loss()
        raise Missing(f"the dense_net style has no {kind} loss")

    def _network(self, sizes, hidden, task, seed=0):
        name, Net = need(self.namespace, "whole model", "NeuralNetwork")
        acts = [self._activation(hidden) for _ in sizes[2:]]
        acts.append(self._activation("softmax") if task == "classification" else None)
        return name, construct(Net, list(sizes), activations=acts, seed=seed)

    def make_pipeline(self, sizes, hidden="relu", task="classification"):
        name, model = self._network(sizes, hidden, task)
        loss = self.make_loss("cross_entropy" if task == "classification" else "mse")
        slots, layout = self._slots(model.layers, sizes)
        if not callable(getattr(model, "update", None)):
            raise Missing("NeuralNetwork has no update(lr) method")
        conventions = {"output": "probs" if task == "classification" else "pred", "loss": loss.student_name,
                       "weight_layout": layout, **loss.conventions}
        return SlotPipeline(model, slots, loss, lambda lr: model.update(lr), conventions, f"{name} layer")

    def make_optimizer(self, kind, **hyper):
        if kind != "sgd":
            raise Missing(f"the dense_net style has no {kind} optimizer (only Dense.update(lr), plain SGD)")
        name, Dense = need(self.namespace, "Dense layer with update(lr)", "Dense.update")
        lr = hyper.get("lr", 0.1)
        return HolderOptimizer("Dense.update", kind, lambda P, G: _DenseStandIns(Dense, P, G),
                               lambda s: [layer.update(lr) for layer in s.layers], lambda s: s.read(),
                               {"api": "Dense.update(lr)"})

    def gradient_checker(self):
        name, check = need(self.namespace, "gradient-checking function", "check_gradients", "gradient_check")

        def scale_param_grads(result, net):
            for layer in net.layers:
                for k, g in list(getattr(layer, "grads", {}).items()):
                    layer.grads[k] = np.asarray(g) * 1.5
            return result

        def run(planted_bug: bool, seed: int):
            rng = np.random.default_rng(seed)
            _, net = self._network([4, 5, 3], "tanh" if find(self.namespace, "Tanh") else "relu", "classification", seed)
            if planted_bug:
                plant_bug(net, scale_param_grads)
            X, y = rng.normal(size=(5, 4)), one_hot(rng.integers(0, 3, size=5), 3)
            loss = self.make_loss("cross_entropy").obj
            with quiet():
                return interpret_check(check(net, X, y, loss))

        return run

    def init_weights(self, kind, fan_in, fan_out, seed):
        if kind != "he":
            raise Missing(f"the dense_net style's Dense only initialises He-normal, not {kind}")
        return self.make_layer("linear", in_features=fan_in, out_features=fan_out, seed=seed).get_params()["W"]
