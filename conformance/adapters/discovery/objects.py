"""What discovery knows about a student's objects: their arrays, where those live, and safe calls.

A *path* names where an array lives inside an object, as a tuple of steps: ``("a", "weights")``
is ``obj.weights``, ``("a", "params"), ("k", "W")`` is ``obj.params["W"]``, ``("a", "W"), ("a",
"data")`` is a parameter object's ``obj.W.data``. ``scan(obj)`` lists every float array an object
holds, two steps deep, so discovery can see which arrays a constructor creates and which arrays
a call changes, whatever they are called.

>>> class Layer:
...     def __init__(self):
...         self.params = {"W": np.zeros((3, 5))}
>>> {describe(p): a.shape for p, a in scan(Layer()).items()}
{".params['W']": (3, 5)}
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import io
import random
import re
import traceback
import warnings
from typing import Callable

import numpy as np

from conformance.runner import alarm

Path = tuple  # tuple[tuple[str, str | int], ...]

CALL_SECONDS = 2.0  # one call into student code while discovering (a constructor that trains is cut off)


class StudentRaised(Exception):
    """The student's code raised (or hung) while discovery called it; ``cause`` is the original."""

    def __init__(self, cause: BaseException):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


# --- calling student code -------------------------------------------------------------------


def attempt(fn: Callable, *args, seed: int = 0, **kwargs):
    """Call student code quietly and deterministically: prints swallowed, numpy warnings silenced,
    the global numpy RNG and Python's ``random`` seeded (micrograd draws its weights with
    ``random.uniform``); any exception comes back as ``StudentRaised``."""
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), \
                np.errstate(all="ignore"), \
                alarm(CALL_SECONDS, "took longer than {:g} s while the kit was discovering it", unless_running=True):
            warnings.simplefilter("ignore")
            np.random.seed(seed)
            random.seed(seed)
            return fn(*args, **kwargs)
    except StudentRaised:
        raise
    except (Exception, SystemExit) as exc:  # everything a student's code can raise but an interrupt
        raise StudentRaised(exc) from None


def raised_inside(exc: StudentRaised) -> str:
    """The sentence naming what the student's own lines raised (``describe_exception``), or "" when
    the exception came from the kit's call itself (a wrong argument count raised at the call, a
    time limit): then the kit's calling convention was wrong, not the student's code."""
    from conformance.loader import ImportUnavailable
    from conformance.runner import describe_exception

    cause = exc.cause
    frames = traceback.extract_tb(cause.__traceback__)
    inside = bool(frames) and "/conformance/" not in frames[-1].filename.replace("\\", "/")
    if inside or isinstance(cause, (ImportUnavailable, NameError)):
        return describe_exception(cause)
    return ""


TRAINING_FLAGS = {"training", "train", "is_training", "train_mode", "training_mode", "is_train", "trainable"}


def flagged(fn):
    """``fn`` with a required training flag after its input filled (nnfs's ``forward(inputs,
    training)``): ``training=True``, the mode a backward follows. Else ``fn`` itself."""
    flags = [n for n in required(fn)[1:] if n.lower() in TRAINING_FLAGS]
    return functools.partial(fn, **{f: True for f in flags}) if flags else fn


