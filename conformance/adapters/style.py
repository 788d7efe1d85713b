"""One adapter for every assignment style, driven by ``styles.toml``.

Discovery finds the unit components, whole networks, optimisers and gradient checkers by
behaviour (``DiscoveringAdapter`` wraps this one). What a style still says is data: its clues,
its stretch layers' names, where its layers keep parameters, how its initialisers are reached,
and the inventory's sentences. A style whose behaviour truly differs subclasses ``StyleAdapter``
(``dense_net.py``: a network-level gradient checker; ``single_sample.py``: a one-sample network).

>>> StyleAdapter.for_style("attr_grads").LAYER_NAMES["linear"]
('Linear',)
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from conformance.adapters._common import (
    ACTIVATION_NAMES, AttrAccess, DictAccess, TableAdapter, construct, f64, find, params_of, quiet,
)
from conformance.adapters.base import Missing

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DATA = Path(__file__).with_name("styles.toml")
ACCESS = {"dict": DictAccess(), "attributes": AttrAccess()}


@lru_cache(maxsize=1)
def styles() -> dict:
    """The parsed ``styles.toml``: style name -> its table."""
    with open(DATA, "rb") as f:
        return tomllib.load(f)


def _names(entry) -> tuple[str, ...]:
    """An inventory entry's names: a list, or "@relu" for the style-independent activation names."""
    return ACTIVATION_NAMES[entry[1:]] if isinstance(entry, str) and entry.startswith("@") else tuple(entry)


class StyleAdapter(TableAdapter):
    """The adapter of the style named ``STYLE``, its tables read from ``styles.toml``."""

    STYLE = "canonical"

    @classmethod
    def for_style(cls, style: str) -> type["StyleAdapter"]:
        """A subclass of ``cls`` for ``style`` with its tables filled in from the data."""
        data = styles()[style]
        layers = {**ACTIVATION_NAMES, **{k: tuple(v) for k, v in data.get("layers", {}).items()}}
        inventory = {comp: (_names(entry[0]), entry[1]) for comp, entry in data.get("inventory", {}).items()}
        return type(f"{''.join(p.title() for p in style.split('_'))}Adapter", (cls,), {
            "STYLE": style, "LAYER_NAMES": layers, "INVENTORY": inventory, "DATA": data,
            "ACCESS": ACCESS[data.get("parameters", "dict")], "__doc__": f"Style ``{style}``: {data.get('about', '')}."})

    DATA: dict = {}

    def init_weights(self, kind, fan_in, fan_out, seed):
        """A (fan_out, fan_in) draw of the style's ``kind`` initialiser: one of its initialiser
        functions f(fan_in, fan_out, rng), or W of a fresh linear layer built with the style's
        keyword arguments for that kind."""
        init = self.DATA.get("init", {})
        if "functions" in init:
            names = tuple(init["functions"].get(kind, ()))
            hit = find(self.namespace, *names) if names else None
            if hit is None:
                raise Missing(f"no {kind} initialiser" + (f" (looked for {', '.join(names)})" if names else ""))
            with quiet():
                return np.asarray(hit[1](fan_in, fan_out, np.random.default_rng(seed)), dtype=float)
        layer_kwargs = init.get("layer", {})
        if kind not in layer_kwargs:
            offers = " or ".join(layer_kwargs) or "nothing"
            raise Missing(f"the {self.style} style's linear layer initialises {offers} only, not {kind}")
        kwargs = dict(layer_kwargs[kind])
        if kwargs:
            names = self.LAYER_NAMES.get("linear", ())
            hit = find(self.namespace, *names)
            if hit is None:
                raise Missing(f"no linear layer (looked for {', '.join(names)})")
            missing = [k for k in kwargs if k not in params_of(hit[1])]
            if missing:
                raise Missing(f"{hit[0]} takes no {missing[0]}= argument, so no choice of initialiser")
            layer = construct(hit[1], fan_in, fan_out, seed=seed, **kwargs)
            W = f64(self.ACCESS.get(layer, "W"))
            return W.T if W.shape == (fan_in, fan_out) else W
        return self.make_layer("linear", in_features=fan_in, out_features=fan_out, seed=seed).get_params()["W"]


def _args(ns, qualname):
    """Positional parameter names of ns["Cls"].method (or of a function), without self."""
    cls_name, _, method = qualname.partition(".")
    obj = ns.get(cls_name)
    if obj is None or (method and not callable(getattr(obj, method, None))):
        return None
    fn = getattr(obj, method) if method else obj
    return [n for n in params_of(fn) if n != "self"]


def _has_method(ns, qualname) -> bool:
    cls_name, _, method = qualname.partition(".")
    return ns.get(cls_name) is not None and callable(getattr(ns[cls_name], method, None))


def clue_holds(ns: dict, clue: dict) -> bool:
    """Whether one ``detect`` clue of styles.toml holds for the namespace ``ns``."""
    if "all" in clue:
        return all(clue_holds(ns, c) for c in clue["all"])
    if "defines" in clue and clue["defines"] not in ns:
        return False
    if "defines_any" in clue and not any(n in ns for n in clue["defines_any"]):
        return False
    if "lacks" in clue and clue["lacks"] in ns:
        return False
    if "lacks_all" in clue and any(n in ns for n in clue["lacks_all"]):
        return False
    if "method" in clue and not _has_method(ns, clue["method"]):
        return False
    if "lacks_method" in clue and _has_method(ns, clue["lacks_method"]):
        return False
    if "args" in clue:
        args = _args(ns, clue["args"])
        if args is None:
            return False
        first = args[0] if args else ""
        checks = {
            "equals": lambda v: args == list(v),
            "first_in": lambda v: args[:1] != [] and first in v,
            "contains": lambda v: v in args,
            "starts_with": lambda v: args[: len(v)] == list(v),
            "count": lambda v: len(args) == v,
            "first_has_word": lambda v: v in first,
            "first_lacks_word": lambda v: v not in first,
        }
        if not all(test(clue[key]) for key, test in checks.items() if key in clue):
            return False
    return True


def detect(namespace: dict, names) -> tuple[str, list[str]]:
    """The style among ``names`` whose clues score highest, and the sentences saying why."""
    scores = {s: 0 for s in names}
    reasons: dict[str, list[str]] = {s: [] for s in names}
    for style in names:
        for clue in styles()[style].get("detect", ()):
            if clue_holds(namespace, clue):
                scores[style] += clue["weight"]
                reasons[style].append(clue["reason"])
    best = max(scores, key=lambda s: scores[s])
    table = ", ".join(f"{s} {scores[s]}" for s in sorted(scores, key=lambda s: -scores[s]))
    if scores[best] == 0:
        return "canonical", ["nothing matched a known API style, so the canonical style is assumed "
                             "(pass --style or --adapter if that is wrong)"]
    return best, reasons[best] + [f"clue scores: {table}"]
