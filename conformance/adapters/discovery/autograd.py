"""Autograd engines: a student's ``Tensor`` found by what it does, and the unit components graded
through it (issue #12).

An *engine* is a class that wraps an array. Built from a kit ndarray it keeps that array in an
attribute (its *data*); its operators (+, -, *, @) and its methods or the submission's functions
(exp, log, relu, sigmoid, tanh, square, sum, mean) return new engine values whose data is the
operation's result; a method called on a scalar result (its *backward*) leaves every input's
gradient in an array attribute of the input's shape (its *grad*). All of it is found by calling
the class on kit-chosen arrays; names only rank candidates (``.grad`` may be called ``.q1``).

Layers, activations and losses written on the engine (``layer(Tensor(x))``, ``f(Tensor)``,
``loss(pred, target)``) are driven as the kit's handles: forward is the call; ``backward(dy)``
builds the scalar ``sum(y * dy)`` with the engine's own ``*`` and ``sum`` (or seeds
``y.backward(dy)`` when the engine takes a seed and lacks those), calls backward and reads the
gradients of x and of the parameter tensors the layer holds.

>>> engine = find_engine(definitions(namespace))        # doctest: +SKIP
>>> engine.describe()                                    # doctest: +SKIP
'autograd engine Tensor: Tensor(ndarray) keeps it in .data; backward() on a scalar fills .grad; ops: ...'
"""
from __future__ import annotations

import functools
import inspect
import operator
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from conformance.adapters.base import LayerHandle, LossHandle, Missing
from conformance.adapters.discovery import candidates as cand
from conformance.adapters.discovery.maths import FORWARD_OF, PROBE_X, family_distance, sigmoid
from conformance.adapters.discovery.objects import StudentRaised, attempt, describe, get, parameters, required, words
from conformance.runner import describe_exception

# The kit's probe arrays: 3 x 4, no zero, no two values alike; POSITIVE for log; MAT for @.
SIGNED = PROBE_X
POSITIVE = np.abs(PROBE_X) + 0.25
OTHER = np.array([[0.6, -1.4, 2.3, -0.7], [1.9, 0.45, -1.15, 2.6], [-0.3, 1.35, 0.85, -2.2]])
MAT = np.array([[0.5, -1.2], [1.7, 0.3], [-0.8, 2.1], [1.1, -0.6]])

BINARY: dict[str, tuple[str, Callable]] = {"add": ("+", operator.add), "sub": ("-", operator.sub),
                                           "mul": ("*", operator.mul), "matmul": ("@", operator.matmul)}
UNARY: dict[str, Callable] = {"exp": np.exp, "log": np.log, "relu": lambda a: np.maximum(a, 0.0), "sigmoid": sigmoid,
                              "tanh": np.tanh, "square": np.square, "sum": np.sum, "mean": np.mean}
OPS = tuple(BINARY) + tuple(UNARY)
GRADED = ("add", "mul", "matmul", "exp", "log", "relu", "sum", "mean")  # what issue #12 asks for; others when present
ENGINE_WORDS = {"tensor", "value", "variable", "var", "node", "scalar", "array", "parameter", "param"}
REQUIRES_GRAD = ("requires_grad", "requires_gradient", "requires_grads", "trainable", "grad_enabled", "track")
KINDS = ("linear", "relu", "sigmoid", "tanh", "softmax", "mse", "cross_entropy")


class EngineError(Exception):
    """The student's engine raised while the kit differentiated through it (a student error)."""


def _close(got, expected, rtol: float = 1e-6) -> bool:
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=float)
    if got.size != expected.size or (got.shape != expected.shape and expected.size != 1):
        return False
    return bool(np.all(np.isfinite(got)) and np.allclose(got.reshape(expected.shape), expected, rtol=rtol, atol=1e-9))


