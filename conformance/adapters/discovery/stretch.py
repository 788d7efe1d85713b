"""The stretch layers (batchnorm, layernorm, dropout, conv2d) found by what they do, whatever their names.

A class is built for each kind from its signature (the features, eps and momentum of a norm; the
drop rate, or the keep probability when its name or its own words say so, of a dropout; the
channels, kernel size, stride and padding of a convolution), called on kit inputs, and kept as the kind its
behaviour shows:

* a norm holds two parameters of F values (arrays (F,) or (1, F), or plain numbers 1.0 and 0.0):
  adding to one moves every row alike (beta), adding to the other does not (gamma); it is the
  batchnorm when it keeps running statistics (arrays of F values a training forward changes) or
  takes a momentum; else the one whose axis it normalises (each column: batchnorm, each row:
  layernorm) unless its name claims the other (a layernorm over the batch axis is still the
  layernorm); a norm that does neither is named by its name;
* a dropout zeroes a share of a positive input and scales what it keeps by one factor;
* a conv2d holds a 4-D weight ((out, in, kh, kw), or (kh, kw, in, out)) and maps a 4-D input to a
  4-D output (NCHW, or NHWC).

A pair of functions ``f(x, <arrays>, <dict>) -> (out, cache)`` / ``g(dout, cache) -> (dx, d<arrays>)``
(CS231n's ``batchnorm_forward``, ``dropout_forward``, ``conv_forward_naive``) is found the same way:
the keys the forward reads from its dict are read from its source (``bn_param['mode']``), filled by
what they mean, and the kind is the behaviour; the backward is the function whose answer has the
shapes of x and of the arrays (names only rank the pairs).

A buggy layer is still found (a batchnorm normalising over the wrong axis keeps running
statistics; a backward that is wrong still answers with the right shapes), then fails its checks.
Running statistics: a layer whose own default momentum is above 0.5 (CS231n's 0.9) weights the
OLD value by it; it is driven with the momentum that means the same (1 - 0.1), and says so.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from conformance.adapters.base import LayerHandle, Missing
from conformance.adapters.discovery import candidates as cand
from conformance.adapters.discovery.linear import BACKWARD_NAMES, FORWARD_NAMES, method_order
from conformance.adapters.discovery.objects import (StudentRaised, TRAINING_FLAGS, attempt, changed, describe, flat,
                                                    get, gradient_name_score, parameters, put, raised_inside,
                                                    required, scan, snapshot, words)

KINDS = ("batchnorm", "dropout", "conv2d", "layernorm")
DX_NAMES = {"dx", "dinputs", "dinput", "grad_input", "input_grad", "d_input", "d_inputs", "dx_", "dxs", "dl_dx"}
NORMS = ("batchnorm", "layernorm")
F, B = 4, 8
DEFAULTS = {"batchnorm": {"num_features": F, "eps": 1e-5, "momentum": 0.1}, "layernorm": {"num_features": F, "eps": 1e-5},
            "dropout": {"p": 0.3}, "conv2d": {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "stride": 1,
                                              "padding": 0}}

# What a constructor's (or a parameter dict's) names mean.
FEATURE_NAMES = {"num_features", "features", "n_features", "dim", "d", "size", "normalized_shape", "n", "units",
                 "input_dim", "input_size", "num_channels", "channels", "n_units", "in_features", "nfeatures",
                 "feature_size", "n_in", "shape", "input_shape", "num_inputs", "n_inputs", "hidden_size", "width"}
EPS_NAMES = {"eps", "epsilon", "eps_", "stabiliser", "stabilizer"}
MOMENTUM_NAMES = {"momentum", "decay", "moving_average_fraction", "avg_decay", "ema", "mom", "rho"}
DROP_NAMES = {"p", "rate", "drop_prob", "dropout", "drop_rate", "dropout_rate", "prob", "probability", "ratio",
              "drop_probability", "p_drop", "pdrop", "drop"}
KEEP_NAMES = {"keep_prob", "keep_rate", "keep", "keep_probability", "retain_prob", "p_keep", "retain", "keepprob"}
IN_C = {"in_channels", "in_c", "c_in", "input_channels", "in_ch", "n_channels", "channels_in", "in_chans",
        "input_depth", "in_depth", "c", "num_channels", "n_c", "nc_in"}
OUT_C = {"out_channels", "out_c", "c_out", "output_channels", "filters", "num_filters", "n_filters", "out_ch",
         "channels_out", "nf", "n_f", "depth", "output_depth", "nc_out", "k_filters"}
KERNEL = {"kernel_size", "kernel", "k", "filter_size", "ksize", "f", "kernel_dim", "size", "field", "window",
          "k_size", "kh", "filter"}
STRIDE = {"stride", "strides", "s", "step"}
PAD = {"padding", "pad", "p", "zero_padding", "pad_size"}
MODE_NAMES = {"mode", "phase"}
NORM_WORDS = {"norm", "normalization", "normalisation", "normalize", "normalise", "bn", "ln", "batchnorm", "layernorm"}
DROP_WORDS = {"dropout", "drop"}
CONV_WORDS = {"conv", "convolution", "conv2d", "convolutional", "conv2D"}
CONV_SHAPE = ((2, 7, 6), (3, 3))  # (in_c, H, W), (out_c, k) of the probe's convolution


def _rng():
    return np.random.default_rng(2468)


NORM_X = (lambda r: r.standard_normal((B, F)) * r.uniform(0.5, 3.0, F) + r.standard_normal(F) * 2
          + r.standard_normal((B, 1)))(_rng())
NORM_DY = _rng().standard_normal((B, F))
DROP_X = np.random.default_rng(7).uniform(0.5, 1.5, (200, 50))
CONV_X = np.random.default_rng(8).standard_normal((2, *CONV_SHAPE[0]))


class Unbuildable(Exception):
    """The kit cannot supply what the constructor needs: a sentence naming the argument."""


# --- what a call of a layer answers ----------------------------------------------------------------------


def _normalised(y, axis) -> bool:
    mean, std = y.mean(axis=axis), y.std(axis=axis)
    return bool(np.all(np.abs(mean) < 1e-3) and np.all((std > 0.5) & (std < 2.0)))


def _row_constant(d) -> bool:
    return bool(np.abs(d).max() > 1e-9 and np.allclose(d, d[:1], atol=1e-9 * (1 + np.abs(d).max())))


def _number_attrs(obj) -> dict:
    """Top-level plain-number attributes of 0.0 or 1.0 (a scalar gamma/beta, ``self.gamma = 1.0``)."""
    try:
        attrs = vars(obj)
    except TypeError:
        return {}
    return {(("a", k),): float(v) for k, v in attrs.items()
            if isinstance(v, (float, int, np.floating)) and not isinstance(v, (bool, np.bool_)) and float(v) in (0.0, 1.0)}


# --- train / eval ----------------------------------------------------------------------------------------


@dataclass
class Switch:
    """How train/eval mode is set: ``kind`` "arg" (a forward argument), "methods" (train()/eval()),
    "attr" (an attribute holding a bool or a mode string)."""

    kind: str
    name: str = ""
    train: Any = True
    test: Any = False
    confirmed: bool = False

    def text(self) -> str:
        how = {"arg": f"forward({self.name}={self.train!r}/{self.test!r})", "methods": "train()/eval()",
               "attr": f".{self.name} = {self.train!r}/{self.test!r}"}[self.kind]
        return how + ("" if self.confirmed else " (by its name: eval mode changed nothing on the kit's input)")


def _switches(obj, fwd: Callable) -> list[Switch]:
    """The ways to set the mode that the object offers, likeliest first."""
    out = []
    for p in parameters(fwd)[1:]:
        if p.name.lower() in TRAINING_FLAGS:
            out.append(Switch("arg", p.name, True, False))
        elif p.name.lower() in MODE_NAMES:
            out.append(Switch("arg", p.name, "train", "test"))
    if all(callable(getattr(obj, m, None)) and not required(getattr(obj, m)) for m in ("train", "eval")):
        out.append(Switch("methods"))
    try:
        attrs = dict(vars(obj))
    except TypeError:
        attrs = {}
    bools = sorted((k for k, v in attrs.items() if isinstance(v, (bool, np.bool_))),
                   key=lambda k: (k.lower().strip("_") not in TRAINING_FLAGS, not words(k) & {"train", "training", "test",
                                                                                                "eval", "mode"}))
    for k in bools:
        flip = ("test" in k.lower() or "eval" in k.lower() or "infer" in k.lower())
        out.append(Switch("attr", k, not flip, flip))
    for k, v in attrs.items():
        if isinstance(v, str) and v.lower() in ("train", "training", "test", "eval", "inference"):
            out.append(Switch("attr", k, "train", "test"))
    return out


def _set_mode(obj, switch: Switch | None, training: bool, call=attempt) -> dict:
    """Put ``obj`` in the mode; the keyword arguments its forward then takes. ``call`` runs train()/eval()
    (``attempt`` while discovering; a plain call from a handle, where the student's raise is theirs)."""
    if switch is None:
        return {}
    value = switch.train if training else switch.test
    if switch.kind == "arg":
        return {switch.name: value}
    if switch.kind == "methods":
        call(getattr(obj, "train" if training else "eval"))
    else:
        setattr(obj, switch.name, value)
    return {}


# --- classes ---------------------------------------------------------------------------------------------


# What a dropout's own words say its rate is: "We keep each neuron output with probability p"
# (CS231n's text since 2019) or "We drop each neuron output with probability p" (its 2016 text).
# Behaviour cannot tell them apart (both codes are self-consistent), so the docstrings and comments
# decide, as they decide an initialiser's claim (SPEC 13); "dropout" itself is neither word.
SAYS_KEEP = re.compile(r"\b(keep|keeps|kept|keeping|retain|retains|retained|retaining)\b", re.I)
SAYS_DROP = re.compile(r"\b(drop|drops|dropped|dropping)\b", re.I)


def _words_of(obj) -> str:
    """The docstrings and comments of a function, or of a class and its methods."""
    from conformance.adapters.initclaims import _comments

    parts = [inspect.getdoc(obj) or "", _comments(_source(obj))]
    if inspect.isclass(obj):
        parts += [inspect.getdoc(f) or "" for f in vars(obj).values() if inspect.isfunction(f)]
    return "\n".join(parts)


def rate_claim(obj, name: str) -> tuple[str | None, str]:
    """("keep", sentence) when ``obj``'s docstrings or comments say that ``name`` is the probability
    of keeping a unit, ("p", sentence) when they say it is the probability of dropping one; (None, "")
    when no sentence naming ``name`` says either, or they disagree.

    >>> def dropout_forward(x, dropout_param):
    ...     \"\"\"- p: Dropout parameter. We keep each neuron output with probability p.\"\"\"
    >>> rate_claim(dropout_forward, "p")
    ('keep', 'We keep each neuron output with probability p.')
    >>> class Dropout:
    ...     \"\"\"Each unit is kept with probability 1 - p and scaled by 1 / (1 - p).\"\"\"
    >>> rate_claim(Dropout, "p")[0]
    'p'
    """
    said, named = {}, re.compile(rf"(1\s*-\s*)?(?<![\w'\"]){re.escape(name)}(?![\w'\"])")
    for sentence in re.split(r"(?<=[.;])\s+|\n\s*\n|\n\s*[-*]\s", _words_of(obj)):
        complement = {bool(m.group(1)) for m in named.finditer(sentence)}  # "kept with probability 1 - p"
        keep, drop = SAYS_KEEP.search(sentence), SAYS_DROP.search(sentence)
        if len(complement) == 1 and bool(keep) != bool(drop):
            said.setdefault("keep" if bool(keep) != complement.pop() else "p", " ".join(sentence.split()))
    return next(iter(said.items())) if len(said) == 1 else (None, "")


def _role(kind: str, name: str, cls=None) -> str | None:
    low = name.lower()
    if kind in NORMS:
        table = (("eps", EPS_NAMES), ("momentum", MOMENTUM_NAMES), ("num_features", FEATURE_NAMES))
    elif kind == "dropout":
        if low in DROP_NAMES and cls is not None and rate_claim(cls, name)[0] == "keep":
            return "keep"
        table = (("keep", KEEP_NAMES), ("p", DROP_NAMES))
    else:
        table = (("in_channels", IN_C), ("out_channels", OUT_C), ("kernel_size", KERNEL), ("stride", STRIDE),
                 ("padding", PAD))
    return next((role for role, names in table if low in names), None)


@dataclass
class Build:
    args: tuple
    kwargs: dict
    text: str
    notes: list = field(default_factory=list)


def build_call(cls, kind: str, hyper: dict, seed: int = 0) -> Build:
    """The constructor call of ``cls`` as ``kind`` with the kit's ``hyper``, from its parameter names."""
    params, args, kwargs, notes, filled = parameters(cls), [], {}, [], set()
    positional = ["in_channels", "out_channels", "kernel_size"] if kind == "conv2d" else \
        ["num_features"] if kind in NORMS else ["p"]
    value = dict(hyper)
    if kind == "dropout":
        value["keep"] = 1 - hyper["p"]
    if kind == "batchnorm":
        m = _default_momentum(cls)
        if m is not None and m > 0.5:  # its momentum weights the old value (CS231n's 0.9)
            value["momentum"] = 1 - hyper["momentum"]
            notes.append(f"its default momentum={m:g} weights the old running value: driven with momentum="
                         f"{value['momentum']:g} (running = {value['momentum']:g} * running + "
                         f"{hyper['momentum']:g} * batch, the kit's {hyper['momentum']:g})")
    for p in params:
        role = _role(kind, p.name, cls)
        if role in value and role not in filled and (role != "num_features" or "num_features" in value):
            v = value[role]
            if p.name.lower() in ("normalized_shape", "shape", "input_shape") and role == "num_features":
                v = (v,)
            filled.add(role)
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and not kwargs:
                args.append(v)
            else:
                kwargs[p.name] = v
            continue
        if p.default is not p.empty:
            if p.name.lower() in ("rng", "random_state", "generator") and p.default is None:
                kwargs[p.name] = np.random.default_rng(seed)
            elif p.name.lower() in ("seed", "random_seed") and p.default is None:
                kwargs[p.name] = seed  # a generator the layer seeds itself: deterministic
            continue
        fill = cand._fill(p, seed, getattr(cls, "__name__", "layer").lower())
        if fill is not inspect.Parameter.empty:
            kwargs[p.name] = fill
            continue
        left = [r for r in positional if r not in filled]
        if left and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and not kwargs:
            args.append(value[left[0]] if left[0] != "p" else value["p"])
            filled.add(left[0])
            continue
        raise Unbuildable(f"its constructor needs {p.name!r}, which the kit cannot supply for a {kind}")
    if kind == "dropout" and not filled & {"p", "keep"}:
        raise Unbuildable("its constructor takes no drop rate (p, rate, keep_prob)")
    if kind == "conv2d" and not {"in_channels", "out_channels", "kernel_size"} <= filled:
        raise Unbuildable("its constructor takes no channels and kernel size")
    if "keep" in filled:
        name = next(p.name for p in params if _role(kind, p.name, cls) == "keep")
        why = "its argument is named so" if name.lower() in KEEP_NAMES else \
            f"its own words say so: \"{rate_claim(cls, name)[1]}\""
        notes.append(f"p read as the keep probability ({why}): built with {1 - hyper['p']:g}")
    shown = [repr(a) for a in args] + [f"{k}={'<rng>' if isinstance(v, np.random.Generator) else repr(v)}"
                                       for k, v in kwargs.items()]
    return Build(tuple(args), kwargs, f"{cls.__name__}({', '.join(shown)})", notes)


def _default_momentum(fn) -> float | None:
    for p in parameters(fn):
        if p.name.lower() in MOMENTUM_NAMES and isinstance(p.default, (int, float)) and not isinstance(p.default, bool):
            return float(p.default)
    return None


@dataclass
class Recipe:
    """How one stretch layer of the submission is built and driven."""

    kind: str
    name: str
    cls: Any = None
    forward: str = "forward"
    out_path: tuple | None = None
    backward: str | None = None
    bw_style: str = "return"     # "return": dx returned (alone or first of a tuple); "stored": dx in dx_path
    dx_path: tuple | None = None
    params: dict = field(default_factory=dict)  # canonical name -> path
    grads: dict = field(default_factory=dict)   # canonical name -> path | ("ret", i)
    switch: Switch | None = None
    layout: str = ""             # conv2d: "nchw/oihw", "nchw/hwio", "nhwc/hwio"...
    notes: list = field(default_factory=list)
    build_text: str = ""
    forward_raised: str = ""
    # functional pairs
    fwd_fn: Any = None
    bwd_fn: Any = None
    keys: dict = field(default_factory=dict)    # meaning -> the student's dict key
    arity: int = 0
    momentum_default: float | None = None
    own_eps: float | None = None  # a norm's eps fixed in its own code (no eps argument or key)
    keeps: bool = False          # a norm that keeps running statistics (or takes a momentum)
    by_axis_only: bool = False   # a norm told apart by its axis alone (no statistics, no name)
    bw_lr: str | None = None     # backward(dy, lr) updates the layer itself: gradients implied by the step
    w_hwio: bool = False         # conv2d: W stored (kh, kw, in, out)
    x_nhwc: bool = False         # conv2d: images (N, H, W, C)
    b_shape: str | None = None   # conv2d functional pair: the bias as its forward takes it: "flat" (out,), "4d" (1, 1, 1, out), "col" (out, 1)

    def build(self, hyper: dict, seed: int = 0):
        call = build_call(self.cls, self.kind, hyper, seed)
        return attempt(lambda: self.cls(*call.args, **call.kwargs), seed=seed), call

    def describe(self) -> str:
        if self.fwd_fn is not None:
            head = f"{self.fwd_fn.__name__}/{self.bwd_fn.__name__ if self.bwd_fn else '(no backward)'}: functions " \
                   f"f(x{', ' + ', '.join(self.params) if self.params else ''}, dict) -> (out, cache), " \
                   f"g(dout, cache) -> (dx{''.join(', d' + p for p in self.params)}); dict keys " \
                   f"{', '.join(f'{v!r}' for v in self.keys.values()) or 'none read'}"
        else:
            head = f"{self.name}: built as {self.build_text}; forward ({self.forward}"\
                   f"{', output in ' + describe(self.out_path) if self.out_path else ''})"
            if self.params:
                head += "; " + ", ".join(f"{k} in {describe(p)}" for k, p in self.params.items())
            if self.backward:
                where = "returned" if self.bw_style == "return" else f"in {describe(self.dx_path)}"
                self_update = bool(self.bw_lr)
                head += f"; backward ({self.backward}) dx {where}"
                if self.grads:
                    head += ", " + ", ".join(f"d{k} " + ("returned" if p and p[0] == "ret" else "implied by its update"
                                                          if self_update else f"in {describe(p)}")
                                             for k, p in self.grads.items())
            else:
                head += "; no backward found"
            head += "; train/eval by " + (self.switch.text() if self.switch else "nothing (no flag, method or attribute)")
        what = {"batchnorm": "normalises each feature over the batch", "layernorm": "normalises each sample over its "
                "features", "dropout": "zeroes a share of its input and scales the rest", "conv2d": "maps a 4-D input "
                "with a 4-D weight"}[self.kind]
        extra = [self.layout] if self.layout else []
        return f"{head}; found by behaviour: it {what}" + "".join(f"; {n}" for n in extra + self.notes) + \
            (f"; its forward raised ({self.forward_raised})" if self.forward_raised else "")


def _call(obj, method, x, mode_kw):
    """The forward output of ``obj.method(x)``: returned (or first of a tuple), or stored in a changed attribute."""
    fn = getattr(obj, method)
    flags = {n: True for n in required(fn)[1:] if n.lower() in TRAINING_FLAGS and n not in mode_kw}
    before = snapshot(obj)
    result = attempt(fn, x, **{**flags, **mode_kw})
    if isinstance(result, (tuple, list)) and result and isinstance(result[0], np.ndarray):
        result = result[0]
    if isinstance(result, np.ndarray):
        return np.asarray(result, dtype=float), None
    after = scan(obj)
    paths = [p for p in changed(before, after) if np.shape(after[p]) and after[p].ndim == np.ndim(x)]
    paths.sort(key=lambda p: ("out" not in describe(p).lower(), len(p)))
    return None, paths


def _forward_methods(cls) -> list[str]:
    return [m for m in method_order(cls, FORWARD_NAMES, exclude_words=("back", "grad", "update", "step", "init", "save",
                                                                       "load", "zero", "loss", "set", "get", "train",
                                                                       "fit", "eval", "param", "reset"))
            if len([n for n in required(getattr(cls, m)) if n.lower() not in TRAINING_FLAGS]) == 1]


def _forward_options(obj, cls, x, out_shape, mode_kw_of):
    """(method, output path or None, output) for every way a method answers with ``out_shape``: the
    returned array, else each changed attribute of that shape (the output, a cached x_hat, a mask...:
    the caller keeps the one its kind's behaviour confirms)."""
    for method in _forward_methods(cls):
        try:
            y, stored = _call(obj, method, x.copy(), mode_kw_of(method))
        except StudentRaised:
            continue
        if y is not None and y.shape == out_shape:
            yield method, None, y
            continue
        for path in stored or ():
            if np.shape(get(obj, path)) == out_shape:
                yield method, path, np.asarray(get(obj, path), dtype=float)


def _train_kw(cls, method) -> dict:
    """Forward keyword arguments that put an optional mode argument in training."""
    out = {}
    for p in parameters(getattr(cls, method))[1:]:
        if p.default is not p.empty and p.name.lower() in TRAINING_FLAGS:
            out[p.name] = True
        elif p.default is not p.empty and p.name.lower() in MODE_NAMES:
            out[p.name] = "train"
    return out


def identify_class(name: str, cls, kinds=KINDS) -> tuple[Recipe | None, dict]:
    """The stretch layer ``cls`` is, or (None, kind -> why not) when none of ``kinds`` fits."""
    whys = {}
    for kind in ("conv2d", "dropout", "batchnorm"):
        if kind == "batchnorm" and not set(kinds) & set(NORMS) or kind != "batchnorm" and kind not in kinds:
            continue
        try:
            recipe, why = _identify_as(name, cls, kind, kinds)
        except Unbuildable as exc:
            recipe, why = None, str(exc)
        if recipe is not None:
            return recipe, {}
        for k in (NORMS if kind == "batchnorm" else (kind,)):
            whys[k] = why.replace("for a batchnorm", f"for a {k}")
    return None, whys


def _identify_as(name, cls, kind, kinds):
    hyper = DEFAULTS[kind]
    call = build_call(cls, kind, hyper)
    try:
        obj = attempt(lambda: cls(*call.args, **call.kwargs))
    except StudentRaised as exc:
        said = raised_inside(exc)
        return None, f"{call.text} raised ({said or exc})"
    if kind == "conv2d":
        return _as_conv(name, cls, obj, call)
    x = DROP_X if kind == "dropout" else NORM_X
    why = f"no method of {call.text} maps a {x.shape} input to an output of that shape"
    for method, out_path, y in list(_forward_options(obj, cls, x, x.shape, lambda m: _train_kw(cls, m))):
        recipe = Recipe(kind, name, cls, method, out_path, build_text=call.text, notes=list(call.notes))
        if kind == "dropout":
            kept = y != 0
            share = float(kept.mean())
            if not 0.02 < share < 0.98 or np.ptp(y[kept] / x[kept]) > 1e-6 * np.abs(y[kept] / x[kept]).max():
                why = f"{call.text}.{method} does not zero a share of its input and scale the rest by one factor"
                continue
            return _finish(recipe, obj, x, np.random.default_rng(9).uniform(0.5, 1.5, x.shape)), ""
        found, why = _as_norm(name, cls, obj, recipe, y, kinds)
        if found is not None:
            return found, ""
    return None, why


def _as_norm(name, cls, obj, recipe, y0, kinds):
    x = NORM_X
    cands = {p: a.copy() for p, a in scan(obj).items() if a.size == F and a.ndim <= 2
             and not describe(p).lower().startswith(".d") and "grad" not in describe(p).lower()}
    cands.update(_number_attrs(obj))
    roles = {}
    for path, value in cands.items():
        bumped = np.asarray(value, dtype=float) + np.linspace(0.5, 0.8, F).reshape(np.shape(value)) \
            if np.ndim(value) else np.linspace(0.5, 0.8, F) + value
        try:
            put(obj, path, bumped)
            y1 = _read(obj, recipe, x)
        except (StudentRaised, Exception):
            y1 = None
        finally:
            put(obj, path, value) if np.ndim(value) else _put_number(obj, path, value)
        if y1 is None or np.shape(y1) != y0.shape:
            continue
        d = np.asarray(y1, float) - y0
        if np.abs(d).max() < 1e-12:
            continue  # not read by a training forward (running statistics, a cached mean)
        if _row_constant(d):
            roles.setdefault("beta", path)
        else:
            roles.setdefault("gamma", path)
    if set(roles) != {"gamma", "beta"}:
        return None, f"{recipe.build_text} holds no scale and shift of {F} values that its output follows"
    recipe.params = {"gamma": roles["gamma"], "beta": roles["beta"]}
    try:  # with gamma 1 and beta 0 the output is x_hat
        for k, v in (("gamma", 1.0), ("beta", 0.0)):
            put(obj, roles[k], np.full(np.shape(get(obj, roles[k])) or (F,), v))
        before = snapshot(obj)
        xhat = np.asarray(_read(obj, recipe, x), float)
        moved = [p for p in changed(before, scan(obj)) if scan(obj)[p].size == F]
    except StudentRaised as exc:
        return None, f"{recipe.build_text}.{recipe.forward} raised ({exc})"
    cols, rows = _normalised(xhat, 0), _normalised(xhat, 1)
    keeps = bool(moved) or any(p.name.lower() in MOMENTUM_NAMES for p in parameters(cls))
    claims = _claims(name)
    if keeps:
        kind = "batchnorm"
    elif cols and not rows:  # no running statistics: a layernorm over the wrong axis, when its name says so
        kind = "layernorm" if claims == ["layernorm"] else "batchnorm"
    elif rows and not cols:
        kind = "batchnorm" if claims == ["batchnorm"] else "layernorm"
    elif claims:
        kind = claims[0] if claims[0] in NORMS else "batchnorm"
        recipe.notes.append("it normalises neither each feature nor each sample: taken as the "
                            f"{kind} by its name")
    else:
        return None, f"{recipe.build_text} holds a scale and a shift but normalises neither each feature nor each sample"
    if kind not in kinds:
        return None, f"it behaves as a {kind}"
    recipe.kind, recipe.keeps = kind, keeps
    recipe.by_axis_only = not keeps and not claims and (cols != rows)
    if kind == "batchnorm" and not cols:
        recipe.notes.append("its output is not normalised per feature, yet it is the batchnorm: "
                            + ("it keeps running statistics" if keeps else "its name says so"))
    if kind == "layernorm" and not rows:
        recipe.notes.append("its output is not normalised per sample, yet it is the layernorm: its name says so")
    if kind == "batchnorm" and not moved:
        recipe.notes.append("it keeps no running statistics")
    if kind == "layernorm":  # the layernorm's hyper-parameters
        recipe.build_text = build_call(cls, "layernorm", DEFAULTS["layernorm"]).text
    if not any(_role(kind, p.name) == "eps" for p in parameters(cls)):
        _note_own_eps(recipe, cls, obj)
    return _finish(recipe, obj, x, NORM_DY), ""


SMALL_LITERAL = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?[eE]-\d+|0\.0{2,}\d+)(?![\w.])")


