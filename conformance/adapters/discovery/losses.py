"""Find the cross-entropy and mean-squared-error losses by the numbers they return.

Every two-argument function, and every class with a two-argument ``forward``/``__call__``/
``calculate``/``loss``..., is called on the kit's 4-sample, 3-class batch in each reading the
conventions allow: (pred, target) or (target, pred); probabilities or logits; int labels or
one-hot; samples as rows or as columns. The reading whose value comes closest to a cross-entropy
or an MSE (mean or sum; with or without 1/2) says what the loss is and how to call it; parameter
names (``y_true``, ``y_pred``) rank the readings and settle what values cannot (MSE is symmetric).
The gradient is what comes back with the value (``softmax_loss(x, y) -> (loss, dx)``), what a
``backward``/``gradient`` method returns or stores, or a partner function (``mse_prime``) whose
answer points along the loss's gradient.
"""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.adapters.base import LossHandle, Missing
from conformance.adapters.discovery import candidates as cand
from conformance.adapters.discovery.maths import cosine, one_hot, softmax
from conformance.adapters.discovery.objects import (StudentRaised, attempt, changed, get, inputs, raised_inside, required,
                                                    scan, snapshot, words)

B, C = 4, 3
VALUE_METHODS = ("forward", "__call__", "calculate", "loss", "compute", "compute_loss", "calc", "evaluate", "cost",
                 "value", "get_loss", "fprop", "updateOutput", "apply", "func", "function", "f")
GRAD_METHODS = ("backward", "gradient", "grad", "derivative", "prime", "backprop", "bprop", "updateGradInput",
                "delta", "backward_pass", "deriv", "d", "dloss", "compute_gradient", "gradient_loss", "get_grad",
                "get_gradient", "get_derivative", "loss_grad", "loss_gradient", "loss_derivative", "grad_loss")
SKIP_WORDS = {"train", "fit", "accuracy", "acc", "plot", "load", "save", "download", "evaluate_model", "check",
              "predict", "test", "batch", "batches", "shuffle", "split", "score", "confusion", "update", "step"}
PRED_WORDS = {"pred", "preds", "ypred", "yhat", "hat", "output", "outputs", "prediction", "predictions", "predicted",
              "logits", "scores", "probs", "prob", "al", "activation", "activations", "out", "x", "z", "inputs",
              "input", "dvalues", "p", "a", "s", "h", "y_pred", "y_hat", "outs", "estimate", "ypredicted"}
TARGET_WORDS = {"target", "targets", "true", "ytrue", "label", "labels", "truth", "t", "expected", "gt", "onehot",
                "one", "classes", "desired", "ground", "y", "ys", "answer", "answers"}
CE_WORDS = {"cross", "entropy", "crossentropy", "ce", "nll", "log", "logloss", "categorical", "cce", "xent", "softmax"}
MSE_WORDS = {"mse", "squared", "square", "l2", "quadratic", "mean_squared", "sse", "error"}
# "error" claims a squared error unless the name says which other error it is (relative_error() in
# a gradient-check helper, mean_absolute_error): such a name claims nothing, and its value decides
NOT_SQUARED = {"relative", "rel", "absolute", "abs", "mae", "max", "percentage", "percent", "rate", "classification",
               "accuracy", "diff", "difference"}


def _inputs():
    rng = np.random.default_rng(2024)
    Z = rng.standard_normal((B, C)) * 1.5
    labels = np.array([0, 2, 1, 2])
    R, T = rng.standard_normal((B, C)), rng.standard_normal((B, C))
    return Z, softmax(Z), labels, R, T


def role(name: str) -> str | None:
    w = words(name) | {name.lower()}
    if name.lower() in ("y",):
        return "target"
    if w & {"true", "target", "targets", "label", "labels", "truth", "expected", "gt", "desired", "onehot"}:
        return "target"
    if w & {"pred", "preds", "hat", "output", "outputs", "prediction", "predictions", "predicted", "logits", "scores",
            "probs", "prob", "al", "activation", "dvalues", "estimate"} or name.lower() in ("x", "z", "p", "a", "s", "out"):
        return "pred"
    if name.lower() in ("t", "ys", "y_train", "yb"):
        return "target"
    return None


