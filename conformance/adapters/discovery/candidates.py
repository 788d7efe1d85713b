"""Which of the submission's definitions could be a component, and how to build them.

Constructor arguments are inferred the way hypothesis's ``st.builds`` reads a signature (names,
defaults), then confirmed by behaviour: ``size_calls(Cls, 5, 3)`` lists the calls worth trying
for a layer mapping 5 features to 3, most likely first, and discovery keeps the first whose
object holds a (5, 3) or (3, 5) weight array.

>>> class Layer_Dense:
...     def __init__(self, n_inputs, n_neurons): ...
>>> [c.text for c in size_calls(Layer_Dense, 5, 3)][:2]
['Layer_Dense(5, 3)', 'Layer_Dense(3, 5)']
"""
from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from conformance.adapters.discovery.objects import parameters, takes_varargs, words

# Modules whose objects are never the student's own definitions.
_FOREIGN = {"numpy", "scipy", "torch", "pytest", "hypothesis", "nbformat", "conformance", "graders",
            "matplotlib", "sklearn", "pandas", "tqdm", "typing", "abc", "dataclasses", "enum", "functools",
            "collections", "builtins"}

IN_WORDS = {"in", "inp", "input", "inputs", "nin", "fan", "prev", "ni", "nx", "incoming", "inputsize", "indim"}
SHAPE_WORDS = {"shape", "dims", "dimensions", "layer_shape"}
ACTIVATION_WORDS = {"activation", "act", "nonlinearity", "activation_fn", "activation_function", "afunc", "phi",
                    "activator", "activation_func"}
LR_NAMES = {"lr", "learning_rate", "eta", "alpha", "step_size", "learningrate", "rate", "lrate"}
IDENTITY_ACTIVATIONS = (None, "linear", "identity", "none")


def definitions(namespace: dict, defined: list[str] | None = None) -> list[tuple[str, Any]]:
    """(name, object) of every class and function the submission itself defines, in its order."""
    if defined:
        names = [n for n in defined if n in namespace]
    else:
        names = list(namespace)
    out = []
    for name in names:
        value = namespace[name]
        if not (inspect.isclass(value) or inspect.isfunction(value)) or name.startswith("__"):
            continue
        module = (getattr(value, "__module__", "") or "").split(".")[0]
        if module in _FOREIGN or module in getattr(sys, "stdlib_module_names", ()):
            continue
        out.append((name, value))
    return out


def paired_functions(namespace: dict, defs: list[tuple[str, Any]]) -> dict[int, tuple[Any, str]]:
    """A function the submission pairs with another in a table of its own (``ACTIVATIONS = {"relu":
    (relu, relu_grad)}``, ``[(sigmoid, sigmoid_prime), ...]``): id(second) -> (first, the table's
    name). The pair's
    order says which is the function and which its derivative, whatever either is called and
    even when the derivative answers exactly what the function does (a bug)."""
    ours = {id(f) for _, f in defs if inspect.isfunction(f)}
    pairs: dict[int, tuple[Any, str]] = {}

    def walk(value, left, table):
        if isinstance(value, dict):
            items = list(value.values())
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            return
        if not isinstance(value, dict) and len(items) == 2 and all(id(v) in ours for v in items) \
                and items[0] is not items[1]:
            pairs.setdefault(id(items[1]), (items[0], table))
            return
        if left:
            for item in items[:64]:
                walk(item, left - 1, table)

    for name, value in list(namespace.items()):  # module-level constants: not among the definitions
        if isinstance(value, (dict, list, tuple)) and not name.startswith("__"):
            walk(value, 2, name)
    return pairs


