"""Whole networks written on the student's own autograd engine, found by behaviour.

A model class of such a submission (``MLP([5, 7, 4])``, ``MLP(5, [7, 4])``, ``MLP(5, 7, 4)``) holds
its parameters as engine values; calling it on an engine value of the batch returns an engine
value of the outputs, and a loss function of the submission turns that and the labels into an
engine scalar whose ``backward()`` fills every parameter's gradient. The kit drives exactly that:
it resets each parameter's gradient (as a fresh value holds it), runs forward, loss and backward,
and reads the gradients; parameters are read and written through the values' data in the kit's
layout (W (out, in), b (out,)). A student's own training loop is never used.
"""
from __future__ import annotations

import inspect

import numpy as np

from conformance.adapters.base import Missing, PipelineHandle
from conformance.adapters.discovery.autograd import Engine, held
from conformance.adapters.discovery.gradmodels import _layout
from conformance.adapters.discovery.maths import softmax
from conformance.adapters.discovery.scalar import young_garbage
from conformance.adapters.discovery.objects import StudentRaised, attempt, describe, required, words

SIZES, BATCH = (5, 7, 4), 6
LOSS_WORDS = {"loss", "cross", "entropy", "nll", "ce", "softmax", "criterion", "mse", "cost"}


def _builds(cls):
    need = required(cls)
    out = []
    if len(need) == 1:
        out.append(("sizes", lambda s: cls(list(s))))
    if len(need) == 2:
        out.append(("n_in, [sizes...]", lambda s: cls(s[0], list(s[1:]))))
    if len(need) == 3:
        out.append(("n_in, n_hidden, n_out", lambda s: cls(*s)))
    return out


def _call(model):
    for name in ("__call__", "forward"):
        fn = getattr(model, name, None)
        if callable(fn) and len(required(fn)) == 1:
            return name
    return None


def _targets(eng: Engine, labels, n_out):
    onehot = np.eye(n_out)[labels]
    return [("int labels", labels.copy()), ("one-hot", onehot), (f"one-hot {eng.name}", eng.tensor(onehot))]


class EngineNet:
    def __init__(self, name, cls, build_text, make, call, loss_name, loss_fn, targets, layout_text, engine):
        self.name, self.cls, self.build_text, self.make, self.call = name, cls, build_text, make, call
        self.loss_name, self.loss_fn, self.targets, self.layout_text, self.engine = loss_name, loss_fn, targets, \
            layout_text, engine

    def pipeline(self, sizes, task="classification") -> "EngineNetPipeline":
        return (ScalarNetPipeline if getattr(self.engine, "scalar", False) else EngineNetPipeline)(self, sizes, task)

    def describe(self) -> str:
        if getattr(self.engine, "scalar", False):
            return (f"{self.name}: built as {self.cls.__name__}({self.build_text}) on your scalar engine "
                    f"{self.engine.name}, called on each sample as a list of {self.engine.name}s; parameters "
                    f"{self.layout_text} read from its lists of {self.engine.name}s; loss: the kit's softmax "
                    f"cross-entropy on the outputs' numbers, its gradient backpropagated as sum(y * dL/dy) through "
                    f"your engine by {self.engine.backward_name}()")
        return (f"{self.name}: built as {self.cls.__name__}({self.build_text}) on your engine {self.engine.name}, "
                f"parameters {self.layout_text}; loss {self.loss_name}(output, {self.targets}); gradients by "
                f"{self.engine.backward_name}() on the loss")


def find(eng: Engine | None, defs, taken=()) -> tuple[EngineNet | None, list[str]]:
    if eng is None or eng.grad_attr is None:
        return None, []
    if getattr(eng, "scalar", False):
        return find_scalar(eng, defs, taken)
    rejected = []
    rng = np.random.default_rng(13)
    x = rng.standard_normal((BATCH, SIZES[0]))
    labels = np.arange(BATCH) % SIZES[-1]
    functions = [(n, f) for n, f in defs if inspect.isfunction(f) and len(required(f)) == 2]
    functions.sort(key=lambda nf: not (words(nf[0]) & LOSS_WORDS))
    for name, cls, text, make, model, call, _values, layers in _built_at_sizes(eng, defs, taken):
        try:
            out = attempt(getattr(model, call), eng.tensor(x))
            out_data = eng.data(out)
        except (StudentRaised, TypeError):
            rejected.append(f"{name} (calling it on a {eng.name} of the batch raised or returned no {eng.name})")
            continue
        if out_data.shape != (BATCH, SIZES[-1]):
            rejected.append(f"{name} (its output has shape {out_data.shape}, not ({BATCH}, {SIZES[-1]}))")
            continue
        loss = _find_loss(eng, functions, out, out_data, labels)
        if loss is None:
            rejected.append(f"{name} (no function of the submission turns its output and the labels into a "
                            f"{eng.name} scalar)")
            continue
        loss_name, loss_fn, targets = loss
        layout = ", ".join(f"{describe(l['W'])}/{describe(l['b'])}" for l in layers)
        return EngineNet(name, cls, text, make, call, loss_name, loss_fn, targets, layout, eng), rejected
    return None, rejected


