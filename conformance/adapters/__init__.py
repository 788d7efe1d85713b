"""Adapters: one per API style; ``build_adapter`` picks one from the student's names.

>>> from conformance.loader import load_impl
>>> adapter = build_adapter(load_impl("tests/impls/attr_grads.py"))   # doctest: +SKIP
>>> adapter.style, adapter.detected_because[0]                          # doctest: +SKIP
('attr_grads', 'SGD.step takes the model (step(model)), as in assignment 001')

Writing your own adapter (``--adapter my_adapter.py``): see ``conformance/ADAPTERS.md``.
"""
from __future__ import annotations

import importlib.util
import inspect
import itertools
from pathlib import Path

from conformance.adapters._common import params_of
from conformance.adapters.attr_grads import AttrGradsAdapter
from conformance.adapters.base import Adapter
from conformance.adapters.canonical import CanonicalAdapter
from conformance.adapters.dense_net import DenseNetAdapter
from conformance.adapters.discovery import DiscoveringAdapter, discover
from conformance.adapters.discovery.apimap import MapError, read_map, validate
from conformance.adapters.layer_dicts import LayerDictsAdapter
from conformance.adapters.single_sample import SingleSampleAdapter

STYLES: dict[str, type[Adapter]] = {
    "canonical": CanonicalAdapter,
    "layer_dicts": LayerDictsAdapter,
    "attr_grads": AttrGradsAdapter,
    "dense_net": DenseNetAdapter,
    "single_sample": SingleSampleAdapter,
}

_counter = itertools.count()


class AdapterError(Exception):
    """No adapter can be built; the message is one sentence saying what to do."""


def _args(ns, qualname):
    """Positional parameter names of ns["Cls"].method (or of a function), without self."""
    cls_name, _, method = qualname.partition(".")
    obj = ns.get(cls_name)
    if obj is None or (method and not callable(getattr(obj, method, None))):
        return None
    fn = getattr(obj, method) if method else obj
    return [n for n in params_of(fn) if n != "self"]


def _signals(ns):
    """(style, weight, holds, reason) for every clue the kit knows."""
    sgd_init, sgd_step = _args(ns, "SGD.__init__") or [], _args(ns, "SGD.step")
    linear = _args(ns, "Linear.__init__") or []
    return [
        ("canonical", 3, sgd_init[:1] in (["parameters"], ["params"]) and sgd_step == [],
         "SGD(parameters, lr).step() holds its parameters, as in the reference API"),
        ("canonical", 2, _args(ns, "Sequential.parameters") is not None, "Sequential has parameters()"),
        ("canonical", 2, any(n in ns for n in ("he_normal", "he_uniform", "xavier_normal", "xavier_uniform")),
         "initialiser functions he_normal/xavier_uniform are defined"),
        ("canonical", 2, "rng" in linear, "Linear takes rng="),
        ("canonical", 1, "BatchNorm1d" in ns or "CrossEntropy" in ns, "BatchNorm1d or CrossEntropy is defined"),
        ("canonical", 1, _args(ns, "SoftmaxCrossEntropy.backward") == [], "fused SoftmaxCrossEntropy with backward()"),
        ("layer_dicts", 3, sgd_step is not None and len(sgd_step) == 2 and "model" not in sgd_step[0],
         "SGD.step takes (params, grads) lists, as in assignment 000"),
        ("layer_dicts", 2, _args(ns, "Sequential.get_params_and_grads") is not None,
         "Sequential has get_params_and_grads(), as in assignment 000"),
        ("layer_dicts", 2, "numerical_gradient_check" in ns, "numerical_gradient_check is defined, as in assignment 000"),
        ("layer_dicts", 1, _args(ns, "SoftmaxCrossEntropy.backward") == [], "fused SoftmaxCrossEntropy with backward()"),
        ("layer_dicts", 1, linear[:2] == ["input_dim", "output_dim"], "Linear(input_dim, output_dim), as in assignment 000"),
        ("attr_grads", 3, sgd_step is not None and len(sgd_step) == 1 and "model" in sgd_step[0],
         "SGD.step takes the model (step(model)), as in assignment 001"),
        ("attr_grads", 2, "MLP" in ns, "MLP(layer_sizes) is defined, as in assignment 001"),
        ("attr_grads", 2, "init" in linear, "Linear takes init='he'|'xavier', as in assignment 001"),
        ("attr_grads", 1, "CrossEntropyLoss" in ns and "Dense" not in ns, "CrossEntropyLoss without Dense"),
        ("dense_net", 3, "NeuralNetwork" in ns, "NeuralNetwork(layer_sizes, activations) is defined, as in assignment 003"),
        ("dense_net", 2, "Dense" in ns, "Dense(input_dim, output_dim, activation) is defined, as in assignment 003"),
        ("dense_net", 1, _args(ns, "Dense.update") is not None, "Dense.update(lr) does the SGD step"),
        ("dense_net", 2, (_args(ns, "check_gradients") or [""])[0] == "network",
         "check_gradients(network, X, y, loss_fn), as in assignment 003"),
        ("single_sample", 2, "OneHiddenLayerMLP" in ns, "OneHiddenLayerMLP is defined, as in assignment 004"),
        ("single_sample", 2, (_args(ns, "OneHiddenLayerMLP.backward") or [])[:3] == ["x", "y", "f"],
         "OneHiddenLayerMLP.backward(x, y, f) works on one sample"),
        ("single_sample", 2, "check_all_gradients" in ns, "check_all_gradients is defined, as in assignment 004"),
        ("single_sample", 1, "OneHiddenLayerMLP" in ns and not any(n in ns for n in ("Linear", "Dense", "Sequential")),
         "there is no Linear/Dense/Sequential layer class"),
        ("single_sample", 1, _args(ns, "ReLU.derivative") is not None and _args(ns, "ReLU.backward") is None,
         "activations offer derivative(z) instead of backward"),
    ]


