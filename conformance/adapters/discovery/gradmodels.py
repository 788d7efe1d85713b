"""Networks that hold their own parameter arrays and hand back gradients, found by behaviour.

Three shapes of real code have no layer objects for a container to hold:

* a **params-dict model** (the CS231n ``TwoLayerNet``): ``Net(input_size, hidden_size, output_size)``
  keeps ``self.params = {"W1": ..., "b1": ...}`` and ``loss(X, y) -> (loss, grads)`` returns the
  loss and a dict of gradients with the same keys (``loss(X)`` alone returns the scores);
* a **weight-list network** (the online book's ``Network(sizes)``, or ``Network(sizes, cost)`` with
  a cost object of the submission's): ``self.weights`` and ``self.biases`` lists, samples as columns,
  ``backprop(x, y) -> (nabla_b, nabla_w)`` for one sample or ``backpropagate(X, Y)`` for a batch of
  columns; a ``backward(X, Y)`` that reads what ``forward(X)`` cached gets its forward run first;
* a **network of functions** (the deep-learning course's notebooks): ``init(sizes)`` or
  ``init(n_x, n_h, n_y)`` -> a parameters dict, ``forward(X, parameters) -> (output, caches)``, a
  backward taking some of (output, Y, caches, X, parameters) in its own order, and often its own
  ``cost(output, Y)``. Its code may fix one sigmoid output (a binary classifier, which then scores
  two classes as 1 - p and p) or the number of layers; the kit checks it at those sizes and says
  which checks need others.

A class is such a model when, built for 5-7-4, it holds one weight array per layer of those sizes
(either layout) and a bias of each layer's width, a method taking (X, y) returns arrays shaped like
every parameter, and a forward-like method maps the batch to 4 outputs. Gradients are matched to
parameters by dict key when the student returns a dict, else by shape, layer by layer.

The loss value is the one the student's method returns with the gradients. A weight-list network
returns none: the kit then evaluates the cost the network holds (``self.cost``), else the
discovered loss, on the network's output, per sample and summed over the batch (the book's cost),
and says so; the scale of such a gradient cannot be judged, since no loss value was claimed for it.
A network of functions is scored with the discovered cross-entropy, else (and always for one
sigmoid output) with its own cost function.
"""
from __future__ import annotations

import ast
import inspect
import textwrap

import numpy as np

from conformance.adapters.base import LossHandle, Missing, PipelineHandle
from conformance.adapters.discovery.objects import (
    StudentRaised, attempt, describe, get, parameters, put, raised_inside, required, scan, words,
)

SIZES, BATCH = (5, 7, 4), 6
GRAD_WORDS = {"loss", "backprop", "backpropagate", "backpropagation", "backward", "gradient", "gradients", "grad", "grads",
              "compute", "cost"}
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
    forward_first = None  # the forward method a backward(X, Y) needs run first (it reads the forward's cache)
    fixed_sizes = None  # the sizes its code fixes (built as Network() at 784-128-10), else None
    raised = ""  # its gradient method raised in its own lines, whatever the kit gave it: the student's error

    def describe(self) -> str:
        if self.raised:
            return (f"{self.name}: built as {self.build_text}, parameters {self.params_text}; {self.name}."
                    f"{self.grad_method}(X, y) raised {self.raised} whatever the kit gave it: judged as yours, on "
                    + ("the whole batch as columns (features, B)" if self.samples == "cols" else "the whole batch"))
        return self._describe() + (f"; its sizes are fixed at {'-'.join(map(str, self.fixed_sizes))} in its code"
                                   if self.fixed_sizes else "")

    def _describe(self) -> str:
        if self.then is not None:
            return (f"{self.name}: built as {self.build_text}, parameters {self.params_text}; {self.name}."
                    f"{self.grad_method}(X, y) returns the loss, then {self.name}.{self.then[0]}(y) stores the gradients")
        one = {"column": "one sample at a time as a column (the kit loops and sums)",
               "cols": "the whole batch as columns (features, B)"}.get(self.samples, "the whole batch")
        if self.forward_first:
            one += f", after {self.name}.{self.forward_first}(X)"
        loss = "the loss it returns with them" if self.returns_loss else "no loss value (the kit evaluates your loss on its output)"
        return (f"{self.name}: built as {self.build_text}, parameters {self.params_text}; "
                f"{self.name}.{self.grad_method}(X, y) returns the gradients on {one}, and {loss}")


COST_WORDS = {"cost", "loss", "criterion", "objective"}


