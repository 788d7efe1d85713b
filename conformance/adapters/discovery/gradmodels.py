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

    then = None  # (method, paths) when gradients come from a second call, backward(y), into attributes
    fixed_sizes = None  # the sizes its code fixes (built as Network() at 784-128-10), else None

    def describe(self) -> str:
        return self._describe() + (f"; its sizes are fixed at {'-'.join(map(str, self.fixed_sizes))} in its code"
                                   if self.fixed_sizes else "")

    def _describe(self) -> str:
        if self.then is not None:
            return (f"{self.name}: built as {self.build_text}, parameters {self.params_text}; {self.name}."
                    f"{self.grad_method}(X, y) returns the loss, then {self.name}.{self.then[0]}(y) stores the gradients")
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
    if not need:  # sizes with defaults (input_size=784, ...), given in order; else the sizes its code fixes
        ints = [p for p in parameters(cls) if isinstance(p.default, int) and not isinstance(p.default, bool)]
        if len(ints) == len(sizes):
            out.append((f"{cls.__name__}{tuple(sizes)}", lambda s: cls(*s)))
        out.append((f"{cls.__name__}()", _Fixed(cls)))
    return out


class _Fixed:
    """``cls()``: a network whose code fixes its sizes (784-128-10 written in the constructor). It
    is built at those sizes whatever the kit asks; ``sizes`` says which they are."""

    def __init__(self, cls):
        self.cls, self.sizes = cls, None

    def __call__(self, _sizes):
        model = self.cls()
        if self.sizes is None:
            self.sizes = chain_sizes(scan(model, depth=3))
        return model


def chain_sizes(arrays: dict) -> list[int] | None:
    """The layer sizes a model's own arrays make: weight matrices that chain (each layer's outputs
    the next one's inputs), in the order the model holds them, with a bias per layer."""
    mats = [a.shape for a in arrays.values() if a.ndim == 2 and min(a.shape) > 1]
    for first in mats:
        for sizes in ([first[0], first[1]], [first[1], first[0]]):
            rest = [m for m in mats if m is not first]
            while True:
                nxt = next((m for m in rest if sizes[-1] in m), None)
                if nxt is None:
                    break
                rest.remove(nxt)
                sizes.append(nxt[1] if nxt[0] == sizes[-1] else nxt[0])
            if len(sizes) >= 3 and _layout(arrays, sizes) is not None:
                return sizes
    return None


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
            at = getattr(make, "sizes", None) or sizes  # a network with fixed sizes is found at its own
            if isinstance(make, _Fixed) and getattr(make, "sizes", None) is None:
                why = f"{text} holds no chain of weight matrices with a bias per layer"
                continue
            layers = _layout(scan(model, depth=3), at)
            if layers is None:
                continue
            xs, ls = (x, labels) if at is sizes else \
                (np.random.default_rng(11).standard_normal((BATCH, at[0])), np.arange(BATCH) % at[-1])
            found = _drive(name, cls, text, make, model, layers, grad_methods, xs, ls, at)
            if isinstance(found, GradModel):
                found.fixed_sizes = list(at) if at is not sizes else None
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
                then = None
                if grads is None and loss is not None and samples == "rows":  # loss(X, y), then backward(y)
                    then = _second_step(model, layers, data[1])
                    if then is None:
                        continue
                elif grads is None:
                    continue
                forward = _forward(model, samples, x, sizes[-1])
                if forward is None:
                    why = f"{method}(X, y) returns gradients, but no method maps X to {sizes[-1]} outputs"
                    continue
                text_params = ", ".join(f"{describe(l['W'])}/{describe(l['b'])}" for l in layers)
                found = GradModel(name, cls, text.replace(str(list(SIZES)), "sizes").replace(str(tuple(SIZES)), "(n_in, n_hidden, n_out)"),
                                  make, method, forward, samples, targets, loss is not None, text_params)
                found.then = then
                return found
    return why


SECOND_WORDS = {"backward", "backprop", "back", "gradient", "gradients", "grad", "grads", "propagate"}


