"""Style ``single_sample`` (assignment 004): ``OneHiddenLayerMLP(input_dim, hidden_dim,
activation)`` working on ONE sample: ``forward(x) -> f`` (a number), ``backward(x, y, f) ->
{"dL_dW1": ..., ...}`` for L = (f - y)^2 / 2, ``get_parameters()``/``set_parameters(dict)`` with
W1 (h, d), b1 (h,), W2 (1, h), b2 (1,); activations with ``forward(z)`` and ``derivative(z)``;
``SGD(learning_rate)``; ``check_all_gradients(model, x, y, epsilon, threshold) -> dict``.

A batch is the mean over samples of the per-sample losses and gradients (the adapter loops);
the loss value is (f - y)^2 / 2 computed from the model's own output."""
from __future__ import annotations

import numpy as np

from conformance.adapters._common import (
    construct, f64, find, interpret_check, need, params_of, quiet,
)
from conformance.adapters.initclaims import is_random
from conformance.adapters.standins import one_sample_stand_in, step_default, step_kwargs
from conformance.adapters.style import StyleAdapter
from conformance.adapters.base import Missing, OptimizerHandle, PipelineHandle

KEYS = ("W1", "b1", "W2", "b2")


def _grad_prefix(grads: dict) -> str:
    key = next((k for k in grads if k.endswith("W1")), None)
    if key is None:
        raise Missing(f"backward returned no gradient for W1 (keys: {', '.join(map(str, grads))})")
    return key[: -len("W1")]


def _run_sgd(opt, model, grads) -> None:
    """Drive a student SGD whatever its method: step/update(model, grads) or (params, grads)."""
    fn = next((getattr(opt, m) for m in ("step", "update", "apply") if callable(getattr(opt, m, None))), None)
    if fn is None:
        raise Missing(f"{type(opt).__name__} has no step/update method")
    first = next(iter(params_of(fn)), "")
    if any(word in first for word in ("model", "net", "mlp")):
        result = fn(model, grads)
        if isinstance(result, dict):
            model.set_parameters(result)
        return
    params = model.get_parameters()
    result = fn(params, grads)
    model.set_parameters(result if isinstance(result, dict) else params)


class _Canon:
    """Converts the student's parameter shapes to the canonical ones and back."""

    def __init__(self, model, input_dim, hidden_dim):
        self.shapes = {k: np.shape(v) for k, v in model.get_parameters().items() if k in KEYS}
        self.w1_transposed = self.shapes.get("W1") == (input_dim, hidden_dim) and input_dim != hidden_dim
        self.canon = {"W1": (hidden_dim, input_dim), "b1": (hidden_dim,), "W2": (1, hidden_dim), "b2": (1,)}

    def out(self, key, value):
        value = f64(value)
        if key == "W1" and self.w1_transposed:
            value = value.T
        return value.reshape(self.canon[key])

    def into(self, key, value):
        value = f64(value)
        if key == "W1" and self.w1_transposed:
            value = value.T
        return value.reshape(self.shapes[key])