def _built_at_sizes(eng: Engine, defs, taken):
    """(name, cls, text, make, model, call, values, layers) for every way a class other than the
    engine builds a callable model at SIZES holding one weight and bias per layer in engine values."""
    for name, cls in defs:
        if not inspect.isclass(cls) or cls is eng.cls or cls in taken:
            continue
        for text, make in _builds(cls):
            try:
                model = attempt(make, SIZES)
            except StudentRaised:
                continue
            call = _call(model)
            if call is None:
                continue
            values = held(eng, model, depth=5)
            layers = _layout({p: eng.data(v) for p, v in values.items()}, SIZES)
            if layers is not None:
                yield name, cls, text, make, model, call, values, layers


def find_scalar(eng: Engine, defs, taken=()) -> tuple[EngineNet | None, list[str]]:
    """A network on a scalar engine: built at the kit's sizes, its W and b recovered from the lists
    of values it holds, called on each sample as a list. Its loss is the kit's cross-entropy."""
    rejected = []
    x = np.random.default_rng(13).standard_normal((BATCH, SIZES[0]))
    for name, cls, text, make, model, call, values, layers in _built_at_sizes(eng, defs, taken):
        try:
            out_data = eng.data(attempt(eng.call_rows, getattr(model, call), x))
        except (StudentRaised, TypeError):
            rejected.append(f"{name} (calling it on a list of {eng.name}s per sample raised or returned no "
                            f"{eng.name}s)")
            continue
        if out_data.shape != (BATCH, SIZES[-1]):
            rejected.append(f"{name} (its output per sample has {out_data.shape[1:]} values, not {SIZES[-1]})")
            continue
        wrong = attempt(_first_layer_moves, eng, model, call, values, layers[0])
        if wrong:
            rejected.append(f"{name} ({wrong})")
            continue
        layout = ", ".join(f"W {'(out, in)' if l['W_layout'] == 'out_in' else '(in, out)'}/b" for l in layers)
        return EngineNet(name, cls, text, make, call, "the kit's cross-entropy", None, "int labels", layout,
                         eng), rejected
    return None, rejected


def _first_layer_moves(eng: Engine, model, call, values, layer) -> str | None:
    """Which value moves which output, on the sample e_0: nudging W[j, 0] must move the outputs
    as nudging b[j] does (x_0 = 1), nudging W[j, 1] must move nothing (x_1 = 0). None when the
    first layer's W and b read from the lists behave so; else what did not."""
    W, b = values[layer["W"]], values[layer["b"]].reshape(-1)
    x = np.zeros((1, SIZES[0]))
    x[0, 0] = 1.0
    fn = getattr(model, call)
    base = eng.data(eng.call_rows(fn, x))

    def moved(cell):
        old = eng.data(cell)
        eng.write(cell, old + 0.5)
        try:
            return eng.data(eng.call_rows(fn, x)) - base
        finally:
            eng.write(cell, old)

    for j in range(min(3, len(b))):
        w0, w1 = (W[j, 0], W[j, 1]) if layer["W_layout"] == "out_in" else (W[0, j], W[1, j])
        by_b = moved(b[j])
        if not np.allclose(moved(w0), by_b, atol=1e-9) or np.any(np.abs(moved(w1)) > 1e-9):
            return (f"its first layer's lists of {eng.name}s read as W {describe(layer['W'])} and b "
                    f"{describe(layer['b'])} do not move the outputs as x W + b would")
    return None


def _find_loss(eng, functions, out, out_data, labels):
    """(name, fn, targets) of the submission's loss on engine outputs; cross-entropy-like first."""
    found = []
    onehot = np.eye(out_data.shape[1])[labels]
    ce = float(-np.mean(np.log(softmax(out_data)[np.arange(len(labels)), labels])))
    for name, fn in functions:
        for targets, y in _targets(eng, labels, out_data.shape[1]):
            try:
                value = attempt(fn, out, y)
                v = eng.data(value)
            except (StudentRaised, TypeError):
                continue
            if v.size != 1 or not np.isfinite(v).all():
                continue
            v = float(v.ravel()[0])
            mse = float(np.mean((out_data - onehot) ** 2))
            rank = 0 if np.isclose(v, ce, rtol=1e-4) or np.isclose(v, ce * len(labels), rtol=1e-4) else \
                1 if np.isclose(v, mse, rtol=1e-4) else 2
            found.append((rank, name, fn, targets))
            break
    if not found:
        return None
    rank, name, fn, targets = min(found, key=lambda f: f[0])
    return name, fn, targets