def _cost_arguments(defs) -> list:
    """What the submission offers for a constructor's ``cost`` argument: its classes (and their
    instances) whose names say cost or loss, a cross-entropy first (the kit's tasks classify)."""
    found = [(n, c) for n, c in defs or () if inspect.isclass(c) and words(n) & COST_WORDS]
    found.sort(key=lambda nc: (not words(nc[0]) & {"cross", "entropy", "ce", "log"}, nc[0]))
    out = []
    for name, c in found:
        out.append((name, c))
        if not required(c):
            out.append((f"{name}()", c))  # instantiated when it is built: see _build_with_cost
    return out


def _build_with_cost(cls, value, instantiate):
    return lambda s: cls(list(s), value() if instantiate else value)


def _builds(cls, sizes, defs=None):
    need = required(cls)
    out = []
    if len(need) == 2 and words(need[1]) & COST_WORDS:  # Network(sizes, cost): the submission's own cost
        for text, value in _cost_arguments(defs):
            out.append((f"{cls.__name__}({list(sizes)}, {text})", _build_with_cost(cls, value, text.endswith("()"))))
    if len(need) == 2 and words(need[1]) & ACTIVATION_KEYS:  # Network(sizes, activation_mode): a name its code knows
        chosen = _activation_name(cls)
        if chosen is not None:
            out.append((f"{cls.__name__}({list(sizes)}, {chosen!r})", lambda s: cls(list(s), chosen)))
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


ACTIVATION_KEYS = {"activation", "activations", "act", "nonlinearity", "afunc"}
HIDDEN_ORDER = ("relu", "tanh", "sigmoid")  # the kit's hidden activation first


def _activation_name(cls) -> str | None:
    """The activation name a network's constructor expects, as its own code spells it: a string
    constant in the class (else in its module) naming relu, else tanh, else sigmoid, in any case
    ('ReLU'); None when there is none."""
    for where in (cls, inspect.getmodule(cls)):  # the class's own text, else its module's (a table of names)
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(where)))
        except (OSError, TypeError, SyntaxError):
            continue
        names = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        for kind in HIDDEN_ORDER:
            spelt = sorted(n for n in names if n.lower() == kind)
            if spelt:
                return spelt[0]
    return None


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
    """The batch as the student's method takes it: rows (B, d), the whole batch as columns (d, B),
    or one (d, 1) column per sample; targets as int labels or one-hot in the same layout."""
    onehot = np.eye(n_out)[labels]
    if samples == "rows":
        return x.copy(), (labels.copy() if targets == "int" else onehot)
    if samples == "cols":
        return x.T.copy(), (labels.copy() if targets == "int" else onehot.T.copy())
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
        builds = _builds(cls, sizes, defs)
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


def _input_free(exc: StudentRaised, model) -> bool:
    """A raise no input of the kit's could have avoided: the network reading an attribute of its own
    that nothing it was built with sets (``self.mini_batch_size``, set only by its ``SGD``), or a
    name its module never defined. Anything else (a shape, a key, a type) may be the kit's guess."""
    cause = exc.cause
    if isinstance(cause, NameError) and not isinstance(cause, AttributeError):
        return True
    return isinstance(cause, AttributeError) and f"'{type(model).__name__}' object has no attribute" in str(cause)