def own_eps(code, built=None) -> tuple[float | None, str]:
    """(eps, where) for a norm that fixes its eps itself: an attribute named so on the ``built``
    layer, else the one small constant (1e-12 .. 1e-2) its code writes (``np.sqrt(var + 1e-8)``);
    (None, "") when there is none or several.

    >>> def batchnorm(x, gamma, beta, bn_param):
    ...     return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-8) + beta, None
    >>> own_eps(batchnorm)
    (1e-08, 'the constant 1e-8 in its code')
    """
    for name, value in (vars(built) if built is not None and hasattr(built, "__dict__") else {}).items():
        if name.lower() in EPS_NAMES and isinstance(value, float) and 0 < value <= 1e-2:
            return value, f"its attribute .{name}"
    source = "\n".join(line.split("#", 1)[0] for line in _source(code).splitlines())
    found = {}
    for text in SMALL_LITERAL.findall(source):
        if 1e-12 <= float(text) <= 1e-2:
            found.setdefault(float(text), text)
    return (next(iter(found)), f"the constant {next(iter(found.values()))} in its code") if len(found) == 1 else (None, "")


def _note_own_eps(recipe: Recipe, code, built=None) -> None:
    recipe.own_eps, where = own_eps(code, built)
    if recipe.own_eps is not None:
        recipe.notes.append(f"its own eps = {recipe.own_eps:g} ({where}; no eps argument): judged at that eps")


