"""Networks that hold their own parameter arrays and hand back gradients, found by behaviour.

Two shapes of real code have no layer objects for a container to hold:

* a **params-dict model** (the CS231n ``TwoLayerNet``): ``Net(input_size, hidden_size, output_size)``
  keeps ``self.params = {"W1": ..., "b1": ...}`` and ``loss(X, y) -> (loss, grads)`` returns the
  loss and a dict of gradients with the same keys (``loss(X)`` alone returns the scores);
* a **weight-list network** (the online book's ``Network(sizes)``): ``self.weights`` and
  ``self.biases`` lists, samples as columns, ``backprop(x, y) -> (nabla_b, nabla_w)`` for one sample.

A class is such a model when, built for 5-7-4, it holds one weight array per layer of those sizes
(either layout) and a bias of each layer's width, a method taking (X, y) returns arrays shaped like
every parameter, and a forward-like method maps the batch to 4 outputs. Gradients are matched to
parameters by dict key when the student returns a dict, else by shape, layer by layer.

The loss value is the one the student's method returns with the gradients. A weight-list network
returns none: the kit then evaluates the discovered loss on the network's output, per sample and
summed over the batch (the book's cost), and says so; the scale of such a gradient cannot be
judged, since no loss value was claimed for it.
"""
from __future__ import annotations

import inspect

import numpy as np

from conformance.adapters.base import LossHandle, Missing, PipelineHandle
from conformance.adapters.discovery.objects import (
    StudentRaised, attempt, describe, get, parameters, put, required, scan, words,
)

SIZES, BATCH = (5, 7, 4), 6
GRAD_WORDS = {"loss", "backprop", "backward", "gradient", "gradients", "grad", "grads", "compute", "cost"}
FORWARD_NAMES = ("predict_scores", "forward", "feedforward", "feed_forward", "scores", "loss", "predict", "__call__",
                 "forward_pass", "forward_propagation", "fprop", "infer", "run")


class GradModel:
    """How a self-holding model class was built, read and driven (found once at 5-7-4)."""

    def __init__(self, name, cls, build_text, make, grad_method, forward, samples, targets, returns_loss,
                 params_text):
        self.name, self.cls, self.build_text, self.make = name, cls, build_text, make
        self.grad_method, self.forward, self.samples, self.targets = grad_method, forward, samples, targets
        self.returns_loss, self.params_text = returns_loss, params_text

    def describe(self) -> str:
        one = "one sample at a time as a column (the kit loops and sums)" if self.samples == "column" else "the whole batch"
        loss = "the loss it returns with them" if self.returns_loss else "no loss value (the kit evaluates your loss on its output)"
        return (f"{self.name}: built as {self.build_text}, parameters {self.params_text}; "
                f"{self.name}.{self.grad_method}(X, y) returns the gradients on {one}, and {loss}")


def _builds(cls, sizes):
    need = required(cls)
    out = []
    if len(need) == 1:
        out.append((f"{cls.__name__}({list(sizes)})", lambda s: cls(list(s))))
    if len(need) == len(sizes):
        out.append((f"{cls.__name__}{tuple(sizes)}", lambda s: cls(*s)))
    return out


def _layout(arrays: dict, sizes) -> list[dict] | None:
    """Per layer: {"W": path, "W_layout": "out_in"|"in_out", "b": path, "b_shape": shape}; None
    when the arrays do not hold exactly one weight and bias per layer of ``sizes``."""
    used, layers = set(), []
    for a, b in zip(sizes, sizes[1:]):
        layer = {}
        for path, arr in arrays.items():
            if path in used:
                continue
            if "W" not in layer and arr.shape in ((b, a), (a, b)):
                layer.update(W=path, W_layout="out_in" if arr.shape == (b, a) else "in_out")
                used.add(path)
            elif "b" not in layer and arr.shape in ((b,), (b, 1), (1, b)):
                layer.update(b=path, b_shape=arr.shape)
                used.add(path)
        if "W" not in layer or "b" not in layer:
            return None
        layers.append(layer)
    return layers


