"""Whole networks by behaviour: the student's container when one behaves as one, else the
student's own layers and loss chained by the kit.

``model_gradcheck`` and the training checks need a whole network at the kit's sizes (5-7-4 for the
gradient check). Discovery builds it from what the submission offers, in this order:

1. **a container** (``Sequential(*layers)``, ``Sequential([layers])``, ``Model().add(layer)``,
   ``MLP([5, 7, 4])``, ``MLP(5, 7, 4)``...): a class whose instance, given the student's layers or
   the sizes, maps a (B, 5) batch to (B, 4) logits or probabilities through linear layers it holds,
   and whose backward fills those layers' gradients. Its forward and backward are the student's;
2. **no container**: the kit chains the discovered linear layers, hidden activation, softmax (when
   the loss takes probabilities) and loss itself, and says so.

Either way the parameters are read and written through the discovered linear layers' handles
(the kit's layout: W (out, in), b (out,)), keyed "<2k>.W" / "<2k>.b" for the k-th linear layer.
The update is the student's optimiser when discovery found one (``optimisers.py``), else the kit's
plain SGD on the student's gradients, and the conventions say which.
"""
from __future__ import annotations

import inspect

import numpy as np

from conformance.adapters.base import LayerHandle, LossHandle, Missing, PipelineHandle
from conformance.adapters.discovery.maths import softmax
from conformance.adapters.discovery.objects import StudentRaised, attempt, required, words

CHAINED = "your layers and loss, chained by the kit: no container was found"
KIT_SGD = "the kit's plain SGD on your gradients (no SGD optimiser was found)"
FORWARD_NAMES = ("forward", "__call__", "predict", "feedforward", "feed_forward", "fprop", "call", "propagate",
                 "forward_pass", "forward_propagation", "run", "infer")
BACKWARD_NAMES = ("backward", "backprop", "back_propagation", "backpropagation", "backward_pass", "bprop",
                  "backward_propagation", "propagate_backward")
ADD_NAMES = ("add", "add_layer", "append", "push", "addLayer", "add_module")
CONTAINER_WORDS = {"sequential", "model", "net", "network", "mlp", "nn", "classifier", "container", "stack"}