def order_from_names(fn) -> str | None:
    """"pt" when the parameters read (prediction, target), "tp" for the reverse, None if unclear."""
    names = required(fn)[:2]
    if len(names) < 2:
        return None
    roles = [role(n) for n in names]
    if roles[0] == "pred" or roles[1] == "target":
        return "pt" if roles != ["pred", "pred"] and roles != ["target", "target"] else None
    if roles[0] == "target" or roles[1] == "pred":
        return "tp"
    return None


def _scalar(result, finite: bool = True, batch: int | None = None):
    """(value, returned gradient or None) from what a loss call returned, or None. Discovery
    wants a finite number; grading takes a NaN or inf as the student's answer (judged unstable).
    With ``batch``, a vector of one loss per sample counts too: its mean is the value (a loss
    that leaves the batch average to its caller, as ``loss.forward(y, yhat).mean()``)."""
    grad = None
    if isinstance(result, (tuple, list)) and len(result) == 2 and np.size(result[0]) > 1 and np.size(result[1]) == 1:
        result = result[1]  # (probs, loss): the probabilities are not a gradient
    elif isinstance(result, (tuple, list)) and len(result) >= 2:
        result, grad = result[0], result[1]
        grad = grad if isinstance(grad, np.ndarray) else None
    try:
        value = np.asarray(result, dtype=float)
    except (TypeError, ValueError):
        return None
    if batch and batch > 1 and value.size == batch and value.ndim <= 2 and batch in value.shape:
        value = np.asarray(value.mean())
    if value.size != 1 or (finite and not np.isfinite(value).all()):
        return None
    return float(value.reshape(())), grad


@dataclass
class Reading:
    """One way of calling a loss: argument order, what it takes, and the data layout."""

    order: str  # "pt" | "tp"
    input: str  # "probs" | "logits" | "pred"
    targets: str  # "int" | "onehot" | "float"
    data: str  # "rows" | "cols"

    def args(self, pred, target):
        if self.data == "cols":
            pred = pred.T.copy()
            target = target.T.copy() if np.ndim(target) == 2 else target
        return (pred, target) if self.order == "pt" else (target, pred)

    def text(self) -> str:
        what = {"probs": "probabilities", "logits": "logits", "pred": "predictions",
                "logprobs": "log-probabilities"}[self.input]
        tgt = {"int": "int labels", "onehot": "one-hot targets", "float": "targets"}[self.targets]
        pair = f"({what}, {tgt})" if self.order == "pt" else f"({tgt}, {what})"
        return pair + ("; samples are columns" if self.data == "cols" else "")


def _expected(kind: str, reading: Reading, Z, P, labels, R, T) -> dict[str, float]:
    if kind == "cross_entropy":
        probs = softmax(Z) if reading.input == "logits" else P
        nll = -np.log(probs[np.arange(B), labels])
        return {"mean": nll.mean(), "sum": nll.sum(), "-mean": -nll.mean(), "-sum": -nll.sum(),
                "mean over all": nll.sum() / (B * C)}
    sq = (R - T) ** 2
    n = B if reading.data == "rows" else C
    return {"mean": sq.mean(), "sum": sq.sum(), "half mean": sq.mean() / 2, "half sum": sq.sum() / 2,
            "per-sample sum": sq.sum() / n, "half per-sample sum": sq.sum() / (2 * n)}


def _readings(kind: str, preferred: str | None):
    orders = ["pt", "tp"] if preferred != "tp" else ["tp", "pt"]
    if kind == "cross_entropy":
        return [Reading(o, i, t, d) for d in ("rows", "cols") for o in orders for i in ("logits", "probs", "logprobs")
                for t in ("int", "onehot")]
    return [Reading(o, "pred", "float", d) for d in ("rows", "cols") for o in orders]


