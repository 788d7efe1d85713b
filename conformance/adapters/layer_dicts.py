"""Style ``layer_dicts`` (assignment 000): a ``Layer`` base with ``params``/``grads`` dicts, W
(out, in), a fused ``SoftmaxCrossEntropy.forward(logits, labels)`` whose ``backward()`` takes no
argument, ``Sequential``, ``SGD(lr, momentum).step(params_list, grads_list)`` with EMA momentum
(v = beta v + (1 - beta) g), and ``numerical_gradient_check(layer, x, grad_output, epsilon)``."""
from __future__ import annotations

from conformance.adapters._common import (
    ACTIVATION_NAMES, DictState, HolderOptimizer, ObjLoss, SlotPipeline, TableAdapter, construct,
    hyper_kwargs, layer_checker, need,
)
from conformance.adapters.base import Missing


class LayerDictsAdapter(TableAdapter):
    LAYER_NAMES = {
        "linear": ("Linear",), **ACTIVATION_NAMES, "flatten": ("Flatten",),
        "batchnorm": ("BatchNorm", "BatchNorm1d"), "dropout": ("Dropout",),
        "conv2d": ("Conv2D", "Conv2d", "Conv"), "maxpool2d": ("MaxPool2D", "MaxPool2d", "MaxPool"),
    }
    INVENTORY = {
        "linear": (("Linear",), "Linear(input_dim, output_dim), params['W'] (out, in)"),
        "relu": (ACTIVATION_NAMES["relu"], "Layer with forward/backward"),
        "sigmoid": (ACTIVATION_NAMES["sigmoid"], "Layer with forward/backward"),
        "tanh": (ACTIVATION_NAMES["tanh"], "Layer with forward/backward"),
        "softmax": (ACTIVATION_NAMES["softmax"], "standalone softmax layer"),
        "cross_entropy": (("SoftmaxCrossEntropy",), "fused SoftmaxCrossEntropy.forward(logits, labels), backward()"),
        "mse": (("MSELoss", "MSE"), "MSELoss.forward(pred, target)"),
        "model_gradcheck": (("Sequential",), "Sequential + SoftmaxCrossEntropy, grads from layer.grads"),
        "sgd": (("SGD",), "SGD(lr, momentum=0).step(params, grads)"),
        "momentum": (("SGD",), "SGD(lr, momentum).step(params, grads), EMA form"),
        "adam": (("Adam",), "Adam(...).step(params, grads)"),
        "gradient_checker": (("numerical_gradient_check",), "numerical_gradient_check(layer, x, grad_output, epsilon)"),
        "init": (("Linear",), "Linear initialises Xavier-uniform"),
        "appendix_a": (("OneHiddenLayerMLP",), "single-sample MLP of Appendix A"),
        "training_xor": (("Sequential",), "Sequential + SGD"),
        "training_spiral": (("Sequential",), "Sequential + SGD"),
        "training_mnist": (("Sequential",), "Sequential + SGD"),
        "batchnorm": (("BatchNorm", "BatchNorm1d"), "BatchNorm(Layer) with gamma/beta, training flag"),
        "dropout": (("Dropout",), "Dropout(Layer)"),
        "conv2d": (("Conv2D", "Conv2d", "Conv"), "convolution Layer"),
    }

    def make_loss(self, kind):
        if kind == "cross_entropy":
            name, cls = need(self.namespace, "cross-entropy loss", "SoftmaxCrossEntropy")
            return ObjLoss(construct(cls), kind, name, {"input": "logits", "targets": "int", "grad_wrt": "logits"})
        if kind == "mse":
            return self._mse_loss()
        raise Missing(f"the layer_dicts style has no {kind} loss")

    def make_pipeline(self, sizes, hidden="relu", task="classification"):
        seq_name, Sequential = need(self.namespace, "Sequential container", "Sequential")
        _, Linear = need(self.namespace, "Linear layer", "Linear")
        _, SGD = need(self.namespace, "SGD optimizer", "SGD")
        loss = self.make_loss("cross_entropy" if task == "classification" else "mse")
        model, linears = self._stack(Sequential, Linear, sizes, hidden)
        slots, layout = self._slots(linears, sizes)

        def step(lr):
            params, grads = model.get_params_and_grads()
            SGD(**hyper_kwargs(SGD, lr=lr, momentum=0.0)).step(params, grads)

        conventions = {"output": "logits", "loss": loss.student_name, "weight_layout": layout, **loss.conventions}
        return SlotPipeline(model, slots, loss, step, conventions, f"{seq_name} layer")

    def make_optimizer(self, kind, **hyper):
        names = {"sgd": ("SGD",), "momentum": ("SGD",), "adam": ("Adam",)}.get(kind)
        if names is None:
            raise Missing(f"the layer_dicts style has no {kind} optimizer")
        name, cls = need(self.namespace, f"{kind} optimizer", *names)
        momentum = {"sgd": 0.0, "momentum": hyper.get("momentum", 0.9)}.get(kind)
        kw = hyper_kwargs(cls, lr=hyper.get("lr", 0.1), momentum=momentum,
                          betas=hyper.get("betas") if kind == "adam" else None,
                          eps=hyper.get("eps") if kind == "adam" else None)
        conventions = {"momentum_form": "ema"} if kind == "momentum" else {}

        def make_state(P, G):
            state = DictState(P, G)
            state.opt = construct(cls, **kw)
            return state

        return HolderOptimizer(name, kind, make_state, lambda s: s.opt.step([s.params], [s.grads]),
                               lambda s: s.params, conventions)

    def gradient_checker(self):
        name, check = need(self.namespace, "gradient-checking function", "numerical_gradient_check",
                           "gradient_check", "check_gradients")
        _, Linear = need(self.namespace, "Linear layer", "Linear")
        return layer_checker(check, Linear)

    def init_weights(self, kind, fan_in, fan_out, seed):
        if kind != "xavier":
            raise Missing(f"the layer_dicts style's Linear only initialises Xavier-uniform, not {kind}")
        layer = self.make_layer("linear", in_features=fan_in, out_features=fan_out, seed=seed)
        return layer.get_params()["W"]