@dataclass
class Engine:
    """How a submission's autograd engine is driven. ``ops``: op -> how to call it
    (``("operator", symbol)``, ``("method", name)`` or ``("function", name)``)."""

    name: str
    cls: type
    kwargs: dict
    data_attr: str
    functions: dict = field(default_factory=dict)  # name -> the submission's function
    ops: dict[str, tuple[str, str]] = field(default_factory=dict)
    backward_name: str | None = None
    grad_attr: str | None = None
    backward_error: str | None = None  # what backward raised while the kit looked for it
    seed: bool = False
    backward_function: bool = False  # backward_name is a function of the submission's, f(result)
    scalar_error: str = ""  # what backward() raised on a scalar when only its seeded form works

    # --- values -------------------------------------------------------------------------------
    def tensor(self, a) -> Any:
        return self.cls(np.array(a, dtype=np.float64), **self.kwargs)

    def wrap(self, a) -> Any:
        """An engine value over the caller's own array (no copy by the kit)."""
        return self.cls(a, **self.kwargs)

    def is_value(self, t) -> bool:
        return isinstance(t, self.cls)

    def data(self, t, what: str = "the result") -> np.ndarray:
        if not self.is_value(t):
            raise TypeError(f"{what} is a {type(t).__name__}, not a {self.name} of your engine")
        return np.asarray(getattr(t, self.data_attr), dtype=float)

    def write(self, t, value) -> None:
        """Overwrite an engine value's data with ``value`` (in place when the shapes agree)."""
        current = getattr(t, self.data_attr)
        value = np.asarray(value, dtype=np.float64)
        if isinstance(current, np.ndarray) and current.size == value.size:
            value = value.reshape(current.shape)
            if current.dtype == np.float64 and current.flags.writeable:
                current[...] = value
                return
        setattr(t, self.data_attr, value.copy())

    def grad(self, t) -> np.ndarray | None:
        """The gradient the last backward left in ``t`` (None when it holds none)."""
        value = getattr(t, self.grad_attr, None) if self.grad_attr else None
        if value is None:
            return None
        g = np.asarray(getattr(value, self.data_attr) if self.is_value(value) else value, dtype=float)
        return np.broadcast_to(g, np.shape(getattr(t, self.data_attr))).copy() if g.ndim == 0 else g

    def fresh_grad(self, t) -> None:
        """Give ``t`` the gradient a newly built value holds (the kit's own zero_grad)."""
        if self.grad_attr:
            proto = getattr(self.tensor(getattr(t, self.data_attr)), self.grad_attr, None)
            try:
                setattr(t, self.grad_attr, proto)
            except AttributeError:
                pass

    # --- operations ---------------------------------------------------------------------------
    def apply(self, op: str, *args):
        how, name = self.ops[op]
        if how == "operator":
            return BINARY[op][1](*args)
        if how == "method":
            return getattr(args[0], name)()
        return self.functions[name](*args)

    def op_text(self, op: str) -> str:
        how, name = self.ops[op]
        return {"operator": name, "method": f".{name}()", "function": f"{name}()"}[how]

    def run_backward(self, t, *seed) -> None:
        """``t.backward(*seed)``; what it raises becomes one sentence naming the engine."""
        if self.backward_name is None:
            raise EngineError(f"your engine {self.name} has no backward the kit could use: {self.backward_error}")
        try:
            if self.backward_function:
                self.functions[self.backward_name](t)
            else:
                getattr(t, self.backward_name)(*seed)
        except (Missing, TimeoutError):
            raise
        except Exception as exc:  # the student's backward raised: their error, in one sentence
            where = f"{self.backward_name}(result)" if self.backward_function else f"{self.name}.{self.backward_name}()"
            raise EngineError(f"your engine's {where} raised {describe_exception(exc)}") from None
        if self.grad_attr is None:
            raise EngineError(f"your engine's {self.name}.{self.backward_name}() left no gradient the kit could read: "
                              f"{self.backward_error}")

    def vjp(self, y, dy) -> str:
        """Backward of ``sum(y * dy)``: with the engine's own ``*`` and ``sum`` when it has them,
        else by seeding ``y.backward(dy)``; a scalar y with dy = 1 needs neither. Returns how."""
        dy = np.asarray(dy, dtype=np.float64)
        self.data(y, "the output")
        if dy.size == 1 and float(dy.reshape(-1)[0]) == 1.0 and self.data(y).size == 1:
            self.run_backward(y)
            return "backward() on the scalar"
        if "mul" in self.ops and "sum" in self.ops:
            self.run_backward(self.apply("sum", self.apply("mul", y, self.tensor(dy))))
            return f"backward() on sum(y * dy) built with your {self.op_text('mul')} and {self.op_text('sum')}"
        if self.seed:
            self.run_backward(y, dy)
            return "backward(dy) seeded with dy"
        takes = not self.backward_function and bool(parameters(getattr(self.cls, self.backward_name, None)))
        seed = (f"its {self.backward_name}() takes a gradient but did not leave seed times the local derivative in "
                f"the inputs when the kit handed it one" if takes else
                f"its {self.backward_name}() takes no upstream gradient")
        raise Missing(f"your engine {self.name} has no * and sum to build sum(y * dy), and {seed}: the kit cannot "
                      "take a vector-Jacobian product")

    @property
    def backward_text(self) -> str:
        """How the engine's backward is called, for messages: ``Tensor.backward()`` or ``run_backward(result)``."""
        return f"{self.backward_name}(result)" if self.backward_function else f"{self.name}.{self.backward_name}()"

    def lacks(self) -> list[str]:
        return [op for op in OPS if op not in self.ops]

    def describe(self) -> str:
        ops = ", ".join(self.op_text(op) for op in OPS if op in self.ops)
        if self.backward_name and self.grad_attr and self.backward_function:
            how = f"the function {self.backward_name}(scalar) fills .{self.grad_attr}"
        elif self.backward_name and self.grad_attr and self.scalar_error:
            how = f"{self.backward_name}(seed) fills .{self.grad_attr} (on the kit's scalar, {self.scalar_error})"
        elif self.backward_name and self.grad_attr:
            how = f"{self.backward_name}() on a scalar fills .{self.grad_attr}" + \
                  (" (takes a seed gradient too)" if self.seed else "")
        else:
            how = f"its backward raised: {self.backward_error}"
        lacking = ", ".join(self.lacks())
        return (f"autograd engine {self.name}: {self.name}(ndarray) keeps it in .{self.data_attr}; {how}; ops: {ops}"
                + (f"; lacks {lacking}" if lacking else ""))


# --- finding the engine ------------------------------------------------------------------------


def _array_attrs(t) -> dict[str, np.ndarray]:
    """Float arrays an engine value holds, by attribute name (own attributes and .data/.grad)."""
    out = {}
    try:
        items = dict(vars(t))
    except TypeError:
        items = {}
    for name in ("data", "grad", "value", "val"):
        if name not in items:
            try:
                items[name] = getattr(t, name)
            except Exception:
                continue
    for name, value in items.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            out[name] = value
        elif isinstance(value, (float, int)) and not isinstance(value, bool):
            out[name] = np.asarray(float(value))
    return out


def _methods(cls) -> list[str]:
    """Public methods callable with no argument, in definition order."""
    out = []
    for klass in reversed(cls.__mro__[:-1]):
        for name, member in vars(klass).items():
            if name.startswith("_") or name in out or not inspect.isfunction(member):
                continue
            if not required(member):
                out.append(name)
    return out


def _rank_name(name: str, wanted: set[str]) -> int:
    return 0 if words(name) & wanted or name.lower() in wanted else 1