@dataclass
class LossCandidate:
    kind: str
    name: str
    obj: Any
    is_class: bool
    method: str | None
    reading: Reading
    error: float
    reduction: str
    value_fn: Any = None
    order: int = 0
    grad: tuple | None = None  # ("together",) | ("method", name, nargs, dx_from) | ("function", name, fn, order)
    grad_wrt: str = ""
    named: bool = False
    raised: str = ""  # named as this loss, it raised in its own lines under every reading: the student's error


def _value_callables(name, obj):
    """(method name or None, callable-maker) pairs worth calling as a loss value."""
    if inspect.isfunction(obj):
        if len(required(obj)) == 2 and not (words(name) & SKIP_WORDS):
            return [(None, lambda: obj)]
        return []
    call = cand.no_arg_call(obj)
    if call is None:
        return []
    out = []
    for m in VALUE_METHODS:
        fn = getattr(obj, m, None)
        if callable(fn) and len(inputs(fn)) == 2 and (m != "__call__" or "__call__" in _own(obj)):
            out.append((m, lambda m=m: getattr(attempt(obj, *call.args, **call.kwargs), m)))
    return out


def _own(cls) -> set[str]:
    return {k for klass in getattr(cls, "__mro__", ())[:-1] for k in vars(klass)}


def _target(reading, labels, T):
    return labels if reading.targets == "int" else one_hot(labels, C) if reading.targets == "onehot" else T


def _pred(reading, Z, P, R):
    if reading.input == "logprobs":  # log_softmax of the logits, computed without log(0)
        shifted = Z - Z.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return {"probs": P, "logits": Z, "pred": R}[reading.input]


def score(name, obj, order: int) -> list[LossCandidate]:
    """The best reading of ``obj`` as each loss kind (with its error), if any call returns a number."""
    Z, P, labels, R, T = _inputs()
    out = []
    for method, make in _value_callables(name, obj):
        fn_for_names = getattr(obj, method) if method else obj
        preferred = order_from_names(fn_for_names)
        for kind in ("cross_entropy", "mse"):
            best, raised = None, None
            started = time.perf_counter()
            for reading in _readings(kind, preferred):
                if time.perf_counter() - started > 0.25:
                    break  # a slow function is no loss (a training loop taking two arrays)
                try:
                    fn = attempt(make)
                    raw = attempt(fn, *reading.args(_pred(reading, Z, P, R).copy(), np.array(_target(reading, labels, T))))
                    got = _scalar(raw, batch=B)
                    per_sample = got is not None and _scalar(raw) is None
                except StudentRaised as exc:
                    if raised is None:
                        raised = (reading, exc)
                    continue
                if got is None:
                    continue
                value, _ = got
                for reduction, expected in _expected(kind, reading, Z, P, labels, R, T).items():
                    err = abs(value - expected) / max(abs(expected), 1e-12)
                    # a loss on logits also takes log-probabilities (softmax ignores a shift): logits first
                    key = (err > 1e-4, reading.order != (preferred or "pt"), reading.input == "logprobs", err)
                    if best is None or key < best[0]:
                        best = (key, reading, err, reduction + (" of the per-sample losses it returns" if per_sample else ""), fn)
            if best is not None:
                _, reading, err, reduction, fn = best
                # "log" or "softmax" alone claims nothing (Log_loss is often binary, softmax a layer)
                claim = CE_WORDS - {"log", "softmax"} if kind == "cross_entropy" else \
                    MSE_WORDS - ({"error"} if words(name) & NOT_SQUARED else set())
                named = bool(words(name) & claim) or \
                    (kind == "cross_entropy" and "entropy" in name.lower()) or \
                    (kind == "mse" and ("mse" in name.lower() or "squared" in name.lower()))
                out.append(LossCandidate(kind, name, obj, not inspect.isfunction(obj), method, reading, err,
                                         reduction, fn, order, named=named))
            elif raised is not None and _claims(name) == kind and not isinstance(raised[1].cause, (AttributeError, TypeError)):
                # named as this loss, and under every reading the kit allows its own lines raised (mse_loss
                # reshaping (B, D) to (B, 1)): the student's error, judged as such. An AttributeError or a
                # TypeError may be the kit's call not fitting (an engine's tensors expected): never blamed.
                why = raised_inside(raised[1])
                try:
                    value_fn = attempt(make) if why else None
                except StudentRaised:
                    value_fn = None
                if value_fn is not None:
                    out.append(LossCandidate(kind, name, obj, not inspect.isfunction(obj), method, raised[0],
                                             float("inf"), "mean", value_fn, order, named=True, raised=why))
    return out