class SingleSamplePipeline(PipelineHandle):
    def __init__(self, adapter, model, name, input_dim, hidden_dim, binary=False):
        self.adapter, self.model, self.who, self.binary = adapter, model, name, binary
        self.canon = _Canon(model, input_dim, hidden_dim)
        self.conventions = {"output": "[1 - f, f] for two classes" if binary else "pred",
                            "loss": "(f - y)^2 / 2 from the model output",
                            "batch": "mean over samples of per-sample losses and gradients",
                            "weight_layout": "in_out" if self.canon.w1_transposed else "out_in"}
        self._last_grads = None

    def get_params(self):
        with quiet():
            return {k: self.canon.out(k, v) for k, v in self.model.get_parameters().items() if k in KEYS}

    def set_params(self, params):
        with quiet():
            current = dict(self.model.get_parameters())
            current.update({k: self.canon.into(k, v) for k, v in params.items() if k in KEYS})
            self.model.set_parameters(current)

    def _outputs(self, x):
        with quiet():
            return np.array([float(np.squeeze(self.model.forward(f64(row)))) for row in np.atleast_2d(x)])

    def predict(self, x):
        f = self._outputs(x)[:, None]
        return np.hstack([1 - f, f]) if self.binary else f

    def loss(self, x, labels):
        f = self._outputs(x)
        y = f64(labels).reshape(len(f))
        return float(np.mean(0.5 * (f - y) ** 2))

    def loss_and_grads(self, x, labels):
        x = np.atleast_2d(f64(x))
        y = f64(labels).reshape(len(x))
        total, losses = None, []
        with quiet():
            for row, target in zip(x, y):
                f = self.model.forward(row.copy())
                losses.append(0.5 * (float(np.squeeze(f)) - target) ** 2)
                g = self.model.backward(row.copy(), float(target), f)
                total = {k: f64(v) for k, v in g.items()} if total is None else {k: total[k] + f64(g[k]) for k in total}
        mean = {k: v / len(x) for k, v in total.items()}
        self._last_grads = mean
        prefix = _grad_prefix(mean)
        return float(np.mean(losses)), {k: self.canon.out(k, mean[prefix + k]) for k in KEYS if prefix + k in mean}

    def sgd_step(self, lr):
        if self._last_grads is None:
            raise Missing("sgd_step needs a loss_and_grads call first (the student's SGD takes the gradients)")
        name, SGD = need(self.adapter.namespace, "SGD optimizer", "SGD")
        with quiet():
            _run_sgd(construct(SGD, lr), self.model, self._last_grads)


class _ParamModel:
    """Stand-in model for the optimizer handle: get_parameters()/set_parameters(dict)."""

    def __init__(self, params):
        self.params = params

    def get_parameters(self):
        return self.params

    def set_parameters(self, new):
        for k, v in new.items():
            self.params[k] = f64(v)


class SingleSampleOptimizer(OptimizerHandle):
    def __init__(self, name, kind, opt, prefix):
        self.student_name, self.kind, self.opt, self.prefix = name, kind, opt, prefix
        self.conventions = {"api": f"{name}.step/update(model or params, grads)", "grad_keys": prefix + "<name>"}

    def step(self, params, grads):
        model = _ParamModel({k: f64(v) for k, v in params.items()})
        with quiet():
            _run_sgd(self.opt, model, {self.prefix + k: f64(g) for k, g in grads.items()})
        for k, v in model.params.items():
            params[k][...] = np.reshape(v, np.shape(params[k]))