def _try_engine(name: str, cls, functions: dict) -> Engine | None:
    params = parameters(cls)
    need = [p for p in params if p.default is p.empty]
    if not params or len(need) > 1:
        return None
    kwargs = {p.name: True for p in params[1:] if p.name.lower() in REQUIRES_GRAD}
    try:
        value = attempt(cls, SIGNED.copy(), **kwargs)
    except StudentRaised:
        return None
    data_attr = next((a for a, arr in sorted(_array_attrs(value).items(), key=lambda kv: kv[0] != "data")
                      if arr.shape == SIGNED.shape and np.array_equal(arr, SIGNED)), None)
    if data_attr is None:
        return None
    eng = Engine(name, cls, kwargs, data_attr, functions)
    for op, (symbol, fn) in BINARY.items():
        right = MAT if op == "matmul" else OTHER
        expected = fn(SIGNED, right)
        try:
            out = attempt(fn, eng.tensor(SIGNED), eng.tensor(right))
        except StudentRaised:
            continue
        if eng.is_value(out) and _close(eng.data(out), expected):
            eng.ops[op] = ("operator", symbol)
    _find_binary_functions(eng)
    if not eng.ops:
        return None
    _find_unary(eng)
    _find_backward(eng)
    if eng.backward_name is None:
        return None
    if eng.grad_attr is not None:
        _find_seed(eng)
    else:  # backward() on a scalar raised (its sum or mean breaks): it may still take a seed
        _find_seeded_backward(eng)
    return eng


OP_WORDS = {"add": {"add", "plus"}, "sub": {"sub", "subtract", "minus"}, "mul": {"mul", "multiply", "times"},
            "matmul": {"matmul", "dot", "mm"}}


def _find_binary_functions(eng: Engine) -> None:
    """Operations the engine offers as functions of two values (``add(a, b)``, ``dot(a, b)``)
    where it overloads no operator for them: a function whose answer on two kit values is a value
    holding the operation's result. Names rank among several that fit."""
    for op, (_symbol, fn) in BINARY.items():
        if op in eng.ops:
            continue
        right = MAT if op == "matmul" else OTHER
        fits = []
        for order, (name, f) in enumerate(eng.functions.items()):
            if len(required(f)) != 2:
                continue
            try:
                out = attempt(f, eng.tensor(SIGNED), eng.tensor(right))
            except StudentRaised:
                continue
            if eng.is_value(out) and _close(eng.data(out), fn(SIGNED, right)):
                fits.append((_rank_name(name, OP_WORDS[op]), order, name))
        if fits:
            eng.ops[op] = ("function", min(fits)[2])


def _find_unary(eng: Engine) -> None:
    tried = [("method", m) for m in sorted(_methods(eng.cls), key=lambda m: "back" in m.lower())
             if not {"backward", "backprop", "zero"} & words(m)]
    tried += [("function", n) for n, f in eng.functions.items() if len(required(f)) == 1]
    for how, name in tried:
        outs = {}
        for label, arr in (("signed", SIGNED), ("positive", POSITIVE)):
            try:
                t = eng.tensor(arr)
                out = attempt(getattr(t, name)) if how == "method" else attempt(eng.functions[name], t)
            except StudentRaised:
                continue
            if eng.is_value(out):
                outs[label] = eng.data(out)
        for op, fn in UNARY.items():
            label, arr = ("positive", POSITIVE) if op == "log" else ("signed", SIGNED)
            if label in outs and _close(outs[label], fn(arr)):
                current = eng.ops.get(op)
                if current is None or (_rank_name(name, {op}) < _rank_name(current[1], {op})):
                    eng.ops[op] = (how, name)


def _scalar_of(eng: Engine, x) -> tuple[Any, np.ndarray] | None:
    """A scalar built from x with the engine's ops, and the gradient it must leave in x."""
    if "mul" in eng.ops and "sum" in eng.ops:
        return eng.apply("sum", eng.apply("mul", x, eng.tensor(OTHER))), OTHER
    if "sum" in eng.ops:
        return eng.apply("sum", x), np.ones_like(SIGNED)
    if "mean" in eng.ops:
        return eng.apply("mean", x), np.full_like(SIGNED, 1.0 / SIGNED.size)
    if "mul" in eng.ops:  # a non-scalar output: engines that seed ones accept it
        return eng.apply("mul", x, eng.tensor(OTHER)), OTHER
    return None


def _find_backward(eng: Engine) -> None:
    """The zero-argument method that, called on a scalar, fills an array of x's shape in x; else a
    function of the submission's that does so when handed the scalar (``backward_graph(loss)``, the
    whole graph's walk, where the values' own method runs one node only)."""
    taken = {name for _, name in eng.ops.values()}
    methods = sorted((m for m in _methods(eng.cls) if eng.ops.get(m) is None and m not in taken),
                     key=lambda m: (_rank_name(m, {"backward", "backprop", "backpropagate"}), "grad" not in m.lower()))
    functions = sorted((n for n, f in eng.functions.items() if len(required(f)) == 1 and n not in taken),
                       key=lambda n: _rank_name(n, {"backward", "backprop", "backpropagate", "grad", "graph"}))
    for name, is_function in [(m, False) for m in methods] + [(n, True) for n in functions]:
        try:
            x = eng.tensor(SIGNED)
            built = attempt(_scalar_of, eng, x)
        except StudentRaised:
            return
        if built is None:
            return
        scalar, expected = built
        before = {a: v.copy() for a, v in _array_attrs(x).items()}
        named = not is_function and bool(words(name) & {"backward", "backprop"})
        try:
            attempt(eng.functions[name], scalar) if is_function else attempt(getattr(scalar, name))
        except StudentRaised as exc:
            if named and eng.backward_error is None:
                eng.backward_name = name
                eng.backward_error = f"{name}() raised {describe_exception(exc.cause)}"
            continue
        after = _array_attrs(x)
        moved = [a for a, v in after.items() if a != eng.data_attr and v.shape == SIGNED.shape
                 and (a not in before or not np.array_equal(before[a], v))]
        moved.sort(key=lambda a: (not _close(after[a], expected), "grad" not in a.lower()))
        if moved and (_close(after[moved[0]], expected) or named):
            eng.backward_name, eng.grad_attr, eng.backward_error = name, moved[0], None
            eng.backward_function = is_function
            return


def _find_seed(eng: Engine) -> None:
    """Does backward(g) on a non-scalar value honour g as the upstream gradient?"""
    if "mul" not in eng.ops or eng.backward_function or not parameters(getattr(eng.cls, eng.backward_name)):
        return
    try:
        x = eng.tensor(SIGNED)
        attempt(getattr(eng.apply("mul", x, eng.tensor(OTHER)), eng.backward_name), POSITIVE.copy())
    except StudentRaised:
        return
    eng.seed = _close(eng.grad(x), OTHER * POSITIVE)


