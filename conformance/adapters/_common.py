"""Pieces every style adapter shares: name lookup, seeded construction, generic handles.

Handles never fix the student's maths: they copy arrays in, call the student's methods, and
transpose weights stored (in, out) so that everything leaving a handle is canonical.
"""
from __future__ import annotations

import contextlib
import inspect
import io
import random
from typing import Any, Callable

import numpy as np

from conformance.adapters.base import Adapter, Found, LayerHandle, LossHandle, Missing, OptimizerHandle
from conformance.components import COMPONENTS

ACTIVATION_NAMES = {
    "relu": ("ReLU", "Relu", "ReLUActivation"),
    "sigmoid": ("Sigmoid", "SigmoidActivation"),
    "tanh": ("Tanh", "TanhActivation"),
    "softmax": ("Softmax", "SoftmaxActivation"),
}


# --- lookup and construction -----------------------------------------------------------------


def find(ns: dict, *names: str):
    """(name, object) for the first of ``names`` defined in ``ns``; "Cls.method" needs the method."""
    for name in names:
        cls_name, _, method = name.partition(".")
        obj = ns.get(cls_name)
        if obj is not None and (not method or callable(getattr(obj, method, None))):
            return name, obj
    return None


def need(ns: dict, what: str, *names: str):
    hit = find(ns, *names)
    if hit is None:
        raise Missing(f"no {what} (looked for {', '.join(names)})")
    return hit


def quiet():
    """Swallow what student code prints while the kit drives it."""
    return contextlib.redirect_stdout(io.StringIO())


def params_of(fn) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return {}


def pick_arg(fn, *candidates: str) -> str | None:
    """The first of ``candidates`` that ``fn`` takes as a parameter name."""
    names = params_of(fn)
    return next((c for c in candidates if c in names), None)


def construct(cls, *args, seed: int = 0, **kwargs):
    """Build a student object deterministically: the global numpy RNG and Python's ``random`` are
    seeded (students use np.random, or random.uniform), and an ``rng=`` parameter, when the
    constructor has one, gets a Generator."""
    if "rng" in params_of(cls) and "rng" not in kwargs:
        kwargs["rng"] = np.random.default_rng(seed)
    with quiet():
        np.random.seed(seed)
        random.seed(seed)
        return cls(*args, **kwargs)


def f64(x) -> np.ndarray:
    return np.array(x, dtype=np.float64, copy=True)


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    out = np.zeros((len(labels), classes))
    out[np.arange(len(labels)), np.asarray(labels, dtype=int)] = 1.0
    return out


def weight_layout(W: np.ndarray, in_features: int, out_features: int) -> str:
    shape = np.shape(W)
    if shape == (out_features, in_features):
        return "out_in"
    if shape == (in_features, out_features):
        return "in_out"
    return f"unknown {shape}"


def plant_bug(obj, transform: Callable):
    """Give ``obj`` (in place) a backward whose result is ``transform(result, obj)``: the same
    object, so the student's checker sees its own class (isinstance still holds)."""
    base = type(obj)

    def backward(self, *args, **kwargs):
        return transform(base.backward(self, *args, **kwargs), self)

    obj.__class__ = type(f"Planted{base.__name__}", (base,), {"backward": backward})
    return obj


def interpret_check(result) -> dict:
    """Read what a student's gradient checker returned: a number (an error), a bool (passed),
    a dict (per-parameter dicts with "error"/"passed", or those keys directly) or a tuple."""
    if isinstance(result, (bool, np.bool_)):
        return {"error": None, "passed": bool(result)}
    if isinstance(result, (int, float, np.floating, np.integer)):
        return {"error": float(result), "passed": None}
    if isinstance(result, dict):
        if any(k in result for k in ("error", "passed", "max_error", "relative_error")):
            result = {"_": result}
        parts = [interpret_check(v) if not isinstance(v, dict) else interpret_check(
            (v.get("error", v.get("max_error", v.get("relative_error"))), v.get("passed")))
            for v in result.values()]
        errors = [p["error"] for p in parts if p["error"] is not None]
        passes = [p["passed"] for p in parts if p["passed"] is not None]
        return {"error": max(errors) if errors else None, "passed": all(passes) if passes else None}
    if isinstance(result, (tuple, list)):
        out = {"error": None, "passed": None}
        for item in result:
            part = interpret_check(item)
            out = {k: out[k] if out[k] is not None else part[k] for k in out}
        return out
    return {"error": None, "passed": None}