def _drive(name, cls, text, make, model, layers, grad_methods, x, labels, sizes):
    why = f"no method of it taking (X, y) returned gradients shaped like its parameters (tried {', '.join(grad_methods)})"
    raised = []  # (method, samples, targets, what its own lines raised) for each way that raised no input could avoid
    for method in sorted(grad_methods, key=lambda m: m not in ("loss", "backprop")):
        for samples in ("rows", "cols", "column"):
            for targets in (("int", "onehot") if samples == "rows" else ("onehot", "int")):
                data = _inputs(samples, targets, x, labels, sizes[-1])
                forward_first = None
                try:
                    result = attempt(getattr(model, method), *(data[0] if samples == "column" else data))
                except StudentRaised as exc:
                    if raised_inside(exc) and _input_free(exc, model):
                        raised.append((method, samples, targets, raised_inside(exc)))
                    # a backward(X, Y) that reads what its forward cached: the forward runs first
                    forward_first = _forward(model, samples, x, sizes[-1]) if samples == "cols" else None
                    if forward_first is None:
                        continue
                    try:
                        attempt(getattr(model, forward_first), data[0].copy())
                        result = attempt(getattr(model, method), *data)
                    except StudentRaised:
                        continue
                grads, loss = _grads_from(result, model, layers)
                then = None
                if grads is None and loss is not None and samples != "column":  # loss(X, y), then backward(y)
                    then = _second_step(model, layers, data[1])
                    if then is None:
                        continue
                elif grads is None:
                    continue
                forward = forward_first or _forward(model, samples, x, sizes[-1])
                if forward is None:
                    why = f"{method}(X, y) returns gradients, but no method maps X to {sizes[-1]} outputs"
                    continue
                text_params = ", ".join(f"{describe(l['W'])}/{describe(l['b'])}" for l in layers)
                found = GradModel(name, cls, text.replace(str(list(SIZES)), "sizes").replace(str(tuple(SIZES)), "(n_in, n_hidden, n_out)"),
                                  make, method, forward, samples, targets, loss is not None, text_params)
                found.then, found.forward_first = then, forward_first
                return found
    for method, samples, targets, said in raised:
        # its gradient method raised in its own lines whatever the kit gave it, and the network has a forward
        # in that layout: found, and its checks are the student's error at that line (SPEC 0.2)
        forward = _forward(model, samples, x, sizes[-1]) if samples != "column" else None
        if forward is not None:
            text_params = ", ".join(f"{describe(l['W'])}/{describe(l['b'])}" for l in layers)
            found = GradModel(name, cls, text.replace(str(list(SIZES)), "sizes").replace(str(tuple(SIZES)), "(n_in, n_hidden, n_out)"),
                              make, method, forward, samples, targets, False, text_params)
            found.raised = said
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
            elif samples == "cols":
                out = attempt(fn, x.T.copy())
                if isinstance(out, np.ndarray) and out.shape == (n_out, len(x)):
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
        try:
            self.model = attempt(found.make, list(sizes))
        except StudentRaised as exc:
            if raised_inside(exc):
                raise  # the student's own constructor raised: theirs to fix
            raise Missing(f"{found.name} cannot be built with {len(self.sizes) - 1} layers "
                          f"({'-'.join(map(str, self.sizes))}), which this check needs: {exc}") from None
        self.layers = _layout(scan(self.model, depth=3), self.sizes)
        if self.layers is None:
            held = chain_sizes(scan(self.model, depth=3))
            if held is not None and len(held) != len(self.sizes):
                raise Missing(f"{found.name} builds {len(held) - 1} layers (here {'-'.join(map(str, held))}) and this "
                              f"check needs {len(self.sizes) - 1} ({'-'.join(map(str, self.sizes))})")
            raise Missing(f"{found.name} built for sizes {self.sizes} does not hold one weight and bias per layer of "
                          "those sizes: its sizes may be fixed in the code; pin it with --map")
        if not found.returns_loss:  # the cost the network holds is the one its backprop differentiates
            loss = self.loss_handle = self._held_cost() or loss or self._cost_from_derivative(*self._cost_probe())
        if not found.returns_loss and loss is None:
            raise Missing(f"{found.name}.{found.grad_method} returns no loss value and no loss function was found "
                          "to evaluate its output with; pin one with --map")
        self.optimizer, self._grads, self._opt, self._opt_lr = None, None, None, None
        self.conventions = {"built": f"your network {found.describe()}", "update": "the kit's plain SGD on your gradients",
                            "output": "scores"}
        if not found.returns_loss:
            each = "the batch's outputs" if found.samples == "cols" else "each sample's output, summed over the batch"
            self.conventions["loss"] = (f"{loss.student_name} on {each} (your "
                                        f"{found.grad_method} returns no loss value, so its scale is not judged)")

    def _cost_probe(self):
        """An output and its one-hot target in the network's layout, to call a cost with."""
        n_out = self.sizes[-1]
        return {"column": (np.full((n_out, 1), 0.3), np.eye(n_out)[:, :1]),
                "cols": (np.full((n_out, 2), 0.3), np.eye(n_out)[:, :2])}.get(
            self.found.samples, (np.full((2, n_out), 0.3), np.eye(n_out)[:2]))

    def _held_cost(self):
        """The network's own cost (``self.cost = CrossEntropyCost`` with ``fn(a, y)``): a callable it
        holds that turns one output and its one-hot target into a number, as a loss handle."""
        a, y = self._cost_probe()
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
        return None

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
        if self.found.samples == "cols":
            return np.asarray(fn(x.T.copy()), dtype=float).T
        return np.concatenate([np.asarray(fn(x[i:i + 1].T.copy()), dtype=float).T for i in range(len(x))], axis=0)

    def _value(self, x, labels):
        if self.found.samples != "column":
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
        if self.found.samples != "column":
            if self.found.forward_first:
                getattr(self.model, self.found.forward_first)(data[0].copy())
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