def _put_number(obj, path, value):
    setattr(get(obj, path[:-1]) if len(path) > 1 else obj, path[-1][1], value)


def _read(obj, recipe, x, mode_kw=None):
    kw = _mode_kw(obj, recipe, True) if mode_kw is None else mode_kw
    fn = getattr(obj, recipe.forward)
    flags = {n: True for n in required(fn)[1:] if n.lower() in TRAINING_FLAGS and n not in kw}
    result = attempt(fn, np.array(x, dtype=float), **{**flags, **kw})
    if recipe.out_path is not None:
        return np.asarray(get(obj, recipe.out_path), dtype=float)
    if isinstance(result, (tuple, list)):
        result = result[0]
    return result


def _mode_kw(obj, recipe, training):
    if recipe.switch is not None:
        return _set_mode(obj, recipe.switch, training)
    return _train_kw(type(obj), recipe.forward) if training else {}


WEIGHT_TEXT = {"oihw": "out, in, kh, kw", "hwio": "kh, kw, in, out"}


def _as_conv(name, cls, obj, call):
    (c_in, h, w_), (c_out, k) = CONV_SHAPE
    arrays = scan(obj)
    weight = next(((p, "oihw") for p, a in arrays.items() if a.shape == (c_out, c_in, k, k)), None) or \
        next(((p, "hwio") for p, a in arrays.items() if a.shape == (k, k, c_in, c_out)), None)
    if weight is None:
        return None, f"{call.text} holds no 4-D weight ({c_out}, {c_in}, {k}, {k}) or ({k}, {k}, {c_in}, {c_out})"
    bias = next((p for p, a in arrays.items() if a.size == c_out and a.ndim <= 2 and p != weight[0]
                 and not describe(p).lower().startswith(".d")), None)
    layouts = (("nchw", CONV_X, (2, c_out, h - k + 1, w_ - k + 1)),
               ("nhwc", CONV_X.transpose(0, 2, 3, 1).copy(), (2, h - k + 1, w_ - k + 1, c_out)))
    for data, x, out_shape in layouts:
        for method, out_path, _ in _forward_options(obj, cls, x, out_shape, lambda m: {}):
            recipe = Recipe("conv2d", name, cls, method, out_path, build_text=call.text, notes=list(call.notes),
                            params={"W": weight[0], **({"b": bias} if bias is not None else {})},
                            layout=f"layout: input {data.upper()}, W ({WEIGHT_TEXT[weight[1]]})",
                            w_hwio=weight[1] == "hwio", x_nhwc=data == "nhwc")
            dy = np.random.default_rng(10).standard_normal(out_shape)
            return _finish(recipe, obj, x, dy), ""
    return None, f"{call.text} holds a 4-D weight but maps no NCHW or NHWC input to a 4-D output"