# --- parameter access ------------------------------------------------------------------------


class DictAccess:
    """Parameters in ``obj.params[name]``, gradients in ``obj.grads[name]`` (styles 000, 003, canonical)."""

    def get(self, obj, name):
        return obj.params[name]

    def set(self, obj, name, value):
        obj.params[name] = value

    def grad(self, obj, name):
        grads = getattr(obj, "grads", None) or {}
        return grads.get(name)

    def where(self, name):
        return f"grads[{name!r}]"


class AttrAccess:
    """Parameters in ``obj.W``, gradients in ``obj.dW`` (style 001)."""

    def get(self, obj, name):
        return getattr(obj, name)

    def set(self, obj, name, value):
        setattr(obj, name, value)

    def grad(self, obj, name):
        return getattr(obj, "d" + name, None)

    def where(self, name):
        return f"d{name}"


class Slot:
    """One parametrised student layer inside a handle: how to read, write and transpose it."""

    def __init__(self, obj, names, access, transpose=()):
        self.obj, self.names, self.access, self.transpose = obj, tuple(names), access, set(transpose)

    def _out(self, name, value):
        value = np.array(value, copy=True)
        return value.T if name in self.transpose else value

    def get(self) -> dict:
        return {n: self._out(n, self.access.get(self.obj, n)) for n in self.names}

    def set(self, params: dict) -> None:
        for n in self.names:
            if n in params:
                value = f64(params[n])
                old = np.shape(self.access.get(self.obj, n))
                value = value.T if n in self.transpose else value
                if value.shape != old and value.size == int(np.prod(old)):
                    value = value.reshape(old)  # e.g. a bias stored (1, out)
                self.access.set(self.obj, n, value)

    def grads(self, who: str) -> dict:
        out = {}
        for n in self.names:
            g = self.access.grad(self.obj, n)
            if g is None:
                raise Missing(f"{who} stores no gradient for {n} after backward (looked for {self.access.where(n)})",
                              gradient_of=n)
            g = self._out(n, g)
            ref = np.shape(self.get()[n])
            out[n] = g.reshape(ref) if g.shape != ref and g.size == int(np.prod(ref)) else g
        return out


# --- generic handles -------------------------------------------------------------------------


class ObjLayer(LayerHandle):
    """A student layer object. ``derivative=True`` wraps activations that only offer
    ``derivative(z)``: backward(dy) = dy * derivative(z) with z the cached forward input."""

    def __init__(self, obj, kind, student_name, slot: Slot | None = None, conventions=None, derivative=False):
        self.obj, self.kind, self.student_name, self.slot = obj, kind, student_name, slot
        self.derivative = derivative
        self.conventions = dict(conventions or {})
        self.conventions.setdefault("activation_api", "derivative" if derivative else "backward")
        self._z = None

    def forward(self, x):
        x = f64(x)
        self._z = x.copy()
        with quiet(), self._unfinished("forward"):
            return np.asarray(self.obj.forward(x))

    def backward(self, dy):
        dy = f64(dy)
        with quiet(), self._unfinished("backward"):
            if self.derivative:
                return dy * np.asarray(self.obj.derivative(self._z.copy()))
            if not callable(getattr(self.obj, "backward", None)):
                raise Missing(f"{self.student_name} has no backward method")
            return np.asarray(self.obj.backward(dy))

    @contextlib.contextmanager
    def _unfinished(self, method):
        """A skeleton left as ``raise NotImplementedError`` is missing work, not a crash."""
        try:
            yield
        except NotImplementedError:
            raise Missing(f"{self.student_name}.{method} raises NotImplementedError (not written yet)") from None

    def param_names(self):
        return self.slot.names if self.slot else ()

    def get_params(self):
        return self.slot.get() if self.slot else {}

    def set_params(self, params):
        if self.slot:
            self.slot.set(params)

    def get_grads(self):
        return self.slot.grads(self.student_name) if self.slot else {}

    def set_training(self, training: bool):
        method = getattr(self.obj, "train" if training else "eval", None)
        if callable(method) and not params_of(method):
            method()
        elif hasattr(self.obj, "training"):
            self.obj.training = training
        elif hasattr(self.obj, "is_training"):
            self.obj.is_training = training