class EngineNetPipeline(PipelineHandle):
    """The student's engine model at the kit's sizes, trained and differentiated through its engine."""

    def __init__(self, net: EngineNet, sizes, task="classification"):
        self.net, self.eng, self.sizes = net, net.engine, list(sizes)
        self.model = attempt(net.make, self.sizes)
        values = held(self.eng, self.model, depth=5)
        self.layers = _layout({p: self.eng.data(v) for p, v in values.items()}, self.sizes)
        if self.layers is None:
            raise Missing(f"{net.name} built for sizes {self.sizes} does not hold one weight and bias per layer of "
                          "those sizes: its sizes may be fixed in the code")
        self.values = values
        self.optimizer, self._grads, self._opt, self._opt_lr = None, None, None, None
        self.conventions = {"built": f"your network {net.describe()}", "update": "the kit's plain SGD on your gradients",
                            "output": "logits"}

    def _value(self, path):
        return self.values[path]

    def get_params(self):
        out = {}
        for k, layer in enumerate(self.layers):
            W = self.eng.data(self._value(layer["W"]))
            out[f"{2 * k}.W"] = W.T.copy() if layer["W_layout"] == "in_out" else W.copy()
            out[f"{2 * k}.b"] = self.eng.data(self._value(layer["b"])).reshape(-1).copy()
        return out

    def set_params(self, params):
        for k, layer in enumerate(self.layers):
            if f"{2 * k}.W" in params:
                W = np.asarray(params[f"{2 * k}.W"], dtype=float)
                self.eng.write(self._value(layer["W"]), W.T if layer["W_layout"] == "in_out" else W)
            if f"{2 * k}.b" in params:
                self.eng.write(self._value(layer["b"]), params[f"{2 * k}.b"])

    def _out(self, x):
        return getattr(self.model, self.net.call)(self.eng.tensor(np.asarray(x, dtype=float)))

    def predict(self, x):
        return self.eng.data(self._out(x))

    def _targets(self, labels, n_out):
        return dict(_targets(self.eng, np.asarray(labels, dtype=int), n_out))[self.net.targets]

    def loss(self, x, labels):
        out = self._out(x)
        value = self.net.loss_fn(out, self._targets(labels, self.sizes[-1]))
        return float(self.eng.data(value).ravel()[0])

    def loss_and_grads(self, x, labels):
        for v in self.values.values():
            self.eng.fresh_grad(v)
        out = self._out(x)
        value = self.net.loss_fn(out, self._targets(labels, self.sizes[-1]))
        self.eng.vjp(value, np.ones(np.shape(self.eng.data(value))))
        self._grads = self._read_grads()
        return float(self.eng.data(value).ravel()[0]), self._grads

    def _read_grads(self) -> dict:
        grads = {}
        for k, layer in enumerate(self.layers):
            for name in ("W", "b"):
                g = self.eng.grad(self._value(layer[name]))
                if g is None:
                    raise Missing(f"{self.net.name}'s parameter {describe(layer[name])} received no gradient from "
                                  f"{self.eng.backward_name}()")
                if name == "W" and layer["W_layout"] == "in_out":
                    g = g.T
                grads[f"{2 * k}.{name}"] = np.array(g, dtype=float).reshape(-1) if name == "b" else np.array(g, dtype=float)
        return grads

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


def cross_entropy(logits, labels) -> tuple[float, np.ndarray]:
    """The kit's mean softmax cross-entropy on trusted numbers, and its gradient d/dlogits."""
    labels = np.asarray(labels, dtype=int)
    p = softmax(logits)
    n = len(labels)
    d = p.copy()
    d[np.arange(n), labels] -= 1.0
    return float(-np.mean(np.log(np.maximum(p[np.arange(n), labels], 1e-300)))), d / n


class ScalarNetPipeline(EngineNetPipeline):
    """A network on a scalar engine: each sample a list of values; the loss is the kit's
    cross-entropy on the outputs' numbers, its gradient taken through the engine as sum(y * dL/dy)."""

    def __init__(self, net: EngineNet, sizes, task="classification"):
        super().__init__(net, sizes, task)
        self.conventions["loss"] = "the kit's softmax cross-entropy (a scalar engine need not define log or exp)"

    def _out(self, x):
        return self.eng.call_rows(getattr(self.model, self.net.call), np.asarray(x, dtype=float))

    def predict(self, x, chunk: int = 16):
        """The outputs' numbers, a few samples at a time: each chunk's graph is freed before the
        next is built (the graphs of a whole validation set would not fit in memory on MNIST)."""
        x = np.asarray(x, dtype=float)
        parts = []
        for i in range(0, len(x), chunk):
            with young_garbage():
                parts.append(self.eng.data(self._out(x[i:i + chunk])))
        return np.concatenate(parts) if parts else np.zeros((0, self.sizes[-1]))

    def loss(self, x, labels):
        return cross_entropy(self.predict(x), labels)[0]

    def loss_and_grads(self, x, labels):
        with young_garbage():
            value = self._step(x, labels)  # the step's graph is garbage once _step returns
        return value, self._grads

    def _step(self, x, labels) -> float:
        for v in self.values.values():
            self.eng.fresh_grad(v)
        out = self._out(x)
        value, d_out = cross_entropy(self.eng.data(out), labels)
        self.eng.vjp(out, d_out)
        self._grads = self._read_grads()
        return value
