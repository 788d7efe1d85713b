"""Discovery: find the student's components by what they do, whatever they are called.

``discover(namespace, defined)`` enumerates the classes and functions a submission defines,
builds each candidate with arguments read from its signature, calls it on inputs the kit chose,
and keeps what comes back (shapes, which arrays a call creates or changes, how close an output is
to each known function). Names only rank candidates; a buggy component is still found (then it
fails its checks), so a bug never turns a ``fail`` into ``missing``.

Discovery is a probe: it calls student code, so under the grader it runs in the sandboxed child
(``build_adapter`` runs there) and only its text crosses. It is deterministic: inputs are fixed,
numpy's global RNG is seeded before every call and restored afterwards.

>>> from conformance.loader import load_impl                           # doctest: +SKIP
>>> found = discover(load_impl("tests/impls/attr_grads.py").namespace)  # doctest: +SKIP
>>> found.text("linear")                                                # doctest: +SKIP
'Linear: built as Linear(5, 3); forward (forward) matches x W + b with W (in, out) in .W, ...'
"""
from __future__ import annotations

import inspect
import time
from typing import Any

import numpy as np

from conformance.adapters.base import Adapter, Found, Missing
from conformance.adapters.discovery import (
    activations, apimap, checkers, enginenets, gradmodels, linear, losses, networks, optimisers, stretch,
)
from conformance.adapters.discovery import candidates
from conformance.adapters.discovery import autograd as engine
from conformance.adapters.discovery.candidates import definitions
from conformance.adapters.discovery.objects import StudentRaised, attempt, words
from conformance.runner import kit_guess

UNIT = ("linear", "relu", "sigmoid", "tanh", "softmax", "cross_entropy", "mse")
LINEAR_WORDS = {"linear", "dense", "affine", "fc", "fully", "connected", "full", "layer", "perceptron", "neuron"}
MODEL_WORDS = {"net", "network", "model", "mlp", "sequential", "nn", "classifier", "perceptron"}


class Discovery:
    """What discovery found, how, and what it tried and rejected.

    Each family (the linear layer, the activations, the losses) is discovered the first time it
    is asked for, and on its own: under the grader a hostile class that hangs or kills the
    process while the kit calls it costs only the family that had to call it (the sandbox's
    child is restarted for the next probe), never the rest of the submission."""

    def __init__(self, namespace: dict, defined: list[str] | None = None, pins: dict | None = None):
        self.defs = definitions(namespace, defined)
        self.namespace = namespace
        self.pins = pins or {}
        self.adapter = None  # the DiscoveringAdapter, which builds the layers a container is tried with
        self.rejected: dict[str, list[str]] = {}
        self.seconds = 0.0
        self._done: dict[str, Any] = {}
        for comp, table in self.pins.items():  # a map naming what the submission lacks: said at once
            apimap.only(self.defs, table, comp)

    def _family(self, key: str, find):
        if key not in self._done:
            started, state = time.perf_counter(), np.random.get_state()
            try:
                self._done[key] = find()
            finally:
                np.random.set_state(state)
                self.seconds += time.perf_counter() - started
        return self._done[key]

    @property
    def linear(self):
        """LinearRecipe | FunctionalRecipe | None."""
        return self._family("linear", self._find_linear)

    @property
    def activations(self) -> dict:
        """kind -> ActivationRecipe."""
        return self._family("activations", self._find_activations)

    @property
    def losses(self) -> dict:
        """kind -> [LossCandidate, ...], best first."""
        return self._family("losses", self._find_losses)

    @property
    def stretch(self) -> dict:
        """kind -> stretch.Recipe for batchnorm, dropout, conv2d and layernorm found by behaviour."""
        return self._family("stretch", self._find_stretch)

    @property
    def container(self):
        """networks.Container | None: the student's container, tried with the discovered layers."""
        return self._family("container", self._find_container)

    @property
    def gradmodel(self):
        """gradmodels.GradModel | None: a network holding its own arrays and returning gradients."""
        return self._family("gradmodel", self._find_gradmodel)

    @property
    def enginenet(self):
        """enginenets.EngineNet | None: a network written on the student's autograd engine."""
        return self._family("enginenet", self._find_enginenet)

    @property
    def functional(self):
        """gradmodels.FunctionalNet | None: a network of plain functions (init, forward, backward)."""
        return self._family("functional", self._find_functional)

    @property
    def checker(self):
        """checkers.Checker | None: the student's gradient checker."""
        return self._family("checker", self._find_checker)

    @property
    def optimisers(self) -> dict:
        """kind -> optimisers.Found, for sgd, momentum and adam."""
        return self._family("optimisers", self._find_optimisers)

    @property
    def data(self) -> str:
        """"rows" or "cols": how the linear layer takes its samples."""
        return getattr(self.linear, "data", "rows")

    def complete(self) -> "Discovery":
        """Discover every family now (the inventory, the bench)."""
        self.linear, self.activations, self.losses  # noqa: B018 - each property discovers its family
        return self

    def name(self, comp: str) -> str | None:
        if comp == "linear":
            return self.linear.name if self.linear is not None else None
        if comp in activations.KINDS:
            return self.activations[comp].name if comp in self.activations else None
        return self.losses[comp][0].name if comp in self.losses else None

    def text(self, comp: str) -> str:
        """One sentence: how ``comp`` was found, or what was tried and why each was rejected."""
        self.name(comp)  # discovers its family
        if comp == "linear" and self.linear is not None:
            return self.linear.describe()
        if comp in self.activations:
            return self.activations[comp].describe()
        if comp in self.losses:
            best = self.losses[comp]
            text = losses.describe(best[0])
            if len(best) > 1:
                text += f"; also matched: {', '.join(c.name for c in best[1:4])} (pin one with --map)"
            return text
        tried = self.rejected.get(comp) or []
        lost = candidates.dropped_for(comp, getattr(getattr(self.adapter, "loaded", None), "dropped", None))
        lost = f"; {lost}" if lost else ""  # a definition the loader dropped that would have been it
        if not tried:
            return "nothing in the submission behaves like it (no candidate)" + lost
        if len(tried) == 1 and tried[0].startswith("no "):
            return f"not found: {tried[0]}{lost}"
        return "not found; tried " + "; ".join(tried[:6]) + ("; ..." if len(tried) > 6 else "") + lost