def _finish(recipe: Recipe, obj, x, dy) -> Recipe:
    """Its backward (where dx and the parameter gradients land) and its train/eval switch."""
    cls = type(obj)
    methods = [m for m in method_order(cls, BACKWARD_NAMES) if m != recipe.forward and
               ("back" in m.lower() or "grad" in m.lower() or m in BACKWARD_NAMES)]
    shapes = {k: np.shape(get(obj, p)) for k, p in recipe.params.items()}
    for method in methods:
        fn = getattr(obj, method)
        need = required(fn)
        lr_name = need[1] if len(need) == 2 and need[1].lower() in cand.LR_NAMES else None
        if len(need) != 1 and lr_name is None:
            continue
        try:
            _read(obj, recipe, x)
            before = snapshot(obj)
            kept = {k: np.array(get(obj, p), dtype=float) for k, p in recipe.params.items()}
            result = attempt(fn, np.array(dy, dtype=float), *([1.0] if lr_name else []))
        except StudentRaised:
            continue
        after = scan(obj)
        moved = [p for p in changed(before, after) if p not in recipe.params.values()]
        if lr_name:  # a layer that updates itself: its gradient is what the step took away (lr 1)
            for k, p in recipe.params.items():
                put(obj, p, kept[k])
            recipe.bw_lr, recipe.grads = lr_name, {k: ("implied",) for k in recipe.params}
            recipe.notes.append(f"it updates itself in {method}(dy, {lr_name}): the gradient is what a step of "
                                f"{lr_name}=1 takes away, then the parameters are put back")
        arrays = flat(result)
        if arrays and np.shape(arrays[0]) == np.shape(x):
            recipe.backward, recipe.bw_style = method, "return"
        else:
            dxs = [p for p in moved if after[p].shape == np.shape(x)]
            if not dxs:  # a dx of the wrong shape (a bug, even empty) is still the dx when its name says so
                dxs = [(("a", n),) for n, v in vars(obj).items() if n.lower().strip("_") in DX_NAMES
                       and isinstance(v, np.ndarray)] if hasattr(obj, "__dict__") else []
            if not dxs:
                continue
            dxs.sort(key=lambda p: (not (describe(p).lower().startswith(".d") or "grad" in describe(p).lower()), len(p)))
            recipe.backward, recipe.bw_style, recipe.dx_path = method, "stored", dxs[0]
        rest = arrays[1:] if recipe.bw_style == "return" else []
        for k, shape in shapes.items() if not lr_name else ():
            size = int(np.prod(shape)) if shape else F
            hit = next((i for i, a in enumerate(rest) if np.size(a) == size and ("ret", i + 1) not in recipe.grads.values()),
                       None)
            if hit is not None:
                recipe.grads[k] = ("ret", hit + 1)
                continue
            options = [p for p in moved if after[p].size == size and p not in recipe.params.values()
                       and p not in recipe.grads.values()]
            options.sort(key=lambda p: -gradient_name_score(p, recipe.params[k]))
            if recipe.kind in NORMS and len(options) > 1 and gradient_name_score(options[0], recipe.params[k]) == \
                    gradient_name_score(options[1], recipe.params[k]):  # no name tells: dbeta is the sum of dy
                want = np.sum(dy, axis=0)
                by_value = [p for p in options if np.allclose(np.ravel(after[p]), want)]
                if by_value:
                    options = by_value if k == "beta" else [p for p in options if p not in by_value] or options
            if options:
                recipe.grads[k] = options[0]
        break
    recipe.switch = _confirm_switch(recipe, cls)
    return recipe