def pinned_readings(name, obj, order, kind) -> list[LossCandidate]:
    """Every reading of a pinned loss as ``kind``, best first (the map then chooses)."""
    Z, P, labels, R, T = _inputs()
    out = []
    for method, make in _value_callables(name, obj) or [(None, lambda: obj)]:
        for reading in _readings(kind, order_from_names(getattr(obj, method) if method else obj)):
            try:
                fn = attempt(make)
                got = _scalar(attempt(fn, *reading.args(_pred(reading, Z, P, R).copy(),
                                                        np.array(_target(reading, labels, T)))), batch=B)
            except StudentRaised:
                continue
            if got is None:
                continue
            expected = _expected(kind, reading, Z, P, labels, R, T)
            reduction, err = min(((r, abs(got[0] - e) / max(abs(e), 1e-12)) for r, e in expected.items()),
                                 key=lambda re: re[1])
            out.append(LossCandidate(kind, name, obj, not inspect.isfunction(obj), method, reading, err,
                                     reduction, fn, order, named=True))
    return sorted(out, key=lambda c: c.error)


def plausible(c: LossCandidate) -> bool:
    """Close enough to be this loss (exact, or a named one that is off: a bug to judge, or that raised)."""
    if c.raised or c.error < 1e-4:
        return True
    if c.kind == "mse" and c.reading.input == "pred" and c.named:
        return c.error < 5
    return c.named and c.error < 5 or c.error < 0.05  # unnamed and inexact: kept only with a gradient


def _grad_forms(kind, reading, Z, P, labels, R, T):
    if kind == "mse":
        return {"pred": R - T}
    Y = one_hot(labels, C)
    if reading.input == "logits":
        return {"logits": P - Y}
    if reading.input == "logprobs":
        return {"logprobs": -Y}
    return {"logits": P - Y, "probs": -Y / P}