# The sizes a network of functions is tried at, in order: the kit's own (any depth, any width), then
# the ones a course's code fixes: one sigmoid output (a binary classifier whose forward asserts
# it), and three layers (a forward that reads W1, W2 and W3 by name).
FUNCTIONAL_SIZES = (SIZES, (5, 7, 1), (5, 7, 6, 4), (5, 7, 6, 1))
# What a backward can be handed, and the parameter names that say which is which (names rank the
# orders tried; every order of the same values is tried after them).
ROLES = ("out", "y", "caches", "x", "params")
ROLE_WORDS = {"params": {"parameters", "params", "param", "theta", "weights"}, "caches": {"cache", "caches"},
              "x": {"x", "input", "inputs", "data", "a0"}, "y": {"y", "labels", "label", "targets", "target", "t"},
              "out": {"al", "a2", "a3", "out", "output", "yhat", "pred", "preds", "probs", "scores"}}


class FunctionalNet:
    """A network of plain functions (the deep-learning course's style): ``init(sizes)`` or
    ``init(n_x, n_h, n_y) -> params``, ``forward(X, params) -> (output, caches)``, a backward taking
    some of (output, Y, caches, X, params) and returning the gradients, and the student's own cost
    ``cost(output, Y)`` when there is one; found at the first of ``FUNCTIONAL_SIZES`` it runs at."""

    def __init__(self, init, ints, forward, backward, roles, samples, targets, sizes, layers_text, cost=None,
                 forward_roles=("x", "params"), out_at=None):
        self.init, self.ints, self.forward, self.backward, self.roles = init, ints, forward, backward, roles
        self.samples, self.targets, self.sizes, self.layers_text, self.cost = samples, targets, sizes, layers_text, cost
        self.forward_roles = forward_roles  # what the forward takes: (X, parameters), or also Y in some order
        self.out_at = out_at  # a forward returning (cost, cache): where in its cache the output is
        self.name = forward.__name__ if isinstance(init, KitParameters) else init.__name__

    @property
    def returns_cost(self) -> bool:
        """Its forward computes the cost itself (``forward(X, Y, parameters) -> (cost, cache)``)."""
        return self.out_at is not None

    def run_forward(self, xin, y, params):
        """(output, caches, the cost its forward returned or None)."""
        values = {"x": xin, "y": y, "params": params}
        result = self.forward(*(values[r] if r == "params" else _copy(values[r]) for r in self.forward_roles))
        if self.out_at is None:
            out = result[0] if isinstance(result, tuple) else result
            return out, (result[1] if isinstance(result, tuple) and len(result) > 1 else None), None
        return _at(result[1], self.out_at), result[1], _number(result[0])

    @property
    def binary(self) -> bool:
        """One output only (a sigmoid binary classifier: its forward or its cost needs it)."""
        return self.sizes[-1] == 1

    @property
    def depth_fixed(self) -> bool:
        """Its code fixes the number of layers: init(n_x, n_h, n_y), or a forward that reads W1..W3."""
        return self.ints or len(self.sizes) != len(SIZES) or (isinstance(self.init, KitParameters)
                                                               and not self.init.any_depth)

    @property
    def fixed_sizes(self):
        """The sizes it was found at when its code fixes them (not the kit's own), else None."""
        return None if tuple(self.sizes) == SIZES else tuple(self.sizes)

    def sizes_for(self, sizes) -> list[int]:
        """The sizes it is built at for a check that needs ``sizes``: those, or with one output for
        two classes (p(class 1) and 1 - p); Missing with the reason when its code cannot have them."""
        sizes = list(sizes)
        if self.depth_fixed and len(sizes) != len(self.sizes):
            raise Missing(f"your network has exactly {len(self.sizes) - 1} layers ({self.init.__name__} and "
                          f"{self.forward.__name__} fix them), and this check needs {len(sizes) - 1}")
        if self.binary and sizes[-1] > 2:
            raise Missing(f"your network has one sigmoid output (a binary classifier), and this check needs "
                          f"{sizes[-1]} classes")
        return sizes[:-1] + [1] if self.binary else sizes

    def build(self, sizes):
        return attempt(self.init, *sizes) if self.ints else attempt(self.init, list(sizes))

    def describe(self) -> str:
        data = "samples as columns" if self.samples == "cols" else "samples as rows"
        args = "n_x, n_h, n_y" if self.ints else "sizes"
        backward = ", ".join({"out": "output", "y": f"Y {self.targets}", "x": "X", "params": "parameters"}.get(r, r)
                             for r in self.roles)
        forward = ", ".join({"x": "X", "y": "Y", "params": "parameters"}[r] for r in self.forward_roles)
        gives = "(cost, cache), its output read from the cache" if self.returns_cost else "(output, caches)"
        made = self.init.describe(len(self.sizes) - 1) if isinstance(self.init, KitParameters) else \
            f"{self.init.__name__}({args}) -> parameters {self.layers_text}"
        text = (f"{made}; {self.forward.__name__}({forward}) -> {gives}; {self.backward.__name__}({backward}) "
                f"-> gradients; {data}")
        if self.returns_cost:
            text += f"; the cost {self.forward.__name__} returns"
        elif self.cost is not None:
            text += f"; your cost {self.cost.__name__}(output, Y)"
        if self.fixed_sizes:
            text += f"; its code fixes the sizes at {'-'.join(map(str, self.fixed_sizes))}"
        return text