def _confirm_switch(recipe, cls) -> Switch | None:
    """The first train/eval switch whose eval mode changes the output, else the likeliest by name."""
    if recipe.kind in ("conv2d", "layernorm"):
        return None
    hyper = DEFAULTS[recipe.kind]
    options = None
    for i in range(8):
        try:
            obj = recipe.build(hyper)[0]
        except StudentRaised:
            return None
        if options is None:
            options = _switches(obj, getattr(obj, recipe.forward))
        if i >= len(options):
            break
        sw = options[i]
        x = DROP_X if recipe.kind == "dropout" else NORM_X
        try:
            if recipe.kind == "batchnorm":
                recipe.switch = sw
                for _ in range(2):
                    _read(obj, recipe, x * 0.5 + 1.0)
                train = np.asarray(_read(obj, recipe, x), float)
                evalled = np.asarray(_read(obj, recipe, x, _set_mode(obj, sw, False)), float)
                ok = evalled.shape == x.shape and not np.allclose(evalled, train)
            else:
                evalled = np.asarray(_read(obj, recipe, x, _set_mode(obj, sw, False)), float)
                ok = evalled.shape == x.shape and np.allclose(evalled, x)
        except (StudentRaised, Exception):
            ok = False
        if ok:
            sw.confirmed = True
            return sw
    recipe.switch = None
    return options[0] if options else None


# --- functional pairs ------------------------------------------------------------------------------------


def _dict_param(fn) -> str | None:
    need = required(fn)
    if len(need) < 2:
        return None
    last = need[-1]
    src = _source(fn)
    return last if re.search(rf"\b{re.escape(last)}\s*(\[|\.get\()", src) else None


def _source(fn) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""


def dict_keys(fn, pname) -> list[str]:
    src = _source(fn)
    keys = re.findall(rf"\b{re.escape(pname)}\s*\[\s*['\"](\w+)['\"]", src)
    keys += re.findall(rf"\b{re.escape(pname)}\.get\(\s*['\"](\w+)['\"]", src)
    return list(dict.fromkeys(keys))


def _source_default(fn, pname, key) -> float | None:
    m = re.search(rf"\b{re.escape(pname)}\.get\(\s*['\"]{re.escape(key)}['\"]\s*,\s*([0-9.eE+-]+)\s*\)", _source(fn))
    try:
        return float(m.group(1)) if m else None
    except ValueError:
        return None


def _meaning(key: str, kind: str) -> str | None:
    low = key.lower()
    if low in MODE_NAMES:
        return "mode"
    if low in ("seed", "random_seed"):
        return "seed"
    if low in ("running_mean", "running_var", "moving_mean", "moving_var", "running_variance", "moving_variance"):
        return "running_mean" if "mean" in low else "running_var"
    if kind in NORMS:
        return {"eps": "eps", "epsilon": "eps"}.get(low) or ("momentum" if low in MOMENTUM_NAMES else None)
    if kind == "dropout":
        return "keep" if low in KEEP_NAMES else "p" if low in DROP_NAMES else None
    return "stride" if low in STRIDE else "padding" if low in PAD else None


@dataclass
class FunctionalState:
    recipe: Recipe
    config: dict


def make_config(recipe: Recipe, hyper: dict, training: bool = True) -> dict:
    cfg = {}
    for meaning, key in recipe.keys.items():
        if meaning == "mode":
            cfg[key] = "train" if training else "test"
        elif meaning == "seed":
            cfg[key] = 0
        elif meaning == "keep":
            cfg[key] = 1 - hyper["p"]
        elif meaning == "momentum" and recipe.momentum_default is not None and recipe.momentum_default > 0.5:
            cfg[key] = 1 - hyper["momentum"]
        elif meaning in ("running_mean", "running_var") and "num_features" in hyper:
            cfg[key] = (np.zeros if meaning == "running_mean" else np.ones)(hyper["num_features"])
        elif meaning in hyper:
            cfg[key] = hyper[meaning]
    return cfg


def identify_functional(functions: list, kinds=KINDS) -> tuple[dict, list[str]]:
    """kind -> Recipe for the functional pairs among ``functions``; and what was tried and rejected."""
    found, rejected = {}, []
    backs = [(n, g) for n, g in functions if len(required(g)) == 2]
    for name, fn in functions:
        pname = _dict_param(fn)
        if pname is None or len(required(fn)) not in (2, 4):
            continue
        arity = len(required(fn))
        keys_seen = dict_keys(fn, pname)
        for kind in (("dropout",) if arity == 2 else ("conv2d", "batchnorm")):
            kind_keys = {}
            for key in keys_seen:
                meaning = _meaning(key, "layernorm" if kind == "batchnorm" else kind)
                if meaning == "p" and rate_claim(fn, key)[0] == "keep":
                    meaning = "keep"
                if meaning and meaning not in kind_keys:
                    kind_keys[meaning] = key
            recipe = Recipe(kind, name, fwd_fn=fn, keys=kind_keys, arity=arity)
            if kind == "batchnorm" and "momentum" in kind_keys:
                recipe.momentum_default = _source_default(fn, pname, kind_keys["momentum"])
            hit = _functional_as(recipe, backs, kinds)
            if isinstance(hit, Recipe):
                if hit.kind not in found:
                    found[hit.kind] = hit
                break
            if hit and (kind in _claims(name) or kind_keys.keys() - {"mode", "seed"}):
                rejected.append(f"{name} ({hit})")
    return found, rejected