def _linear_rank(recipe) -> tuple:
    w = words(recipe.name)
    return (not recipe.affine, getattr(recipe, "backward", True) is None, not (w & LINEAR_WORDS) or bool(w & MODEL_WORDS))


def discover(namespace: dict, defined: list[str] | None = None, pins: dict | None = None) -> Discovery:
    """The submission's unit components, each family found when first asked for (see the module
    docstring); ``pins`` is a validated ``--map`` (``apimap.read_map``)."""
    return Discovery(namespace, defined, pins)


def _find_linear(self: Discovery):
    pinned = self.pins.get("linear", {})
    ldefs = apimap.only(self.defs, pinned, "linear")
    classes = [(n, c) for n, c in ldefs if inspect.isclass(c)]
    functions = [(n, f) for n, f in ldefs if inspect.isfunction(f)]
    if "backward_function" in pinned:
        functions += [(n, f) for n, f in self.defs if n == pinned["backward_function"]]
    recipes, rejected, raising = [], [], []
    identities = None  # the submission's identity activation classes, read once when a layer takes one
    for order, (name, cls) in enumerate(classes):
        try:
            if identities is None and len(candidates.activation_options(cls)) > 1:
                identities = linear.identity_classes(self.defs)
            recipe, why = linear.identify_class(name, cls, identities or ())
        except Exception as exc:  # the kit's own failure to read this class: say so, blame no one
            recipe, why = None, f"the kit could not read it ({type(exc).__name__}: {exc}); pin it with --map"
        if recipe is not None:
            (raising if recipe.forward_raised else recipes).append((order, recipe))
        elif words(name) & LINEAR_WORDS or "found" in why or "holds W" in why:
            rejected.append(f"{name} ({why})")
    recipes = recipes or raising  # a layer whose forward raised is the student's error, judged as such
    found = None
    if recipes:
        recipes.sort(key=lambda ov: (_linear_rank(ov[1]), ov[0]))
        found = recipes[0][1]
        if len(recipes) > 1:
            found.others = [r.name for _, r in recipes[1:4]]
    else:
        found = linear.identify_functional(functions)
        if found is None and not rejected:
            rejected.append("no class holds a (5, 3) or (3, 5) weight array when built for 5 -> 3 features, and no "
                            "function pair f(x, W, b) -> (out, cache), g(dout, cache) -> (dx, dW, db)")
    self.rejected["linear"] = rejected
    if isinstance(found, linear.LinearRecipe) and pinned:
        found = apimap.pin_linear(found, pinned)
    elif isinstance(found, linear.LinearRecipe):
        _one_sample_as_its_network(self, found)
    return found