def _second_step(model, layers, y):
    """(method, {("W"|"b", k): path}) when a method taking the targets alone (``backward(y)``), run
    after the loss, stores an array shaped like each parameter whose name says it is its gradient."""
    from conformance.adapters.discovery.objects import gradient_name_score, snapshot

    for method in [m for m in dir(model) if not m.startswith("_") and words(m) & SECOND_WORDS]:
        fn = getattr(model, method, None)
        if not callable(fn) or len(required(fn)) != 1:
            continue
        before = snapshot(model)
        try:
            attempt(fn, y)
        except StudentRaised:
            continue
        after = scan(model, depth=3)
        new = [p for p, a in after.items() if p not in before or not np.array_equal(before[p], a)]
        paths = {}
        for k, layer in enumerate(layers):
            for name in ("W", "b"):
                shape = np.shape(get(model, layer[name]))
                options = [p for p in new if after[p].shape == shape and p != layer[name]]
                if not options:
                    break
                paths[(name, k)] = max(options, key=lambda p: gradient_name_score(p, layer[name]))
        if len(paths) == 2 * len(layers):
            return method, paths
    return None


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
        if found.fixed_sizes and list(found.fixed_sizes) != self.sizes:
            raise Missing(f"{found.name}() fixes its sizes at {'-'.join(map(str, found.fixed_sizes))} in its code, "
                          f"and this check needs {'-'.join(map(str, self.sizes))}: give its constructor the layer "
                          f"sizes as arguments (or pin them with --map) so the kit can build it at any size")
        self.model = attempt(found.make, list(sizes))
        self.layers = _layout(scan(self.model, depth=3), self.sizes)
        if self.layers is None:
            held = chain_sizes(scan(self.model, depth=3))
            if held is not None and len(held) != len(self.sizes):
                raise Missing(f"{found.name} builds {len(held) - 1} layers (here {'-'.join(map(str, held))}) and this "
                              f"check needs {len(self.sizes) - 1} ({'-'.join(map(str, self.sizes))})")
            raise Missing(f"{found.name} built for sizes {self.sizes} does not hold one weight and bias per layer of "
                          "those sizes: its sizes may be fixed in the code; pin it with --map")
        if not found.returns_loss and loss is None:
            loss = self.loss_handle = self._own_cost()
        if not found.returns_loss and loss is None:
            raise Missing(f"{found.name}.{found.grad_method} returns no loss value and no loss function was found "
                          "to evaluate its output with; pin one with --map")
        self.optimizer, self._grads, self._opt, self._opt_lr = None, None, None, None
        self.conventions = {"built": f"your network {found.describe()}", "update": "the kit's plain SGD on your gradients",
                            "output": "scores"}
        if not found.returns_loss:
            self.conventions["loss"] = (f"{loss.student_name} on each sample's output, summed over the batch (your "
                                        f"{found.grad_method} returns no loss value, so its scale is not judged)")

    def _own_cost(self):
        """The network's own cost (``self.cost = CrossEntropyCost`` with ``fn(a, y)``): a callable it
        holds that turns one output and its one-hot target into a number, as a loss handle."""
        n_out = self.sizes[-1]
        a = np.full((n_out, 1), 0.3) if self.found.samples == "column" else np.full((2, n_out), 0.3)
        y = np.eye(n_out)[:, :1] if self.found.samples == "column" else np.eye(n_out)[:2]
        for attr, holder in vars(self.model).items():
            for mname in ("fn", "__call__", "value", "loss", "cost", "forward"):
                fn = getattr(holder, mname, None)
                if not callable(fn) or isinstance(holder, (np.ndarray, list, dict)) or len(required(fn)) != 2:
                    continue
                try:
                    value = attempt(fn, a, y)
                except StudentRaised:
                    continue
                if np.ndim(value) == 0 and np.isfinite(value):
                    return _CostHandle(fn, f"{type(holder).__name__ if not inspect.isclass(holder) else holder.__name__}"
                                           f".{mname}", self.found.samples)
        return self._cost_from_derivative(a, y)

    def _cost_from_derivative(self, a, y):
        """With no cost to evaluate, a derivative of one: a two-argument method of the network whose
        answer on (output, target) is exactly output - target (Nielsen's ``cost_derivative``) is the
        derivative of the quadratic cost 1/2 ||a - y||^2, which then stands in as the loss."""
        a = a + np.linspace(0.0, 0.2, a.size).reshape(a.shape)  # outputs that differ, so a - y says something
        for name in dir(type(self.model)):
            fn = getattr(self.model, name, None)
            if name.startswith("_") or not callable(fn) or inspect.isclass(fn) or len(required(fn)) != 2:
                continue
            try:
                value = attempt(fn, a.copy(), y.copy())
            except StudentRaised:
                continue
            if isinstance(value, np.ndarray) and value.shape == a.shape and np.allclose(value, a - y, rtol=0, atol=1e-12):
                quadratic = lambda out, target: 0.5 * float(np.sum((np.asarray(out) - target) ** 2))  # noqa: E731
                handle = _CostHandle(quadratic, f"the quadratic cost 1/2 ||a - y||^2 (your {name}(a, y) is its "
                                                f"derivative, a - y)", self.found.samples)
                handle.kind = "mse"
                return handle
        return None

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
            then = getattr(self.found, "then", None)
            if then is not None:  # loss(X, y), then backward(y) stores the gradients
                getattr(self.model, then[0])(data[1])
                grads = {key: np.array(get(self.model, path), dtype=float) for key, path in then[1].items()}
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