def _functional_as(recipe: Recipe, backs, kinds):
    kind, fn = recipe.kind, recipe.fwd_fn
    if kind == "dropout":
        x, params, dy = DROP_X, {}, np.random.default_rng(9).uniform(0.5, 1.5, DROP_X.shape)
        if not {"p", "keep"} & set(recipe.keys):
            return "reads no drop rate from its dict"
    elif kind == "conv2d":
        return _functional_conv(recipe, backs, kinds)
    else:
        x, params, dy = NORM_X, {"gamma": np.ones(F), "beta": np.zeros(F)}, NORM_DY
    hyper = DEFAULTS["batchnorm" if kind in NORMS else kind]
    try:
        result = attempt(fn, x.copy(), *[v.copy() for v in params.values()], make_config(recipe, hyper))
    except StudentRaised as exc:
        return "" if kind == "conv2d" else f"raised when called as a {kind} ({exc})"
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], np.ndarray)):
        return "" if kind == "conv2d" else "does not return (out, cache)"
    y = np.asarray(result[0], float)
    if kind == "conv2d":
        if y.shape != dy.shape:
            return ""
    elif kind == "dropout":
        kept = y != 0
        if y.shape != x.shape or not 0.02 < kept.mean() < 0.98:
            return "does not zero a share of its input"
    else:
        if y.shape != x.shape:
            return "maps the input to another shape"
        cols, rows = _normalised(y, 0), _normalised(y, 1)
        keeps = bool({"running_mean", "running_var", "momentum"} & set(recipe.keys))
        claims = _claims(recipe.name)
        if keeps or cols and not rows and claims != ["layernorm"] or rows and not cols and claims == ["batchnorm"]:
            recipe.kind = "batchnorm"
        elif rows and not cols or cols and not rows:
            recipe.kind = "layernorm"
        elif claims and claims[0] in NORMS:
            recipe.kind = claims[0]
        else:
            return "normalises neither each feature nor each sample"
        if recipe.kind == "batchnorm" and not cols:
            recipe.notes.append("its output is not normalised per feature, yet it is the batchnorm: "
                                + ("it keeps running statistics" if keeps else "its name says so"))
        if "eps" not in recipe.keys:
            _note_own_eps(recipe, fn)
    if recipe.kind not in kinds:
        return f"behaves as a {recipe.kind}"
    recipe.params = {k: () for k in params}
    ranked = sorted(backs, key=lambda ng: -_pair_score(recipe.name, ng[0]))
    for gname, g in ranked:
        try:
            answer = attempt(g, np.array(dy, float), result[1])
        except StudentRaised:
            continue
        arrays = flat(answer)
        if not arrays or np.shape(arrays[0]) != x.shape:
            continue
        if len(arrays) < 1 + len(params) or any(np.size(a) != np.size(v) for a, v in zip(arrays[1:], params.values())):
            continue
        recipe.bwd_fn = g
        break
    if recipe.kind == "batchnorm":
        m = recipe.momentum_default
        if m is not None and m > 0.5:
            recipe.notes.append(f"its default momentum={m:g} weights the old running value: driven with "
                                f"momentum={1 - 0.1:g} for the kit's 0.1")
        if {"running_mean", "running_var"} & set(recipe.keys):
            recipe.notes.append("the kit starts the running statistics it hands in at mean 0, variance 1")
    if "keep" in recipe.keys:
        key = recipe.keys["keep"]
        why = "its key is named so" if key.lower() in KEEP_NAMES else \
            f"its own words say so: \"{rate_claim(recipe.fwd_fn, key)[1]}\""
        recipe.notes.append(f"{key!r} read as the keep probability ({why})")
    return recipe


CONV_LAYOUTS = (("nchw", "oihw", "flat"), ("nhwc", "hwio", "4d"), ("nhwc", "hwio", "flat"), ("nchw", "oihw", "col"))


def _functional_conv(recipe: Recipe, backs, kinds):
    """A convolution pair in any of CONV_LAYOUTS: NCHW images with W (out, in, kh, kw), or the course
    notebooks' NHWC images with W (kh, kw, in, out) and b (1, 1, 1, out). The first layout its forward
    answers the right output shape in is the one it is driven in."""
    (c_in, h, w_), (c_out, k) = CONV_SHAPE
    W = np.random.default_rng(11).standard_normal((c_out, c_in, k, k)) * 0.5
    b = np.random.default_rng(12).standard_normal(c_out)
    dy = np.random.default_rng(10).standard_normal((2, c_out, h - k + 1, w_ - k + 1))
    raised = []  # (how far into the student's code it got, layout, what it raised) for each layout that raised
    for data, weight, bias in CONV_LAYOUTS:
        recipe.x_nhwc, recipe.w_hwio = data == "nhwc", weight == "hwio"
        recipe.b_shape = bias
        x, (Ws, bs) = _conv_in(recipe, CONV_X), _conv_params(recipe, W, b)
        try:
            result = attempt(recipe.fwd_fn, x.copy(), Ws, bs, make_config(recipe, DEFAULTS["conv2d"]))
        except StudentRaised as exc:
            raised.append((_progress(exc.cause), (data, weight, bias), exc.cause))
            continue
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], np.ndarray)) \
                or np.shape(result[0]) != np.shape(_conv_in(recipe, dy)):
            continue
        if "conv2d" not in kinds:
            return "behaves as a conv2d"
        recipe.params, recipe.layout = {"W": (), "b": ()}, f"{data}/{weight}"
        if recipe.x_nhwc or recipe.w_hwio or bias != "flat":
            recipe.notes.append(_conv_layout_note(recipe, bias))
        ranked = sorted(backs, key=lambda ng: -_pair_score(recipe.name, ng[0]))
        named = None  # the forward's partner by name (conv_forward_naive -> conv_backward_naive)
        for gname, g in ranked:
            try:
                arrays = flat(attempt(g, _conv_in(recipe, dy), result[1]))
            except StudentRaised:
                continue
            if len(arrays) >= 3 and np.shape(arrays[0]) == x.shape and np.size(arrays[1]) == W.size \
                    and np.size(arrays[2]) == b.size:
                recipe.bwd_fn = g
                break
            if named is None and len(arrays) >= 3 and _pair_score(recipe.name, gname) >= 3:
                named = g
        if recipe.bwd_fn is None and named is not None:
            # it answers (dx, dW, db) in the wrong shapes: a buggy backward is still the backward (it
            # then fails wrong_shape), never a reason to say the conv2d has none
            recipe.bwd_fn = named
            recipe.notes.append(f"{named.__name__} is its backward by name, although its answer does not have "
                                "the shapes of x, W and b")
        return recipe
    raised.sort(key=lambda r: r[0], reverse=True)  # stable: among equals, the first layout (NCHW) first
    furthest = len(raised) > 1 and raised[0][0] > raised[1][0]
    # raised at the same line of its own code in every layout, and named a convolution (Python 2's
    # `/` making a float shape in conv_forward_naive): the student's error too, read in the kit's NCHW
    # (not a KeyError: a key of its dict the kit could not fill is the kit's failure to adapt)
    claimed = len(raised) == len(CONV_LAYOUTS) and raised[0][0] > (0, 0) and "conv2d" in _claims(recipe.name) \
        and not isinstance(raised[0][2], KeyError)
    if (furthest or claimed) and "conv2d" in kinds:
        # its forward raised in every layout, but got furthest in one: the student's own error, judged as such
        (data, weight, bias), cause = raised[0][1], raised[0][2]
        recipe.x_nhwc, recipe.w_hwio = data == "nhwc", weight == "hwio"
        recipe.b_shape = bias
        recipe.params, recipe.layout = {"W": (), "b": ()}, f"{data}/{weight}"
        recipe.notes.append(_conv_layout_note(recipe, bias))
        recipe.forward_raised = f"{type(cause).__name__}: {cause}; read in the layout it got furthest in" if furthest \
            else f"{type(cause).__name__}: {cause}, at the same line in every layout; its name says conv"
        return recipe
    recipe.x_nhwc = recipe.w_hwio = False
    recipe.b_shape = None
    return ""