def _one_sample_as_its_network(self: Discovery, recipe) -> None:
    """A bias gradient with one column per sample (``nabla_b = delta``) is a bug in a layer that
    takes batches and right in one that takes one sample at a time: the layer alone cannot say
    which. The student's own network can: when it takes one sample at a time (``backprop(x, y)``
    on a column) and is built of this class, the layer is read one sample at a time too."""
    bw = recipe.backward
    if recipe.per_sample or bw is None or bw.raised or not recipe.b_path or not isinstance(bw.grads_from, dict) \
            or "b" in bw.grads_from:
        return
    net, rejected = gradmodels.find_gradmodel(self.defs, None, {recipe.cls})  # what _find_gradmodel finds
    self._done["gradmodel"], self.rejected["gradmodel"] = net, rejected
    if net is None or net.samples != "column" or net.then is not None:
        return
    try:
        model = attempt(net.make, gradmodels.SIZES)
        if not networks._linear_objects(model, recipe.cls):
            return
        one = linear.find_backward(attempt(recipe.build, linear.N_IN, linear.N_OUT), recipe, batch=1)
    except StudentRaised:
        return
    if one is not None and not one.raised and isinstance(one.grads_from, dict) and "b" in one.grads_from:
        recipe.backward, recipe.per_sample = one, True
        recipe.sample_note = f"as its network {net.name}.{net.grad_method}(x, y) takes them"


def _find_activations(self: Discovery) -> dict:
    pairs = candidates.paired_functions(self.namespace, self.defs)
    found, seen, _ = activations.identify(self.defs, set(), "rows",
                                          {k: self.pins[k] for k in activations.KINDS if k in self.pins}, pairs)
    if "softmax" in found and found["softmax"].cand.axis0:  # its data layout, from the layer or the loss
        activations.softmax_layout(found["softmax"], self.linear, self.losses if self.linear is None else {})
    for kind in activations.KINDS:
        if kind not in found:
            near = sorted(seen, key=lambda c: c.distances[kind])[:4]
            self.rejected[kind] = [f"{c.name} (nearest to {min(c.distances, key=c.distances.get)}, "
                                   f"{c.distances[kind]:.0%} from {kind})" for c in near]
    return found


def _find_losses(self: Discovery) -> dict:
    found, seen = losses.identify(self.defs, set(), {k: self.pins[k] for k in ("cross_entropy", "mse") if k in self.pins})
    for kind in ("cross_entropy", "mse"):
        if kind not in found:
            near = sorted([c for c in seen if c.kind == kind], key=lambda c: c.error)[:4]
            self.rejected[kind] = [f"{c.name} (value {c.error:.0%} from any {kind} reading)" for c in near]
    return found


def _find_stretch(self: Discovery) -> dict:
    lin = self.linear
    taken = {lin.cls} if isinstance(lin, linear.LinearRecipe) else set()
    try:
        found, rejected = stretch.find(self.defs, taken, {k: self.pins[k] for k in stretch.KINDS if k in self.pins})
    except apimap.MapError:
        raise
    except Exception as exc:  # the kit's own failure: the style's names still apply, no one is blamed
        found, rejected = {}, {k: [f"the kit could not read the submission ({type(exc).__name__}: {exc}); pin it "
                                   "with --map"] for k in stretch.KINDS}
    self.rejected.update({k: v for k, v in rejected.items() if k not in found})
    return found


def _find_container(self: Discovery):
    found, rejected = networks.find_container(self.adapter, self, self.defs)
    self.rejected["container"] = rejected
    return found