def _grad_for(grads: dict, key) -> np.ndarray | None:
    for name in (f"d{key}", key, f"dL_d{key}", f"grad_{key}", f"{key}_grad"):
        if name in grads and isinstance(grads[name], np.ndarray):
            return np.asarray(grads[name], dtype=float)
    return None


def _student_targets(targets: str, samples: str, labels, n_out):
    """Y in the student's form: one-hot (or one 0/1 row for a single output) in their layout, or labels."""
    if targets == "labels":
        return np.asarray(labels).copy()
    y = np.eye(n_out)[labels] if targets == "one-hot" else (np.asarray(labels) % 2).reshape(-1, 1).astype(float)
    return y.T.copy() if samples == "cols" else y.copy()


def _role_orders(fn, roles=ROLES) -> list[tuple[str, ...]]:
    """The orders of ``roles`` to hand ``fn``: a parameter whose name says its role gets it (``cache``,
    ``parameters``, ``X``, ``Y``, ``AL``); the others get every order of the roles left."""
    from itertools import permutations

    need = required(fn)
    named: list[str | None] = []
    for p in need:
        hit = next((r for r in roles if r not in named and (words(p) & ROLE_WORDS[r] or p.lower() in ROLE_WORDS[r])),
                   None)
        named.append(hit)
    left = [r for r in roles if r not in named]
    holes = [i for i, r in enumerate(named) if r is None]
    orders = []
    for fill in permutations(left, len(holes)):
        order = list(named)
        for i, r in zip(holes, fill):
            order[i] = r
        orders.append(tuple(order))
    return orders


def _holds_every_gradient(grads, params, layers) -> bool:
    return isinstance(grads, dict) and all(
        _grad_for(grads, l[n][-1][1]) is not None and _grad_for(grads, l[n][-1][1]).size == params[l[n][-1][1]].size
        for l in layers for n in ("W", "b"))


def _inits(functions):
    """(function, takes ints) for every function that could build a parameter dict from sizes."""
    for name, fn in functions:
        need = required(fn)
        if len(need) == 1:
            yield fn, False
        elif 3 <= len(need) <= 5:
            yield fn, True


def find_functional(defs) -> tuple[FunctionalNet | None, list[str]]:
    """The network of functions, and why the forwards that ran on an initialiser's parameters
    could not be used when it is None (a helper they call was not handed in)."""
    functions = [(n, f) for n, f in defs if inspect.isfunction(f)]
    unavailable: list[str] = []
    rng = np.random.default_rng(17)
    first = None  # found without a cost of the student's: kept while sizes where the cost works are sought
    for init, ints in _inits(functions):
        for sizes in FUNCTIONAL_SIZES:
            if ints and len(required(init)) != len(sizes):
                continue
            try:
                params = attempt(init, *sizes) if ints else attempt(init, list(sizes))
            except StudentRaised:
                continue
            if not isinstance(params, dict):
                break  # not an initialiser: no other sizes will make it one
            layers = _layout({(("k", k),): v for k, v in params.items() if isinstance(v, np.ndarray)}, sizes)
            if layers is None:
                continue
            x = rng.standard_normal((BATCH, sizes[0]))
            labels = np.arange(BATCH) % max(2, sizes[-1])
            found = _functional_at(functions, init, ints, params, layers, list(sizes), x, labels, unavailable)
            if found is not None and (found.cost is not None or found.targets == "labels" or found.returns_cost):
                return found, []
            first = first or found  # (a cost written for one sigmoid output scores only there)
    if first is None:  # no initialiser handed in (it came with the course's helper files)
        first = _with_kit_parameters(functions, rng, unavailable)
    return first, ([] if first else sorted(set(unavailable))[:2])