def _progress(exc: BaseException) -> tuple[int, int]:
    """How far a call got into the student's code before ``exc``: the student's frames on the
    traceback, then the line of the innermost one (later in the same function is further)."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "/conformance/" not in f.filename.replace("\\", "/") and "/numpy/" not in f.filename.replace("\\", "/")]
    return (len(frames), frames[-1].lineno or 0) if frames else (0, 0)


def _conv_layout_note(recipe: Recipe, bias: str) -> str:
    return (f"images {'NHWC' if recipe.x_nhwc else 'NCHW'}, W {'(kh, kw, in, out)' if recipe.w_hwio else '(out, in, kh, kw)'}"
            f", b {dict(flat='(out,)', col='(out, 1)').get(bias, '(1, 1, 1, out)')}")


def _conv_in(recipe: Recipe, a):
    """An NCHW array in the layout the student's functions take."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)) if recipe.x_nhwc else a


def _conv_params(recipe: Recipe, W, b):
    """The kit's W (out, in, kh, kw) and b (out,) as the student's forward takes them (copies)."""
    Ws = np.ascontiguousarray(W.transpose(2, 3, 1, 0)) if recipe.w_hwio else W.copy()
    shape = {"4d": (1, 1, 1, b.size), "col": (b.size, 1)}.get(recipe.b_shape, (b.size,))
    return Ws, b.reshape(shape).copy()


def _pair_score(fname: str, gname: str) -> int:
    f, g = fname.lower(), gname.lower()
    if g == f.replace("forward", "backward"):
        return 3
    return len(words(f) & words(g)) + ("back" in g or "grad" in g)


# --- handles ---------------------------------------------------------------------------------------------


class DiscoveredStretch(LayerHandle):
    """A stretch layer class found by behaviour, driven through the paths its recipe found."""

    def __init__(self, recipe: Recipe, hyper: dict):
        self.recipe, self.kind, self.student_name = recipe, recipe.kind, recipe.name
        self.conventions = {"found": recipe.describe()}
        if recipe.kind == "batchnorm":
            self.conventions["running_stats"] = next((n for n in recipe.notes if "momentum" in n), "")
        if recipe.own_eps is not None:
            self.conventions["eps"] = recipe.own_eps
        try:
            self.obj, _ = recipe.build({**DEFAULTS[recipe.kind], **hyper}, hyper.get("seed", 0))
        except StudentRaised as exc:
            raise exc.cause from None
        self.training = True
        self.features = int(hyper.get("num_features", F))

    def _to(self, x, copy=True):
        x = np.array(x, dtype=np.float64, copy=True) if copy else x
        return x.transpose(0, 2, 3, 1) if self.recipe.x_nhwc else x

    def _from(self, y):
        y = np.asarray(y, dtype=np.float64)
        return y.transpose(0, 3, 1, 2).copy() if self.recipe.x_nhwc and y.ndim == 4 else y

    def forward(self, x):
        return self._forward(x, copy=True)

    def raw_forward(self, x):
        """The student's forward on the caller's own array (no copy), for the stability check."""
        return self._forward(x, copy=False)

    def raw_backward(self, dy):
        return self._backward(dy, copy=False)

    def _forward(self, x, copy):
        sw = self.recipe.switch
        if sw is not None and sw.kind == "arg":
            kw = {sw.name: sw.train if self.training else sw.test}
        else:
            kw = _train_kw(type(self.obj), self.recipe.forward) if sw is None and self.training else {}
        fn = getattr(self.obj, self.recipe.forward)
        flags = {n: self.training for n in required(fn)[1:] if n.lower() in TRAINING_FLAGS and n not in kw}
        result = self._student(lambda: fn(self._to(x, copy), **{**flags, **kw}))
        if self.recipe.out_path is not None:
            return self._from(get(self.obj, self.recipe.out_path))
        if isinstance(result, (tuple, list)):
            result = result[0]
        return self._from(result)

    def backward(self, dy):
        return self._backward(dy, copy=True)

    def _backward(self, dy, copy):
        if self.recipe.backward is None:
            raise Missing(f"{self.student_name} has no backward the kit could find (a method answering with an array "
                          "of the input's shape)")
        lr = (1.0,) if self.recipe.bw_lr else ()
        before = self.get_params() if lr else None
        result = self._student(lambda: getattr(self.obj, self.recipe.backward)(self._to(dy, copy), *lr))
        if lr:  # the step it took is the gradient; the parameters are put back
            after = self.get_params()
            self._implied = {k: before[k] - after[k] for k in before}
            self.set_params(before)
        self._last = flat(result)
        if self.recipe.bw_style == "stored":
            return self._from(get(self.obj, self.recipe.dx_path))
        return self._from(self._last[0])

    def _student(self, call):
        from conformance.adapters._common import quiet
        try:
            with quiet():
                return call()
        except NotImplementedError:
            raise Missing(f"{self.student_name} raises NotImplementedError (not written yet)") from None

    def param_names(self):
        return tuple(self.recipe.params)

    def _canon(self, name, value):
        value = np.array(value, dtype=np.float64)
        if name == "W" and self.recipe.w_hwio:
            return value.transpose(3, 2, 0, 1).copy()
        if self.kind in NORMS and value.size == 1:
            return np.full(self.features, float(value))
        return value.reshape(-1) if name in ("gamma", "beta", "b") else value

    def get_params(self):
        return {k: self._canon(k, get(self.obj, p)) for k, p in self.recipe.params.items()}

    def set_params(self, params):
        for k, p in self.recipe.params.items():
            if k not in params:
                continue
            value = np.array(params[k], dtype=np.float64)
            if k == "W" and self.recipe.w_hwio:
                value = value.transpose(2, 3, 1, 0).copy()
            current = get(self.obj, p)
            if np.ndim(current) == 0:  # a plain number: the kit's (F,) array takes its place
                _put_number(self.obj, p, value.copy())
            else:
                put(self.obj, p, value.reshape(np.shape(current)) if np.size(current) == value.size else value)

    def get_grads(self):
        out = {}
        for k in self.recipe.params:
            where = self.recipe.grads.get(k)
            if where is None:
                raise Missing(f"{self.student_name} stores no gradient for {k} after backward (the kit found no "
                              f"array of {k}'s size that backward returns or changes)", gradient_of=k)
            if where[0] == "implied":
                out[k] = self._implied[k]
                continue
            value = self._last[where[1]] if where[0] == "ret" else get(self.obj, where)
            out[k] = self._canon(k, value)
        return out

    def set_training(self, training: bool):
        self.training = training
        if self.recipe.switch is not None and self.recipe.switch.kind != "arg":
            self._student(lambda: _set_mode(self.obj, self.recipe.switch, training, call=lambda f: f()))


