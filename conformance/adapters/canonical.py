"""The canonical style: the kit's reference API (ARCHITECTURE.md), also what students who
follow SPEC.md write. Parameters in ``params``/``grads`` dicts, W (out, in), ``rng=`` arguments."""
from __future__ import annotations

import numpy as np

from conformance.adapters._common import (
    ACTIVATION_NAMES, DictState, HolderOptimizer, ObjLoss, SlotPipeline, TableAdapter, construct, find,
    hyper_kwargs, layer_checker, need, pick_arg, quiet,
)
from conformance.adapters.base import Missing


class CanonicalAdapter(TableAdapter):
    LAYER_NAMES = {
        "linear": ("Linear",), **ACTIVATION_NAMES, "flatten": ("Flatten",),
        "batchnorm": ("BatchNorm1d", "BatchNorm"), "dropout": ("Dropout",),
        "conv2d": ("Conv2D", "Conv2d"), "maxpool2d": ("MaxPool2D", "MaxPool2d"),
    }
    INVENTORY = {
        "linear": (("Linear",), "Linear(in_features, out_features), W (out, in) in params"),
        "relu": (ACTIVATION_NAMES["relu"], "activation layer with forward/backward"),
        "sigmoid": (ACTIVATION_NAMES["sigmoid"], "activation layer with forward/backward"),
        "tanh": (ACTIVATION_NAMES["tanh"], "activation layer with forward/backward"),
        "softmax": (ACTIVATION_NAMES["softmax"], "activation layer with forward/backward"),
        "cross_entropy": (("SoftmaxCrossEntropy", "CrossEntropy"), "loss on logits (fused) or probabilities"),
        "mse": (("MSELoss",), "MSELoss.forward(pred, target), backward()"),
        "model_gradcheck": (("Sequential",), "Sequential of Linear/activations + the student's loss"),
        "sgd": (("SGD",), "SGD(parameters, lr).step()"),
        "momentum": (("SGD",), "SGD(parameters, lr, momentum=beta)"),
        "adam": (("Adam",), "Adam(parameters, lr, betas, eps).step()"),
        "gradient_checker": (("check_gradients",), "check_gradients(layer, x, dy)"),
        "init": (("he_normal", "he_uniform", "xavier_normal", "xavier_uniform"), "initialiser functions (fan_in, fan_out, rng)"),
        "appendix_a": (("OneHiddenLayerMLP",), "single-sample OneHiddenLayerMLP"),
        "training_xor": (("Sequential",), "Sequential + SGD"),
        "training_spiral": (("Sequential",), "Sequential + SGD"),
        "training_mnist": (("Sequential",), "Sequential + SGD"),
        "batchnorm": (("BatchNorm1d", "BatchNorm"), "gamma/beta in params, train()/eval()"),
        "dropout": (("Dropout",), "inverted dropout, identity in eval()"),
        "conv2d": (("Conv2D", "Conv2d"), "Conv2D NCHW, W (oc, ic, kh, kw)"),
    }

    def make_loss(self, kind):
        if kind == "cross_entropy":
            hit = find(self.namespace, "SoftmaxCrossEntropy")
            if hit:
                return ObjLoss(construct(hit[1]), kind, hit[0], {"input": "logits", "targets": "int", "grad_wrt": "logits"})
            kind = "cross_entropy_probs"
        if kind == "cross_entropy_probs":
            name, cls = need(self.namespace, "cross-entropy loss", "SoftmaxCrossEntropy", "CrossEntropy", "CrossEntropyLoss")
            return ObjLoss(construct(cls), "cross_entropy", name, {"input": "probs", "targets": "int", "grad_wrt": "probs"})
        if kind == "mse":
            return self._mse_loss()
        raise Missing(f"the canonical style has no {kind} loss")

    def make_pipeline(self, sizes, hidden="relu", task="classification"):
        seq_name, Sequential = need(self.namespace, "Sequential container", "Sequential")
        _, Linear = need(self.namespace, "Linear layer", "Linear")
        model, linears = self._stack(Sequential, Linear, sizes, hidden)
        loss = self.make_loss("cross_entropy" if task == "classification" else "mse")
        _, SGD = need(self.namespace, "SGD optimizer", "SGD")
        slots, layout = self._slots(linears, sizes)

        def step(lr):
            SGD(model.parameters(), **hyper_kwargs(SGD, lr=lr)).step()

        conventions = {"output": "logits", "loss": loss.student_name, "weight_layout": layout, **loss.conventions}
        return SlotPipeline(model, slots, loss, step, conventions, f"{seq_name} layer")

    def make_optimizer(self, kind, **hyper):
        names = {"sgd": ("SGD",), "momentum": ("SGD",), "adam": ("Adam",)}.get(kind)
        if names is None:
            raise Missing(f"the canonical style has no {kind} optimizer")
        name, cls = need(self.namespace, f"{kind} optimizer", *names)
        kw = hyper_kwargs(cls, lr=hyper.get("lr", 0.1),
                          momentum=hyper.get("momentum", 0.9) if kind == "momentum" else None,
                          betas=hyper.get("betas") if kind == "adam" else None,
                          eps=hyper.get("eps") if kind == "adam" else None)
        conventions = {}
        if kind == "momentum" and pick_arg(cls, "form"):
            kw["form"] = conventions["momentum_form"] = hyper.get("form", "classical")

        def make_state(P, G):
            state = DictState(P, G)
            state.opt = cls([(state.params, state.grads)], **kw)
            return state

        return HolderOptimizer(name, kind, make_state, lambda s: s.opt.step(), lambda s: s.params, conventions)

    def gradient_checker(self):
        name, check = need(self.namespace, "gradient-checking function", "check_gradients", "gradient_check")
        _, Linear = need(self.namespace, "Linear layer", "Linear")
        return layer_checker(check, Linear, in_features=4, batch=5)

    def init_weights(self, kind, fan_in, fan_out, seed):
        candidates = {"he": ("he_normal", "he_uniform"), "xavier": ("xavier_normal", "xavier_uniform")}.get(kind, (kind,))
        name, fn = need(self.namespace, f"{kind} initialiser", *candidates)
        with quiet():
            return np.asarray(fn(fan_in, fan_out, np.random.default_rng(seed)), dtype=float)