class ChainedPipeline(PipelineHandle):
    """Linear layers, hidden activations, an optional softmax and the loss, in the kit's hands.

    ``forward`` (when given) is the student's container forward on the whole batch and
    ``backward`` its backward from the loss gradient; otherwise the kit calls each layer in turn."""

    def __init__(self, linears: list[LayerHandle], acts: list[LayerHandle], softmax_layer: LayerHandle | None,
                 loss: LossHandle, how: str, forward=None, backward=None, outputs_probs: bool = False):
        self.linears, self.acts, self.softmax, self.loss_handle = linears, acts, softmax_layer, loss
        self.forward_fn, self.backward_fn, self.outputs_probs = forward, backward, outputs_probs
        self.optimizer, self._grads = None, None
        self.conventions = {"built": how, "loss": loss.student_name, "update": KIT_SGD,
                            "output": "probs" if (softmax_layer is not None or outputs_probs) else "logits",
                            **{k: v for k, v in loss.conventions.items() if k in ("input", "grad_wrt", "targets")}}

    # --- parameters, keyed as in Sequential(Linear, act, Linear, ...) --------------------------
    def get_params(self):
        return {f"{2 * k}.{n}": v for k, lin in enumerate(self.linears) for n, v in lin.get_params().items()}

    def set_params(self, params):
        for k, lin in enumerate(self.linears):
            mine = {n: params[f"{2 * k}.{n}"] for n in lin.param_names() if f"{2 * k}.{n}" in params}
            if mine:
                lin.set_params(mine)

    # --- forward and backward -------------------------------------------------------------------
    def predict(self, x):
        h = np.array(x, dtype=np.float64)
        if self.forward_fn is not None:
            h = np.asarray(self.forward_fn(h), dtype=float)
        else:
            for k, lin in enumerate(self.linears):
                h = lin.forward(h)
                if k < len(self.acts):
                    h = self.acts[k].forward(h)
        return self.softmax.forward(h) if self.softmax is not None else h

    def loss(self, x, labels):
        return float(self.loss_handle.forward(self.predict(x), labels)) * (self._sums or 1)

    _sums = None  # B when the loss returns per-sample values and a gradient of their sum (see _reduction)

    def _reduction(self, pred, labels, g):
        """A loss that returns one value per sample has no reduction of its own: the network's loss
        is the sum when the student's gradient is the sum's (unscaled per sample), else the mean."""
        conv = self.loss_handle.conventions
        self._sums = 1
        if "per-sample" not in str(conv.get("value", "")) or conv.get("grad_wrt") not in ("pred", conv.get("input")):
            return
        d = np.random.default_rng(3).standard_normal(np.shape(pred))
        eps = 1e-6
        up, down = (self.loss_handle.forward(pred + s * eps * d, labels) for s in (1, -1))
        slope, analytic = (up - down) / (2 * eps), float(np.sum(g * d))
        if abs(slope) > 1e-9 and np.isclose(analytic / slope, len(pred), rtol=1e-3):
            self._sums = len(pred)
            self.conventions["loss_value"] = "the sum of the per-sample losses (your gradient is the sum's)"

    backward_targets = False  # the container's backward takes (targets, output) and finds dL/doutput itself

    def loss_and_grads(self, x, labels):
        pred = self.predict(x)
        value = float(self.loss_handle.forward(pred, labels))
        if self.backward_targets:
            self.backward_fn(pred, labels)
            grads = {f"{2 * k}.{n}": v for k, lin in enumerate(self.linears) for n, v in lin.get_grads().items()}
            self._grads = grads
            return value, grads
        g = np.asarray(self.loss_handle.backward(), dtype=float)
        if self._sums is None:
            self._reduction(pred, labels, g)
        value *= self._sums
        if self.softmax is not None and self.loss_handle.conventions.get("grad_wrt") != "logits":
            g = self.softmax.backward(g)  # d/dprobs through the softmax; d/dlogits is already past it
        if self.backward_fn is not None:
            self.backward_fn(g)
        else:
            for k in reversed(range(len(self.linears))):
                g = self.linears[k].backward(g)
                if k > 0 and self.acts:  # no acts: the layers apply their own activation
                    g = self.acts[k - 1].backward(g)
        grads = {f"{2 * k}.{n}": v for k, lin in enumerate(self.linears) for n, v in lin.get_grads().items()}
        self._grads = grads
        return value, grads

    def sgd_step(self, lr):
        if self._grads is None:
            raise Missing("no gradients to step with: loss_and_grads has not run")
        params = self.get_params()
        for k, v in params.items():  # a gradient with one row per sample cannot step a parameter
            g = np.shape(self._grads.get(k)) if k in self._grads else np.shape(v)
            if g != np.shape(v):
                raise Missing(f"the kit cannot train this network on batches: the gradient of {k} has shape {g}, "
                              f"not its parameter's {np.shape(v)} (one row per sample: the layer's bias gradient "
                              f"or update is not summed over the batch, bias_gradient_not_summed, as linear says)")
        if self.optimizer is not None:
            if self._opt_lr != float(lr):  # the student's optimiser, made for this learning rate
                self._opt, self._opt_lr = self.optimizer(float(lr)), float(lr)
            self._opt.step(params, {k: np.array(v, dtype=float) for k, v in self._grads.items()})
        else:
            params = {k: v - float(lr) * np.asarray(self._grads[k], dtype=float) for k, v in params.items()}
        self.set_params(params)

    def use_optimizer(self, make, text: str):
        """``make(lr)`` -> the student's OptimizerHandle for plain SGD at that learning rate."""
        self.optimizer, self._opt, self._opt_lr = make, None, None
        self.conventions["update"] = text


# --- building ---------------------------------------------------------------------------------