# --- functional models: init(sizes) -> params, forward(X, params) -> (out, caches), backward(...) -> grads ---


class FunctionalNet:
    """A network of plain functions (the deep-learning course's style): ``init(sizes) -> params``,
    ``forward(X, params) -> (AL, caches)``, ``backward(AL, Y, caches) -> grads``; found at 5-7-4."""

    def __init__(self, init, forward, backward, samples, targets, layers_text):
        self.init, self.forward, self.backward = init, forward, backward
        self.samples, self.targets, self.layers_text = samples, targets, layers_text
        self.name = init.__name__

    def describe(self) -> str:
        data = "samples as columns" if self.samples == "cols" else "samples as rows"
        return (f"{self.init.__name__}(sizes) -> parameters {self.layers_text}; {self.forward.__name__}(X, parameters) "
                f"-> (output, caches); {self.backward.__name__}(output, Y {self.targets}, caches) -> gradients; {data}")


def _grad_for(grads: dict, key) -> np.ndarray | None:
    for name in (f"d{key}", key, f"dL_d{key}", f"grad_{key}", f"{key}_grad"):
        if name in grads and isinstance(grads[name], np.ndarray):
            return np.asarray(grads[name], dtype=float)
    return None


def find_functional(defs) -> tuple[FunctionalNet | None, list[str]]:
    functions = [(n, f) for n, f in defs if inspect.isfunction(f)]
    sizes = list(SIZES)
    rng = np.random.default_rng(17)
    x = rng.standard_normal((BATCH, sizes[0]))
    labels = np.arange(BATCH) % sizes[-1]
    onehot = np.eye(sizes[-1])[labels]
    for iname, init in functions:
        if len(required(init)) != 1:
            continue
        try:
            params = attempt(init, sizes)
        except StudentRaised:
            continue
        if not isinstance(params, dict):
            continue
        layers = _layout({(("k", k),): v for k, v in params.items() if isinstance(v, np.ndarray)}, sizes)
        if layers is None:
            continue
        for fname, fwd in functions:
            if fwd is init or len(required(fwd)) != 2:
                continue
            for samples in ("cols", "rows"):
                xin = x.T.copy() if samples == "cols" else x.copy()
                try:
                    result = attempt(fwd, xin, params)
                except StudentRaised:
                    continue
                out = result[0] if isinstance(result, tuple) else result
                shape = (sizes[-1], BATCH) if samples == "cols" else (BATCH, sizes[-1])
                if not isinstance(out, np.ndarray) or out.shape != shape:
                    continue
                caches = result[1] if isinstance(result, tuple) and len(result) > 1 else None
                for bname, bwd in functions:
                    if len(required(bwd)) != 3 or bwd in (init, fwd):
                        continue
                    for targets in ("one-hot", "labels"):
                        y = (onehot.T.copy() if samples == "cols" else onehot.copy()) if targets == "one-hot" \
                            else labels.copy()
                        try:
                            grads = attempt(bwd, out.copy(), y, caches)
                        except StudentRaised:
                            continue
                        if isinstance(grads, dict) and all(
                                _grad_for(grads, l[n][-1][1]) is not None and
                                _grad_for(grads, l[n][-1][1]).size == params[l[n][-1][1]].size
                                for l in layers for n in ("W", "b")):
                            text = ", ".join(f"{l['W'][-1][1]}/{l['b'][-1][1]}" for l in layers)
                            return FunctionalNet(init, fwd, bwd, samples, targets, text), []
    return None, []


