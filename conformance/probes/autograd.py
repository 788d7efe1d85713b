"""Probes for autograd (SPEC.md 21): the student's engine on the kit's inputs.

``autograd.run`` applies each operation of the case to fresh leaves, differentiates
``sum(y * dy)`` through the engine (``Engine.vjp``), reads the leaves' gradients, and evaluates
the operation's forward at the kit's perturbed points, so the judge takes the central differences
of the engine's *own* forward. ``autograd.zero_grad`` runs two backward steps on the same leaf
and looks for a way the submission offers to reset gradients. Nothing here compares.
"""
from __future__ import annotations

import ast
import inspect
import warnings
from pathlib import Path

import numpy as np

from conformance.adapters.base import Missing
from conformance.adapters.discovery import autograd as ag
from conformance.adapters.discovery.objects import StudentRaised, attempt, words
from conformance.probes import probe
from conformance.probes.layers import warning_texts, watched
from conformance.runner import describe_exception


def engine_of(adapter) -> ag.Engine:
    """The submission's engine, or Missing with what an engine is."""
    found = getattr(adapter, "found", None)
    eng = ag.units_for(found).engine if found is not None else None
    if eng is None:
        raise Missing("no autograd engine: no class keeps an ndarray it is built from, overloads + or *, and "
                      "fills an array-shaped gradient when backward() is called on a result (nor keeps one number, "
                      "overloads + and *, and fills a float gradient: a scalar engine)")
    return eng


def _leaves(eng, spec: dict) -> list:
    leaves = [eng.tensor(a) for a in spec["inputs"]]
    return leaves * 2 if spec.get("same") else leaves  # one leaf used twice: x + x, x * x


def _at_points(eng, spec: dict, i: int, point: np.ndarray) -> np.ndarray:
    if spec.get("same"):
        t = eng.tensor(point)
        return eng.data(eng.apply(spec["op"], t, t))  # a scalar engine: u(x) + x when the op is "u+x"
    args = [eng.tensor(point if j == i else a) for j, a in enumerate(spec["inputs"])]
    return eng.data(eng.apply(spec["op"], *args))


def _one(eng, spec: dict) -> dict:
    """y, the leaves' gradients and the forward at the perturbed points; or where it raised."""
    result, stage = {"op": eng.op_text(spec["op"])}, "forward"
    try:
        leaves = _leaves(eng, spec)
        y = eng.apply(spec["op"], *leaves)
        result["y"] = eng.data(y)
        stage = "backward"
        for leaf in leaves:
            eng.fresh_grad(leaf)
        result["how"] = eng.vjp(y, spec["dy"])
        grads = [eng.grad(leaf) for leaf in leaves[:len(spec["inputs"])]]
        result["grads"] = [g for g in grads if g is not None]
        result["no_grad"] = [i for i, g in enumerate(grads) if g is None]
        stage = "forward at perturbed inputs"
        result["y_at_points"] = [np.stack([_at_points(eng, spec, i, p) for p in points])
                                 for i, points in enumerate(spec["points"])]
    except (Missing, TimeoutError):
        raise
    except ag.EngineError as exc:
        result.update(stage=stage, error=str(exc))
    except Exception as exc:  # the student's engine raised: their error, one sentence, per operation
        result.update(stage=stage, error=f"{result['op']} raised {describe_exception(exc)} ({stage})")
    return result


@probe("autograd.run")
def run(adapter, case: dict) -> dict:
    """inputs: {"checks": {label: {"op", "inputs": [arrays], "dy", "points": [(K, *shape) per
    input], "same": bool}}}. Returns engine, lacks, and per label y, grads (one per input),
    no_grad (indices without a gradient), y_at_points, how, or stage + error."""
    eng = engine_of(adapter)
    scalar = getattr(eng, "scalar", False)
    out = {"engine": eng.name, "backward": eng.backward_text, "lacks": eng.lacks(), "results": {}, "scalar": scalar}
    if scalar and case.get("group") == "reductions":
        out["not_applicable"] = (f"your engine {eng.name} holds one number: sum and mean are the kit's own "
                                 "reductions (a balanced tree of your +), not offered by your engine, so not graded")
        return out
    if scalar and any(spec.get("broadcast") for spec in case["checks"].values()):
        out["not_applicable"] = f"your engine {eng.name} holds one number: broadcasting does not apply to a scalar engine"
        return out
    with watched() as caught:
        for label, spec in case["checks"].items():
            if spec.get("scalar_only") and not scalar:
                continue
            base = spec["op"].split("+")[0]
            if base in eng.ops or base == "scale" and "mul" in eng.ops:
                out["results"][label] = _one(eng, spec)
    out["warnings"] = warning_texts(caught)
    return out


def _zeroed(grads) -> bool:
    return all(g is None or not np.any(g) for g in grads)