def pieces(adapter, sizes, hidden: str, task: str, seed0: int = 0):
    """(linears, activations, softmax or None, loss): the discovered handles for a plain chain."""
    linears = [adapter.make_layer("linear", in_features=a, out_features=b, seed=seed0 + k)
               for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]
    hidden = hidden_kind(adapter, hidden)
    try:
        acts = [adapter.make_layer(hidden) for _ in range(len(sizes) - 2)]
        if acts and not _has_backward(acts[0]):
            raise Missing(f"the {hidden} found ({acts[0].student_name}) has no backward or derivative")
    except Missing:
        fused = fused_hidden(getattr(adapter, "found", None), hidden)
        if fused is None:
            raise
        from conformance.adapters.discovery.linear import DiscoveredLinear

        linears[:-1] = [DiscoveredLinear(fused, a, b, seed0 + k) for k, (a, b) in enumerate(zip(sizes[:-2], sizes[1:-1]))]
        acts = []
    loss = task_loss(adapter, task)
    soft = None
    if task == "classification" and loss.conventions.get("input") == "probs":
        try:
            soft = adapter.make_layer("softmax")
            if not _has_backward(soft) and fused_hidden(getattr(adapter, "found", None), "softmax") is not None:
                raise Missing("a softmax without backward, and a layer that applies its own")
        except Missing:
            fused = fused_hidden(getattr(adapter, "found", None), "softmax")  # Dense(units, activation="softmax")
            if fused is None:
                raise Missing(f"the loss {loss.student_name} takes probabilities and no softmax was found to make "
                              "them; pin one with --map") from None
            from conformance.adapters.discovery.linear import DiscoveredLinear

            linears[-1] = DiscoveredLinear(fused, sizes[-2], sizes[-1], seed0 + len(sizes) - 2)
            soft = None  # the last layer applies the softmax itself
    return linears, acts, soft, loss


HIDDEN_ORDER = ("relu", "tanh", "sigmoid")


def fused_hidden(found, hidden: str):
    """The student's linear layer built with its own activation argument set to ``hidden``
    (``Dense(units, activation="relu")``) when no separate activation exists: a recipe whose
    forward is hidden(x W + b) by the kit's maths, else None."""
    import dataclasses

    from conformance.adapters.discovery import candidates
    from conformance.adapters.discovery.linear import DiscoveredLinear, LinearRecipe
    from conformance.adapters.discovery.maths import FORWARD

    recipe = getattr(found, "linear", None)
    if not isinstance(recipe, LinearRecipe) or hidden not in FORWARD:
        return None
    name = next((p.name for p in candidates.parameters(recipe.cls) if p.name.lower() in candidates.ACTIVATION_WORDS),
                None)
    if name is None:
        return None
    fused = dataclasses.replace(recipe, extra={**recipe.extra, name: hidden})
    try:
        layer = DiscoveredLinear(fused, 5, 3)
        x = np.random.default_rng(2).standard_normal((4, 5))
        p = layer.get_params()
        ok = np.allclose(layer.forward(x), FORWARD[hidden][0](x @ p["W"].T + p["b"]), rtol=1e-6, atol=1e-9)
    except Exception:
        return None
    return fused if ok else None


def hidden_kind(adapter, wanted: str) -> str:
    """``wanted`` when the submission has it with a backward, else the first of HIDDEN_ORDER it has:
    the gradient check and training judge the student's own network, whatever its activation."""
    for kind in (wanted, *[k for k in HIDDEN_ORDER if k != wanted]):
        try:
            handle = adapter.make_layer(kind)
        except Missing:
            continue
        if getattr(getattr(handle, "recipe", None), "backward", True) is not None:
            return kind
    return wanted  # its Missing names what is lacking, or its forward has no backward


def _has_backward(handle) -> bool:
    return getattr(getattr(handle, "recipe", None), "backward", True) is not None


class OneHotTargets(LossHandle):
    """An MSE loss used for classification: int labels become one-hot targets (said in the conventions)."""

    def __init__(self, mse: LossHandle):
        self.mse, self.kind, self.student_name = mse, "mse", mse.student_name
        self.conventions = {**mse.conventions, "input": "logits", "targets": "onehot",
                            "loss_for_classification": f"{mse.student_name} (MSE on one-hot targets: no cross-entropy found)"}

    def forward(self, pred, labels):
        pred = np.asarray(pred, dtype=float)
        onehot = np.zeros_like(pred)
        onehot[np.arange(len(pred)), np.asarray(labels, dtype=int)] = 1.0
        return self.mse.forward(pred, onehot)

    def backward(self):
        return self.mse.backward()