def _inputs(samples: str, targets: str, x, labels, n_out):
    onehot = np.eye(n_out)[labels]
    if samples == "rows":
        return x.copy(), (labels.copy() if targets == "int" else onehot)
    return [(x[i:i + 1].T.copy(), labels[i] if targets == "int" else onehot[i:i + 1].T.copy()) for i in range(len(x))]


def _grads_from(result, model, layers):
    """{("W"|"b", k): array} read from what the gradient method returned (and the loss, if any)."""
    loss = None
    arrays: list = []
    dicts: list[dict] = []

    def walk(v):
        nonlocal loss
        if isinstance(v, dict):
            dicts.append(v)
        elif isinstance(v, np.ndarray) and v.ndim >= 1 and v.size > 1:
            arrays.append(v)
        elif isinstance(v, (float, int, np.floating)) or (isinstance(v, np.ndarray) and v.size == 1):
            if loss is None:
                loss = float(np.asarray(v).ravel()[0])
        elif isinstance(v, (list, tuple)):
            for item in v:
                walk(item)

    walk(result)
    out = {}
    for d in dicts:  # gradients keyed like the parameters (grads["W1"] for params["W1"])
        for k, layer in enumerate(layers):
            for name in ("W", "b"):
                key = layer[name][-1][1]
                if key in d and isinstance(d[key], np.ndarray):
                    out[(name, k)] = np.asarray(d[key], dtype=float)
    if len(out) == 2 * len(layers):
        return out, loss
    pool = list(arrays) + [v for d in dicts for v in d.values() if isinstance(v, np.ndarray)]
    out, taken = {}, set()
    for k, layer in enumerate(layers):
        for name in ("W", "b"):
            shape = np.shape(get(model, layer[name]))
            hit = next((i for i, a in enumerate(pool) if i not in taken and a.shape == shape), None)
            if hit is None and name == "b":
                hit = next((i for i, a in enumerate(pool) if i not in taken and a.size == int(np.prod(shape))
                            and a.ndim <= 2 and min(a.shape + (1,)) == 1), None)
            if hit is None:
                return None, loss
            taken.add(hit)
            out[(name, k)] = np.asarray(pool[hit], dtype=float)
    return out, loss


def _takes_x_y(fn) -> bool:
    """fn(X, y) callable with two positional arguments (``y=None`` included, as in loss(X, y=None))."""
    return len(required(fn)) <= 2 and len([p for p in parameters(fn) if p.kind in (p.POSITIONAL_ONLY,
                                                                                  p.POSITIONAL_OR_KEYWORD)]) >= 2


def find_gradmodel(defs, losses, taken=()) -> tuple[GradModel | None, list[str]]:
    rejected = []
    sizes = list(SIZES)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((BATCH, sizes[0]))
    labels = np.arange(BATCH) % sizes[-1]
    for name, cls in defs:
        if not inspect.isclass(cls) or cls in taken:
            continue
        grad_methods = [m for m in dir(cls) if not m.startswith("_") and callable(getattr(cls, m, None))
                        and _takes_x_y(getattr(cls, m)) and words(m) & GRAD_WORDS]
        builds = _builds(cls, sizes)
        if not grad_methods or not builds:
            continue
        why = "its arrays are not one weight and one bias per layer of 5-7-4"
        for text, make in builds:
            try:
                model = attempt(make, sizes)
            except StudentRaised as exc:
                why = f"{text} raised {exc}"
                continue
            layers = _layout(scan(model, depth=3), sizes)
            if layers is None:
                continue
            found = _drive(name, cls, text, make, model, layers, grad_methods, x, labels, sizes)
            if isinstance(found, GradModel):
                return found, rejected
            why = found
        rejected.append(f"{name} ({why})")
    return None, rejected