def _find_seeded_backward(eng: Engine) -> None:
    """``backward(gradient=None)`` whose scalar form raised: called with a seed on ``x * c`` (or
    ``x + c``), does it leave seed * c (or the seed) in an array attribute of x? Then that is the
    engine's grad, and the kit takes vector-Jacobian products by seeding."""
    method = getattr(eng.cls, eng.backward_name, None)
    if eng.backward_function or not callable(method) or not parameters(method):
        return
    op = "mul" if "mul" in eng.ops else "add" if "add" in eng.ops else None
    if op is None:
        return
    expected = OTHER * POSITIVE if op == "mul" else POSITIVE
    try:
        x = eng.tensor(SIGNED)
        before = {a: v.copy() for a, v in _array_attrs(x).items()}
        attempt(getattr(eng.apply(op, x, eng.tensor(OTHER)), eng.backward_name), POSITIVE.copy())
    except StudentRaised:
        return
    after = _array_attrs(x)
    moved = [a for a, v in after.items() if a != eng.data_attr and v.shape == SIGNED.shape
             and (a not in before or not np.array_equal(before[a], v)) and _close(v, expected)]
    if moved:
        eng.grad_attr, eng.seed = sorted(moved, key=lambda a: "grad" not in a.lower())[0], True
        eng.scalar_error, eng.backward_error = eng.backward_error or "", None


def find_engine(defs: list[tuple[str, Any]]) -> Engine | None:
    """The submission's autograd engine, or None. Several candidates: the one with a working
    backward, then more operations, then a name like Tensor/Value. An array engine the kit cannot
    take a vector-Jacobian product through (no * and sum, no seed) gives way to a scalar reading
    of the submission (scalar.py: micrograd's Value, lifted element-wise by the kit)."""
    functions = {n: f for n, f in defs if inspect.isfunction(f)}
    found = []
    for order, (name, obj) in enumerate(defs):
        if inspect.isclass(obj):
            try:
                eng = _try_engine(name, obj, functions)
            except Exception:  # a class that breaks the kit's reading of it is no engine it can drive
                eng = None
            if eng is not None:
                found.append(((eng.grad_attr is None, -len(eng.ops), _rank_name(name, ENGINE_WORDS), order), eng))
    array = min(found, key=lambda ke: ke[0])[1] if found else None
    from conformance.adapters.discovery.scalar import can_vjp, find_scalar_engine
    if can_vjp(array):
        return array
    scalar = find_scalar_engine(defs)  # micrograd's Value of one float, lifted to arrays by the kit
    return scalar if scalar is not None and (scalar.grad_attr is not None or array is None) else array


# --- unit components written on the engine -------------------------------------------------------


def held(eng: Engine, obj, depth: int = 2) -> dict[tuple, Any]:
    """Engine values an object holds in attributes, lists or dicts (path -> value)."""
    if getattr(eng, "scalar", False):  # a scalar engine's arrays are read from the lists that hold its values
        return eng.held_values(obj, max(depth, 5))
    out: dict[tuple, Any] = {}

    def walk(value, path, left):
        if eng.is_value(value):
            out.setdefault(path, value)
            return
        if left == 0 or isinstance(value, (str, bytes, int, float, type, np.ndarray)) or inspect.isroutine(value):
            return  # a layer object with __call__ is walked; functions and methods are not
        if isinstance(value, dict):
            items = [(("k", k), v) for k, v in value.items() if isinstance(k, (str, int))]
        elif isinstance(value, (list, tuple)):
            items = [(("k", i), v) for i, v in enumerate(value[:8])]
        else:
            try:
                items = [(("a", k), v) for k, v in vars(value).items()]
            except TypeError:
                return
        for step, v in items:
            walk(v, path + (step,), left - 1)

    try:
        attrs = dict(vars(obj))
    except TypeError:
        attrs = {}
    for name, value in attrs.items():
        walk(value, (("a", name),), depth)
    return out


@dataclass
class Unit:
    """One unit component found on the engine: how to build it and how to call it."""

    kind: str
    name: str
    obj: Any  # a class, a function, or an op name of the engine (kind "engine")
    how: str  # "class" | "function" | "engine"
    call: str = "__call__"  # the method a class instance is called with
    layout: str = "out_in"  # linear: how W is stored
    w_path: tuple | None = None
    b_path: tuple | None = None
    value_form: str = ""  # mse, cross_entropy: the value form found
    order: str = "pred, target"
    ce: tuple = ()  # cross_entropy: (input "logits" | "probs", targets "int" | "onehot", targets as engine values)
    lists: str = ""  # mse on a scalar engine: how the values are handed ("rows"/"flat", "numbers"/"values")

    def describe(self, eng: Engine) -> str:
        if self.how == "engine":
            via = f"x{eng.op_text(self.obj)}"
        else:
            sizes, method = "..." if self.kind == "linear" else "", "" if self.call == "__call__" else f".{self.call}"
            via = f"{self.name}(x)" if self.how == "function" else f"{self.name}({sizes}){method}(x)"
        extra = ""
        if self.kind == "linear":
            extra = f"; W {'(in, out)' if self.layout == 'in_out' else '(out, in)'} in {describe(self.w_path)}" + \
                    (f", b in {describe(self.b_path)}" if self.b_path else ", no bias")
        if self.kind in ("mse", "cross_entropy"):
            via, extra = f"{self.name}({self.order})", f"; value: {self.value_form}"
            if self.lists:
                from conformance.adapters.discovery.scalar import lists_text
                via = f"{self.name}({self.order}) with {lists_text(eng, self.lists)}"
                return (f"{self.name}: through your scalar engine {eng.name}: {via}, returning one {eng.name}"
                        f"{extra}; gradient by {eng.backward_name}() on it, read from the predictions' "
                        f".{eng.grad_attr}")
        return (f"{self.name}: through your autograd engine {eng.name}: forward {via} on a {eng.name}{extra}; "
                f"gradients by {eng.backward_name}() and .{eng.grad_attr}")