def task_loss(adapter, task: str) -> LossHandle:
    if task != "classification":
        return adapter.make_loss("mse")
    try:
        return adapter.make_loss("cross_entropy")
    except Missing as no_ce:
        try:
            return OneHotTargets(adapter.make_loss("mse"))
        except Missing:
            raise no_ce from None


def chain(adapter, sizes, hidden="relu", task="classification") -> ChainedPipeline:
    """The student's layers and loss chained by the kit (no container)."""
    linears, acts, soft, loss = pieces(adapter, sizes, hidden, task)
    pipe = ChainedPipeline(linears, acts, soft, loss, CHAINED)
    if acts and acts[0].kind != hidden:
        pipe.conventions["hidden"] = f"{acts[0].kind} (no {hidden} with a backward was found)"
    return pipe


# --- containers ---------------------------------------------------------------------------------

SIZES, BATCH = (5, 7, 4), 6
SIZE_WORDS = {"sizes", "size", "dims", "dim", "layer", "layers", "shape", "shapes", "units", "arch", "architecture",
              "structure", "topology", "neurons", "nodes", "widths", "layout", "config"}
LR_WORDS = {"lr", "learning", "rate", "eta", "alpha", "step"}


def _methods(obj, names) -> list[str]:
    return [n for n in names if callable(getattr(obj, n, None))]


def _out_array(result, obj, shape):
    """The array of ``shape`` a forward returned or stored on ``obj``, else None."""
    arrays = [result] if isinstance(result, np.ndarray) else []
    if isinstance(result, (tuple, list)) and result and isinstance(result[0], np.ndarray):
        arrays.append(result[0])
    for name in ("output", "out", "outputs", "y", "a", "prediction", "predictions", "probs", "logits", "y_hat"):
        value = getattr(obj, name, None)
        if isinstance(value, np.ndarray):
            arrays.append(value)
    return next((np.asarray(a, dtype=float) for a in arrays if np.shape(a) == shape), None)


def _linear_objects(model, lin_cls) -> list:
    """Instances of the student's linear class that ``model`` holds (attributes, lists, dicts), in order."""
    out, seen = [], set()

    def walk(value, depth):
        if id(value) in seen or depth > 3 or isinstance(value, (str, bytes, int, float, np.ndarray, type)):
            return
        seen.add(id(value))
        if isinstance(value, lin_cls):
            out.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v, depth + 1)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v, depth + 1)
        elif depth == 0 or not callable(value):
            try:
                for v in vars(value).values():
                    walk(v, depth + 1)
            except TypeError:
                pass

    walk(model, 0)
    return out


class Container:
    """A container class and how the kit drives it; found once at 5-7-4, rebuilt at any sizes."""

    def __init__(self, name, cls, how: str, kind: str, make, forward: str, backward: str, backward_lr: bool,
                 outputs_probs: bool, hidden_kind: str | None):
        self.name, self.cls, self.how, self.kind, self.make = name, cls, how, kind, make
        self.forward, self.backward, self.backward_how = forward, backward, backward_lr
        self.backward_lr = backward_lr == "grad, lr"
        self.backward_targets = backward_lr in TARGET_FORMS
        self.outputs_probs, self.hidden_kind = outputs_probs, hidden_kind

    def describe(self, updates: str = "") -> str:
        """How the kit builds and drives it; ``updates``: the rates of layers that update themselves."""
        out = "probabilities" if self.outputs_probs else "logits"
        args = self.backward_how if self.backward_targets else f"dL/doutput{', lr' if self.backward_lr else ''}"
        does = (f"steps its layers, which update themselves: each gradient is read as the step over the rate "
                f"used ({updates})") if updates else "fills the layers' gradients"
        text = (f"{self.name}: built as {self.how}; {self.name}.{self.forward}(x) returns the {out}, "
                f"{self.name}.{self.backward}({args}) {does}")
        return text + (f"; its hidden activation is {self.hidden_kind}" if self.hidden_kind else "")


ACT_WORDS = {"activation", "activations", "act", "acts", "nonlinearity", "nonlinearities", "activation_functions"}