Discovery._find_linear, Discovery._find_activations, Discovery._find_losses = _find_linear, _find_activations, _find_losses
def _find_gradmodel(self: Discovery):
    lin = self.linear
    taken = {lin.cls} if isinstance(lin, linear.LinearRecipe) else set()
    found, rejected = gradmodels.find_gradmodel(self.defs, None, taken)
    self.rejected["gradmodel"] = rejected
    return found


def _find_functional(self: Discovery):
    found, rejected = gradmodels.find_functional(self.defs)
    self.rejected["functional"] = rejected
    return found


def _find_enginenet(self: Discovery):
    found, rejected = enginenets.find(engine.units_for(self).engine, self.defs)
    self.rejected["enginenet"] = rejected
    return found


def _find_checker(self: Discovery):
    lin = self.linear if isinstance(self.linear, linear.LinearRecipe) else None
    taken = {r.cand.obj for r in self.activations.values()} | {c.obj for cs in self.losses.values() for c in cs}
    found, rejected = checkers.find(self.defs, lin, taken, self)
    self.rejected["checker"] = rejected
    return found


def _find_optimisers(self: Discovery) -> dict:
    lin = self.linear if isinstance(self.linear, linear.LinearRecipe) else None
    taken = {lin.cls} if lin is not None else set()
    eng = engine.units_for(self).engine
    container = self.container if lin is not None else None
    taken |= {container.cls} if container else set()
    network = self.gradmodel if container is None else None  # a self-holding network: its arrays hold the parameters
    scalar = getattr(eng, "scalar", False)  # a scalar engine: the optimiser gets a flat list of its values
    found, rejected = optimisers.find(self.defs, lin, taken | ({eng.cls} if eng else set()), eng, container,
                                      network, self.enginenet if scalar else None)
    self.rejected["optimisers"] = rejected
    return found


Discovery._find_container, Discovery._find_optimisers = _find_container, _find_optimisers
Discovery._find_stretch = _find_stretch
Discovery._find_gradmodel, Discovery._find_checker = _find_gradmodel, _find_checker
Discovery._find_enginenet, Discovery._find_functional = _find_enginenet, _find_functional