def _callers(obj) -> list[str]:
    names = []
    if callable(obj) and "__call__" in {n for k in type(obj).__mro__[:-1] for n in vars(k)}:
        names.append("__call__")
    names += [m for m in ("forward", "fprop", "predict") if callable(getattr(obj, m, None))]
    return names


def _find_linear(eng: Engine, defs) -> tuple[Unit | None, list[str]]:
    x = np.arange(20, dtype=float).reshape(4, 5) / 7 - 1.3
    rng = np.random.default_rng(12)
    W_oi, b = rng.standard_normal((3, 5)), rng.standard_normal(3)
    found, rejected = [], []
    for order, (name, cls) in enumerate(defs):
        if not inspect.isclass(cls) or cls is eng.cls:
            continue
        for call in cand.size_calls(cls, 5, 3)[:4]:
            try:
                obj = attempt(cls, *call.args, **call.kwargs)
            except StudentRaised:
                continue
            values = held(eng, obj)
            ws = [(p, "in_out" if eng.data(v).shape == (5, 3) else "out_in") for p, v in values.items()
                  if eng.data(v).shape in ((5, 3), (3, 5))]
            bs = [p for p, v in values.items() if eng.data(v).shape in ((3,), (1, 3), (3, 1))]
            if not ws:
                continue
            (w_path, layout), b_path = ws[0], (bs[0] if bs else None)
            eng.write(get(obj, w_path), W_oi.T if layout == "in_out" else W_oi)
            if b_path:
                eng.write(get(obj, b_path), b)
            expected = x @ W_oi.T + (b if b_path else 0.0)
            for method in _callers(obj):
                try:
                    y = attempt(getattr(obj, method) if method != "__call__" else obj, eng.tensor(x))
                except StudentRaised:
                    continue
                if eng.is_value(y) and _close(eng.data(y), expected):
                    found.append(((_rank_name(name, {"linear", "dense", "affine", "layer", "fc"}), order),
                                  Unit("linear", name, cls, "class", method, layout, w_path, b_path)))
                    break
            else:
                rejected.append(f"{name} (holds a {eng.name} of shape (5, 3) or (3, 5), but calling it on a "
                                f"{eng.name} gave no x W + b)")
                continue
            break
    return (min(found, key=lambda kf: kf[0])[1] if found else None), rejected


def _activation_kind(eng: Engine, out) -> str | None:
    if not eng.is_value(out):
        return None
    got = eng.data(out)
    near = {k: family_distance(k, got, SIGNED) for k in FORWARD_OF}
    kind = min(near, key=near.get)
    return kind if near[kind] < 0.35 else None


def _find_activations(eng: Engine, defs, taken: set[str]) -> dict[str, Unit]:
    seen: dict[str, list] = {}
    for order, (name, obj) in enumerate(defs):
        if name in taken or obj is eng.cls:
            continue
        if inspect.isclass(obj):
            call = cand.no_arg_call(obj)
            if call is None:
                continue
            try:
                inst = attempt(obj, **call.kwargs)
            except StudentRaised:
                continue
            methods, how = _callers(inst), "class"
            fns = [(m, inst if m == "__call__" else getattr(inst, m)) for m in methods]
        elif inspect.isfunction(obj) and len(required(obj)) == 1:
            how, fns = "function", [("__call__", obj)]
        else:
            continue
        for method, fn in fns:
            try:
                kind = _activation_kind(eng, attempt(fn, eng.tensor(SIGNED)))
            except StudentRaised:
                continue
            if kind:
                seen.setdefault(kind, []).append(((0, _rank_name(name, {kind}), order),
                                                  Unit(kind, name, obj, how, method)))
                break
    for op in ("relu", "sigmoid", "tanh"):  # the engine's own method, when nothing else computes it
        if op in eng.ops:
            seen.setdefault(op, []).append(((1, 0, 0), Unit(op, f"{eng.name}{eng.op_text(op)}", op, "engine")))
    return {k: min(v, key=lambda kv: kv[0])[1] for k, v in seen.items()}


MSE_FORMS = {"mean over all elements": lambda sq: sq.mean(), "mean over the batch of the per-sample sum":
             lambda sq: sq.sum() / len(sq), "1/2 * mean over all elements": lambda sq: sq.mean() / 2,
             "1/2 * mean over the batch of the per-sample sum": lambda sq: sq.sum() / (2 * len(sq)),
             "sum (not averaged)": lambda sq: sq.sum(), "1/2 * sum (not averaged)": lambda sq: sq.sum() / 2}


def _find_mse(eng: Engine, defs, taken: set[str]) -> Unit | None:
    pred = np.arange(12, dtype=float).reshape(4, 3) / 5 - 1.1
    target = OTHER.T.copy()
    sq = (pred - target) ** 2
    found = []
    for order, (name, obj) in enumerate(defs):
        call = None if name in taken or obj is eng.cls else _two_argument_call(obj)
        if call is None:
            continue
        fn, how, method = call
        params = [p.name for p in parameters(fn)]
        swapped = bool(params) and bool(words(params[0]) & {"target", "true", "y", "label", "labels", "targets"}) \
            and not words(params[0]) & {"pred", "hat", "output", "prediction"}
        try:
            args = (eng.tensor(target), eng.tensor(pred)) if swapped else (eng.tensor(pred), eng.tensor(target))
            out = attempt(fn, *args)
        except StudentRaised:
            continue
        if not eng.is_value(out) or eng.data(out).size != 1:
            continue
        value = float(eng.data(out).reshape(-1)[0])
        form = next((f for f, v in MSE_FORMS.items() if np.isclose(value, v(sq), rtol=1e-6)), None)
        if form:
            found.append(((_rank_name(name, {"mse", "squared", "l2"}), order),
                          Unit("mse", name, obj, how, method, value_form=form,
                               order="target, pred" if swapped else "pred, target")))
    return min(found, key=lambda kf: kf[0])[1] if found else None


CE_FORMS = {"mean over the batch": np.mean, "sum over the batch (not averaged)": np.sum}


