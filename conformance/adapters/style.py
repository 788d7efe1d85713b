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
from conformance.adapters.initclaims import NAMES, constructor_claim, is_random
from conformance.runner import kit_guess
from conformance.tomlread import tomllib

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

    INIT_ARGS = ("init", "initialization", "initialisation", "weight_init", "init_method", "initializer", "w_init")

    def init_asks(self) -> tuple[str, ...]:
        """The initialisers the style's assignment asks for (others are judged only when present);
        none when the code is only weakly tied to that assignment (``weak``)."""
        return () if self.weak else tuple(self.DATA.get("init", {}).get("asks", ("he", "xavier")))

    def assignment_says(self, kind: str, name: str) -> tuple[str | None, str]:
        """(what the style's assignment says the linear layer's constructor draws, or None; a sentence
        for when nothing else says it). A weakly detected style's assignment says nothing: one class
        name does not make it the student's assignment."""
        says = self.DATA.get("init", {}).get("says")
        if says is None or not self.weak:
            return says, ""
        return None, (f": your code was matched to the {self.style} style by its names alone, so that "
                      f"assignment's {NAMES[says].split(' ')[0]} is not assumed (pass --style {self.style} if it is "
                      f"your assignment)")

    def capabilities(self) -> tuple[str, ...]:
        """What the style's code offers beyond the components (``offers`` in styles.toml)."""
        return tuple(self.DATA.get("offers", ())) + super().capabilities()

    def init_weights(self, kind, fan_in, fan_out, seed):
        return self.init_draw(kind, fan_in, fan_out, seed)[0]

    def init_draw(self, kind, fan_in, fan_out, seed):
        """(W (fan_out, fan_in), what claims it is ``kind``): one of the style's initialiser
        functions f(fan_in, fan_out, rng); else the linear layer built with an argument choosing
        ``kind`` (the style's keyword arguments, or an ``init=``-like parameter); else the linear
        layer's constructor, when its code or the style's assignment says it draws ``kind``."""
        init = self.DATA.get("init", {})
        reasons = []
        names = tuple(init.get("functions", {}).get(kind, ()))
        hit = find(self.namespace, *names) if names else None
        if hit is not None:
            with quiet():
                W = np.asarray(hit[1](fan_in, fan_out, np.random.default_rng(seed)), dtype=float)
            return W, f"your function {hit[0]}(fan_in, fan_out, rng)"
        if names:
            reasons.append(f"no {kind} initialiser function (looked for {', '.join(names)})")
        lin_names = self.LAYER_NAMES.get("linear", ())
        lin = find(self.namespace, *lin_names) if lin_names else None
        if lin is None:
            raise Missing("; ".join(reasons) or f"no linear layer whose constructor initialises {kind}"
                          + (f" (looked for {', '.join(lin_names)})" if lin_names else ""))
        name, cls = lin
        kwargs = dict(init.get("layer", {}).get(kind, {}))
        arg = next((a for a in self.INIT_ARGS if a in params_of(cls)), None)
        default = params_of(cls)[arg].default if arg is not None else None
        if not kwargs and arg is not None and default is not params_of(cls)[arg].empty and \
                not isinstance(default, (str, type(None))):
            # Dense(..., initializer=Zero()): it takes an object, not a name; a string would make its
            # constructor raise at the kit's guess, which is not the student's error
            shown = default.__name__ if isinstance(default, type) else f"{type(default).__name__}()"
            reasons.append(f"{name}'s {arg}= takes an object (its default is {shown}), not the "
                           f"name {kind!r}, so the kit cannot choose {kind} by it (pin your initialiser with --map)")
            arg = None
        if not kwargs and arg is not None:
            kwargs = {arg: kind}
        if kwargs:
            missing = [k for k in kwargs if k not in params_of(cls)]
            if missing:
                raise Missing(f"{name} takes no {missing[0]}= argument, so no choice of initialiser")
            layer = construct(cls, fan_in, fan_out, seed=seed, **kwargs)
            W = f64(self.ACCESS.get(layer, "W"))
            chosen = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
            return (W.T if W.shape == (fan_in, fan_out) else W), f"{name}(fan_in, fan_out, {chosen})"
        try:
            W = self.make_layer("linear", in_features=fan_in, out_features=fan_out, seed=seed).get_params()["W"]
        except Exception as exc:  # the kit's guess of where W lives was wrong: discovery may know better
            if kit_guess(exc) is None:
                raise  # the student's constructor raised: that is the student's error
            raise Missing("; ".join(reasons + [f"{name} keeps no weight array where the {self.style} style "
                                               "reads it"])) from None
        try:
            return W, self.constructor_says(cls, name, kind, W)
        except Missing as exc:
            raise Missing("; ".join(reasons + [str(exc)])) from None

    def constructor_says(self, cls, name, kind, W) -> str:
        """``constructor_says`` with what this style's assignment says (``assignment_says``)."""
        says, why_not = self.assignment_says(kind, name)
        try:
            return constructor_says(cls, name, kind, W, says, None if why_not else self.style)
        except Missing as exc:
            raise Missing(f"{exc}{why_not}") from None


def constructor_says(cls, name, kind, W, says, style) -> str:
    """Why a constructor's draw ``W`` is judged as ``kind`` (initclaims.py); Missing when its weights
    are not random or its code and its assignment claim another kind, or nothing."""
    if not is_random(W):
        raise Missing(f"{name}'s constructor does not initialise its weights randomly (they are all "
                      f"{float(np.ravel(W)[0]) if np.size(W) else 0:g}), and no initialiser function was found")
    try:
        return constructor_claim(cls, name, kind, says, style)
    except LookupError as exc:
        raise Missing(str(exc)) from None


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


ASSUMED = "canonical"  # the style when no style's clue holds


# A style's clues must score this much for its assignment's own demands (the initialiser it asks
# for) to be assumed: the assignments' submissions score 8 to 11; code that merely defines a
# class named Dense, as much public code does, scores 2 or 3.
ASSIGNMENT_SCORE = 4


def score(namespace: dict, style: str) -> int:
    """What the clues of ``style`` that hold for ``namespace`` weigh together."""
    return sum(clue["weight"] for clue in styles()[style].get("detect", ()) if clue_holds(namespace, clue))


def detect(namespace: dict, names) -> tuple[str, list[str], bool]:
    """The style among ``names`` whose clues score highest, the sentences saying why, and whether
    it was assumed (no clue held)."""
    scores = {s: score(namespace, s) for s in names}
    reasons = {s: [c["reason"] for c in styles()[s].get("detect", ()) if clue_holds(namespace, c)] for s in names}
    best = max(scores, key=lambda s: scores[s])
    table = ", ".join(f"{s} {scores[s]}" for s in sorted(scores, key=lambda s: -scores[s]))
    if scores[best] == 0:
        return ASSUMED, [f"nothing matched a known API style, so the {ASSUMED} style is assumed and every answer "
                         "an assignment allows is accepted (pass --style or --adapter if that is wrong)"], True
    return best, reasons[best] + [f"clue scores: {table}"], False