class FunctionalNetPipeline(PipelineHandle):
    """The functional network at the kit's sizes: the kit holds the parameter dict the student's
    init made and hands it to the student's forward and backward."""

    def __init__(self, net: FunctionalNet, sizes, loss: LossHandle):
        self.net, self.sizes, self.loss_handle = net, list(sizes), loss
        self.params = attempt(net.init, self.sizes)
        self.layers = _layout({(("k", k),): v for k, v in self.params.items() if isinstance(v, np.ndarray)}, self.sizes)
        if self.layers is None:
            raise Missing(f"{net.init.__name__}({self.sizes}) does not make one weight and bias per layer of those sizes")
        self.optimizer, self._grads, self._opt, self._opt_lr = None, None, None, None
        self.conventions = {"built": f"your functions {net.describe()}", "update": "the kit's plain SGD on your gradients",
                            "loss": loss.student_name}

    def _key(self, layer, name):
        return layer[name][-1][1]

    def get_params(self):
        out = {}
        for k, layer in enumerate(self.layers):
            W = np.array(self.params[self._key(layer, "W")], dtype=float)
            out[f"{2 * k}.W"] = W.T.copy() if layer["W_layout"] == "in_out" else W
            out[f"{2 * k}.b"] = np.array(self.params[self._key(layer, "b")], dtype=float).reshape(-1)
        return out

    def set_params(self, params):
        for k, layer in enumerate(self.layers):
            wk, bk = self._key(layer, "W"), self._key(layer, "b")
            if f"{2 * k}.W" in params:
                W = np.asarray(params[f"{2 * k}.W"], dtype=float)
                self.params[wk] = (W.T if layer["W_layout"] == "in_out" else W).copy()
            if f"{2 * k}.b" in params:
                self.params[bk] = np.asarray(params[f"{2 * k}.b"], dtype=float).reshape(np.shape(self.params[bk])).copy()

    def _forward(self, x):
        xin = np.asarray(x, dtype=float)
        xin = xin.T.copy() if self.net.samples == "cols" else xin.copy()
        result = self.net.forward(xin, self.params)
        out = result[0] if isinstance(result, tuple) else result
        caches = result[1] if isinstance(result, tuple) and len(result) > 1 else None
        return np.asarray(out, dtype=float), caches

    def predict(self, x):
        out, _ = self._forward(x)
        return out.T if self.net.samples == "cols" else out

    def loss(self, x, labels):
        return float(self.loss_handle.forward(self.predict(x), labels))

    def loss_and_grads(self, x, labels):
        labels = np.asarray(labels, dtype=int)
        out, caches = self._forward(x)
        pred = out.T if self.net.samples == "cols" else out
        value = float(self.loss_handle.forward(pred, labels))
        onehot = np.eye(self.sizes[-1])[labels]
        y = (onehot.T.copy() if self.net.samples == "cols" else onehot) if self.net.targets == "one-hot" else labels
        raw = self.net.backward(out, y, caches)
        grads = {}
        for k, layer in enumerate(self.layers):
            gW = _grad_for(raw, self._key(layer, "W"))
            gb = _grad_for(raw, self._key(layer, "b"))
            grads[f"{2 * k}.W"] = gW.T.copy() if layer["W_layout"] == "in_out" else gW
            grads[f"{2 * k}.b"] = gb.reshape(-1) if gb.size == self.sizes[k + 1] else gb
        self._grads = grads
        return value, grads

    sgd_step = GradModelPipeline.sgd_step
    use_optimizer = GradModelPipeline.use_optimizer


class _CostHandle(LossHandle):
    """A network's own cost function ``fn(a, y)`` on one output and its one-hot target (value only)."""

    def __init__(self, fn, name, samples):
        self.fn, self.student_name, self.samples = fn, name, samples
        self.kind, self.conventions = "cross_entropy", {"input": "probs", "targets": "onehot", "grad_wrt": "unknown"}

    def forward(self, pred, labels):
        pred = np.asarray(pred, dtype=float)
        onehot = np.eye(pred.shape[1])[np.asarray(labels, dtype=int)]
        if self.samples == "column":
            return float(sum(self.fn(pred[i:i + 1].T.copy(), onehot[i:i + 1].T.copy()) for i in range(len(pred))))
        return float(self.fn(pred.copy(), onehot))

    def backward(self):
        raise Missing(f"{self.student_name} gives a value only")