class KitParameters:
    """No initialiser in the submission: the parameter dict its forward reads (``W1``, ``b1``, ...,
    the keys found by handing the forward an empty dict and noting what it asks for), built by
    the kit at the sizes asked for, in one layout: W (out, in) and b (out, 1) for samples as
    columns, W (in, out) and b (1, out) for rows."""

    __name__ = "the kit's parameters"

    def __init__(self, w_key: str, b_key: str, start: int, layout: str):
        self.w_key, self.b_key, self.start, self.layout = w_key, b_key, start, layout
        self.any_depth = False  # its forward runs on as many layers as it is handed (found by trying)

    def keys(self, layers: int) -> list[str]:
        return [k.format(i + self.start) for i in range(layers) for k in (self.w_key, self.b_key)]

    def __call__(self, sizes):
        rng, params = np.random.default_rng(0), {}
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            cols = self.layout == "cols"
            params[self.w_key.format(i + self.start)] = rng.standard_normal((b, a) if cols else (a, b)) / np.sqrt(a)
            params[self.b_key.format(i + self.start)] = np.zeros((b, 1) if cols else (1, b))
        return params

    def describe(self, layers: int) -> str:
        shapes = "W (out, in), b (out, 1)" if self.layout == "cols" else "W (in, out), b (1, out)"
        return (f"no initialiser found, so the kit built the parameters your forward reads "
                f"({', '.join(self.keys(layers))}; {shapes})")


class _Reads(dict):
    """An empty parameter dict that notes the keys a forward asks it for."""

    def __init__(self):
        super().__init__()
        self.asked: list = []

    def __getitem__(self, key):
        self.asked.append(key)
        raise KeyError(key)

    def get(self, key, default=None):
        self.asked.append(key)
        return default


def _key_scheme(key) -> tuple[str, str, int] | None:
    """("W{}", "b{}", 1) for a first key "W1"; None for a key that numbers no layer."""
    import re

    hit = re.fullmatch(r"([Ww])(_?)([01])", key) if isinstance(key, str) else None
    if hit is None:
        return None
    w, sep, start = hit.groups()
    return f"{w}{sep}{{}}", f"b{sep}{{}}", int(start)


def _with_kit_parameters(functions, rng, unavailable) -> FunctionalNet | None:
    """A network of functions whose initialiser was not handed in: its forward's first key says how
    the parameters are named, and the kit builds them (``KitParameters``) at each of
    ``FUNCTIONAL_SIZES`` in each layout until a forward and a backward run on them."""
    schemes = []
    for _name, fwd in functions:
        need = required(fwd)
        if len(need) not in (2, 3):
            continue
        for at in sorted(range(len(need)), key=lambda i: not words(need[i]) & ROLE_WORDS["params"]):
            reads = _Reads()
            args = [reads if i == at else rng.standard_normal((SIZES[0], BATCH)) for i in range(len(need))]
            try:
                attempt(fwd, *args)
            except StudentRaised:
                pass
            scheme = _key_scheme(reads.asked[0]) if reads.asked else None
            if scheme is not None and scheme not in schemes:
                schemes.append(scheme)
    for scheme in schemes:
        for sizes in FUNCTIONAL_SIZES:
            for layout in ("cols", "rows"):
                init = KitParameters(*scheme, layout)
                params = init(sizes)
                layers = _layout({(("k", k),): v for k, v in params.items()}, sizes)
                x = rng.standard_normal((BATCH, sizes[0]))
                labels = np.arange(BATCH) % max(2, sizes[-1])
                found = _functional_at(functions, init, False, params, layers, list(sizes), x, labels, unavailable)
                if found is not None:
                    init.any_depth = _runs_deeper(found, sizes, x, labels)
                    return found
    return None


def _runs_deeper(net: FunctionalNet, sizes, x, labels) -> bool:
    """Does the forward found on the kit's parameters also run, to an output of the right shape, on
    one layer more (it loops over the layers it is handed rather than reading W1..W3 by name)?"""
    deeper = [*sizes[:-1], 6, sizes[-1]]
    xin = x.T.copy() if net.samples == "cols" else x.copy()
    y = _student_targets(net.targets, net.samples, labels, sizes[-1]) if "y" in net.forward_roles else None
    try:
        out, _, _ = attempt(net.run_forward, xin, y, net.init(deeper))
    except StudentRaised:
        return False
    shape = (sizes[-1], BATCH) if net.samples == "cols" else (BATCH, sizes[-1])
    return isinstance(out, np.ndarray) and out.shape == shape


def _at(value, path):
    for step in path:
        value = value[step]
    return value