def _builds(cls, sizes):
    """(text, kind, make(layers, sizes, acts)) ways to build ``cls``: around the student's layer
    objects ("layers"), from sizes ("sizes"), or from sizes and a list of activations, as objects
    ("sizes+objects") or names ("sizes+names") when the constructor takes one."""
    need = required(cls)
    out = []
    if not need:
        for add in _methods(cls, ADD_NAMES):
            def make(layers, sizes, acts, add=add):
                model = cls()
                for layer in layers:
                    getattr(model, add)(layer)
                return model
            out.append((f"{cls.__name__}() then .{add}(layer) per layer", "layers", make))
    try:
        params = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        params = []
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        out.append((f"{cls.__name__}(*layers)", "layers", lambda layers, sizes, acts: cls(*layers)))
    act = next((p.name for p in params if p.name.lower() in ACT_WORDS), None)
    by_sizes = []
    if len(need) == 1:
        out.append((f"{cls.__name__}([layers])", "layers", lambda layers, sizes, acts: cls(list(layers))))
    if (len(need) == 1 or len(need) == 2 and need[1] == act) and words(need[0]) & SIZE_WORDS:
        by_sizes.append(("sizes", lambda sizes: (list(sizes),)))
    if len(need) == len(sizes) == 3 or (len(need) == 3 and act in need):
        by_sizes.append(("n_in, n_hidden, n_out", lambda sizes: tuple(sizes)))
    for text, args in by_sizes:
        if act:
            for form in ("objects", "names"):
                out.append((f"{cls.__name__}({text}, {act}=[activation {form}])", f"sizes+{form}",
                            lambda layers, sizes, acts, args=args: cls(*args(sizes), **{act: acts})))
        if act not in need:
            out.append((f"{cls.__name__}({text})", "sizes", lambda layers, sizes, acts, args=args: cls(*args(sizes))))
    return out


LAST_NAMES = (None, "linear", "identity", "none")  # what a course may call "no activation" on the last layer


def _activation_list(adapter, kind, hidden, n_layers, last, acts):
    """The activations a sizes-built container is handed: ``hidden`` after every layer but the
    last, and ``last`` ("softmax" or one of LAST_NAMES) after the last; as the student's objects
    or as names."""
    if hidden is None:
        return None
    if kind == "sizes+names":
        return [hidden] * (n_layers - 1) + [last]
    obj = adapter.make_layer("softmax").obj if last == "softmax" and "softmax" in acts else None
    return [adapter.make_layer(hidden).obj for _ in range(n_layers - 1)] + [obj]


def _lasts(kind, wants_probs):
    """The last-layer activations to try for a sizes-built container, likeliest first."""
    if kind == "sizes+names":
        return (["softmax"] if wants_probs else []) + list(LAST_NAMES) + ([] if wants_probs else ["softmax"])
    if kind == "sizes+objects":
        return ["softmax", None] if wants_probs else [None, "softmax"]
    return [None]


def find_container(adapter, found, defs) -> tuple[Container | None, list[str]]:
    """The student's container, tried on 5-7-4 with the discovered layers (see the module docstring);
    and why each class that looked like one was rejected."""
    from conformance.adapters.discovery.linear import LinearRecipe

    rejected: list[str] = []
    recipe = found.linear
    if not isinstance(recipe, LinearRecipe) or recipe.per_sample or recipe.backward is None:
        return None, rejected
    classes = [(n, c) for n, c in defs if inspect.isclass(c) and c is not recipe.cls
               and _methods(c, FORWARD_NAMES) and _methods(c, BACKWARD_NAMES)]
    acts = {k: r for k, r in found.activations.items() if r.cand.is_class}
    taken = {r.cand.obj for r in found.activations.values() if r.cand.is_class}
    classes = [(n, c) for n, c in classes if c not in taken and n not in {c2.name for cs in found.losses.values() for c2 in cs}]
    classes.sort(key=lambda nc: not (words(nc[0]) & CONTAINER_WORDS))
    for name, cls in classes:
        why = _try_container(adapter, found, recipe, name, cls, acts)
        if isinstance(why, Container):
            return why, rejected
        rejected.append(f"{name} ({why})")
    return None, rejected