def probe_ce_grad(loss_forward, loss_backward, wants_onehot: bool) -> dict:
    """Which gradient a cross-entropy-on-probabilities backward returns, and its batch scale,
    from one call on kit-chosen probabilities. Reported, never corrected."""
    logits = np.array([[1.0, -0.5, 0.3], [0.2, 0.4, -1.0], [-0.3, 0.9, 0.1], [0.5, 0.5, -0.2]])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.array([0, 2, 1, 1])
    y = one_hot(labels, 3)
    try:
        with quiet():
            loss_forward(p.copy(), y.copy() if wants_onehot else labels.copy())
            g = np.asarray(loss_backward(), dtype=float)
    except Exception:
        return {"grad_wrt": "unknown"}
    for wrt, base in (("logits", p - y), ("probs", -y / p)):
        c = float(np.sum(g * base) / np.sum(base * base))
        if g.shape == base.shape and np.allclose(g, c * base, rtol=1e-6, atol=1e-9):
            scale = "1/B" if np.isclose(c * len(p), 1) else "1" if np.isclose(c, 1) else f"{c:g}"
            return {"grad_wrt": wrt, "grad_scale": scale}
    return {"grad_wrt": "unknown"}


class ObjLoss(LossHandle):
    """A student loss object with forward(pred, target) and backward() (arguments passed
    again when the student's backward asks for them)."""

    def __init__(self, obj, kind, student_name, conventions):
        self.obj, self.kind, self.student_name = obj, kind, student_name
        self.conventions = dict(conventions)
        self._last = None

    def _target(self, pred, labels):
        if self.kind == "cross_entropy" and self.conventions.get("targets") == "onehot":
            return one_hot(labels, pred.shape[1])
        if self.kind == "cross_entropy":
            return np.asarray(labels, dtype=int).copy()
        return f64(labels)

    def forward(self, pred, labels):
        pred = f64(pred)
        target = self._target(pred, labels)
        self._last = (pred, target)
        with quiet():
            return float(self.obj.forward(pred.copy(), target.copy()))

    def backward(self):
        with quiet():
            needed = [p for p in params_of(self.obj.backward).values()
                      if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            args = self._last if needed and self._last else ()
            return np.asarray(self.obj.backward(*[a.copy() for a in args][: len(needed)]))


class HolderOptimizer(OptimizerHandle):
    """Runs a student optimizer on stand-in containers that persist across steps (so momentum
    and Adam state survive), copying the kit's arrays in before and out after each step."""

    def __init__(self, student_name, kind, make_state, run, read, conventions, mirrored=None):
        self.student_name, self.kind, self.conventions = student_name, kind, dict(conventions)
        self._make_state, self._run, self._read, self._state = make_state, run, read, None
        self._mirrored = mirrored  # state -> {"W@2": array}: copies of the kit's arrays the student also stepped

    def mirrors(self) -> dict:
        """The copies of the kit's parameters the student's code stepped beside them (``W@2``: the
        kit's W, handed to it as its second layer too), after the last step; {} when none."""
        return {} if self._mirrored is None or self._state is None else self._mirrored(self._state)

    def step(self, params, grads):
        if self._state is None:
            self._state = self._make_state({k: f64(v) for k, v in params.items()}, {k: f64(v) for k, v in grads.items()})
        else:
            self._state.load(params, grads)
        with quiet():
            self._run(self._state)
        for k, v in self._read(self._state).items():
            params[k][...] = np.reshape(v, np.shape(params[k]))


def hyper_kwargs(cls, lr=None, momentum=None, betas=None, eps=None) -> dict:
    """Map the kit's hyper-parameters onto the names the student's constructor uses."""
    kw = {}
    if lr is not None:
        name = pick_arg(cls, "lr", "learning_rate", "eta", "alpha", "step_size")
        if name is None:
            raise Missing(f"{cls.__name__}() takes no learning-rate argument (looked for lr, learning_rate)")
        kw[name] = lr
    if momentum is not None:
        name = pick_arg(cls, "momentum", "beta", "mu")
        if name is None:
            raise Missing(f"{cls.__name__}() takes no momentum argument (looked for momentum, beta, mu)")
        kw[name] = momentum
    if betas is not None:
        if pick_arg(cls, "betas"):
            kw["betas"] = tuple(betas)
        else:
            b1, b2 = pick_arg(cls, "beta1", "beta_1", "b1"), pick_arg(cls, "beta2", "beta_2", "b2")
            if b1 and b2:
                kw[b1], kw[b2] = betas
    if eps is not None:
        name = pick_arg(cls, "eps", "epsilon")
        if name:
            kw[name] = eps
    return kw


# --- inventory -------------------------------------------------------------------------------


def inventory_from(ns: dict, table: dict[str, tuple[tuple[str, ...], str]]) -> dict[str, Found]:
    """table: component -> (candidate names, how the style uses it)."""
    out = {}
    for comp in COMPONENTS:
        names, how = table.get(comp, ((), "this style has no such piece"))
        hit = find(ns, *names) if names else None
        if hit:
            out[comp] = Found(comp, hit[0], how)
        else:
            looked = f" (looked for {', '.join(names)})" if names else ""
            out[comp] = Found(comp, None, f"not found{looked}: {how}" if names else how)
    return out


# --- the adapter most styles share -----------------------------------------------------------

PARAMS = {"linear": ("W", "b"), "batchnorm": ("gamma", "beta"), "conv2d": ("W", "b"), "layernorm": ("gamma", "beta")}


class TableAdapter(Adapter):
    """An adapter driven by tables of the style's names. Subclasses set LAYER_NAMES (kind ->
    candidate class names), ACCESS (where parameters and gradients live) and the factories
    that differ (losses, pipelines, optimizers, checker, initialisers)."""

    LAYER_NAMES: dict[str, tuple[str, ...]] = {}
    ACCESS: Any = DictAccess()
    INVENTORY: dict[str, tuple[tuple[str, ...], str]] = {}

    def inventory(self):
        return inventory_from(self.namespace, self.INVENTORY)

    def _layer_args(self, kind, cls, hyper):
        def kw(*pairs):
            return {name: hyper[key] for key, name in pairs if key in hyper and pick_arg(cls, name)}

        if kind == "linear":
            return (hyper["in_features"], hyper["out_features"]), {}
        if kind in ("batchnorm", "layernorm"):
            return (hyper["num_features"],), kw(("eps", "eps"), ("momentum", "momentum"))
        if kind == "dropout":
            p = hyper.get("p", 0.5)
            if pick_arg(cls, "keep_prob", "keep_rate"):  # the same layer, named by what it keeps
                return (), {pick_arg(cls, "keep_prob", "keep_rate"): 1 - p}
            name = pick_arg(cls, "p", "rate", "drop_prob", "dropout", "drop_rate")
            return ((), {name: p}) if name else ((p,), {})
        if kind == "conv2d":
            args = (hyper["in_channels"], hyper["out_channels"], hyper["kernel_size"])
            return args, kw(("stride", "stride"), ("padding", "padding"))
        return (), {}

    def make_layer(self, kind, **hyper):
        names = self.LAYER_NAMES.get(kind, ())
        if not names:
            raise Missing(f"the {self.style} style has no {kind} layer")
        name, cls = need(self.namespace, f"{kind} layer", *names)
        args, kwargs = self._layer_args(kind, cls, hyper)
        obj = construct(cls, *args, seed=hyper.get("seed", 0), **kwargs)
        conventions, transpose = {}, ()
        if kind == "linear":
            n_in, n_out = hyper["in_features"], hyper["out_features"]
            layout = weight_layout(self.ACCESS.get(obj, "W"), n_in, n_out) if n_in != n_out else self._class_layout(cls)
            conventions["weight_layout"] = layout
            transpose = ("W",) if layout == "in_out" else ()
        slot = Slot(obj, PARAMS[kind], self.ACCESS, transpose) if kind in PARAMS else None
        derivative = (kind in ACTIVATION_NAMES and not callable(getattr(obj, "backward", None))
                      and callable(getattr(obj, "derivative", None)))
        return ObjLayer(obj, kind, name, slot, conventions, derivative)

    def single_sample_model(self, input_dim, hidden_dim, activation):
        """A batched style may also define the single-sample MLP of assignment 004 (appendix_a)."""
        _, cls = need(self.namespace, "single-sample one-hidden-layer MLP", "OneHiddenLayerMLP")
        return construct(cls, input_dim, hidden_dim, activation)

    def _class_layout(self, cls) -> str:
        """How ``cls`` stores W, read from a non-square instance (a square W cannot tell)."""
        return weight_layout(self.ACCESS.get(construct(cls, 3, 2), "W"), 3, 2)

    def _activation(self, hidden: str):
        name, cls = need(self.namespace, f"{hidden} activation", *ACTIVATION_NAMES[hidden])
        return construct(cls)