def _resets(eng, target, grads_of, methods, owner: str) -> str | None:
    """The first method of ``target`` that leaves every gradient ``grads_of()`` zero or None (on a
    scalar engine's array of values: the method called on each value)."""
    targets = list(target.flat) if getattr(eng, "scalar", False) and isinstance(target, np.ndarray) else [target]
    for m in methods:
        try:
            for t in targets:
                attempt(getattr(t, m))
        except StudentRaised:
            continue
        if _zeroed(grads_of()):
            return f"{owner}.{m}()"
    return None


def _reset_first(names) -> list[str]:
    return sorted(names, key=lambda m: not words(m) & {"zero", "reset", "clear", "zerograd", "zero_grad"})


@probe("autograd.zero_grad")
def zero_grad(adapter, case: dict) -> dict:
    """inputs: x, c, dy. Two backward steps of sum((x * c) * dy) on the same leaf x (fresh graphs);
    returns grads [after step 1, after step 2] and resets: how the submission resets gradients
    (a method of the engine value or of its linear layer found by behaviour), or none."""
    eng = engine_of(adapter)
    op = "mul" if "mul" in eng.ops else "add" if "add" in eng.ops else None
    if op is None:
        raise Missing(f"your engine {eng.name} has neither * nor +, so the kit cannot build two training steps")
    x, c = eng.tensor(case["x"]), eng.tensor(case["c"])
    out = {"engine": eng.name, "backward": eng.backward_text, "op": eng.op_text(op), "kind": op, "grads": [],
           "resets": []}
    with watched():
        for _ in range(2):
            eng.vjp(eng.apply(op, x, c), case["dy"])
            g = eng.grad(x)
            if g is None:
                out["no_grad"] = True
                return out
            out["grads"].append(g.copy())
        skip = {eng.backward_name} | {name for how, name in eng.ops.values() if how == "method"}
        found = _resets(eng, x, lambda: [eng.grad(x)], _reset_first(m for m in ag._methods(eng.cls) if m not in skip),
                        eng.name)
        if found:
            out["resets"].append(found)
        linear = ag.units_for(adapter.found).units.get("linear")
        if linear is not None:
            layer = ag.layer_handle(eng, linear, 5, 3)
            layer.forward(np.asarray(case["x_layer"]))
            layer.backward(np.asarray(case["dy_layer"]))
            found = _resets(eng, layer.obj, lambda: [eng.grad(t) for t in layer._tensors()],
                            _reset_first(ag._methods(type(layer.obj))), linear.name)
            if found:
                out["resets"].append(found)
        net = adapter.found.enginenet if not out["resets"] else None
        if net is not None:  # micrograd's Module.zero_grad(): a reset the network offers for all its parameters
            found = _network_resets(eng, net, np.asarray(case["x_layer"]))
            if found:
                out["resets"].append(found)
        if not out["resets"]:  # an optimiser's zero_grad() over the parameters it holds, a Module.zero_grad()
            found = holder_reset(eng, x, lambda: eng.vjp(eng.apply(op, x, c), case["dy"]),
                                 getattr(getattr(adapter, "found", None), "defs", None) or [])
            if found:
                out["resets"].append(found)
    if not out["resets"] and eng.grad_attr:  # no method resets: the student's own training code may (dropped, never run)
        found = inline_reset(getattr(adapter, "loaded", None), eng.grad_attr)
        if found:
            out["resets"].append(found)
    return out


RESET_WORDS = {"zero", "reset", "clear", "zerograd"}
MODEL_WORDS = {"model", "net", "network", "module", "layer"}


class _Holds:
    """A stand-in for a model whose ``parameters()`` (or ``.parameters`` / ``.params``) is the kit's values."""

    def __init__(self, values, as_method: bool):
        if as_method:
            self.parameters = lambda: list(values)
        else:
            self.parameters = self.params = list(values)


def _classes(defs):
    """The submission's classes, with the classes nested in them (``optimizer.SGD``), by name."""
    for name, obj in defs:
        if inspect.isclass(obj):
            yield name, obj
            for inner, value in vars(obj).items():
                if inspect.isclass(value) and not inner.startswith("_"):
                    yield f"{name}.{inner}", value


def _holders(cls, values):
    """(how the inventory writes it, an object of ``cls`` holding ``values``) for each way the kit
    can give it the values: a constructor taking the parameters (a list, or a model whose
    ``parameters()`` lists them), or, for a base class whose ``parameters`` it defines, an object of
    it whose ``parameters`` are the values."""
    from conformance.adapters.discovery import candidates as cand

    need = [p for p in cand.parameters(cls) if p.default is p.empty]
    if need:
        fixed = {}
        for p in need[1:]:
            value = cand._fill(p, 0)
            if value is inspect.Parameter.empty:
                break
            fixed[p.name] = value
        else:
            first = need[0].name
            stand_ins = [(True, _Holds(values, True)), (False, _Holds(values, False))] if words(first) & MODEL_WORDS \
                else [(None, list(values)), (True, _Holds(values, True)), (False, _Holds(values, False))]
            for _, arg in stand_ins:
                try:
                    yield f"{cls.__name__}({first}).", attempt(cls, **{first: arg}, **fixed)
                except StudentRaised:
                    continue
    if "parameters" in dir(cls) and cand.no_arg_call(cls) is not None:
        held = property(lambda self: list(values)) if isinstance(inspect.getattr_static(cls, "parameters"), property) \
            else (lambda self: list(values))
        try:
            sub = type(cls.__name__, (cls,), {"parameters": held})
            yield f"{cls.__name__}.", attempt(sub, **cand.no_arg_call(cls).kwargs)
        except (StudentRaised, TypeError):
            pass