def _ce_targets(eng: Engine, labels: np.ndarray, classes: int):
    """(targets form, the targets as handed over): int ids or one-hot, as an array or an engine value."""
    onehot = np.eye(classes)[labels]
    yield "int", labels
    yield "onehot", onehot
    yield "onehot", eng.tensor(onehot)
    yield "int", eng.wrap(labels.copy())  # ids kept integer (code that indexes with target.data)


def _find_cross_entropy(eng: Engine, defs, taken: set[str]) -> Unit | None:
    """A cross-entropy on the engine: a function, or a class's two-argument call, that takes logits
    (or probabilities) as an engine value and the labels (ids or one-hot, plain or as values) and
    returns one value: the softmax cross-entropy, averaged over the batch or summed."""
    logits = np.array([[1.2, -0.4, 0.3], [0.1, 0.9, -1.1], [-0.6, 0.2, 0.8], [0.5, -0.3, -0.2]])
    labels = np.array([0, 2, 1, 2])
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    per_sample = -np.log(p[np.arange(len(labels)), labels])
    found = []
    for order, (name, obj) in enumerate(defs):
        if name in taken or obj is eng.cls:
            continue
        fn = _two_argument_call(obj)
        if fn is None:
            continue
        hit = None
        for given, x in (("logits", logits), ("probs", p)):
            for targets, y in _ce_targets(eng, labels, logits.shape[1]):
                try:
                    out = attempt(fn[0], eng.tensor(x), y)
                except (StudentRaised, TypeError, ValueError):
                    continue
                if not eng.is_value(out) or eng.data(out).size != 1:
                    continue
                value = float(eng.data(out).reshape(-1)[0])
                form = next((f for f, reduce in CE_FORMS.items() if np.isclose(value, reduce(per_sample), rtol=1e-6)),
                            None)
                if form:
                    hit = (given, targets, isinstance(y, eng.cls), form)
                    break
            if hit:
                break
        if hit:
            given, targets, as_value, form = hit
            unit = Unit("cross_entropy", name, obj, fn[1], fn[2], value_form=f"{form}, on {given}",
                        order=f"{given}, {'a ' + eng.name + ' of ' if as_value else ''}{targets} targets",
                        ce=(given, targets, as_value))
            found.append(((_rank_name(name, {"cross", "entropy", "nll", "ce"}), order), unit))
    return min(found, key=lambda kf: kf[0])[1] if found else None


def _two_argument_call(obj):
    """(the callable, "function" | "class", the method) for a function of two required arguments or
    a class built without arguments whose call takes two; else None."""
    if inspect.isfunction(obj) and len(required(obj)) == 2:
        return obj, "function", "__call__"
    if inspect.isclass(obj) and cand.no_arg_call(obj) is not None:
        try:
            inst = attempt(obj, **cand.no_arg_call(obj).kwargs)
        except StudentRaised:
            return None
        methods = [m for m in _callers(inst) if len(required(inst if m == "__call__" else getattr(inst, m))) == 2]
        if methods:
            return (inst if methods[0] == "__call__" else getattr(inst, methods[0])), "class", methods[0]
    return None


@dataclass
class EngineUnits:
    engine: Engine | None
    units: dict[str, Unit] = field(default_factory=dict)
    rejected: dict[str, list[str]] = field(default_factory=dict)


def find_units(defs) -> EngineUnits:
    """The engine and the unit components written on it."""
    eng = find_engine(defs)
    if eng is None or eng.grad_attr is None and eng.backward_error is None:
        return EngineUnits(eng)
    found = EngineUnits(eng)
    if getattr(eng, "scalar", False):  # its layers take one sample as a list; its activations are its own ops
        from conformance.adapters.discovery.scalar import find_scalar_linear
        others = [(n, o) for n, o in defs if o is not eng.cls]
        try:
            linear, found.rejected["linear"] = find_scalar_linear(eng, others)
        except Exception as exc:  # the kit's own failure to read a class: no linear layer
            linear, found.rejected["linear"] = None, [f"the kit could not read the submission ({exc})"]
        if linear:
            found.units["linear"] = linear
        found.units.update(_find_activations(eng, [], set()))
        from conformance.adapters.discovery.scalar import find_scalar_mse
        try:
            mse = find_scalar_mse(eng, others, {linear.name} if linear else set())
        except Exception as exc:  # the kit's own failure to read a function: no mse on the engine
            mse, found.rejected["mse"] = None, [f"the kit could not read the submission ({exc})"]
        if mse:
            found.units["mse"] = mse
        return found
    others = [(n, o) for n, o in defs if o is not eng.cls]
    try:
        linear, found.rejected["linear"] = _find_linear(eng, others)
        if linear:
            found.units["linear"] = linear
        taken = {linear.name} if linear else set()
        found.units.update(_find_activations(eng, others, taken))
        mse = _find_mse(eng, others, taken)
        if mse:
            found.units["mse"] = mse
        ce = _find_cross_entropy(eng, others, taken | ({mse.name} if mse else set()))
        if ce:
            found.units["cross_entropy"] = ce
    except Exception as exc:  # the kit's own failure to read a class: the units found so far stand
        found.rejected.setdefault("linear", []).append(f"the kit could not read the submission ({exc})")
    return found


def units_for(discovery) -> EngineUnits:
    """What a ``Discovery`` knows of the engine, found once (when first asked for)."""
    return discovery._family("autograd", lambda: find_units(discovery.defs))


# --- handles -----------------------------------------------------------------------------------