def _try_container(adapter, found, recipe, name, cls, acts):
    from conformance.adapters.discovery.linear import DiscoveredLinear

    sizes = list(SIZES)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((BATCH, sizes[0]))
    g = rng.standard_normal((BATCH, sizes[-1]))
    cols = recipe.data == "cols"
    loss = found.losses.get("cross_entropy", [None])[0]
    wants_probs = loss is not None and loss.reading.input == "probs"
    hidden_order = [k for k in ("relu", "sigmoid", "tanh") if k in acts] or [None]
    last = "no way to build it from layers or sizes"
    def hiddens(kind):  # activation names need no class of the student's; objects do
        return [None] if kind == "sizes" else ["relu", "tanh", "sigmoid"] if kind == "sizes+names" else hidden_order

    options = [(how, kind, make, hidden, last) for how, kind, make in _builds(cls, sizes)
               for hidden in hiddens(kind) for last in _lasts(kind, wants_probs)]
    for how, kind, make, hidden, last_act in options:
        if True:
            try:
                layers, act_list = [], None
                if kind == "layers":
                    lin_objs = [recipe.build(a, b, seed=k) for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]
                    act_objs = [] if hidden is None else [adapter.make_layer(hidden).obj for _ in sizes[2:]]
                    layers = [lin_objs[0]]
                    for k in range(1, len(lin_objs)):
                        layers += [act_objs[k - 1], lin_objs[k]] if act_objs else [lin_objs[k]]
                    if wants_probs and "softmax" in acts:
                        layers.append(adapter.make_layer("softmax").obj)
                elif kind.startswith("sizes+"):
                    act_list = _activation_list(adapter, kind, hidden, len(sizes) - 1, last_act, acts)
                model = attempt(make, layers, sizes, act_list)
            except (StudentRaised, Missing) as exc:
                last = f"{how} raised {exc}"
                continue
            held = _linear_objects(model, recipe.cls)
            handles = []
            for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
                if k >= len(held):
                    break
                h = DiscoveredLinear(recipe, a, b, obj=held[k])
                try:
                    w = h.get_params()["W"]
                except Exception:
                    break
                if w.shape != (b, a):
                    break
                handles.append(h)
            if len(handles) != len(sizes) - 1:
                last = (f"{how} holds {len(held)} {recipe.name} layer(s), not {len(sizes) - 1} of sizes {sizes}"
                        + (" (its sizes may be fixed in the code)" if kind == "sizes" and held else ""))
                continue
            fwd = _find_forward(model, x, cols, sizes[-1])
            if fwd is None:
                last = f"no forward method of {name} maps a ({BATCH}, {sizes[0]}) batch to ({BATCH}, {sizes[-1]})"
                continue
            method, out = fwd
            hidden_kind, probs = _explain_output(adapter, handles, x, out, hidden, acts, kind)
            if probs is None:
                last = f"{name}.{method}(x) is neither the logits nor the probabilities of its layers"
                continue
            if hidden_kind is None and len(handles) > 1:
                last = f"{how} builds a network with no activation between its layers"
                continue
            labels = np.arange(BATCH) % sizes[-1]
            bwd = _find_backward(model, handles, recipe, g, cols, out, labels)
            if isinstance(bwd, str):
                last = bwd
                continue
            back, with_lr = bwd

            def rebuild(sizes, hidden_kind, make=make, kind=kind, probs=probs, last_act=last_act):
                if kind == "sizes":
                    return attempt(make, [], list(sizes), None)
                if kind.startswith("sizes+"):
                    return attempt(make, [], list(sizes),
                                   _activation_list(adapter, kind, hidden_kind, len(sizes) - 1, last_act, acts))
                lin = [recipe.build(a, b, seed=k) for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]
                acts_ = [adapter.make_layer(hidden_kind).obj for _ in sizes[2:]] if hidden_kind else []
                layers = [lin[0]]
                for k in range(1, len(lin)):
                    layers += [acts_[k - 1], lin[k]] if acts_ else [lin[k]]
                if probs and wants_probs and "softmax" in acts:
                    layers.append(adapter.make_layer("softmax").obj)
                return attempt(make, layers, list(sizes), None)

            return Container(name, cls, how, kind, rebuild, method, back, with_lr, probs, hidden_kind)
    return last