def find_gradient(c: LossCandidate, defs) -> None:
    """Where the gradient of ``c`` comes from, and what it is the gradient of."""
    Z, P, labels, R, T = _inputs()
    pred, target = _pred(c.reading, Z, P, R), _target(c.reading, labels, T)
    shape = pred.shape if c.reading.data == "rows" else pred.T.shape
    forms = _grad_forms(c.kind, c.reading, Z, P, labels, R, T)

    def wrt_of(g):
        g = np.asarray(g, dtype=float)
        g = g if c.reading.data == "rows" else g.T
        best = max(forms, key=lambda k: abs(cosine(g, forms[k])))
        return best if abs(cosine(g, forms[best])) > 0.9 else "unknown"

    try:
        fn = attempt(lambda: c.value_fn)
        result = attempt(fn, *c.reading.args(pred.copy(), np.array(target)))
    except StudentRaised:
        return
    got = _scalar(result, batch=B)
    if got and got[1] is not None and np.shape(got[1]) == shape:
        c.grad, c.grad_wrt = ("together",), wrt_of(got[1])
        return
    if c.is_class:
        owner = getattr(fn, "__self__", None)
        # a fused softmax + cross-entropy may want its backward handed the probabilities its
        # forward made (nnfs's backward(dvalues, y_true)), not the logits: behaviour decides
        feeds = ["pred", "softmax"] if c.reading.input == "logits" else ["pred"]
        first_in = (required(fn) or [""])[0]
        for m in GRAD_METHODS:
            g_fn = getattr(owner, m, None)
            if not callable(g_fn) or m == c.method:
                continue
            n = len(required(g_fn))
            if n not in (0, 2):
                continue
            tried = []
            takes_probs = n == 2 and required(g_fn)[0] != first_in and \
                bool(words(required(g_fn)[0]) & {"dvalues", "output", "outputs", "probs", "prob", "softmax", "activation",
                                                  "activations", "a", "y", "pred", "predicted", "yhat", "hat"})
            for feed in (feeds if takes_probs else ["pred"]):
                given = softmax(pred) if feed == "softmax" else pred
                try:
                    attempt(fn, *c.reading.args(pred.copy(), np.array(target)))
                    before = snapshot(owner)
                    g = attempt(g_fn, *(c.reading.args(given.copy(), np.array(target)) if n == 2 else ()))
                except StudentRaised:
                    continue
                if isinstance(g, np.ndarray) and g.shape == shape:
                    tried.append((feed, "return", g))
                    continue
                stored = [p for p in changed(before, scan(owner)) if np.shape(get(owner, p)) == shape]
                if stored:
                    tried.append((feed, stored[0], get(owner, stored[0])))
            if tried:
                def fit(t):
                    g = np.asarray(t[2], dtype=float)
                    return max(abs(cosine(g if c.reading.data == "rows" else g.T, f)) for f in forms.values())
                feed, where, g = max(tried, key=fit)
                c.grad, c.grad_wrt = ("method", m, n, where, feed), wrt_of(g)
                return
        return
    stem = c.name.lower()
    options = []
    for order, (name, g_fn) in enumerate(defs):
        if g_fn is c.obj or not inspect.isfunction(g_fn) or len(required(g_fn)) != 2:
            continue
        own = order_from_names(g_fn)
        reading = Reading(own or c.reading.order, c.reading.input, c.reading.targets, c.reading.data)
        try:
            g = attempt(g_fn, *reading.args(pred.copy(), np.array(target)))
        except StudentRaised:
            continue
        if not isinstance(g, np.ndarray) or g.shape != shape:
            continue
        wrt = wrt_of(g)
        if _claims(name) not in (None, _claims(c.name) or c.kind):  # mse_prime is not bce's partner, however near
            continue
        own = {"mse": {"mse", "squared", "l2"},
               "cross_entropy": {"entropy", "ce", "crossentropy", "nll", "xent"}}[c.kind]
        named = stem in name.lower() or bool(words(name) & {"prime", "derivative", "deriv", "grad", "gradient", "d"}) \
            and bool(words(name) & (words(c.name) | own | {"loss", "cost"}))
        if wrt == "unknown" and not named:
            continue
        cos = cosine(np.asarray(g) if c.reading.data == "rows" else np.asarray(g).T, forms.get(wrt, next(iter(forms.values()))))
        if own is None and cos < 0:  # arguments unnamed: the order is the one that points downhill
            reading.order = "tp" if reading.order == "pt" else "pt"
        options.append((not named, wrt == "unknown", order, name, g_fn, reading, wrt))
    if options:
        options.sort(key=lambda o: (stem not in o[3].lower(), *o[:3]))  # bce_prime beside bce first
        _, _, _, name, g_fn, reading, wrt = options[0]
        c.grad, c.grad_wrt = ("function", name, g_fn, reading), wrt


def _pinned(c: LossCandidate, table: dict) -> bool:
    """Does candidate ``c`` read the loss the way the map says?"""
    r = c.reading
    order = {"pred, target": "pt", "target, pred": "tp"}.get(table.get("order", ""), r.order)
    return (table.get("method", c.method) == c.method and table.get("input", r.input) == r.input
            and table.get("targets", r.targets) == r.targets and order == r.order
            and table.get("data", r.data) == r.data)


BINARY_WORDS = {"bce", "binary", "binarycrossentropy", "bincrossentropy"}


