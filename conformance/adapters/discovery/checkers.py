"""The student's gradient checker, found by behaviour and judged on layers the kit controls.

A checker is a function that, handed something whose gradient the kit knows, answers with a
number (an error), a bool, a dict of results, or a numerical gradient. The kit tries the calling
conventions real code uses:

* ``check(layer, x, dy)`` and ``check(layer, x)``: a layer object in the student's own API (the
  student's linear class, its arrays where the student keeps them, the kit's weights in them)
  whose forward and backward are the kit's, so a bug in the student's layer never fails a correct
  checker; the nonlinear case is the same object computing tanh(x W^T + b);
* ``check(f, x, analytic)``: a scalar function, a point and the gradient to check;
* ``check(f, x) -> array``: a numerical gradient; the kit measures its relative error itself.

Each is run on a linear and a nonlinear (tanh) case, correct and with a planted bug (the
backward's gradients scaled by 1.5, or negated to tell a checker comparing with the wrong sign),
at the checker's own defaults (and at a ten times smaller step when it takes one, to name why it
rejects a correct case). What the checker said goes to ``judges/gradchecker.py``.
"""
from __future__ import annotations

import inspect

import numpy as np

from conformance.adapters._common import interpret_check
from conformance.adapters.base import Missing
from conformance.adapters.standins import (
    loss_stand_in, network_stand_in, scale_of, step_default, step_kwargs,
)
from conformance.adapters.discovery.objects import StudentRaised, attempt, get, put, required, words

CHECK_WORDS = {"check", "checker", "gradcheck", "numerical", "numeric", "finite", "verify", "compare", "test"}
FN_WORDS = {"f", "fn", "func", "function", "fun", "loss", "loss_fn", "objective", "cost"}
LAYER_WORDS = {"layer", "module", "model", "net", "network", "block", "op"}


def kit_layer(recipe, n_in, n_out, seed, planted, nonlinear: bool = False):
    """The student's linear class, built by the student's constructor, holding the kit's weights,
    with the kit's forward and backward in its methods (same names, same places for outputs and
    gradients; tanh after the affine map when ``nonlinear``); None when the class's backward
    convention is not one the kit can stand in for."""
    if not can_stand_in(recipe):
        return None
    layer = stand_in(recipe.build(n_in, n_out, seed), recipe, planted, _batch_scale(recipe, n_in, n_out, seed),
                     act="tanh" if nonlinear else None)
    W, b = _kit_weights(n_in, n_out, seed)
    put(layer, recipe.w_path, W.T if recipe.layout == "in_out" else W)
    if recipe.b_path:
        put(layer, recipe.b_path, b)
    return layer


def can_stand_in(recipe) -> bool:
    bw = recipe.backward
    return not (bw is None or bw.style not in ("dy", "x_dy") or not isinstance(bw.grads_from, dict)
                or not all(isinstance(p, tuple) for p in bw.grads_from.values()) or bw.dx_from != "return"
                or recipe.per_sample)


def stand_in(obj, recipe, planted, batch_scale, act: str | None = None):
    """``obj`` (an instance of the student's linear class) given the kit's forward and backward,
    in place: the same object, its arrays where the student keeps them, so a checker or a
    container that holds it sees the student's own class. ``act`` "tanh": y = tanh(x W^T + b)."""
    bw = recipe.backward
    cols, in_out = recipe.data == "cols", recipe.layout == "in_out"
    base = type(obj)
    scale = scale_of(planted)

    def weights(self):
        W = np.asarray(get(self, recipe.w_path), dtype=float)
        W = W.T if in_out else W  # (out, in)
        b = np.asarray(get(self, recipe.b_path), dtype=float).reshape(-1) if recipe.b_path else np.zeros(len(W))
        return W, b

    def forward(self, x, *rest):
        W, b = weights(self)
        xr = np.asarray(x, dtype=float).T if cols else np.asarray(x, dtype=float)
        self._bpk_x = xr
        y = xr @ W.T + b                       # (B, in) @ (in, out) -> (B, out)
        if act == "tanh":
            y = np.tanh(y)
        self._bpk_y = y
        y = y.T if cols else y
        if recipe.forward.out_path is not None:
            put(self, recipe.forward.out_path, y)
        return y

    def backward(self, *args):
        dy = np.asarray(args[-1], dtype=float)
        dy = dy.T if cols else dy
        if act == "tanh":
            dy = dy * (1.0 - self._bpk_y ** 2)     # through tanh, from its output
        W, _ = weights(self)
        dW = scale * batch_scale(len(dy)) * dy.T @ self._bpk_x   # (out, B) @ (B, in) -> (out, in)
        db = scale * batch_scale(len(dy)) * dy.sum(axis=0)      # (out,)
        put(self, bw.grads_from["W"], dW.T if in_out else dW)
        if "b" in bw.grads_from:
            put(self, bw.grads_from["b"], db)
        dx = scale * dy @ W                    # (B, out) @ (out, in) -> (B, in)
        return dx.T if cols else dx

    methods = {recipe.forward.method: forward, bw.method: backward}
    if recipe.forward.method != "forward" and not hasattr(base, "forward"):
        methods["forward"] = forward
    obj.__class__ = type(f"Kit{base.__name__}", (base,), methods)
    return obj