class FunctionalStretch(LayerHandle):
    """A functional pair: the kit holds the arrays and the dict (running statistics persist in it)."""

    def __init__(self, recipe: Recipe, hyper: dict):
        self.recipe, self.kind = recipe, recipe.kind
        self.student_name = f"{recipe.fwd_fn.__name__}/{recipe.bwd_fn.__name__ if recipe.bwd_fn else '-'}"
        self.conventions = {"found": recipe.describe()}
        if recipe.kind == "batchnorm":
            self.conventions["running_stats"] = next((n for n in recipe.notes if "momentum" in n), "")
        if recipe.own_eps is not None:
            self.conventions["eps"] = recipe.own_eps
        self.hyper = {**DEFAULTS[recipe.kind], **hyper}
        if self.kind == "conv2d":
            h = self.hyper
            k = h["kernel_size"]
            rng = np.random.default_rng(h.get("seed", 0))
            self.params = {"W": rng.standard_normal((h["out_channels"], h["in_channels"], k, k)) * 0.1,
                           "b": np.zeros(h["out_channels"])}
        elif self.kind in NORMS:
            self.params = {"gamma": np.ones(self.hyper["num_features"]), "beta": np.zeros(self.hyper["num_features"])}
        else:
            self.params = {}
        self.config = make_config(recipe, self.hyper, True)
        self.training = True
        self.cache, self.grads = None, {}

    def forward(self, x):
        return self.raw_forward(np.array(x, dtype=np.float64))

    def raw_forward(self, x):
        if "mode" in self.recipe.keys:
            self.config[self.recipe.keys["mode"]] = "train" if self.training else "test"
        if "seed" in self.recipe.keys:  # a new mask each call, yet deterministic
            self.config[self.recipe.keys["seed"]] = int(self.config.get(self.recipe.keys["seed"], 0)) + 1
        conv = {}
        if self.kind == "conv2d":
            conv = {self.recipe.keys[m]: self.hyper[m] for m in ("stride", "padding") if m in self.recipe.keys}
            self.config.update(conv)
        from conformance.adapters._common import quiet
        if self.kind == "conv2d":
            x, arrays = _conv_in(self.recipe, x), _conv_params(self.recipe, self.params["W"], self.params["b"])
        else:
            arrays = [v.copy() for v in self.params.values()]
        with quiet():
            out, self.cache = self.recipe.fwd_fn(x, *arrays, self.config)
        out = np.asarray(out, dtype=np.float64)
        return out.transpose(0, 3, 1, 2).copy() if self.kind == "conv2d" and self.recipe.x_nhwc else out

    def backward(self, dy):
        return self.raw_backward(np.array(dy, dtype=np.float64))

    def raw_backward(self, dy):
        if self.recipe.bwd_fn is None:
            raise Missing(f"no backward found for {self.recipe.fwd_fn.__name__}: no function g(dout, cache) answered "
                          "with dx and the gradients of its arrays")
        from conformance.adapters._common import quiet
        nhwc = self.kind == "conv2d" and self.recipe.x_nhwc
        with quiet():
            arrays = flat(self.recipe.bwd_fn(_conv_in(self.recipe, dy) if nhwc else dy, self.cache))
        if self.kind == "conv2d" and self.recipe.w_hwio and len(arrays) > 1:  # dW (kh, kw, in, out) -> (out, in, kh, kw)
            arrays = [arrays[0], np.asarray(arrays[1]).transpose(3, 2, 0, 1), *arrays[2:]]
        self.grads = {k: np.array(a, dtype=np.float64).reshape(np.shape(v))
                      for (k, v), a in zip(self.params.items(), arrays[1:])}
        dx = np.asarray(arrays[0], dtype=np.float64)
        return dx.transpose(0, 3, 1, 2).copy() if nhwc and dx.ndim == 4 else dx

    def param_names(self):
        return tuple(self.params)

    def get_params(self):
        return {k: v.copy() for k, v in self.params.items()}

    def set_params(self, params):
        for k in self.params:
            if k in params:
                self.params[k] = np.array(params[k], dtype=np.float64).reshape(np.shape(self.params[k]))

    def get_grads(self):
        missing = [k for k in self.params if k not in self.grads]
        if missing:
            raise Missing(f"{self.student_name} returned no gradient for {missing[0]}", gradient_of=missing[0])
        return {k: v.copy() for k, v in self.grads.items()}

    def set_training(self, training: bool):
        self.training = training


def make_handle(recipe: Recipe, hyper: dict) -> LayerHandle:
    return FunctionalStretch(recipe, hyper) if recipe.fwd_fn is not None else DiscoveredStretch(recipe, hyper)


# --- the family --------------------------------------------------------------------------------------------


def find(defs: list, taken: set, pins: dict | None = None) -> tuple[dict, dict]:
    """kind -> Recipe for the stretch layers among ``defs`` (classes first, then functional pairs), and
    kind -> [what was tried and why it was rejected]."""
    from conformance.adapters.discovery import apimap

    pins = pins or {}
    found, rejected = {}, {k: [] for k in KINDS}
    classes = [(n, c) for n, c in defs if inspect.isclass(c) and c not in taken]
    functions = [(n, f) for n, f in defs if inspect.isfunction(f)]
    for kind in KINDS:
        if kind in pins:
            kept = apimap.only(defs, pins[kind], kind)
            if "backward_function" in pins[kind]:
                kept += [(n, f) for n, f in defs if n == pins[kind]["backward_function"]]
            rec = _find_pinned(kind, kept)
            if rec is not None:
                found[kind] = rec
            else:
                rejected[kind].append(f"the map's [{kind}] names {pins[kind].get('class') or pins[kind].get('function')}, "
                                      f"which does not behave as a {kind}")
    wanted = tuple(k for k in KINDS if k not in pins)
    ranked = sorted(classes, key=lambda nc: not (words(nc[0]) & (NORM_WORDS | DROP_WORDS | CONV_WORDS)
                                                   or any(s in nc[0].lower() for s in ("norm", "drop", "conv"))))
    norms = []  # every norm class, told apart once all are seen (see _assign_norms)
    for name, cls in ranked:
        if all(k in found for k in wanted):
            break
        looking = [k for k in wanted if k not in found]
        if set(looking) & set(NORMS):
            looking += [k for k in NORMS if k in wanted and k not in looking]
        try:
            recipe, whys = identify_class(name, cls, looking)
        except Exception as exc:  # the kit's own failure to read this class: said, no one blamed
            recipe, whys = None, {k: f"the kit could not read it ({type(exc).__name__}: {exc}); pin it with --map"
                                  for k in KINDS}
        if recipe is not None and recipe.kind in NORMS:
            norms.append(recipe)
            found.update(_assign_norms(norms, [k for k in NORMS if k in wanted]))
        elif recipe is not None:
            found.setdefault(recipe.kind, recipe)
        else:
            for kind in _claims(name):
                rejected[kind].append(f"{name} ({whys.get(kind) or 'not a ' + kind})")
    if not all(k in found for k in wanted):
        fun, why = identify_functional(functions, [k for k in wanted if k not in found])
        for kind, recipe in fun.items():
            found.setdefault(kind, recipe)
        for text in why:
            for kind in wanted:
                if kind not in found:
                    rejected[kind].append(text)
    for kind in KINDS:
        if kind not in found and not rejected[kind]:
            rejected[kind].append(NOTHING[kind])
    return found, rejected


def _assign_norms(norms: list, wanted: list) -> dict:
    """The batchnorm and the layernorm among the norm classes found. One that keeps running statistics
    is the batchnorm before one told apart only by its axis; a second norm told apart only by
    normalising each feature (no statistics, no name) is the layernorm when another is the batchnorm:
    the layernorm over the batch axis is the bug SPEC 22 names (layernorm_over_batch)."""
    out = {}
    ranked = sorted(norms, key=lambda r: (r.kind != "batchnorm", not r.keeps))
    for r in ranked:
        if r.kind in wanted and r.kind not in out:
            out[r.kind] = r
    left = [r for r in norms if r not in out.values() and r.by_axis_only]
    if "layernorm" in wanted and "layernorm" not in out and left and "batchnorm" in out:
        r = left[0]
        r.kind, r.notes = "layernorm", r.notes + [f"taken as the layernorm: it keeps no running statistics and "
                                                  f"{out['batchnorm'].name} is the batchnorm (its output is not "
                                                  "normalised per sample)"]
        r.build_text = build_call(r.cls, "layernorm", DEFAULTS["layernorm"]).text
        out["layernorm"] = r
    return out


def _find_pinned(kind, kept):
    for name, obj in kept:
        if inspect.isclass(obj):
            recipe, _ = identify_class(name, obj, [kind, *(NORMS if kind in NORMS else ())])
            if recipe is not None:
                return recipe
    found, _ = identify_functional([(n, f) for n, f in kept if inspect.isfunction(f)], [kind])
    return found.get(kind)


def _claims(name: str) -> list[str]:
    low, w = name.lower(), words(name)
    out = []
    if "batch" in low and "norm" in low or w & {"bn", "batchnorm"}:
        out.append("batchnorm")
    if "layer" in low and "norm" in low or w & {"ln", "layernorm"}:
        out.append("layernorm")
    if "norm" in low and not out:
        out += ["batchnorm", "layernorm"]
    if "drop" in low:
        out.append("dropout")
    if "conv" in low:
        out.append("conv2d")
    return out


NOTHING = {
    "batchnorm": "no class or function pair normalises each feature over the batch with a scale and a shift of "
                 f"{F} values (built for {F} features, called on a ({B}, {F}) batch)",
    "layernorm": "no class or function pair normalises each sample over its features with a scale and a shift of "
                 f"{F} values (built for {F} features, called on a ({B}, {F}) batch)",
    "dropout": "no class or function pair zeroes a share of a (200, 50) input and scales the rest "
               "(built with p=0.3)",
    "conv2d": "no class holds a (3, 2, 3, 3) or (3, 3, 2, 3) weight when built for 2 -> 3 channels with a 3x3 kernel "
              "and maps a (2, 2, 7, 6) input to 4-D, and no pair f(x, w, b, conv_param) -> (out, cache)",
}