def _drive(name, cls, text, make, model, layers, grad_methods, x, labels, sizes):
    why = f"no method of it taking (X, y) returned gradients shaped like its parameters (tried {', '.join(grad_methods)})"
    for method in sorted(grad_methods, key=lambda m: m not in ("loss", "backprop")):
        for samples in ("rows", "column"):
            for targets in (("int", "onehot") if samples == "rows" else ("onehot", "int")):
                data = _inputs(samples, targets, x, labels, sizes[-1])
                try:
                    if samples == "rows":
                        result = attempt(getattr(model, method), *data)
                    else:
                        result = attempt(getattr(model, method), *data[0])
                except StudentRaised:
                    continue
                grads, loss = _grads_from(result, model, layers)
                if grads is None:
                    continue
                forward = _forward(model, samples, x, sizes[-1])
                if forward is None:
                    why = f"{method}(X, y) returns gradients, but no method maps X to {sizes[-1]} outputs"
                    continue
                text_params = ", ".join(f"{describe(l['W'])}/{describe(l['b'])}" for l in layers)
                return GradModel(name, cls, text.replace(str(list(SIZES)), "sizes").replace(str(tuple(SIZES)), "(n_in, n_hidden, n_out)"),
                                 make, method, forward, samples, targets, loss is not None, text_params)
    return why


def _forward(model, samples, x, n_out):
    for method in FORWARD_NAMES:
        fn = getattr(model, method, None)
        if not callable(fn) or len(required(fn)) != 1:
            continue
        try:
            if samples == "rows":
                out = attempt(fn, x.copy())
                if isinstance(out, np.ndarray) and out.shape == (len(x), n_out):
                    return method
            else:
                out = attempt(fn, x[:1].T.copy())
                if isinstance(out, np.ndarray) and out.shape == (n_out, 1):
                    return method
        except StudentRaised:
            continue
    return None