def _batch_scale(recipe, n_in, n_out, seed):
    """1/B when the student's own layer averages its parameter gradients over the batch (an
    allowed convention its checker is written for), else 1: the stand-in keeps the student's scale."""
    from conformance.adapters.discovery.linear import DiscoveredLinear

    try:
        layer = DiscoveredLinear(recipe, n_in, n_out, seed)
        rng = np.random.default_rng(seed + 99)
        x, dy = rng.standard_normal((6, n_in)), rng.standard_normal((6, n_out))
        layer.forward(x)
        layer.backward(dy)
        dW = layer.get_grads()["W"]
    except Exception:  # the student's layer is broken: the stand-in uses the plain sum
        return lambda B: 1.0
    if np.allclose(dW, dy.T @ x / 6, rtol=1e-6, atol=1e-9):
        return lambda B: 1.0 / B
    return lambda B: 1.0


def _kit_weights(n_in, n_out, seed):
    rng = np.random.default_rng(seed + 1)
    return rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), rng.standard_normal(n_out) * 0.1


def _cases(recipe, seed, planted, nonlinear=False, n_in=4, n_out=3, batch=5):
    """x, dy, f(x) = sum(layer(x) * dy) and its gradient (times the bug's scale); the layer is
    x W^T + b, or tanh of it when ``nonlinear``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, n_in))
    dy = rng.standard_normal((batch, n_out))
    W, b = _kit_weights(n_in, n_out, seed)
    act = np.tanh if nonlinear else (lambda z: z)

    def f(x_):
        return float(np.sum(act(np.asarray(x_, dtype=float) @ W.T + b) * dy))

    dz = dy * (1.0 - np.tanh(x @ W.T + b) ** 2) if nonlinear else dy
    analytic = scale_of(planted) * dz @ W
    return x, dy, f, analytic


def _forms(fn, recipe):
    """(text, call(seed, planted, nonlinear, step_factor) -> student's answer, numeric) for each
    convention ``fn`` may take."""
    params = [p for p in inspect.signature(fn).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    need = required(fn)
    first = params[0].name.lower() if params else ""
    out = []
    if recipe is not None and (words(first) & LAYER_WORDS or not words(first) & FN_WORDS):
        def layer_call(seed, planted, nonlinear, factor, n):
            layer = kit_layer(recipe, 4, 3, seed, planted, nonlinear)
            if layer is None:
                raise Missing("the kit cannot stand in for this layer's backward")
            x, dy, _, _ = _cases(recipe, seed, planted, nonlinear)
            xs, dys = (x.T.copy(), dy.T.copy()) if recipe.data == "cols" else (x, dy)
            kw = step_kwargs(fn, factor)
            return fn(layer, xs, dys, **kw) if n == 3 else fn(layer, xs, **kw)
        if len(need) <= 3 <= len(params):
            out.append(("check(layer, x, dy)", lambda s, p, nl=False, k=1.0: layer_call(s, p, nl, k, 3), False))
        if len(need) <= 2 <= len(params):
            out.append(("check(layer, x)", lambda s, p, nl=False, k=1.0: layer_call(s, p, nl, k, 2), False))
    if words(first) & FN_WORDS or first in ("f", "fn"):
        def fn_call(seed, planted, nonlinear, factor, with_analytic):
            x, _, f, analytic = _cases(recipe, seed, planted, nonlinear)
            kw = step_kwargs(fn, factor)
            return fn(f, x.copy(), analytic, **kw) if with_analytic else fn(f, x.copy(), **kw)
        if len(need) <= 3 <= len(params):
            out.append(("check(f, x, analytic)", lambda s, p, nl=False, k=1.0: fn_call(s, p, nl, k, True), False))
        if len(need) <= 2:
            out.append(("numerical_gradient(f, x)", lambda s, p, nl=False, k=1.0: fn_call(s, p, nl, k, False), True))
    return out


NET_SIZES, NET_BATCH = (4, 5, 3), 6


class PathIO:
    """W, b and their gradients where a discovered linear layer keeps them (``recipe``'s paths)."""

    def __init__(self, recipe):
        self.recipe, self.in_out = recipe, recipe.layout == "in_out"

    def read(self, obj):
        W = np.asarray(get(obj, self.recipe.w_path), dtype=float)
        W = W.T if self.in_out else W
        b = np.asarray(get(obj, self.recipe.b_path), dtype=float).reshape(-1) if self.recipe.b_path else np.zeros(len(W))
        return W, b

    def write(self, obj, W, b):
        put(obj, self.recipe.w_path, W.T if self.in_out else W)
        if self.recipe.b_path:
            put(obj, self.recipe.b_path, b)

    def store_grads(self, obj, dW, db):
        grads = self.recipe.backward.grads_from
        put(obj, grads["W"], dW.T if self.in_out else dW)
        if "b" in grads:
            put(obj, grads["b"], db)


def network_forms(fn, found) -> list:
    """check(model, loss, x, y), check(model, x, y, loss) and check(model, x, y): the student's own
    container at 4-5-3 and its loss class, with the kit's maths in their methods (SPEC 12: the
    student's layers, activations and loss never decide the checker's verdict); the labels as the
    student's loss reads them."""
    container, recipe = found.container, found.linear
    if container is None or recipe is None or not can_stand_in(recipe):
        return []
    loss_c = found.losses["cross_entropy"][0] if "cross_entropy" in found.losses else None
    loss_object = loss_c is not None and loss_c.is_class
    params = [p for p in inspect.signature(fn).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not params or not words(params[0].name) & {"model", "net", "network", "nn", "mlp", "sequential"}:
        return []
    from conformance.adapters.discovery import networks

    def call(seed, planted, nonlinear, factor, order):
        sizes = list(NET_SIZES)
        model = container.make(sizes, container.hidden_kind or "relu")
        held = networks._linear_objects(model, recipe.cls)
        act, state = "tanh" if nonlinear else "identity", {}
        network_stand_in(model, held, PathIO(recipe), container.forward, container.backward, act, planted, seed,
                         state, cols=recipe.data == "cols", targets_backward=container.backward_targets)
        loss = loss_stand_in(attempt(loss_c.obj), state, act) if loss_object else None
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((NET_BATCH, sizes[0]))
        labels = rng.integers(0, sizes[-1], NET_BATCH)
        y = np.eye(sizes[-1])[labels] if loss_c is not None and loss_c.reading.targets == "onehot" else labels
        x = x.T.copy() if recipe.data == "cols" else x
        kw = step_kwargs(fn, factor)
        return {"loss_x_y": lambda: fn(model, loss, x, y, **kw), "x_y_loss": lambda: fn(model, x, y, loss, **kw),
                "x_y": lambda: fn(model, x, y, **kw)}[order]()

    need = required(fn)
    out = []
    if loss_object and len(need) <= 4 <= len(params):
        out += [("check(model, loss, x, y)", lambda s, p, nl=False, k=1.0: call(s, p, nl, k, "loss_x_y"), False),
                ("check(model, x, y, loss)", lambda s, p, nl=False, k=1.0: call(s, p, nl, k, "x_y_loss"), False)]
    if len(need) <= 3 <= len(params):
        out.append(("check(model, x, y)", lambda s, p, nl=False, k=1.0: call(s, p, nl, k, "x_y"), False))
    return out


def _read(answer, numeric, seed, planted, recipe, nonlinear=False):
    if numeric:
        if not isinstance(answer, np.ndarray):
            return None
        _, _, _, analytic = _cases(recipe, seed, planted, nonlinear)
        if answer.shape != analytic.shape:
            return None
        err = float(np.max(np.abs(answer - analytic) / np.maximum(np.abs(answer) + np.abs(analytic), 1e-12)))
        return {"error": err, "passed": None}
    report = interpret_check(answer)
    return report if report["error"] is not None or report["passed"] is not None else None


class Checker:
    def __init__(self, name, fn, how, call, numeric, recipe):
        self.name, self.fn, self.how, self.call, self.numeric, self.recipe = name, fn, how, call, numeric, recipe
        self.step = step_default(fn)  # (name, default) of its finite-difference step, or None

    def describe(self) -> str:
        what = "its numerical gradient is compared by the kit" if self.numeric else "its answer is read"
        return f"{self.name}: called as {self.how} on a case the kit controls; {what}"

    def run(self, planted_bug, seed: int, nonlinear: bool = False, step_factor: float = 1.0) -> dict:
        answer = self.call(seed, planted_bug, nonlinear, step_factor)
        report = _read(answer, self.numeric, seed, planted_bug, self.recipe, nonlinear)
        return report or {"error": None, "passed": None}


def find(defs, recipe, taken=(), found=None) -> tuple[Checker | None, list[str]]:
    """``found``: the Discovery, for checkers of whole networks (its container, layer and loss)."""
    rejected = []
    funcs = [(n, f) for n, f in defs if inspect.isfunction(f) and f not in taken]
    funcs.sort(key=lambda nf: not (words(nf[0]) & CHECK_WORDS))
    for name, fn in funcs:
        try:
            forms = _forms(fn, recipe) + (network_forms(fn, found) if found is not None else [])
        except (TypeError, ValueError):
            continue
        for how, call, numeric in forms:
            try:
                answer = attempt(call, 0, False)
            except (StudentRaised, Missing):
                continue
            if _read(answer, numeric, 0, False, recipe) is not None:
                return Checker(name, fn, how.replace("check", name, 1) if not numeric else how.replace(
                    "numerical_gradient", name), call, numeric, recipe), rejected
        if words(name) & CHECK_WORDS:
            rejected.append(f"{name} (no calling convention the kit tried gave a readable answer)")
    return None, rejected