class EngineLayer(LayerHandle):
    """A linear layer or activation on the student's engine, as a kit layer handle: forward is
    ``layer(Tensor(x))``; backward(dy) differentiates sum(y * dy) through the engine."""

    def __init__(self, eng: Engine, unit: Unit, n_in: int = 0, n_out: int = 0):
        self.eng, self.unit, self.kind, self.student_name = eng, unit, unit.kind, unit.name
        self.obj, self._x, self._grads = None, None, None
        self.conventions = {"activation_api": "backward", "autograd": f"through your engine {eng.name}"}
        if unit.how == "class":
            self.obj = self._build(n_in, n_out) if unit.kind == "linear" else \
                attempt(unit.obj, **cand.no_arg_call(unit.obj).kwargs)
        if unit.kind == "linear":
            self.conventions.update(weight_layout=unit.layout, data_layout="rows",
                                    bias_shape=str(tuple(self.eng.data(self._b).shape)) if unit.b_path else "none")

    def _build(self, n_in, n_out):
        stored = (n_in, n_out) if self.unit.layout == "in_out" else (n_out, n_in)
        for call in cand.size_calls(self.unit.obj, n_in, n_out)[:4]:
            try:
                obj = attempt(self.unit.obj, *call.args, **call.kwargs)
                w = get(obj, self.unit.w_path)
            except (StudentRaised, LookupError, AttributeError):
                continue
            if self.eng.is_value(w) and self.eng.data(w).shape == stored:
                return obj
        raise Missing(f"{self.unit.name} could not be built for {n_in} -> {n_out} features with W {stored}")

    @property
    def _w(self):
        return get(self.obj, self.unit.w_path)

    @property
    def _b(self):
        return get(self.obj, self.unit.b_path) if self.unit.b_path else None

    def _tensors(self) -> list:
        return [t for t in (self._w, self._b) if t is not None] if self.kind == "linear" else []

    def _call(self, xt):
        u = self.unit
        if u.how == "engine":
            return self.eng.apply(u.obj, xt)
        if u.how == "function":
            return u.obj(xt)
        return (self.obj if u.call == "__call__" else getattr(self.obj, u.call))(xt)

    def forward(self, x):
        return self.raw_forward(np.array(x, dtype=np.float64))

    def raw_forward(self, x):
        self._x = x
        return self.eng.data(self._call(self.eng.wrap(x)), f"{self.student_name}'s output")

    def backward(self, dy):
        return self.raw_backward(np.array(dy, dtype=np.float64))

    def raw_backward(self, dy):
        if self._x is None:
            raise Missing(f"{self.student_name}: backward before any forward")
        xt = self.eng.wrap(self._x)
        for t in self._tensors():  # the kit's zero_grad: each backward starts from fresh gradients
            self.eng.fresh_grad(t)
        self.eng.vjp(self._call(xt), dy)
        g = self.eng.grad(xt)
        if self.kind == "linear":
            self._grads = {"W": self.eng.grad(self._w)}
            if self._b is not None:
                self._grads["b"] = self.eng.grad(self._b)
        return np.zeros(np.shape(self._x)) if g is None else g

    def param_names(self):
        return ("W", "b") if self.kind == "linear" else ()

    def get_params(self):
        if self.kind != "linear":
            return {}
        W = self.eng.data(self._w)
        out = {"W": (W.T if self.unit.layout == "in_out" else W).copy()}
        if self._b is not None:
            out["b"] = self.eng.data(self._b).reshape(-1).copy()
        return out

    def set_params(self, params):
        if "W" in params:
            W = np.asarray(params["W"], dtype=np.float64)
            self.eng.write(self._w, W.T if self.unit.layout == "in_out" else W)
        if "b" in params and self._b is not None:
            self.eng.write(self._b, params["b"])

    def get_grads(self):
        if self._grads is None:
            raise Missing(f"{self.student_name}: no backward has run")
        out = {}
        W, gW = self.eng.data(self._w), self._grads["W"]
        gW = np.zeros_like(W) if gW is None else gW
        out["W"] = gW.T if self.unit.layout == "in_out" and gW.shape == W.shape else gW
        if "b" not in self._grads:
            raise Missing(f"{self.student_name} holds no bias {self.eng.name}: no gradient for b", gradient_of="b")
        b, gb = self.eng.data(self._b), self._grads["b"]
        gb = np.zeros_like(b) if gb is None else gb
        out["b"] = gb.reshape(-1) if gb.shape == b.shape else gb  # a wrong shape stays visible to the judge
        return out


class EngineLoss(LossHandle):
    """An mse loss on the student's engine: value ``loss(Tensor(pred), Tensor(target))``, gradient
    by backward() on that scalar, read from the prediction's gradient."""

    def __init__(self, eng: Engine, unit: Unit):
        self.eng, self.unit, self.kind, self.student_name = eng, unit, unit.kind, unit.name
        fn = unit.obj
        if unit.how == "class":
            inst = attempt(unit.obj, **cand.no_arg_call(unit.obj).kwargs)
            fn = inst if unit.call == "__call__" else getattr(inst, unit.call)
        self.fn, self._last = fn, None
        self.conventions = {"input": "pred", "targets": "values", "grad_wrt": "pred", "argument_order": unit.order,
                            "value": unit.value_form, "autograd": f"through your engine {eng.name}"}
        if unit.lists:
            from conformance.adapters.discovery.scalar import lists_text
            self.conventions["autograd"] = f"through your scalar engine {eng.name}, {lists_text(eng, unit.lists)}"

    def _value(self, pred_t, target):
        if self.unit.lists:  # a scalar engine's loss takes lists of its values (and the targets' numbers)
            from conformance.adapters.discovery.scalar import as_lists
            pred_t, target_t = as_lists(self.eng, self.unit.lists, pred_t, target)
        else:
            target_t = self.eng.tensor(target)
        return self.fn(target_t, pred_t) if self.unit.order == "target, pred" else self.fn(pred_t, target_t)

    def forward(self, pred, labels):
        pred, target = np.array(pred, dtype=np.float64), np.array(labels, dtype=np.float64)
        self._last = (pred, target)
        out = self.eng.data(self._value(self.eng.tensor(pred), target), f"{self.student_name}'s value")
        if out.size != 1:
            raise TypeError(f"{self.student_name} returned a {self.eng.name} of shape {out.shape}, not one number")
        return float(out.reshape(-1)[0])

    def backward(self):
        if self._last is None:
            raise Missing(f"{self.student_name}: backward before any forward")
        pred, target = self._last
        pt = self.eng.tensor(pred)
        value = self._value(pt, target)
        if self.unit.lists:
            self.eng.data(value, f"{self.student_name}'s value")
        self.eng.vjp(value, 1.0)
        g = self.eng.grad(pt)
        return np.zeros_like(pred) if g is None else g