def _find_forward(model, x, cols, n_out):
    xin = x.T.copy() if cols else x.copy()
    shape = (n_out, len(x)) if cols else (len(x), n_out)
    for method in _methods(model, FORWARD_NAMES):
        try:
            result = attempt(getattr(model, method), xin.copy())
        except StudentRaised:
            continue
        out = _out_array(result, model, shape)
        if out is not None:
            return method, out.T if cols else out
    return None


def _explain_output(adapter, handles, x, out, hidden, acts, kind):
    """(hidden kind, outputs probabilities?) when ``out`` is what the layers' own parameters give
    through ``hidden`` (the kit's maths: a layer may apply its activation inside its forward),
    as logits or as their softmax; (None, None) when it is neither."""
    from conformance.adapters.discovery.maths import FORWARD

    options = [hidden] if kind != "sizes" else [k for k in ("relu", "sigmoid", "tanh") if k in acts] + [None]
    params = [h.get_params() for h in handles]
    for h in options:
        z = x
        for k, p in enumerate(params):
            z = z @ p["W"].T + p.get("b", 0.0)          # (B, in) @ (in, out) -> (B, out)
            if k < len(params) - 1 and h is not None:
                z = FORWARD[h][0](z)
        if np.allclose(out, z, rtol=1e-6, atol=1e-8):
            return h, False
        if np.allclose(out, softmax(z), rtol=1e-6, atol=1e-8):
            return h, True
    return None, None


TARGET_FORMS = ("onehot, output", "output, onehot", "labels, output", "output, labels")


def targets_args(form: str, out, labels, cols):
    """The arguments of a backward that computes the loss gradient itself, in the student's layout."""
    onehot = np.eye(out.shape[1])[labels]
    pieces = {"onehot": onehot.T.copy() if cols else onehot, "labels": np.asarray(labels).copy(),
              "output": out.T.copy() if cols else out.copy()}
    return [pieces[p] for p in form.split(", ")]


def _find_backward(model, handles, recipe, g, cols, out=None, labels=None):
    """(method, how) of the container's backward: how is "grad", "grad, lr" or one of TARGET_FORMS
    (a backward that takes the targets and the output and computes the loss gradient itself)."""
    gin = g.T.copy() if cols else g.copy()
    implied = recipe.backward.grads_from == "implied"
    for method in _methods(model, BACKWARD_NAMES):
        fn = getattr(model, method)
        need = required(fn)
        lr_arg = len(need) == 2 and bool(words(need[1]) & LR_WORDS)
        forms = ["grad, lr"] if lr_arg else ["grad"] if len(need) == 1 else \
            list(TARGET_FORMS) if len(need) == 2 and out is not None else []
        for how in forms:
            found = _try_backward(fn, how, handles, implied, gin, out, labels, cols)
            if found:
                return method, how
    return "no backward method of it takes the gradient of its output (or the targets) and fills its layers' gradients"


def _try_backward(fn, how, handles, implied, gin, out, labels, cols) -> bool:
    lr_arg = how == "grad, lr"
    before = [h.get_params() for h in handles]
    args = [gin.copy()] + ([0.1] if lr_arg else []) if how.startswith("grad") else \
        targets_args(how, out, labels, cols)
    try:
        attempt(fn, *args)
    except StudentRaised:
        return False
    try:
        if implied or lr_arg:
            grads = []
            for b, h in zip(before, handles):
                after = h.get_params()
                grads.append({k: (b[k] - after[k]) / 0.1 for k in b})
                h.set_params(b)
        else:
            grads = [h.get_grads() for h in handles]
    except Exception:
        return False
    return all(np.all(np.isfinite(v)) and np.any(v != 0) for gr in grads for v in gr.values())


