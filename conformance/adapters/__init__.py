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

from conformance.adapters.base import Adapter
from conformance.adapters.dense_net import DenseNetAdapter
from conformance.adapters.discovery import DiscoveringAdapter, discover
from conformance.adapters.discovery.apimap import MapError, read_map, validate
from conformance.adapters.single_sample import SingleSampleAdapter
from conformance.adapters.style import ASSIGNMENT_SCORE, StyleAdapter, detect, score

CanonicalAdapter = StyleAdapter.for_style("canonical")
LayerDictsAdapter = StyleAdapter.for_style("layer_dicts")
AttrGradsAdapter = StyleAdapter.for_style("attr_grads")

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


def detect_style(namespace: dict) -> tuple[str, list[str], bool]:
    """The style whose clues (``styles.toml``) score highest, the sentences saying why, and whether
    it was assumed because no clue held."""
    return detect(namespace, STYLES)


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
        base = cls(namespace=namespace, style=label, detected_because=[f"adapter class {cls.__name__} from {adapter_file}"],
                   loaded=impl)
        # what the adapter file writes itself wins; discovery does the rest
        own = {m for klass in cls.__mro__ if klass.__module__ == cls.__module__ for m in vars(klass)}
        return DiscoveringAdapter(base, discover(namespace, getattr(impl, "defined", None)), prefer_base=own)
    if style:
        if style not in STYLES:
            raise AdapterError(f"unknown style {style!r}: choose one of {', '.join(STYLES)}.")
        because, assumed, weak = [f"style {style} was chosen with --style"], False, False
    else:
        style, because, assumed = detect_style(namespace)
        weak = not assumed and score(namespace, style) < ASSIGNMENT_SCORE
    base = STYLES[style](namespace=namespace, style=style, detected_because=because, loaded=impl, assumed=assumed,
                         weak=weak)
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


__all__ = ["STYLES", "AdapterError", "build_adapter", "detect_style", "Adapter", "StyleAdapter", "CanonicalAdapter",
           "LayerDictsAdapter", "AttrGradsAdapter", "DenseNetAdapter", "SingleSampleAdapter"]