def holder_reset(eng, x, step, defs) -> str | None:
    """A reset held outside the values (SPEC 21.4): the ``zero_grad()`` of an optimiser built over
    the parameters (``SGD([x], lr)``, ``SGD(model, lr)`` with ``model.parameters()``), or of a
    ``Module`` over its ``parameters``, that sets x's gradient to zero or None after ``step()`` (a
    backward) gave it one. By behaviour: the name only ranks (a method named zero/reset/clear)."""
    for name, cls in _classes(defs):
        if cls is eng.cls:
            continue
        methods = [m for m in ag._methods(cls) if words(m) & RESET_WORDS and "grad" in m.lower() or
                   m.lower() in ("zero", "reset", "clear")]
        if not methods:
            continue
        for how, obj in _holders(cls, [x]):
            for m in methods:
                try:
                    step()
                    if _zeroed([eng.grad(x)]):
                        return None  # the gradient the kit needs to see reset is not there
                    attempt(getattr(obj, m))
                except (StudentRaised, Missing, ag.EngineError):
                    continue
                if _zeroed([eng.grad(x)]):
                    return f"{name}.{m}() over the parameters it holds" if how.endswith(").") else f"{name}.{m}()"
    return None


ZERO_CALLS = {"zeros", "zeros_like"}


def inline_reset(loaded, grad_attr: str) -> str | None:
    """Where the submission's own code sets some value's ``.<grad_attr>`` back to zero outside its
    classes (``for p in model.parameters(): p.grad = 0.0`` in a training loop the kit never runs):
    the reset it offers, named by file, cell and line. Inside a class it does not count: a reset
    method was tried by behaviour (one that misses the biases is no reset), and ``self.grad = 0``
    is the engine's own bookkeeping."""
    for where, source in _sources(loaded):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        in_classes = {id(n) for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for n in ast.walk(c)}
        for node in ast.walk(tree):  # a class's own reset was tried by behaviour above: only code outside classes
            if not isinstance(node, ast.Assign) or id(node) in in_classes or not _zero(node.value):
                continue
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == grad_attr and \
                        not (isinstance(target.value, ast.Name) and target.value.id == "self"):
                    return f"your own code's {ast.unparse(target)} = {ast.unparse(node.value)} ({where}, line {node.lineno})"
    return None


def _zero(value: ast.AST) -> bool:
    """0, 0.0, None, or a call of np.zeros / np.zeros_like."""
    if isinstance(value, ast.Constant):
        return value.value is None or (not isinstance(value.value, bool) and value.value == 0)
    if isinstance(value, ast.Call):
        fn = value.func
        return (fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")) in ZERO_CALLS
    return False


def _sources(loaded):
    """(where, source text) of every file or notebook cell the submission was loaded from."""
    origin = Path(getattr(loaded, "origin", "") or "")
    if not origin.exists():
        return
    files = sorted(p for p in origin.rglob("*") if p.suffix in (".py", ".ipynb")) if origin.is_dir() else [origin]
    for path in files:
        try:
            if path.suffix == ".ipynb":
                import nbformat

                # reads(), not read(path): under the grader the child's nbformat is a shim that reads text only
                with warnings.catch_warnings():  # cells without ids: normal, and never the student's concern here
                    warnings.simplefilter("ignore")
                    notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
                cells = [c for c in notebook.cells if c.cell_type == "code"]
                for i, cell in enumerate(cells):  # magics and shell escapes are not Python
                    yield f"{path.name} cell {i}", "\n".join(
                        "" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())
            else:
                yield path.name, path.read_text(errors="replace")
        except Exception:  # an unreadable file offers no reset; the check then says none was found
            continue


def _network_resets(eng, net, x) -> str | None:
    """A method of the student's engine network that zeroes every parameter's gradient after a
    backward of its loss (the network built at (features, 4, 3) on the kit's ``x``)."""
    try:
        pipe = net.pipeline((x.shape[1], 4, 3))
        pipe.loss_and_grads(x, np.arange(len(x)) % 3)
    except (StudentRaised, Missing):
        return None
    return _resets(eng, pipe.model, lambda: [eng.grad(v) for v in pipe.values.values()],
                   _reset_first(ag._methods(type(pipe.model))), net.name)