def container_pipeline(container: Container, adapter, recipe, sizes, hidden="relu", task="classification"):
    """The student's container at ``sizes``, driven through its own forward and backward."""
    from conformance.adapters.discovery.linear import DiscoveredLinear, _object_lr

    hidden_kind = hidden if container.kind != "sizes" else container.hidden_kind
    model = container.make(list(sizes), hidden_kind)
    held = _linear_objects(model, recipe.cls)
    if len(held) != len(sizes) - 1:
        raise Missing(f"{container.name} built for sizes {list(sizes)} holds {len(held)} {recipe.name} layers, "
                      f"not {len(sizes) - 1}: its sizes may be fixed in the code; pin the container with --map")
    linears = [DiscoveredLinear(recipe, a, b, obj=held[k]) for k, (a, b) in enumerate(zip(sizes, sizes[1:]))]
    for lin, a, b in zip(linears, sizes, sizes[1:]):
        if lin.get_params()["W"].shape != (b, a):
            raise Missing(f"{container.name} built for sizes {list(sizes)} holds a layer of another size: its sizes "
                          "may be fixed in the code")
    loss = task_loss(adapter, task)
    cols = recipe.data == "cols"
    implied = recipe.backward.grads_from == "implied" or container.backward_lr
    # the rate each layer's own update used: the kit's 0.1 when it hands one in, else the rate the layer
    # (or the container) was built with, as the unit check reads it (Dense(n_in, n_out, lr=0.01))
    rates = [0.1 if container.backward_lr else _object_lr(obj) or _object_lr(model) or 0.1 for obj in held]

    def forward(x):
        xin = x.T.copy() if cols else x.copy()
        result = getattr(model, container.forward)(xin)
        shape = (sizes[-1], len(x)) if cols else (len(x), sizes[-1])
        out = _out_array(result, model, shape)
        if out is None:
            raise TypeError(f"{container.name}.{container.forward} returned {type(result).__name__} "
                            f"{np.shape(result) if isinstance(result, np.ndarray) else ''}, not the ({len(x)}, "
                            f"{sizes[-1]}) output")
        return out.T if cols else out

    def backward(g, labels=None):
        if container.backward_targets:  # (targets, output): the student's backward finds dL/doutput itself
            args = targets_args(container.backward_how, g, np.asarray(labels, dtype=int), cols)
        else:
            args = [g.T.copy() if cols else g.copy()] + ([0.1] if container.backward_lr else [])
        before = [lin.get_params() for lin in linears] if implied else None
        getattr(model, container.backward)(*args)
        if implied:
            for lin, b, rate in zip(linears, before, rates):
                after = lin.get_params()
                lin._grads = {k: (b[k] - after[k]) / rate for k in b}  # a step took lr * gradient away
                lin.set_params(b)
        else:
            for lin in linears:
                lin._grads = None

    if container.outputs_probs and loss.conventions.get("input") == "logits":
        raise Missing(f"{container.name} returns probabilities but the loss {loss.student_name} takes logits")
    soft = None
    if task == "classification" and not container.outputs_probs and loss.conventions.get("input") == "probs":
        soft = adapter.make_layer("softmax")  # the container ends at the logits; the loss wants probabilities
    updates = ", ".join(sorted({f"{r:g}" for r in rates})) if implied else ""
    pipe = ChainedPipeline(linears, [], soft, loss, f"your container {container.describe(updates)}", forward=forward,
                           backward=backward, outputs_probs=container.outputs_probs)
    pipe.backward_targets = container.backward_targets
    return pipe


FIT_NAMES = ("fit", "train", "train_model", "sgd_train", "SGD")


def unbuildable(found, chain_said: str) -> str:
    """One sentence for a submission whose whole network the kit cannot build: what it tried,
    and the way in when training through ``fit`` is all the code offers."""
    text = f"no whole network could be built: {chain_said}"
    tried = (found.rejected.get("container") or []) + (found.rejected.get("gradmodel") or []) + \
        (found.rejected.get("functional") or [])
    if tried:
        text += f"; networks tried: {'; '.join(tried[:3])}"
    fit_only = [n for n, c in found.defs if inspect.isclass(c) and any(callable(getattr(c, m, None)) for m in FIT_NAMES)]
    if fit_only:
        text += (f". {fit_only[0]} offers {'/'.join(m for m in FIT_NAMES if callable(getattr(dict(found.defs)[fit_only[0]], m, None)))}"
                 ", but the kit judges a network through its forward and backward, never through the student's own "
                 "training loop: give it forward/backward methods, or pin them with --map (conformance/MAP.md)")
    return text
