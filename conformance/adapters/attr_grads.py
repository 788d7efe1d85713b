"""Style ``attr_grads`` (assignment 001): ``Linear(in, out, init="he"|"xavier")`` storing W
(in, out) and ``dW``/``db`` attributes, ``ReLU``, ``Softmax`` (forward only),
``CrossEntropyLoss.forward(probs, int targets)`` whose ``backward()`` returns d/dlogits
(probs - onehot, per sample), ``MLP(layer_sizes)`` returning probabilities, ``SGD(lr).step(model)``."""
from __future__ import annotations

import numpy as np

from conformance.adapters._common import (
    ACTIVATION_NAMES, AttrAccess, HolderOptimizer, ObjLoss, SlotPipeline, TableAdapter, construct, f64,
    find, hyper_kwargs, layer_checker, need, pick_arg, probe_ce_grad,
)
from conformance.adapters.base import Missing


class _StandInLayer:
    """What SGD.step(model) reads: W/dW (one kit parameter each) and an empty b/db."""

    def __init__(self, W, dW):
        self.W, self.dW, self.b, self.db = W, dW, np.zeros(0), np.zeros(0)


class _StandInModel:
    def __init__(self, params, grads):
        self.keys = list(params)
        self.layers = [_StandInLayer(params[k], grads[k]) for k in self.keys]

    def load(self, params, grads):
        for layer, k in zip(self.layers, self.keys):
            layer.W[...] = params[k]
            layer.dW[...] = grads[k]

    def read(self):
        return {k: layer.W for k, layer in zip(self.keys, self.layers)}


class AttrGradsAdapter(TableAdapter):
    ACCESS = AttrAccess()
    LAYER_NAMES = {"linear": ("Linear",), **ACTIVATION_NAMES, "dropout": ("Dropout",),
                   "batchnorm": ("BatchNorm1d", "BatchNorm")}
    INVENTORY = {
        "linear": (("Linear",), "Linear(in_features, out_features), W (in, out), dW/db attributes"),
        "relu": (ACTIVATION_NAMES["relu"], "forward/backward"),
        "sigmoid": (ACTIVATION_NAMES["sigmoid"], "forward/backward"),
        "tanh": (ACTIVATION_NAMES["tanh"], "forward/backward"),
        "softmax": (ACTIVATION_NAMES["softmax"], "Softmax.forward (the loss takes its output)"),
        "cross_entropy": (("CrossEntropyLoss",), "CrossEntropyLoss.forward(probs, int targets), backward() -> d/dlogits"),
        "mse": (("MSELoss", "MSE"), "MSELoss.forward(pred, target)"),
        "model_gradcheck": (("MLP",), "MLP(layer_sizes) + CrossEntropyLoss, grads from dW/db"),
        "sgd": (("SGD",), "SGD(learning_rate).step(model)"),
        "momentum": (("SGD", "SGDMomentum", "Momentum"), "SGD with a momentum argument"),
        "adam": (("Adam",), "Adam(...).step(model)"),
        "gradient_checker": (("check_gradients", "gradient_check", "numerical_gradient_check"), "a gradient checker"),
        "init": (("Linear",), "Linear(in, out, init='he'|'xavier')"),
        "appendix_a": (("OneHiddenLayerMLP",), "single-sample MLP of Appendix A"),
        "training_xor": (("MLP",), "MLP + SGD"),
        "training_spiral": (("MLP",), "MLP + SGD"),
        "training_mnist": (("MLP",), "MLP + SGD"),
        "batchnorm": (("BatchNorm1d", "BatchNorm"), "batch normalisation layer"),
        "dropout": (("Dropout",), "dropout layer"),
        "conv2d": (("Conv2D", "Conv2d"), "not part of this style"),
    }

    def make_loss(self, kind):
        if kind == "cross_entropy":
            name, cls = need(self.namespace, "cross-entropy loss", "CrossEntropyLoss", "CrossEntropy")
            obj = construct(cls)
            conventions = {"input": "probs", "targets": "int",
                           **probe_ce_grad(obj.forward, obj.backward, wants_onehot=False)}
            return ObjLoss(obj, kind, name, conventions)
        if kind == "mse":
            return self._mse_loss()
        raise Missing(f"the attr_grads style has no {kind} loss")

    def make_pipeline(self, sizes, hidden="relu", task="classification"):
        if task != "classification":
            raise Missing("MLP always ends in Softmax, so this style cannot build a regression model")
        name, MLP = need(self.namespace, "whole model", "MLP")
        _, SGD = need(self.namespace, "SGD optimizer", "SGD")
        model = construct(MLP, list(sizes))
        if hidden != "relu":
            if not hasattr(model, "activations"):
                raise Missing(f"MLP has no activations list to swap ReLU for {hidden}")
            model.activations = [self._activation(hidden) for _ in model.activations]
        loss = self.make_loss("cross_entropy")
        slots, layout = self._slots(model.layers, sizes)

        def step(lr):
            SGD(**hyper_kwargs(SGD, lr=lr)).step(model)

        conventions = {"output": "probs", "loss": loss.student_name, "weight_layout": layout, **loss.conventions}
        return SlotPipeline(model, slots, loss, step, conventions, f"{name} layer")

    def make_optimizer(self, kind, **hyper):
        lr = hyper.get("lr", 0.1)
        if kind == "sgd":
            name, cls = need(self.namespace, "SGD optimizer", "SGD")
            kw = hyper_kwargs(cls, lr=lr)
        elif kind == "momentum":
            hit = find(self.namespace, "SGDMomentum", "Momentum")
            if hit is None and (find(self.namespace, "SGD") and pick_arg(self.namespace["SGD"], "momentum", "beta", "mu")):
                hit = ("SGD", self.namespace["SGD"])
            if hit is None:
                raise Missing("no SGD with momentum (looked for SGD(..., momentum=), SGDMomentum, Momentum)")
            name, cls = hit
            kw = hyper_kwargs(cls, lr=lr, momentum=hyper.get("momentum", 0.9))
        elif kind == "adam":
            name, cls = need(self.namespace, "Adam optimizer", "Adam")
            kw = hyper_kwargs(cls, lr=lr, betas=hyper.get("betas"), eps=hyper.get("eps"))
        else:
            raise Missing(f"the attr_grads style has no {kind} optimizer")

        def make_state(P, G):
            state = _StandInModel(P, G)
            state.opt = construct(cls, **kw)
            return state

        return HolderOptimizer(name, kind, make_state, lambda s: s.opt.step(s), lambda s: s.read(),
                               {"api": f"{name}.step(model)"})

    def gradient_checker(self):
        name, check = need(self.namespace, "gradient-checking function", "check_gradients",
                           "gradient_check", "numerical_gradient_check")
        _, Linear = need(self.namespace, "Linear layer", "Linear")

        def scaled(dx, obj):  # the planted bug for dW/db attributes
            obj.dW, obj.db = obj.dW * 1.5, obj.db * 1.5
            return dx * 1.5

        return layer_checker(check, Linear, scaled)

    def init_weights(self, kind, fan_in, fan_out, seed):
        _, Linear = need(self.namespace, "Linear layer", "Linear")
        if not pick_arg(Linear, "init"):
            raise Missing("Linear takes no init= argument, so no choice of initialiser")
        layer = construct(Linear, fan_in, fan_out, init=kind, seed=seed)
        return f64(layer.W).T if np.shape(layer.W) == (fan_in, fan_out) else f64(layer.W)