class DiscoveringAdapter(Adapter):
    """The unit components by discovery; everything else (whole networks, optimisers, the
    gradient checker, initialisers, the single-sample model, stretch layers) from the style
    adapter ``base``."""

    def __init__(self, base: Adapter, found: Discovery, prefer_base: set[str] = frozenset()):
        """``prefer_base``: methods an ``--adapter`` file writes itself; those of ``base`` win."""
        super().__init__(namespace=base.namespace, style=base.style, detected_because=list(base.detected_because),
                         loaded=base.loaded)
        self.base, self.found = base, found
        self._prefer_base = set(prefer_base)
        found.adapter = self
        for method in prefer_base & {"inventory", "make_layer", "make_loss", "make_pipeline", "make_optimizer",
                                     "gradient_checker", "init_weights", "init_draw", "init_asks",
                                     "single_sample_model"}:
            setattr(self, method, getattr(base, method))

    def inventory(self):
        out = self.base.inventory()
        for comp in UNIT:
            name = self.found.name(comp)
            if name is not None and self._engine_loss_wins(comp):
                name = None  # its value on plain numbers, no gradient: the same loss through its engine has one
            if name is not None:
                out[comp] = Found(comp, name, self.found.text(comp))
            elif engine.text(self.found, comp):  # written on the student's own autograd engine
                out[comp] = Found(comp, engine.units_for(self.found).units[comp].name, engine.text(self.found, comp))
            else:  # never the style's match by name: discovery did not find it
                out[comp] = Found(comp, None, self.found.text(comp))
        eng = engine.units_for(self.found).engine
        out["autograd"] = Found("autograd", eng.name, engine.text(self.found, "autograd")) if eng else \
            Found("autograd", None, "no autograd engine: no class keeps an ndarray it is built from, overloads + or *, "
                                    "and fills an array-shaped gradient when backward() is called on a result")
        for comp in stretch.KINDS:  # found by behaviour; else the style's match by name, if it has one
            if comp in self.found.stretch:
                out[comp] = Found(comp, self.found.stretch[comp].name, self.found.stretch[comp].describe())
            else:
                tried = self.found.rejected.get(comp) or []
                tried = "; ".join(tried[:4]) + ("; ..." if len(tried) > 4 else "")
                if out.get(comp) is None or out[comp].name is None:
                    out[comp] = Found(comp, None, f"not found by behaviour; tried {tried}; pin it with --map "
                                                  "(conformance/MAP.md)")
                else:  # the style's class of that name is used: say that behaviour did not confirm it
                    out[comp] = Found(comp, out[comp].name, f"{out[comp].detail}; by its name only (not found by "
                                                            f"behaviour: {tried})")
        hit = self.found.checker if "gradient_checker" not in self._prefer_base else None
        if hit is not None:  # what the check runs (gradient_checker() below): discovery's first
            out["gradient_checker"] = Found("gradient_checker", hit.name, hit.describe())
        for comp in ("model_gradcheck", "training_xor", "training_spiral", "training_mnist", "sgd", "momentum", "adam"):
            found = self._whole_network_found(comp)  # discovery first, as make_pipeline/make_optimizer do
            if found.name is not None or out.get(comp) is None or out[comp].name is None:
                out[comp] = found
        return out

    def _whole_network_found(self, comp) -> Found:
        """How discovery would build the network or which optimiser it found, in one sentence."""
        if comp in ("sgd", "momentum", "adam"):
            hit = self.found.optimisers.get(comp)
            if hit is not None:
                return Found(comp, hit.name, f"{hit.name}: found by behaviour, driven as {hit.how}")
            tried = self.found.rejected.get("optimisers") or []
            return Found(comp, None, f"no {comp} optimiser found by behaviour" + (f"; tried {'; '.join(tried[:4])}" if tried else ""))
        container = self.found.container or self.found.gradmodel or self.found.enginenet or self.found.functional
        if container is not None:
            return Found(comp, container.name, container.describe())
        parts = [self.found.name(c) for c in ("linear", "cross_entropy")]
        if all(parts):
            opt = self.found.optimisers.get("sgd")
            how = f"your optimiser {opt.name}" if opt else networks.KIT_SGD
            return Found(comp, parts[0], f"{networks.CHAINED}: {parts[0]} layers and the loss {parts[1]}, updated by {how}")
        tried = self.found.rejected.get("container") or []
        return Found(comp, None, "no container found and no linear layer and loss to chain"
                     + (f"; tried {'; '.join(tried[:3])}" if tried else ""))

    def make_layer(self, kind, **hyper):
        if kind == "linear" and self.found.linear is not None:
            handle = linear.FunctionalLinear if isinstance(self.found.linear, linear.FunctionalRecipe) \
                else linear.DiscoveredLinear
            return handle(self.found.linear, hyper["in_features"], hyper["out_features"], hyper.get("seed", 0))
        if kind in activations.KINDS and kind in self.found.activations:
            recipe = self.found.activations[kind]
            if kind == "softmax" and recipe.cand.axis0 and not recipe.layout_note:  # over columns: right only for column-major data
                recipe.data = self.found.data
            if kind == "softmax" and recipe.cand.whole:  # right only where the network takes one sample
                lin = self.found.linear
                recipe.per_sample = lin is None or getattr(lin, "per_sample", False)
                if recipe.per_sample and recipe.cand.sample_data:  # its backward takes one sample in this layout
                    recipe.data = recipe.cand.sample_data
            return activations.DiscoveredActivation(recipe)
        if kind in stretch.KINDS and kind in self.found.stretch:
            return stretch.make_handle(self.found.stretch[kind], hyper)
        if kind in stretch.KINDS:
            try:  # a layer written on the submission's engine answers with its values: read them through it
                return engine.read_through_engine(self.found, self.base.make_layer(kind, **hyper))
            except Missing as exc:  # neither by behaviour nor by the style's names: say both
                tried = "; ".join((self.found.rejected.get(kind) or [])[:4])
                raise Missing(f"{exc}; not found by behaviour either: {tried}; pin it with --map "
                              "(conformance/MAP.md)") from None
        on_engine = engine.make_layer(self.found, kind, hyper) if kind in UNIT else None
        return on_engine or self._fallback(kind, lambda: self.base.make_layer(kind, **hyper))

    def _engine_loss_wins(self, kind) -> bool:
        """A loss written on a scalar engine (``sum((yp - yt) ** 2 ...)``) also computes its value on
        plain numbers, where no gradient can be found: then the engine's reading, whose backward
        gives the gradient, is the loss."""
        best = self.found.losses.get(kind)
        if kind != "mse" or not best or best[0].grad is not None:
            return False
        return kind in engine.units_for(self.found).units

    def make_loss(self, kind):
        if kind in ("cross_entropy", "mse") and kind in self.found.losses and not self._engine_loss_wins(kind):
            return losses.DiscoveredLoss(self.found.losses[kind][0])
        on_engine = engine.make_loss(self.found, kind) if kind in UNIT else None
        return on_engine or self._fallback(kind, lambda: self.base.make_loss(kind))

    def _fallback(self, kind, make):
        """Stretch layers discovery did not find come from the style. A unit component discovery did not find is
        `missing` with what it tried: never a guess by name that could blame the student."""
        if kind not in UNIT:
            return make()
        raise Missing(f"no {kind.replace('_', '-')} found by behaviour: {self.found.text(kind)}; "
                      "pin it with --map (conformance/MAP.md)")

    def make_pipeline(self, sizes, hidden="relu", task="classification"):
        """The student's container found by behaviour; else a network holding its own arrays;
        else the student's layers and loss chained by the kit (networks.py); else the style's way
        (the one-sample network of assignment 004)."""
        try:
            pipe = self._discovered_pipeline(sizes, hidden, task)
        except Missing as exc:
            try:
                pipe = self.base.make_pipeline(sizes, hidden, task)
                pipe.get_params()  # the style's guess reads the parameters where its assignment keeps them
                return pipe
            except Missing:
                raise exc from None
            except Exception as guess:
                if kit_guess(guess) is None:  # the student's own code raised: that is the student's error
                    raise
                raise exc from None
        self._attach_optimizer(pipe)
        return pipe

    def network_sizes(self, sizes):
        if self.found.container is None and self.found.gradmodel is not None and self.found.gradmodel.fixed_sizes:
            return list(self.found.gradmodel.fixed_sizes)
        if self.found.container is None and self.found.gradmodel is None and self.found.enginenet is None and \
                self.found.functional is not None and self.found.functional.fixed_sizes:
            return list(self.found.functional.fixed_sizes)
        return list(sizes)

    def _discovered_pipeline(self, sizes, hidden, task):
        container = self.found.container
        if container is not None:
            return networks.container_pipeline(container, self, self.found.linear, sizes, hidden, task)
        if self.found.gradmodel is not None:
            found = self.found.gradmodel
            try:
                loss = None if found.returns_loss else networks.task_loss(self, task)
            except Missing:
                loss = None  # the network's own cost, if it holds one (gradmodels._held_cost)
            try:
                return gradmodels.GradModelPipeline(found, sizes, loss)
            except Missing as exc:  # not at these sizes (one hidden layer where the task wants two)
                try:
                    pipe = networks.chain(self, sizes, hidden, task)
                except Missing:
                    raise exc from None
                pipe.conventions["built"] = f"your layers and loss, chained by the kit, because {exc}"
                return pipe
        if self.found.enginenet is not None:
            return self.found.enginenet.pipeline(sizes, task)
        if self.found.functional is not None:
            net = self.found.functional
            try:  # the discovered cross-entropy where it can score the outputs, else the student's own cost
                loss = None if net.binary or net.returns_cost else networks.task_loss(self, task)
            except Missing:
                if net.cost is None:
                    raise
                loss = None
            return gradmodels.FunctionalNetPipeline(net, sizes, loss)
        try:
            return networks.chain(self, sizes, hidden, task)
        except Missing as exc:
            raise Missing(networks.unbuildable(self.found, str(exc))) from None

    def _attach_optimizer(self, pipe):
        """The student's SGD drives the pipeline's update when one was found; else the kit's."""
        try:
            opt = self.make_optimizer("sgd", lr=0.1)
        except Missing:
            return
        pipe.use_optimizer(lambda lr: self.make_optimizer("sgd", lr=lr), f"your optimiser {opt.student_name}")

    def make_optimizer(self, kind, **hyper):
        """An optimiser found by behaviour; else the style's (which then raises on the student's
        side when it cannot step: the student's error)."""
        hit = self.found.optimisers.get(kind)
        if hit is not None:
            return hit.make(hyper)
        try:
            return self.base.make_optimizer(kind, **hyper)
        except Missing:
            pass
        tried = self.found.rejected.get("optimisers") or []
        raise Missing(f"no {kind} optimiser found by behaviour"
                      + (f" (tried {'; '.join(tried[:4])})" if tried else " (no class with a step/update method "
                         "and no function f(w, dw, config) moved the kit's parameters)") + "; pin it with --map")

    def gradient_checker(self):
        """A checker found by behaviour, run on layers the kit controls (checkers.py); else the
        style's call (checkers of whole networks, as in assignments 003 and 004)."""
        hit = self.found.checker
        if hit is not None:
            return hit.run
        try:
            return self.base.gradient_checker()
        except Missing:
            pass
        tried = self.found.rejected.get("checker") or []
        raise Missing("no gradient checker found by behaviour (no function answered with an error, a bool, a "
                      "dict or a numerical gradient when given a layer, or a function and a point)"
                      + (f"; tried {'; '.join(tried[:4])}" if tried else "") + "; pin it with --map")

    def init_weights(self, kind, fan_in, fan_out, seed):
        return self.init_draw(kind, fan_in, fan_out, seed)[0]

    def init_draw(self, kind, fan_in, fan_out, seed):
        """The style's way (functions, an init argument, its named layer's constructor); else the
        constructor of the linear layer found by behaviour, judged against what its code or the
        assignment claims (``initclaims.py``)."""
        try:
            return self.base.init_draw(kind, fan_in, fan_out, seed)
        except Missing as exc:
            recipe = self.found.linear  # it knows where the layer keeps W when the style's guess did not
            if not isinstance(recipe, linear.LinearRecipe):
                raise exc from None
            base_said = str(exc) if "takes an object" in str(exc) else ""
        from conformance.adapters.discovery.objects import StudentRaised, attempt, get
        from conformance.adapters.style import constructor_says

        try:
            obj = attempt(recipe.build, fan_in, fan_out, seed, seed=seed)
        except StudentRaised as raised:
            raise Missing(f"{recipe.name}({fan_in}, {fan_out}) raised {raised.cause!r}") from None
        W = np.asarray(get(obj, recipe.w_path), dtype=float)
        W = W.T if recipe.layout == "in_out" else W
        try:
            if hasattr(self.base, "constructor_says"):
                return W, self.base.constructor_says(recipe.cls, recipe.name, kind, W)
            return W, constructor_says(recipe.cls, recipe.name, kind, W, None, self.style)
        except Missing as own:  # what the style's way found too (an initialiser argument the kit cannot fill)
            raise Missing("; ".join(s for s in (base_said, str(own)) if s)) from None

    def init_asks(self):
        return self.base.init_asks()

    def capabilities(self):
        """The style's, plus "scalar_engine" when the network the kit trains runs on the student's
        scalar autograd engine (one Python object per number): the training checks then use the
        tasks calibrated for one (``cases.training.SCALAR_TASKS``)."""
        return self.base.capabilities() + (("scalar_engine",) if self._trains_on_scalar_engine() else ())

    def _trains_on_scalar_engine(self) -> bool:
        from conformance.adapters.discovery.scalar import on_scalar_engine

        try:  # the network the training checks would build, at a small size
            return getattr(engine.units_for(self.found).engine, "scalar", False) and \
                on_scalar_engine(self.make_pipeline([2, 3, 3], "relu", "classification"))
        except Exception:  # no network (or the student's raise): the training checks will say why
            return False

    def single_sample_model(self, input_dim, hidden_dim, activation):
        return self.base.single_sample_model(input_dim, hidden_dim, activation)


__all__ = ["discover", "Discovery", "DiscoveringAdapter", "UNIT", "Missing"]