def detect_style(namespace: dict) -> tuple[str, list[str]]:
    """The style whose clues score highest, and the sentences saying why."""
    scores = {s: 0 for s in STYLES}
    reasons: dict[str, list[str]] = {s: [] for s in STYLES}
    for style, weight, holds, reason in _signals(namespace):
        if holds:
            scores[style] += weight
            reasons[style].append(reason)
    best = max(scores, key=lambda s: scores[s])
    table = ", ".join(f"{s} {scores[s]}" for s in sorted(scores, key=lambda s: -scores[s]))
    if scores[best] == 0:
        return "canonical", ["nothing matched a known API style, so the canonical style is assumed "
                             "(pass --style or --adapter if that is wrong)"]
    return best, reasons[best] + [f"clue scores: {table}"]


def _load_user_adapter(path) -> type[Adapter]:
    path = Path(path)
    if not path.is_file():
        raise AdapterError(f"{path} does not exist: pass the path of a .py file defining an Adapter subclass.")
    name = f"_bpk_user_adapter_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise AdapterError(f"{path} raised {type(exc).__name__}: {exc} while being imported: fix the adapter file.") from None
    found = [c for c in vars(module).values()
             if inspect.isclass(c) and issubclass(c, Adapter) and c.__module__ == name]
    if len(found) != 1:
        raise AdapterError(f"{path} defines {len(found)} Adapter subclasses: define exactly one "
                           "(see conformance/ADAPTERS.md).")
    return found[0]


def build_adapter(loaded, style: str | None = None, adapter_file: str | None = None, map_file: str | None = None,
                  pins: dict | None = None) -> Adapter:
    """An adapter over ``loaded`` (a LoadedImpl or a plain namespace dict).

    ``adapter_file`` wins over ``style``, which wins over detection. The unit components are
    found by behaviour (``discovery``), narrowed by ``map_file`` (``--map api.toml``) or by
    ``pins``, the same map already read (what crosses into the grader's sandbox)."""
    namespace = loaded if isinstance(loaded, dict) else loaded.namespace
    impl = None if isinstance(loaded, dict) else loaded
    if adapter_file:
        cls = _load_user_adapter(adapter_file)
        label = getattr(cls, "STYLE", None) or f"custom:{Path(adapter_file).stem}"
        return cls(namespace=namespace, style=label, detected_because=[f"adapter class {cls.__name__} from {adapter_file}"],
                   loaded=impl)
    if style:
        if style not in STYLES:
            raise AdapterError(f"unknown style {style!r}: choose one of {', '.join(STYLES)}.")
        because = [f"style {style} was chosen with --style"]
    else:
        style, because = detect_style(namespace)
    base = STYLES[style](namespace=namespace, style=style, detected_because=because, loaded=impl)
    if map_file:
        try:
            pins = read_map(map_file)
        except MapError as exc:
            raise AdapterError(str(exc)) from None
    try:
        found = discover(namespace, getattr(impl, "defined", None), validate(pins or {}))
    except MapError as exc:
        raise AdapterError(str(exc)) from None
    return DiscoveringAdapter(base, found)


__all__ = ["STYLES", "AdapterError", "build_adapter", "detect_style", "Adapter"]