def parameters(fn) -> list[inspect.Parameter]:
    """The parameters a caller fills (no self, no *args/**kwargs); [] when unreadable."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [p for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def required(fn) -> list[str]:
    return [p.name for p in parameters(fn) if p.default is p.empty]


def inputs(fn) -> list[str]:
    """The arguments a forward call fills: the required ones, or, when none is required, the leading
    parameters that default to None (``forward(self, input=None)``, which reuses a stored input when
    called bare; ``forward(self, y_pred=None, y_true=None)``)."""
    need = required(fn)
    if need:
        return need
    lead = []
    for p in parameters(fn):
        if p.default is not None or p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        lead.append(p.name)
    return lead


def takes_varargs(fn) -> bool:
    try:
        return any(p.kind == p.VAR_POSITIONAL for p in inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False


def words(name: str) -> set[str]:
    """``n_inputs`` -> {"n", "inputs"}; ``inputSize`` -> {"input", "size"}."""
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", str(name))
    return {w for w in re.split(r"[_\W\d]+", name.lower()) if w}


STRENGTH_WORDS = {"lambd", "lmbda", "lamda", "lam", "lambda", "reg", "regularization", "regularisation", "l1", "l2",
                  "decay", "penalty", "wd"}


def switched_off(fn, given: int) -> tuple[Callable, dict] | None:
    """``fn`` with the required parameters after its first ``given`` filled so that the option they
    choose is off, and those values; None when one of them has no such value. A regularisation
    strength (``lambd``, ``reg``, ``weight_decay``) is 0; a mode the code compares with string
    literals (``if type == '0': ...``) gets the first literal it is compared with, the branch its
    code writes first. ``linear_backward(dZ, cache, type, lambd)`` is then ``g(dZ, cache)``."""
    import ast
    import textwrap

    extra = required(fn)[given:]
    if not extra:
        return fn, {}
    fills = {}
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        tree = None
    compared = sorted((node.lineno, node.col_offset, node.left.id, node.comparators[0].value)
                      for node in (ast.walk(tree) if tree is not None else ())
                      if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name)
                      and node.left.id in extra and isinstance(node.ops[0], (ast.Eq, ast.Is))
                      and isinstance(node.comparators[0], ast.Constant)
                      and isinstance(node.comparators[0].value, str))
    for *_, name, literal in compared:  # a mode first: penalty_kind == 'none' is no strength
        fills.setdefault(name, literal)
    for name in extra:
        if name not in fills and (words(name) & STRENGTH_WORDS or name.lower().startswith(("lambd", "lmbd"))):
            fills[name] = 0.0
    if set(fills) != set(extra):
        return None
    fills = {name: fills[name] for name in extra}  # in the order of its parameters

    def call(*args, **kwargs):  # not functools.wraps: its signature is the one the kit calls
        return fn(*args, **{**fills, **kwargs})

    call.__name__, call.__qualname__ = fn.__name__, getattr(fn, "__qualname__", fn.__name__)
    return call, fills


# --- arrays inside objects --------------------------------------------------------------------


def _is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size > 0


def _own_attrs(obj) -> dict:
    try:
        return dict(vars(obj))
    except TypeError:
        return {}


def scan(obj, depth: int = 2) -> dict[Path, np.ndarray]:
    """Every float array ``obj`` holds: attributes, dict entries, list items and the ``.data`` /
    ``.grad`` of parameter objects, up to ``depth`` steps, in a stable order."""
    found: dict[Path, np.ndarray] = {}

    def walk(value, path, left, seen):
        if _is_float_array(value):
            found.setdefault(path, value)
            return
        if left == 0 or id(value) in seen or isinstance(value, (str, bytes, int, float, type)) or callable(value):
            return
        seen = seen | {id(value)}
        if isinstance(value, dict):
            items = [(("k", k), v) for k, v in value.items() if isinstance(k, (str, int))]
        elif isinstance(value, (list, tuple)):
            items = [(("k", i), v) for i, v in enumerate(value[:8])]
            for name, stacked in _stacked(value).items():
                found.setdefault(path + (("*", name),), stacked)
        else:
            items = [(("a", k), v) for k, v in _own_attrs(value).items()]
        for step, v in items:
            walk(v, path + (step,), left - 1, seen)

    for name, value in _own_attrs(obj).items():
        walk(value, (("a", name),), depth, {id(obj)})
    return found


def _number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _stacked(items) -> dict[str, np.ndarray]:
    """The attributes every object of a list holds as a float array of one shape, or as a number
    (some of them floats), stacked along a first axis: a layer kept as a list of Neuron objects
    has its weight matrix in ``neurons[*].weights`` and its bias vector in ``neurons[*].bias``."""
    if len(items) < 2 or len({type(it) for it in items}) != 1:
        return {}
    attrs = [_own_attrs(it) for it in items]
    out = {}
    for name in attrs[0]:
        values = [a.get(name) for a in attrs]
        if all(_is_float_array(v) for v in values) and len({v.shape for v in values}) == 1:
            out[name] = np.stack(values)
        elif all(_number(v) for v in values) and any(isinstance(v, (float, np.floating)) for v in values):
            out[name] = np.array(values, dtype=np.float64)
    return out


def get(obj, path: Path):
    for kind, key in path:
        if kind == "*":
            obj = np.stack([np.asarray(getattr(it, key), dtype=np.float64) for it in obj])
        else:
            obj = getattr(obj, key) if kind == "a" else obj[key]
    return obj


def _put_stacked(items, key, value: np.ndarray) -> None:
    """Write row i of ``value`` into ``items[i].key``, each in the student's own form (an array in
    place, a number as a float)."""
    value = np.asarray(value, dtype=np.float64).reshape(len(items), -1)
    for item, row in zip(items, value):
        current = getattr(item, key, None)
        if isinstance(current, np.ndarray) and current.size == row.size:
            if current.dtype == np.float64 and current.flags.writeable:
                current[...] = row.reshape(current.shape)
            else:
                setattr(item, key, row.reshape(current.shape).copy())
        elif row.size == 1:
            setattr(item, key, float(row[0]))
        else:
            setattr(item, key, row.copy())


def put(obj, path: Path, value: np.ndarray) -> None:
    """Write ``value`` where ``path`` points, in the student's own shape: in place when the array
    there is float64 (so aliases such as a parameter list stay in step), else rebound."""
    holder = get(obj, path[:-1])
    kind, key = path[-1]
    if kind == "*":
        _put_stacked(holder, key, value)
        return
    current = getattr(holder, key, None) if kind == "a" else holder.get(key) if isinstance(holder, dict) else holder[key]
    value = np.asarray(value, dtype=np.float64)
    if isinstance(current, np.ndarray) and current.size == value.size:
        value = value.reshape(current.shape)
        if current.dtype == np.float64 and current.flags.writeable:
            current[...] = value
            return
    value = value.copy()
    if kind == "a":
        setattr(holder, key, value)
    else:
        holder[key] = value


def describe(path: Path) -> str:
    """``(("a", "params"), ("k", "W"))`` -> ``.params['W']``; ``(("a", "neurons"), ("*", "w"))`` ->
    ``.neurons[*].w``."""
    return "".join(f".{k}" if kind == "a" else f"[*].{k}" if kind == "*" else f"[{k!r}]" for kind, k in path)


def leaf(path: Path) -> str:
    return str(path[-1][1])


def snapshot(obj) -> dict[Path, np.ndarray]:
    return {p: a.copy() for p, a in scan(obj).items()}


def changed(before: dict[Path, np.ndarray], after: dict[Path, np.ndarray]) -> list[Path]:
    """Paths whose array is new, or has a new shape or new values, since ``before``."""
    out = []
    for path, now in after.items():
        old = before.get(path)
        if old is None or old.shape != now.shape or not np.array_equal(old, now, equal_nan=True):
            out.append(path)
    return out


def gradient_name_score(grad_path: Path, param_path: Path) -> int:
    """How much a path's name says "the gradient of this parameter" (higher is likelier):
    ``dW`` for ``W``, ``dweights`` for ``weights``, ``grads['W']`` for ``params['W']``, ``.grad``
    for ``.data``. Names only rank candidates that behaviour already allows."""
    g, p = leaf(grad_path).lower(), leaf(param_path).lower()
    full = describe(grad_path).lower()
    score = 0
    if g in (f"d{p}", f"d_{p}", f"grad_{p}", f"{p}_grad", f"grad{p}", f"{p}grad", f"d{p}s", f"delta_{p}",
             f"g{p}", f"dl_d{p}", f"{p}_gradient", f"gradient_{p}"):
        score += 4
    if g == p and len(grad_path) > 1 and len(param_path) > 1 and grad_path[:-1] != param_path[:-1]:
        score += 3  # grads["W"] beside params["W"]
    if g in ("grad", "gradient", "_gradient", "_grad") and grad_path[:-1] == param_path[:-1]:
        score += 3  # a parameter object's .grad beside its .data
    if any(w in full for w in ("grad", "delta")) or g.startswith("d"):
        score += 1
    return score


def flat(result) -> list:
    """The arrays of a returned value, nested tuples and lists flattened in order:
    ``(dx, [dW, db])`` -> ``[dx, dW, db]``; a lone array -> ``[it]``."""
    if isinstance(result, np.ndarray):
        return [result]
    if isinstance(result, (tuple, list)):
        return [a for item in result for a in flat(item)]
    return []