def _output_in(cache, shape, params) -> tuple | None:
    """Where a forward that returns (cost, cache) keeps the network's output: an array of the
    output's shape in the cache that is not one of the parameters, probabilities preferred (all
    in (0, 1)), the last such. None when the cache holds none."""
    found = []

    def walk(value, path, left):
        if isinstance(value, np.ndarray):
            if value.shape == shape and not any(value is p for p in params.values()):
                found.append((bool(np.all((value > 0) & (value < 1))), len(found), path))
        elif left and isinstance(value, dict):
            for k, v in list(value.items())[:64]:
                walk(v, (*path, k), left - 1)
        elif left and isinstance(value, (tuple, list)):
            for i, v in enumerate(value[:64]):
                walk(v, (*path, i), left - 1)

    walk(cache, (), 3)
    return max(found)[2] if found else None


def _functional_at(functions, init, ints, params, layers, sizes, x, labels, unavailable) -> FunctionalNet | None:
    """The forward and backward that run on ``init``'s parameters at ``sizes``, or None; a forward
    that needs what a failed import would have given is noted in ``unavailable``. A forward takes
    (X, parameters) and returns (output, caches), or takes Y too and returns (cost, cache)."""
    from conformance.loader import ImportUnavailable

    n_out = sizes[-1]
    kinds = ("one-hot", "labels") if n_out > 1 else ("binary",)
    for _fname, fwd in functions:
        if fwd is init or len(required(fwd)) not in (2, 3):
            continue
        orders = [("x", "params")] if len(required(fwd)) == 2 else _role_orders(fwd, ("x", "y", "params"))
        for forward_roles in orders:
            for samples in ("cols", "rows"):
                xin = x.T.copy() if samples == "cols" else x.copy()
                for given in (kinds if "y" in forward_roles else (None,)):
                    y = _student_targets(given, samples, labels, n_out) if given else None
                    values = {"x": xin, "y": y, "params": params}
                    try:
                        result = attempt(fwd, *(_copy(values[r]) if r != "params" else params for r in forward_roles))
                    except StudentRaised as exc:
                        if isinstance(exc.cause, ImportUnavailable):
                            unavailable.append(f"{init.__name__} and {fwd.__name__}(X, parameters) ({exc.cause})")
                        continue
                    shape = (n_out, BATCH) if samples == "cols" else (BATCH, n_out)
                    out_at = None
                    if given and isinstance(result, tuple) and len(result) > 1 and np.size(result[0]) == 1 \
                            and _number(result[0]) is not None:  # (cost, cache): the output is in the cache
                        out_at = _output_in(result[1], shape, params)
                        if out_at is None:
                            continue
                        out = _at(result[1], out_at)
                    else:
                        out = result[0] if isinstance(result, tuple) else result
                    if not isinstance(out, np.ndarray) or out.shape != shape:
                        continue
                    caches = result[1] if isinstance(result, tuple) and len(result) > 1 else None
                    found = _backward_for(functions, init, ints, fwd, params, layers, sizes, out, caches, xin, labels,
                                          samples, (given,) if given else kinds)
                    if found is not None:
                        found.forward_roles, found.out_at = forward_roles, out_at
                        if out_at is not None:
                            found.cost = None  # the cost its forward returns is the one its backward differentiates
                        return found
    return None


def _backward_for(functions, init, ints, fwd, params, layers, sizes, out, caches, xin, labels, samples, kinds):
    """The backward that turns what the forward gave into every parameter's gradient, or None."""
    n_out = sizes[-1]
    for _bname, bwd in functions:
        if not 2 <= len(required(bwd)) <= 4 or bwd in (init, fwd):
            continue
        for targets in kinds:
            y = _student_targets(targets, samples, labels, n_out)
            values = {"out": out, "y": y, "caches": caches, "x": xin, "params": params}
            for roles in _role_orders(bwd):
                try:
                    grads = attempt(bwd, *(_copy(values[r]) for r in roles))
                except StudentRaised:
                    continue
                if _holds_every_gradient(grads, params, layers):
                    text = ", ".join(f"{l['W'][-1][1]}/{l['b'][-1][1]}" for l in layers)
                    cost = _find_cost(functions, (init, fwd, bwd), out, y) if targets != "labels" else None
                    return FunctionalNet(init, ints, fwd, bwd, roles, samples, targets, tuple(sizes), text, cost)
    return None


def _copy(value):
    """An array copied, a dict of arrays copied one level down (the student's code may write into
    what it is handed during discovery)."""
    if isinstance(value, dict):
        return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in value.items()}
    return value.copy() if isinstance(value, np.ndarray) else value


def _number(value) -> float | None:
    try:
        v = float(np.squeeze(np.asarray(value, dtype=float)))
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _find_cost(functions, taken, out, y):
    """The student's own cost ``f(output, Y) -> number``: lower for an output nearer Y. A name
    with cost/loss in it ranks first; none decides alone."""
    near = np.clip(0.9 * y + 0.05, 1e-3, 1 - 1e-3)
    ranked = sorted(functions, key=lambda nf: not words(nf[0]) & {"cost", "loss", "error", "objective"})
    for _name, fn in ranked:
        if fn in taken or len(required(fn)) != 2:
            continue
        try:
            here, better = _number(attempt(fn, out.copy(), y.copy())), _number(attempt(fn, near.copy(), y.copy()))
        except StudentRaised:
            continue
        if here is not None and better is not None and better < here:
            return fn
    return None