class EngineCrossEntropy(EngineLoss):
    """A cross-entropy on the student's engine: value ``loss(Tensor(logits or probs), targets)`` in
    the targets form it was found with, gradient by backward() on that scalar, read from the
    input's gradient (d/dlogits or d/dprobs, as it takes)."""

    def __init__(self, eng: Engine, unit: Unit):
        super().__init__(eng, unit)
        given, targets, self.as_value = unit.ce
        self.conventions = {"input": given, "targets": targets, "grad_wrt": given, "value": unit.value_form,
                            "autograd": f"through your engine {eng.name}"}

    def _value(self, pred_t, labels):
        labels = np.asarray(labels)
        y = np.eye(np.shape(self._last[0])[1])[labels.astype(int)] if self.conventions["targets"] == "onehot" else \
            labels.astype(int)
        if self.as_value:
            y = self.eng.tensor(y) if self.conventions["targets"] == "onehot" else self.eng.wrap(y)
        return self.fn(pred_t, y)


class EngineRead(LayerHandle):
    """A layer the style built by its name (``ObjLayer``) whose forward may answer with a value of
    the submission's engine (a ``Dropout`` written on it): read through the engine's data, never by
    ``np.asarray`` on the value (which raises in the kit's code). Once its forward answers with an
    engine value, it is called on an engine value of the kit's input, and a layer with no backward
    of its own is differentiated through the engine (``sum(y * dy)``). Anything else is the
    wrapped handle's."""

    def __init__(self, handle, engine_of):
        self._handle, self._engine_of, self._eng = handle, engine_of, None
        self._xt = self._out = None
        self.kind, self.student_name = handle.kind, handle.student_name
        self.conventions = handle.conventions

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def set_training(self, training):
        self._handle.set_training(training)

    def param_names(self):
        return self._handle.param_names()

    def get_params(self):
        return self._handle.get_params()

    def set_params(self, params):
        self._handle.set_params(params)

    def get_grads(self):
        return self._handle.get_grads()

    def _call(self, x):
        from conformance.adapters._common import quiet

        obj = self._handle.obj
        with quiet(), self._handle._unfinished("forward"):
            return obj.forward(x)

    def forward(self, x):
        x = np.array(x, dtype=np.float64)
        if self._eng is None:
            raw = self._call(x.copy())
            eng = None if isinstance(raw, (np.ndarray, list, tuple, float, int, np.generic)) else self._engine_of()
            if eng is None or not eng.is_value(raw):
                return np.asarray(raw)
            self._eng = eng
            self.conventions = {**self.conventions, "autograd": f"through your engine {eng.name}"}
        self._xt = self._eng.tensor(x)
        self._out = self._call(self._xt)
        if not self._eng.is_value(self._out):
            return np.asarray(self._out)
        return self._eng.data(self._out, f"{self.student_name}'s output")

    def backward(self, dy):
        obj = self._handle.obj
        if self._eng is None or callable(getattr(obj, "backward", None)):
            out = self._handle.backward(dy) if self._eng is None else obj.backward(np.array(dy, dtype=np.float64))
            return self._eng.data(out) if self._eng is not None and self._eng.is_value(out) else np.asarray(out)
        if self._out is None:
            raise Missing(f"{self.student_name}: backward before any forward")
        if self._out is self._xt:  # the identity (eval mode): dx = dy
            return np.array(dy, dtype=np.float64)
        self._eng.fresh_grad(self._xt)
        self._eng.vjp(self._out, dy)
        g = self._eng.grad(self._xt)
        return np.zeros(np.shape(dy)) if g is None else g


def read_through_engine(discovery, handle):
    """``handle`` (a layer the style built by name) read through the engine when its forward
    answers with engine values; the engine is looked for only then."""
    if not hasattr(handle, "obj") or not hasattr(handle, "_unfinished"):
        return handle
    return EngineRead(handle, lambda: units_for(discovery).engine)


def make_layer(discovery, kind: str, hyper: dict) -> LayerHandle | None:
    """A handle through the engine for ``kind``, or None when the engine has none."""
    found = units_for(discovery)
    if found.engine is None or kind not in found.units or kind in ("mse", "cross_entropy"):
        return None
    return layer_handle(found.engine, found.units[kind], hyper.get("in_features", 0), hyper.get("out_features", 0))


def layer_handle(eng: Engine, unit: Unit, n_in: int = 0, n_out: int = 0) -> EngineLayer:
    """The handle of a unit on the engine (a linear layer on a scalar engine is called per sample)."""
    handle = _scalar_engine_layer() if getattr(eng, "scalar", False) and unit.kind == "linear" else EngineLayer
    return handle(eng, unit, n_in, n_out)


@functools.lru_cache(maxsize=None)
def _scalar_engine_layer():
    from conformance.adapters.discovery.scalar import ScalarLayer

    class ScalarEngineLayer(ScalarLayer, EngineLayer):
        """A linear layer on a scalar engine: called per sample on lists, W and b from its lists."""

    return ScalarEngineLayer


def make_loss(discovery, kind: str) -> LossHandle | None:
    found = units_for(discovery)
    if found.engine is None or kind not in found.units or kind not in ("mse", "cross_entropy"):
        return None
    return (EngineCrossEntropy if kind == "cross_entropy" else EngineLoss)(found.engine, found.units[kind])


def text(discovery, kind: str) -> str | None:
    """One sentence for the inventory: the engine (kind "autograd") or a unit found on it."""
    found = units_for(discovery)
    if found.engine is None:
        return None
    if kind == "autograd":
        return found.engine.describe()
    unit = found.units.get(kind)
    return unit.describe(found.engine) if unit else None


__all__ = ["Engine", "EngineError", "EngineLayer", "EngineLoss", "find_engine", "find_units", "units_for",
           "make_layer", "make_loss", "text", "GRADED", "OPS"]