class SingleSampleAdapter(StyleAdapter.for_style("single_sample")):
    """Behaviour that differs from every other style: one sample at a time, a scalar output, the
    squared error inside ``backward(x, y, f)``; the tables are data (``styles.toml``)."""

    def _model(self, input_dim, hidden_dim, activation="relu", seed=0):
        name, cls = need(self.namespace, "single-sample one-hidden-layer MLP", "OneHiddenLayerMLP")
        return name, construct(cls, input_dim, hidden_dim, activation, seed=seed)

    def make_loss(self, kind):
        raise Missing(f"the single_sample style has no {kind} loss object: its squared error lives inside "
                      "OneHiddenLayerMLP.backward")

    def make_pipeline(self, sizes, hidden="relu", task="classification"):
        """sizes [d, h, 1]; for classification also [d, h, 2] (two classes): the scalar output
        is fitted to the 0/1 label with (f - y)^2 / 2, as assignment 004 trains XOR, and
        ``predict`` returns the two columns [1 - f, f], so that argmax means f > 0.5."""
        binary = task == "classification" and len(sizes) == 3 and sizes[-1] == 2
        if len(sizes) != 3 or (sizes[-1] != 1 and not binary):
            raise Missing(f"OneHiddenLayerMLP has one hidden layer and one output, not sizes {list(sizes)}")
        name, model = self._model(sizes[0], sizes[1], hidden)
        return SingleSamplePipeline(self, model, name, sizes[0], sizes[1], binary=binary)

    def _grad_prefix(self):
        _, model = self._model(3, 2)
        with quiet():
            x = np.array([0.5, -0.3, 0.8])
            return _grad_prefix(model.backward(x, 1.0, model.forward(x)))

    def make_optimizer(self, kind, **hyper):
        if kind != "sgd":
            hit = find(self.namespace, {"momentum": "SGDMomentum", "adam": "Adam"}.get(kind, "?"))
            if hit is None:
                raise Missing(f"the single_sample style has no {kind} optimizer")
        name, cls = need(self.namespace, f"{kind} optimizer", {"sgd": "SGD", "momentum": "SGDMomentum", "adam": "Adam"}[kind])
        return SingleSampleOptimizer(name, kind, construct(cls, hyper.get("lr", 0.1)), self._grad_prefix())

    def gradient_checker(self):
        """The student's checker, at its own defaults, on an OneHiddenLayerMLP with the kit's maths
        (``standins.one_sample_stand_in``): its parameters under the student's keys, where and in
        the shapes the student keeps them, its gradients under the student's names."""
        name, check = need(self.namespace, "gradient-checking function", "check_all_gradients", "check_gradients")
        _, cls = need(self.namespace, "single-sample one-hidden-layer MLP", "OneHiddenLayerMLP")
        api = self._one_sample_api(cls, 3, 4)

        def run(planted_bug, seed: int, nonlinear: bool = False, step_factor: float = 1.0):
            rng = np.random.default_rng(seed)
            try:
                model = self._model(3, 4, "tanh" if nonlinear else "relu", seed=seed)[1]
            except Exception:  # the student's constructor fails: the kit's arrays need none of it
                model = object.__new__(cls)
            if api["where"] == "params" and not isinstance(getattr(model, "params", None), dict):
                model.params = {}
            one_sample_stand_in(model, "tanh" if nonlinear else "identity", planted_bug, seed, **api)
            x, y = rng.normal(size=3), float(rng.normal())
            with quiet():
                return interpret_check(check(model, x, y, **step_kwargs(check, step_factor)))

        run.step = step_default(check)
        return run

    def _one_sample_api(self, cls, d, h) -> dict:
        """How the student's model names, keeps and shapes its parameters and gradients, read from
        one model it builds; the assignment's names where its code cannot tell."""
        api = {"keys": {k: k for k in KEYS}, "where": "attr", "shapes": {"W1": (h, d)}, "prefix": "dL_d",
               "copies": True}
        try:
            with quiet():
                model = self._model(d, h, "relu")[1]
                params = model.get_parameters()
                api["keys"] = {k: next(p for p in params if p == k or str(p).endswith(k)) for k in KEYS}
                for k, key in api["keys"].items():
                    api["shapes"][k + "_stored"] = np.shape(params[key])
                held = getattr(model, "params", None)
                if isinstance(held, dict) and all(key in held for key in api["keys"].values()):
                    api["where"] = "params"
                    api["copies"] = params[api["keys"]["W1"]] is not held[api["keys"]["W1"]]
                else:
                    api["copies"] = params[api["keys"]["W1"]] is not getattr(model, api["keys"]["W1"], None)
                x = np.linspace(-0.5, 0.5, d)
                api["prefix"] = _grad_prefix(model.backward(x, 1.0, model.forward(x)))
        except Exception:  # a broken model: the stand-in keeps the assignment's names for what is unread
            pass
        return api

    def init_weights(self, kind, fan_in, fan_out, seed):
        return self.init_draw(kind, fan_in, fan_out, seed)[0]

    def init_draw(self, kind, fan_in, fan_out, seed):
        """W1 of the model built with the activation each initialiser is for (styles.toml:
        init.by_activation): its activation argument is the claim."""
        activation = self.DATA.get("init", {}).get("by_activation", {}).get(kind)
        if activation is None:
            raise Missing(f"the single_sample style has no {kind} initialiser")
        name, model = self._model(fan_in, fan_out, activation, seed=seed)
        with quiet():
            W1 = f64(model.get_parameters()["W1"])
        if not is_random(W1):
            raise Missing(f"{name}'s constructor does not initialise W1 randomly")
        W1 = W1.T if W1.shape == (fan_in, fan_out) and fan_in != fan_out else W1
        return W1, f"W1 of {name}(activation={activation!r}), the initialiser {activation} calls for"

    def single_sample_model(self, input_dim, hidden_dim, activation):
        return self._model(input_dim, hidden_dim, activation)[1]