class FunctionalNetPipeline(PipelineHandle):
    """The functional network at the kit's sizes: the kit holds the parameter dict the student's
    init made and hands it to the student's forward and backward. The loss value is the discovered
    cross-entropy's (``loss``), else the student's own cost found beside the network (always for one
    sigmoid output, which no cross-entropy over classes scores: the caller then hands None)."""

    def __init__(self, net: FunctionalNet, sizes, loss: LossHandle | None):
        self.net, self.sizes, self.loss_handle = net, list(sizes), loss
        if loss is None and net.cost is None and not net.returns_cost:
            raise Missing(f"no loss for {net.name}'s network: " + (
                "it has one sigmoid output and no cost function f(output, Y) was found beside it" if net.binary else
                "no cross-entropy found by behaviour and no cost function f(output, Y) beside it") + "; pin one with --map")
        self.classes = self.sizes[-1]  # what the kit scores: two classes from one sigmoid output
        self.sizes = net.sizes_for(self.sizes)
        try:
            self.params = net.build(self.sizes)
        except StudentRaised as exc:
            raise Missing(f"{net.init.__name__} could not build the network at {self.sizes}: {exc}") from None
        self.layers = _layout({(("k", k),): v for k, v in self.params.items() if isinstance(v, np.ndarray)}, self.sizes)
        if self.layers is None:
            raise Missing(f"{net.init.__name__}({self.sizes}) does not make one weight and bias per layer of those sizes")
        self.optimizer, self._grads, self._opt, self._opt_lr = None, None, None, None
        self.conventions = {"built": f"your functions {net.describe()}", "update": "the kit's plain SGD on your gradients",
                            "loss": loss.student_name if loss is not None else
                            f"the cost your {net.forward.__name__} returns" if net.returns_cost else
                            f"your {net.cost.__name__}(output, Y)"}

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

    def _forward(self, x, labels=None):
        """(output, caches, X in the student's layout, the cost its forward returned or None); a
        forward that takes Y gets the labels' targets (any labels when only the output is wanted)."""
        xin = np.asarray(x, dtype=float)
        xin = xin.T.copy() if self.net.samples == "cols" else xin.copy()
        labels = np.zeros(len(x), dtype=int) if labels is None else labels
        y = _student_targets(self.net.targets, self.net.samples, labels, self.sizes[-1]) \
            if "y" in self.net.forward_roles else None
        out, caches, cost = self.net.run_forward(xin.copy(), y, self.params)
        return np.asarray(out, dtype=float), caches, xin, cost

    def predict(self, x):
        out, *_ = self._forward(x)
        out = out.T if self.net.samples == "cols" else out
        return np.hstack([1 - out, out]) if self.classes == 2 and out.shape[1] == 1 else out

    def _value(self, out, labels, cost=None):
        if self.loss_handle is None and self.net.returns_cost:
            if cost is None:
                raise ValueError(f"{self.net.forward.__name__} returned no finite cost")
            return cost
        if self.loss_handle is not None:
            return float(self.loss_handle.forward(out.T if self.net.samples == "cols" else out, labels))
        y = _student_targets(self.net.targets, self.net.samples, labels, self.sizes[-1])
        value = _number(self.net.cost(out.copy(), y))
        if value is None:
            raise ValueError(f"{self.net.cost.__name__} returned no finite number")
        return value

    def loss(self, x, labels):
        labels = np.asarray(labels, dtype=int)
        out, _, _, cost = self._forward(x, labels)
        return self._value(out, labels, cost)

    def loss_and_grads(self, x, labels):
        labels = np.asarray(labels, dtype=int)
        out, caches, xin, cost = self._forward(x, labels)
        value = self._value(out, labels, cost)
        y = _student_targets(self.net.targets, self.net.samples, labels, self.sizes[-1])
        values = {"out": out, "y": y, "caches": caches, "x": xin, "params": self.params}
        raw = self.net.backward(*(values[r] if r == "params" else _copy(values[r]) for r in self.net.roles))
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
        if self.samples == "cols":
            return float(self.fn(pred.T.copy(), onehot.T.copy()))
        return float(self.fn(pred.copy(), onehot))

    def backward(self):
        raise Missing(f"{self.student_name} gives a value only")