class GradModelPipeline(PipelineHandle):
    """A self-holding model at the kit's sizes: parameters read and written where discovery found
    them (the kit's layout in and out), gradients from the student's own gradient method."""

    def __init__(self, found: GradModel, sizes, loss: LossHandle | None):
        self.found, self.sizes, self.loss_handle = found, list(sizes), loss
        self.model = attempt(found.make, list(sizes))
        self.layers = _layout(scan(self.model, depth=3), self.sizes)
        if self.layers is None:
            raise Missing(f"{found.name} built for sizes {self.sizes} does not hold one weight and bias per layer of "
                          "those sizes: its sizes may be fixed in the code; pin it with --map")
        if not found.returns_loss and loss is None:
            raise Missing(f"{found.name}.{found.grad_method} returns no loss value and no loss function was found "
                          "to evaluate its output with; pin one with --map")
        self.optimizer, self._grads, self._opt, self._opt_lr = None, None, None, None
        self.conventions = {"built": f"your network {found.describe()}", "update": "the kit's plain SGD on your gradients",
                            "output": "scores"}
        if not found.returns_loss:
            self.conventions["loss"] = (f"{loss.student_name} on each sample's output, summed over the batch (your "
                                        f"{found.grad_method} returns no loss value, so its scale is not judged)")

    def _key(self, name, k):
        return f"{2 * k}.{name}"

    def get_params(self):
        out = {}
        for k, layer in enumerate(self.layers):
            W = np.array(get(self.model, layer["W"]), dtype=float)
            out[self._key("W", k)] = W.T.copy() if layer["W_layout"] == "in_out" else W
            out[self._key("b", k)] = np.array(get(self.model, layer["b"]), dtype=float).reshape(-1)
        return out

    def set_params(self, params):
        for k, layer in enumerate(self.layers):
            if self._key("W", k) in params:
                W = np.asarray(params[self._key("W", k)], dtype=float)
                put(self.model, layer["W"], W.T if layer["W_layout"] == "in_out" else W)
            if self._key("b", k) in params:
                put(self.model, layer["b"], np.asarray(params[self._key("b", k)], dtype=float))

    def predict(self, x):
        x = np.array(x, dtype=float)
        fn = getattr(self.model, self.found.forward)
        if self.found.samples == "rows":
            return np.asarray(fn(x), dtype=float)
        return np.concatenate([np.asarray(fn(x[i:i + 1].T.copy()), dtype=float).T for i in range(len(x))], axis=0)

    def _value(self, x, labels):
        if self.found.samples == "rows":
            return float(self.loss_handle.forward(self.predict(x), labels))
        return float(sum(self.loss_handle.forward(self.predict(x[i:i + 1]), labels[i:i + 1]) for i in range(len(x))))

    def loss(self, x, labels):
        labels = np.asarray(labels, dtype=int)
        if self.found.returns_loss:
            return self._run(np.asarray(x, dtype=float), labels)[1]
        return self._value(np.asarray(x, dtype=float), labels) * (self._factor or 1.0)

    def _run(self, x, labels):
        fn = getattr(self.model, self.found.grad_method)
        n_out = self.sizes[-1]
        data = _inputs(self.found.samples, self.found.targets, x, labels, n_out)
        if self.found.samples == "rows":
            grads, loss = _grads_from(fn(*data), self.model, self.layers)
            if grads is None:
                raise TypeError(f"{self.found.name}.{self.found.grad_method} returned no gradient for some parameter")
            return grads, loss
        total, loss_sum = None, 0.0
        for xi, yi in data:
            grads, loss = _grads_from(fn(xi, yi), self.model, self.layers)
            if grads is None:
                raise TypeError(f"{self.found.name}.{self.found.grad_method} returned no gradient for some parameter")
            total = grads if total is None else {k: total[k] + grads[k] for k in total}
            loss_sum += loss or 0.0
        return total, loss_sum

    NATURAL = (1.0, 2.0, 0.5)  # the factors a cost without a claimed value may carry (the book's 1/2)

    def _scale(self, x, labels, grads):
        """The factor between the gradient the network returns and the kit's evaluation of the loss:
        a network that claims no loss value has no scale to judge, only a direction."""
        self._factor = 1.0
        base = self.get_params()
        d = {k: np.random.default_rng(5).standard_normal(np.shape(v)) for k, v in base.items()}
        eps = 1e-6
        values = []
        for sign in (1, -1):
            self.set_params({k: base[k] + sign * eps * d[k] for k in base})
            values.append(self._value(x, labels))
        self.set_params(base)
        slope = (values[0] - values[1]) / (2 * eps)
        analytic = sum(float(np.sum(np.asarray(grads[k]).reshape(np.shape(d[k])) * d[k])) for k in d
                       if np.size(grads[k]) == np.size(d[k]))
        if abs(slope) < 1e-12:
            return
        n_out = self.sizes[-1]
        for f in sorted({a * b for a in self.NATURAL for b in (1.0, n_out, 1.0 / n_out, len(x), 1.0 / len(x))}):
            if np.isclose(analytic, f * slope, rtol=1e-4):
                self._factor = f
                if f != 1.0:
                    self.conventions["loss"] += f"; scaled by {f:g} to the gradient's own scale"
                return

    _factor = None

    def loss_and_grads(self, x, labels):
        x, labels = np.asarray(x, dtype=float), np.asarray(labels, dtype=int)
        raw, loss = self._run(x, labels)
        if not self.found.returns_loss:
            loss = self._value(x, labels)
        grads = {}
        for k, layer in enumerate(self.layers):
            W = raw[("W", k)]
            grads[self._key("W", k)] = W.T.copy() if layer["W_layout"] == "in_out" and W.ndim == 2 else W
            grads[self._key("b", k)] = raw[("b", k)].reshape(-1) if raw[("b", k)].size == self.sizes[k + 1] else raw[("b", k)]
        self._grads = grads
        if not self.found.returns_loss:
            if self._factor is None:
                self._scale(x, labels, grads)
            loss *= self._factor
        return float(loss), grads

    def sgd_step(self, lr):
        params = self.get_params()
        if self.optimizer is not None:
            if self._opt_lr != float(lr):
                self._opt, self._opt_lr = self.optimizer(float(lr)), float(lr)
            self._opt.step(params, {k: np.array(v, dtype=float) for k, v in self._grads.items()})
        else:
            params = {k: v - float(lr) * self._grads[k] for k, v in params.items()}
        self.set_params(params)

    def use_optimizer(self, make, text: str):
        self.optimizer, self._opt, self._opt_lr = make, None, None
        self.conventions["update"] = text