@dataclass
class Call:
    """One way to call a constructor: the arguments and how the inventory writes it."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    text: str = ""
    lr: float | None = None  # the learning rate handed in, when the constructor takes one
    order: str = "in_out"  # which size went first: "in_out" or "out_in" (or "shape")
    size_names: tuple = ()  # the sizes go by these keywords (a parameter such as ``name`` comes first)


NAME_ARGS = {"name", "layer_name", "label", "title", "tag", "scope", "identifier"}
SCALE_WORDS = {"std", "stddev", "sigma", "scale"}


def _fill(param: inspect.Parameter, seed: int, label: str = "layer"):
    """A value for a required argument that is not a size, or ``inspect._empty`` if unknown."""
    name = param.name.lower()
    if name in NAME_ARGS:  # DenseLayer(name, in_num, out_num): a label, never a size
        return label
    if words(name) & SCALE_WORDS and words(name) & {"init", "weight", "std", "stddev", "sigma"}:
        return 0.1  # init_std, weight_scale: how large the random weights start
    if name in ("rng", "random_state", "generator", "key") or "rng" in words(name):
        return np.random.default_rng(seed)
    if name in ("seed",):
        return seed
    if name in LR_NAMES:
        return 0.1
    if name in ACTIVATION_WORDS or words(name) & {"activation"}:
        return None
    if name in ("init", "initializer", "initialization", "init_method", "weight_init", "initialisation"):
        return "he"
    return inspect.Parameter.empty


WEIGHT_ARGS = {"w", "weight", "weights", "kernel", "w_init", "init_w"}
BIAS_ARGS = {"b", "bias", "biases", "b_init", "init_b"}


def _role(name: str) -> str:
    w = words(name)
    if name.lower() in SHAPE_WORDS:
        return "shape"
    if name.lower() in WEIGHT_ARGS:
        return "weight"
    if name.lower() in BIAS_ARGS:
        return "bias"
    if w & {"in", "inp", "input", "inputs", "nin", "prev", "incoming"} or name.lower() in IN_WORDS:
        return "in"
    if w & {"out", "output", "outputs", "nout", "neurons", "units", "nodes", "hidden", "outgoing"}:
        return "out"
    return "size"


def size_calls(cls, n_in: int, n_out: int, seed: int = 0) -> list[Call]:
    """Constructor calls to try for a layer mapping ``n_in`` features to ``n_out``, likeliest first."""
    params = parameters(cls)
    name = getattr(cls, "__name__", "layer")
    need = [p for p in params if p.default is p.empty]
    sizes, fixed, unknown = [], {}, []
    for p in need:
        value = _fill(p, seed, name.lower())
        if value is not inspect.Parameter.empty:
            fixed[p.name] = value
        elif _role(p.name) == "shape" or len(sizes) < 2:
            sizes.append(p)
        else:
            unknown.append(p)
    if unknown:
        return []
    extra = {}
    for p in params:  # optional arguments that would change what a plain linear layer does
        if p.default is not p.empty and p.name not in fixed:
            low = p.name.lower()
            if low in ("rng", "random_state") and p.default is None:
                extra[p.name] = np.random.default_rng(seed)
    lr = fixed.get(next((p.name for p in need if p.name.lower() in LR_NAMES), ""), None)
    kw_text = ", ".join(f"{k}={v!r}" if not isinstance(v, np.random.Generator) else f"{k}=<rng>"
                        for k, v in {**fixed, **extra}.items())

    position = {p.name: i for i, p in enumerate(params)}
    keyword = any(position[k] < position[p.name] for k in fixed for p in sizes)  # a label before the sizes

    def call(args, order):
        if keyword:  # sizes by keyword: the parameter before them is filled by keyword too
            names = tuple(p.name for p in sizes)
            pieces = [", ".join(f"{k}={v!r}" for k, v in zip(names, args))] + ([kw_text] if kw_text else [])
            return Call((), {**fixed, **extra, **dict(zip(names, args))},
                        f"{name}({', '.join(p for p in pieces if p)})", lr, order, names)
        pieces = [", ".join(map(repr, args))] + ([kw_text] if kw_text else [])
        return Call(tuple(args), {**fixed, **extra}, f"{name}({', '.join(p for p in pieces if p)})", lr, order)

    roles = [_role(p.name) for p in sizes]
    shape_named = [bool(words(p.name) & {"shape", "dims", "dim", "size"} and words(p.name) & {"shape", "dims"})
                   for p in sizes]
    if roles[:1] == ["weight"] and roles[1:] in ([], ["bias"]):  # Affine(W, b): built from the arrays
        rng = np.random.default_rng(seed)
        W, b = rng.standard_normal((n_in, n_out)) * 0.1, np.zeros(n_out)
        with_b = len(roles) == 2
        return [Call((W, b) if with_b else (W,), dict(fixed), f"{name}(W (in, out){', b' if with_b else ''})", None,
                     "arrays_in_out"),
                Call((W.T.copy(), b) if with_b else (W.T.copy(),), dict(fixed),
                     f"{name}(W (out, in){', b' if with_b else ''})", None, "arrays_out_in")]
    if len(sizes) == 1 and (_role(sizes[0].name) == "shape" or shape_named[0]):  # FC(input_shape): W's shape
        return [call([(n_in, n_out)], "shape"), call([(n_out, n_in)], "shape_out_in")] + \
            ([call([n_out], "out_only")] if shape_named[0] else [])
    if len(sizes) == 1:  # Dense(units): the input size is learnt on the first forward
        return [call([n_out], "out_only")]
    if len(sizes) == 2:
        roles = [_role(p.name) for p in sizes]
        first = [call([n_in, n_out], "in_out"), call([n_out, n_in], "out_in")]
        if shape_named[0] and roles[0] == "in":  # Dense(input_shape=(5,), units=3): the input as a shape
            return [call([(n_in,), n_out], "inshape_out")] + first
        return first[::-1] if roles == ["out", "in"] else first
    if len(sizes) == 0 and takes_varargs(cls):
        return [call([n_in, n_out], "in_out"), call([n_out, n_in], "out_in")]
    if len(sizes) == 0:  # sizes with defaults: pass them by name when the names say which is which
        named = {}
        for p in params:
            role = _role(p.name)
            if role in ("in", "out") and p.default is not p.empty and isinstance(p.default, int):
                named.setdefault(role, p.name)
        if len(named) == 2:
            c = call([], "in_out")
            c.kwargs.update({named["in"]: n_in, named["out"]: n_out})
            c.text = f"{name}({named['in']}={n_in}, {named['out']}={n_out})"
            return [c]
    return []


FILE_SUFFIXES = (".pkl", ".pickle", ".npz", ".npy", ".csv", ".txt", ".gz", ".h5", ".json", ".mat", ".zip", ".tar")


def fileish_defaults(cls) -> dict:
    """Optional arguments whose default names a file (``datapath='cifar10.pkl'``), each set to
    None: a constructor that loads its data when built is retried without it."""
    return {p.name: None for p in parameters(cls) if isinstance(p.default, str) and
            (p.default.lower().endswith(FILE_SUFFIXES) or "/" in p.default or
             words(p.name) & {"path", "file", "filename", "datapath", "dir", "folder"})}


class Fresh:
    """A constructor argument that is an object of the submission's (an identity activation
    ``Linear()``): a new one for every object the kit builds, so no two layers share its state."""

    def __init__(self, cls):
        self.cls = cls

    def make(self):
        return self.cls()

    def __repr__(self):
        return f"{getattr(self.cls, '__name__', 'object')}()"

    def __eq__(self, other):
        return isinstance(other, Fresh) and other.cls is self.cls

    def __hash__(self):
        return hash(self.cls)


def made(kwargs: dict) -> dict:
    """``kwargs`` with each ``Fresh`` argument replaced by a new object of its class."""
    return {k: v.make() if isinstance(v, Fresh) else v for k, v in kwargs.items()}


def activation_options(cls, identities=()) -> list[dict]:
    """Keyword sets that make a layer with an ``activation`` argument a plain linear layer: the
    spellings of "no activation" (None, "linear", ...), then each class of the submission's that
    behaves as the identity (``activator=Linear()``, ``identities``), built fresh for each layer."""
    name = next((p.name for p in parameters(cls) if p.name.lower() in ACTIVATION_WORDS), None)
    if name is None:
        return [{}]
    return [{name: value} for value in IDENTITY_ACTIVATIONS] + [{name: Fresh(c)} for c in identities]


def no_arg_call(cls) -> Call | None:
    """How to build a class that needs no size (an activation or a loss), or None."""
    fixed = {}
    for p in parameters(cls):
        if p.default is p.empty:
            value = _fill(p, 0, getattr(cls, "__name__", "cls").lower())
            if value is inspect.Parameter.empty:
                return None
            fixed[p.name] = value
    return Call((), fixed, f"{getattr(cls, '__name__', 'cls')}()")


# What a dropped definition or file claims to be, by its name (the loader's LoadedImpl.dropped):
# a long stem anywhere in the name, a short one only as a whole word.
CLAIM_STEMS = {"linear": ({"linear", "dense", "affine"}, {"fc"}), "relu": ({"relu", "rectifier"}, set()),
               "sigmoid": ({"sigmoid", "logistic"}, set()), "tanh": ({"tanh"}, set()), "softmax": ({"softmax"}, set()),
               "cross_entropy": ({"crossentropy", "cross_entropy", "entropy", "nll"}, {"ce", "xent"}),
               "mse": ({"mse", "squared"}, {"l2"})}
LOST_KINDS = ("syntax_error", "import_failed", "definition_failed")


def dropped_for(comp: str, dropped) -> str:
    """A sentence naming the dropped files or definitions whose names claim ``comp`` (a class
    ``MSECriterion`` whose base class failed to import, a ``relu.py`` with a TabError), or ""."""
    import re
    from pathlib import PurePath

    long, short = CLAIM_STEMS.get(comp, (set(), set()))
    lost = [d for d in dropped or () if d.kind in LOST_KINDS]
    defs_in = {d.file for d in lost if d.kind == "definition_failed"}
    said = []
    for d in lost:
        if d.kind == "import_failed" and d.file in defs_in:
            continue  # the definitions it broke are named instead
        m = re.match(r"\s*(?:class|def)\s+(\w+)", d.text or "")
        names = [m.group(1)] if m else [PurePath(d.file).stem] if d.file else []
        if any(any(s in n.lower() for s in long) or words(n) & short for n in names):
            where = f"{d.file or 'the submission'}" + (f" cell {d.cell}" if d.cell is not None else "")
            said.append(f"{where} line {d.line} was not run ({d.reason}: `{d.text}`)")
    if not said:
        return ""
    return "; ".join(said[:2]) + f"; fix it and the {comp.replace('_', '-')} defined there can be found and checked"