def _claims(name: str) -> str | None:
    """Which loss a name says it is: "binary" (bce, BinaryCrossEntropy), "cross_entropy", "mse", or None."""
    w, low = words(name), name.lower()
    if w & BINARY_WORDS or "binary" in low or low.startswith("bce"):
        return "binary"
    if w & (CE_WORDS - {"log", "softmax"}) or "entropy" in low or "nll" in low:
        return "cross_entropy"
    if w & {"mse", "squared", "l2", "quadratic"} or "mse" in low:
        return "mse"
    return None


DEMO_WORDS = {"unstable", "naive", "old", "bad", "demo", "slow", "test", "unused", "deprecated", "v0", "draft"}


def _demoted(name: str) -> bool:
    """A name that says "not the one I use" (``ClassNLLCriterionUnstable``, ``naive_softmax_loss``):
    ranked after the others, never dropped."""
    low = name.lower()
    return bool(words(name) & DEMO_WORDS) or any(low.endswith(w) for w in ("unstable", "naive", "old"))


def identify(defs, exclude: set[str], pins: dict | None = None) -> tuple[dict, list[LossCandidate]]:
    from conformance.adapters.discovery import apimap

    pins = pins or {}
    seen: list[LossCandidate] = []
    for kind, table in pins.items():
        for order, (name, obj) in enumerate(apimap.only(defs, table, kind)):
            if table.get("class") or table.get("function"):
                seen += [c for c in pinned_readings(name, obj, order, kind) if _pinned(c, table)]
    pinned_names = {t.get("class") or t.get("function") for t in pins.values()}
    for order, (name, obj) in enumerate(defs):
        if name not in exclude and name not in pinned_names:
            try:
                seen += score(name, obj, order)
            except Exception:  # the kit could not read this definition: it is not a candidate
                pass
    found = {}
    for kind in ("cross_entropy", "mse"):
        table = pins.get(kind, {})
        group = [c for c in seen if c.kind == kind and (plausible(c) or (c.name == (table.get("class") or table.get("function"))))]
        # a binary cross-entropy is the categorical one only where its value is exactly it (never by its name)
        group = [c for c in group if not (kind == "cross_entropy" and _claims(c.name) == "binary" and c.error >= 1e-4)]
        other = "mse" if kind == "cross_entropy" else "cross_entropy"
        group = [c for c in group if not any(o.obj is c.obj and o.kind == other and o.error < c.error
                                             and plausible(o) for o in seen)]
        if not group:
            continue
        if any(not c.raised for c in group):  # one that raised is this loss only where nothing else is
            group = [c for c in group if not c.raised]
        for c in group:
            if c.raised:
                continue
            try:
                find_gradient(c, defs)
            except Exception:
                c.grad = None
            if "gradient" in table and c.name == (table.get("class") or table.get("function")):
                g = dict(defs).get(table["gradient"])
                c.grad = ("function", table["gradient"], g, c.reading) if g is not None and not c.is_class \
                    else ("method", table["gradient"], 2 if len(required(getattr(c.obj, table["gradient"], None) or (lambda: 0))) == 2 else 0, "return")
        group = [c for c in group if c.error < 1e-4 or c.named or c.grad is not None]
        if not group:
            continue
        group.sort(key=lambda c: (c.error > 1e-4, c.grad is None, _demoted(c.name), _claims(c.name) == "binary", not c.named,
                                  c.reading.input != "logits", c.is_class is False, c.order))
        group = [c for i, c in enumerate(group) if all(o.obj is not c.obj for o in group[:i])]
        found[kind] = group
    return found, seen


class DiscoveredLoss(LossHandle):
    """A student loss (function, object or pair) called the way discovery read it."""

    def __init__(self, c: LossCandidate):
        self.c, self.kind, self.student_name = c, c.kind, c.name
        fn = attempt(lambda: c.value_fn)
        if c.is_class:  # a fresh object per handle
            owner = attempt(c.obj, **cand.no_arg_call(c.obj).kwargs)
            fn = getattr(owner, c.method)
        self.fn, self.owner = fn, getattr(fn, "__self__", None)
        wrt = c.grad_wrt or "unknown"
        if c.kind == "mse":
            wrt = "pred"
        self.logprobs = c.reading.input == "logprobs"
        if self.logprobs:  # the kit hands it log_softmax(logits) and takes its gradient back through that
            wrt = "logits" if wrt == "logprobs" else "unknown"
        self.conventions = {"input": "logits" if self.logprobs else c.reading.input, "targets": c.reading.targets,
                            "grad_wrt": wrt,
                            "argument_order": "pred, target" if c.reading.order == "pt" else "target, pred",
                            "value": c.reduction}
        if c.reading.data == "cols":
            self.conventions["data_layout"] = "cols"
        self._last, self._grad = None, None

    def _target(self, pred, labels):
        if self.c.reading.targets == "onehot":
            return one_hot(labels, pred.shape[1])
        if self.c.reading.targets == "int":
            return np.asarray(labels, dtype=int).copy()
        return np.array(labels, dtype=np.float64)

    def forward(self, pred, labels):
        pred = np.array(pred, dtype=np.float64)
        if self.logprobs:
            self._probs = softmax(pred)
            with np.errstate(divide="ignore"):
                pred = pred - pred.max(axis=1, keepdims=True) - np.log(np.exp(pred - pred.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))
        target = self._target(pred, labels)
        self._last = (pred, target)
        result = self.fn(*self.c.reading.args(pred.copy(), target.copy()))
        got = _scalar(result, finite=False, batch=len(pred) if "per-sample" in self.c.reduction else None)
        if isinstance(result, (tuple, list)) and len(result) >= 2:
            self._grad = result[1]
        if got is None:
            raise TypeError(f"{self.student_name} returned {type(result).__name__} "
                            f"{np.shape(result) if isinstance(result, np.ndarray) else ''}, not one number")
        return got[0]

    def backward(self):
        grad = self.c.grad
        if grad is None:
            raise Missing(f"{self.student_name} has no gradient the kit could find (no (loss, grad) pair, no "
                          f"backward/gradient method, no partner function like {self.student_name}_prime); "
                          "pin it with --map")
        pred, target = self._last
        if grad[0] == "together":
            g = self._grad
        elif grad[0] == "method":
            _, method, nargs, where, feed = grad if len(grad) == 5 else (*grad, "pred")
            given = softmax(pred) if feed == "softmax" else pred
            result = getattr(self.owner, method)(*(self.c.reading.args(given.copy(), target.copy()) if nargs else ()))
            g = result if where == "return" else get(self.owner, where)
        else:
            _, _, g_fn, reading = grad
            g = g_fn(*reading.args(pred.copy(), target.copy()))
        g = np.asarray(g)
        g = g.T if self.c.reading.data == "cols" else g
        if self.logprobs:  # the log-softmax's vector-Jacobian product: a change of variables, no correction
            g = np.asarray(g, dtype=float)
            g = g - self._probs * g.sum(axis=1, keepdims=True)
        return g

    def describe(self) -> str:
        return describe(self.c)


def describe(c: LossCandidate) -> str:
    """One sentence: which reading matched and where the gradient comes from."""
    where = f"{c.name}.{c.method}" if c.method else c.name
    if c.raised:
        return f"{c.name}: named like {'cross-entropy' if c.kind == 'cross_entropy' else 'MSE'}, but {where} raised " \
               f"{c.raised} under every reading the kit tried: judged as yours, read as {where}{c.reading.text()}"
    how = "matches" if c.error < 1e-4 else f"is nearest to (off by {c.error:.0%})"
    text = f"{c.name}: {where}{c.reading.text()} {how} {'cross-entropy' if c.kind == 'cross_entropy' else 'MSE'} " \
           f"({c.reduction})"
    g = c.grad
    if g is None:
        return text + "; no gradient found"
    if g[0] == "together":
        return text + "; gradient returned with the value"
    if g[0] == "method":
        return text + f"; gradient from {c.name}.{g[1]}"
    return text + f"; gradient from {g[1]}"
