"""Optimisers by behaviour: one step on the kit's quadratic says which calling convention moves the
parameters, and by how much.

A candidate is a class with a step-like method or a function that takes (parameter, gradient, ...).
The kit tries each calling convention real code uses, on its own arrays:

* ``opt.step(params, grads)``: dicts, or lists in key order; ``Opt(params, lr).step(grads)``;
* ``opt.step(layer)`` / ``opt.step([layers])`` / ``opt.step(model)`` with ``model.layers``, and
  ``Opt(layers).step()``, ``Opt(model).step()`` walking ``model.layers`` (the student's container
  too): the student's own linear layers, parameters and gradients placed where
  discovery found them;
* ``Opt([param objects]).step()``: objects holding ``.data`` and ``.grad``;
* ``f(w, dw, config) -> (w, config)`` (the config's own keys read from a first call with ``{}``) and
  ``f(w, dw, lr) -> w``;
* a network that holds its own arrays: its own ``model.sgd_step(lr)``, ``opt.step(model)`` and
  ``Opt(model).step()`` on its parameters and the gradients its ``backward(y)`` stores;
* Nielsen's ``update_mini_batch(mini_batch, eta)``, with the kit's gradient standing in for the
  network's own ``backprop`` on that instance;
* a layer whose ``backward(dy, lr)`` takes the step itself, driven with inputs that make its own
  gradient the kit's;
* on a scalar engine (micrograd's ``Value``), the kit's arrays as the student's values, one per
  number with the kit's gradient in its grad, in one flat list: ``Opt(values, lr).step()``,
  ``Opt(lr).step(values)``, ``Opt(model, lr).step()`` with ``model.parameters()`` that list,
  ``f(values, lr)``, and the network's own ``model.step(lr)`` on the values its lists hold.

A convention counts when the step moves every parameter and the move is finite. Which kind the
candidate is comes from behaviour and its hyper-parameters: the first step of SGD and momentum is
proportional to the gradient, Adam's is not; a candidate that takes a momentum (a constructor
argument or a config key) is momentum, one that takes two betas is Adam. An argument named beta,
gamma or rho is the momentum only when it behaves as one (``_momentum_like``: the second step
carries the first gradient). The judges then compare the whole trajectory (``judges/optim.py``); a
buggy optimiser is still found, and then fails.

Conventions of real code beyond the assignments (``_more_conventions``, ``_around_hooks``): hook
pairs such as the nnfs book's ``pre_update_params()``/``post_update_params()`` called around each
step, ``update_params(layer, epoch)`` handed the step count, classes nested in a namespace class
(``optimizer.SGD(model, lr)``), ``Opt(model, lr).step()`` over ``model.parameters()`` on an array
engine, network2's ``update_mini_batch(mini_batch, eta, lmbda, n)`` at lmbda 0, and a layer that
steps itself in ``backward(dy, lr)`` one sample per call when it works on one sample at a time.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np

from conformance.adapters._common import HolderOptimizer, hyper_kwargs
from conformance.adapters.base import Missing
from conformance.adapters.discovery.objects import StudentRaised, attempt, get, put, required, scan, words

STEP_NAMES = ("step", "update", "update_params", "update_parameters", "apply", "apply_gradients", "optimize",
              "minimize", "sgd_step", "run")
MOMENTUM_ARGS = ("momentum", "beta", "mu", "gamma", "rho")
TWO_BETAS = (("beta1", "beta2"), ("beta_1", "beta_2"), ("b1", "b2"))
HOLDER_WORDS = {"params", "parameters", "layers", "model", "net", "network", "weights", "modules"}
QUAD = {"W": (3, 4), "b": (4,)}


class _Param:
    """A stand-in parameter object: what ``Opt(parameters).step()`` reads and writes."""

    def __init__(self, data, grad):
        self.data, self.grad = data, grad
        self.value, self.val = data, data  # other names for the same array


class _Model:
    def __init__(self, layers):
        self.layers = layers


@dataclass
class Found:
    name: str
    how: str  # the calling convention, in words
    kind: str  # "sgd" | "momentum" | "adam"
    make: object  # make(hyper) -> OptimizerHandle
    notes: list[str] = field(default_factory=list)


def _takes(fn, names) -> str | None:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return None
    return next((n for n in names if n in params), None)


def _two_betas(cls) -> bool:
    return bool(_takes(cls, ("betas",))) or any(_takes(cls, (a,)) and _takes(cls, (b,)) for a, b in TWO_BETAS)


def _kind_of(cls_or_fn, config_keys=()) -> str | None:
    """What the hyper-parameters say: "adam", "momentum" or None (plain SGD or unknown)."""
    keys = {k.lower() for k in config_keys}
    if inspect.isfunction(cls_or_fn):  # update_parameters_with_adam(parameters, grads, v, s, t, lr, beta1, beta2)
        keys |= {p.lower() for p in inspect.signature(cls_or_fn).parameters}
    if _two_betas(cls_or_fn) or {"beta1", "beta2"} <= keys:
        return "adam"
    if _takes(cls_or_fn, MOMENTUM_ARGS) or keys & {"momentum", "mu", "rho", "beta"}:
        return "momentum"
    return None


def _quad(seed=5):
    rng = np.random.default_rng(seed)
    P = {k: rng.standard_normal(s) for k, s in QUAD.items()}
    G = {k: rng.standard_normal(s) * rng.uniform(0.2, 3.0, s) for k, s in QUAD.items()}
    return P, G


def _behaviour(make, lr=0.1) -> str | None:
    """"proportional" when the first step is -c * grad (SGD, momentum), "scaled" when it moves every
    parameter but not in proportion (Adam), None when the convention does not move every parameter."""
    P, G = _quad()
    try:
        opt = make({"lr": lr})
        params = {k: v.copy() for k, v in P.items()}
        attempt(opt.step, params, {k: v.copy() for k, v in G.items()})
    except (StudentRaised, Missing, TypeError, ValueError, KeyError, AttributeError, IndexError):
        return None
    moves = {k: params[k] - P[k] for k in P}
    if not all(np.all(np.isfinite(m)) and np.any(m != 0) for m in moves.values()):
        return None
    ratio = np.concatenate([(moves[k] / G[k]).ravel() for k in P])
    return "proportional" if np.allclose(ratio, ratio[0], rtol=1e-6) else "scaled"


def _nested_classes(defs) -> list[tuple[str, object]]:
    """Classes defined inside the submission's classes (``optimizer.SGD``, ``optimizer.Adam``: a
    class used as a namespace), named outer.inner, that are not already among ``defs``."""
    seen = {id(obj) for _, obj in defs}
    out = []
    for name, obj in defs:
        if not inspect.isclass(obj):
            continue
        for attr, inner in vars(obj).items():
            if inspect.isclass(inner) and id(inner) not in seen and not attr.startswith("_") \
                    and getattr(inner, "__qualname__", "").startswith(obj.__qualname__ + "."):
                seen.add(id(inner))
                out.append((f"{name}.{attr}", inner))
    return out


def _momentum_like(make, lr=0.1, mu=0.9) -> bool | None:
    """Two steps on the kit's quadratic with two different gradients g1, g2. Momentum's first move is
    c * g1 and its second c * g2 plus a multiple of g1 (the velocity carried over, mu * v); plain
    SGD's second move is a multiple of g2 alone (a decayed learning rate changes only the multiple),
    and AdaGrad's or RMSProp's first move is not proportional to g1 at all. None when the convention
    does not run."""
    P, G1 = _quad()
    _, G2 = _quad(seed=6)
    try:
        opt = make({"lr": lr, "momentum": mu})
        params = {k: v.copy() for k, v in P.items()}
        attempt(opt.step, params, {k: v.copy() for k, v in G1.items()})
        after1 = {k: v.copy() for k, v in params.items()}
        attempt(opt.step, params, {k: v.copy() for k, v in G2.items()})
    except (StudentRaised, Missing, TypeError, ValueError, KeyError, AttributeError, IndexError):
        return None
    carried = False
    for k in P:  # each array on its own: a rate or a sign of its own per parameter is still momentum's shape
        m1, m2 = np.ravel(after1[k] - P[k]), np.ravel(params[k] - after1[k])
        g1, g2 = np.ravel(G1[k]), np.ravel(G2[k])
        if not (np.all(np.isfinite(m1)) and np.all(np.isfinite(m2)) and np.any(m1 != 0)):
            return None
        if not np.allclose(m1 / g1, (m1 / g1)[0], rtol=1e-6):
            return False
        (a, b), *_ = np.linalg.lstsq(np.stack([g2, g1], axis=1), m2, rcond=None)
        if not np.allclose(a * g2 + b * g1, m2, rtol=1e-6, atol=1e-12 * np.abs(m2).max()):
            return False
        carried = carried or abs(b) * np.linalg.norm(g1) > 1e-6 * np.linalg.norm(m2)
    return bool(carried)


MOMENTUM_ARG = "_momentum_arg"  # the hyper key that carries the constructor argument found to be the momentum
AMBIGUOUS_MOMENTUM = ("beta", "gamma", "rho")  # also a learning-rate decay, RMSProp's rho, Adam's beta


def _bind_momentum(make, arg):
    return lambda kind, hyper: make(kind, {**hyper, MOMENTUM_ARG: arg})


def _momentum_by_behaviour(name, cls, conventions):
    """(conventions, declared kind) for a class whose constructor takes a momentum-like argument:
    the argument that makes it step like momentum (``_momentum_like``), tried in ``MOMENTUM_ARGS``
    order, is bound as the momentum in every convention. ``beta``, ``gamma`` and ``rho`` mean other
    things too (MiNNi's ``AdaGrad(eta, beta)`` decays its rate by beta; its
    ``GradientDescent(eta, beta, gamma)`` takes gamma as the momentum), so a class that takes only
    those is momentum only when one of them behaves as one. A class with ``momentum`` or ``mu``,
    or named momentum, stays momentum whatever its steps show, so a momentum that is never applied
    is found, then fails."""
    args = [a for a in MOMENTUM_ARGS if _takes(cls, (a,))]
    for how, make in conventions:
        if make is None:
            continue
        ran = False
        for arg in args:
            bound = _bind_momentum(make, arg)
            like = _momentum_like(lambda hyper, bound=bound, how=how: _handle(name, "momentum", bound, hyper, how))
            ran = ran or like is not None
            if like:
                said = (f", {arg} taken as the momentum (it carries the velocity over; 0 for plain SGD)"
                        if arg in AMBIGUOUS_MOMENTUM else "")
                return [(h + said, None if m is None else _bind_momentum(m, arg)) for h, m in conventions], "momentum"
        if ran:
            break
    sure = [a for a in args if a not in AMBIGUOUS_MOMENTUM]
    if sure:
        return [(h, None if m is None else _bind_momentum(m, sure[0])) for h, m in conventions], "momentum"
    return conventions, "momentum" if "momentum" in words(name) else None


def moves(make) -> bool:
    """Whether the optimiser ``make(hyper)`` builds moves every parameter of the kit's quadratic."""
    return _behaviour(make) is not None


# --- calling conventions for a class --------------------------------------------------------------


def _class_conventions(name, cls, recipe, engine=None, container=None, network=None):
    """(how, make_state_run_read(kw) -> (make_state, run, read)) for each way to drive ``cls``.
    ``network``: a self-holding network (gradmodels.GradModel) the optimiser may be handed."""
    need = required(cls)
    holder = bool(need) and bool(words(need[0]) & HOLDER_WORDS)
    methods = [m for m in STEP_NAMES if callable(getattr(cls, m, None))]
    scalar = bool(getattr(engine, "scalar", False)) and engine.grad_attr is not None
    values = (f"a flat list of {engine.name}s, each number of the kit's parameters one {engine.name} with its "
              f".{engine.grad_attr} set") if scalar else ""
    out = []
    for m in methods:
        start = len(out)
        n_args = len(required(getattr(cls, m)))
        if not holder and n_args == 2:
            for form in ("dict", "list", "dicts in lists", "aliased grads"):
                out.append((f"{name}(lr).{m}(params, grads) with {form}", _step_params_grads(cls, m, form)))
            out.append((f"{name}(lr).{m}(model, grads) with model.get_parameters()", _step_model_grads(cls, m)))
        if holder and n_args == 1:  # Opt(params, lr).step(grads): the arrays held, the gradients handed
            for form in ("list", "dict"):
                out.append((f"{name}(params {form}, lr).{m}(grads {form})", _holds_params_step_grads(cls, m, form)))
        if holder and n_args == 0:
            out.append((f"{name}([(params, grads)], lr).{m}()", _holds_pairs(cls, m)))
            if scalar:  # micrograd's SGD(model.parameters(), lr): a flat list of the student's values
                out.append((f"{name}([{engine.name}s], lr).{m}() over {values}", _scalar_values(cls, m, engine, "holds")))
                out.append((f"{name}(model, lr).{m}() with model.parameters() {values}",
                            _scalar_values(cls, m, engine, "holds model")))
            elif engine is not None and engine.grad_attr:  # the student's own tensors, as its layers hold them
                out.append((f"{name}([{engine.name} parameters], lr).{m}()", _holds_engine_tensors(cls, m, engine)))
            out.append((f"{name}([param objects with .data/.grad], lr).{m}()", _holds_param_objects(cls, m)))
            if recipe is not None:
                out.append((f"{name}([layers], lr).{m}()", _layers(cls, m, recipe, "holds")))
                out.append((f"{name}(model with .layers, lr).{m}()", _layers(cls, m, recipe, "holds model")))
                if container is not None:
                    out.append((f"{name}(your {container.name}, lr).{m}()",
                                _layers(cls, m, recipe, "holds container", container)))
        if scalar and not holder and n_args == 1:
            out.append((f"{name}(lr).{m}([{engine.name}s]) over {values}", _scalar_values(cls, m, engine, "handed")))
            out.append((f"{name}(lr).{m}(model) with model.parameters() {values}",
                        _scalar_values(cls, m, engine, "handed model")))
        if not holder and n_args == 1:
            for order in ("grad, param", "param, grad"):
                out.append((f"{name}(lr).{m}([({order}) pairs])", _step_pairs(cls, m, order)))
        if not holder and n_args == 1 and recipe is not None:
            for form in ("layer", "list", "model"):
                out.append((f"{name}(lr).{m}({form})", _layers(cls, m, recipe, form)))
            if container is not None:
                out.append((f"{name}(lr).{m}(your {container.name})", _layers(cls, m, recipe, "container", container)))
        if network is not None and not holder and n_args == 1:
            out.append((f"{name}(lr).{m}(your {network.name})", _on_network(cls, m, network, "model")))
        if network is not None and holder and n_args == 0:
            out.append((f"{name}(your {network.name}, lr).{m}()", _on_network(cls, m, network, "holds")))
        out += _more_conventions(name, cls, m, n_args, holder, recipe, engine, container)
        out[start:] = _around_hooks(cls, m, out[start:])
    return out


def _more_conventions(name, cls, method, n_args, holder, recipe, engine, container):
    """The conventions of real code beyond the assignments': ``opt.update_params(layer, epoch)`` (a
    step count after the layer, from 0 and else from 1: the count a decay or a bias correction
    reads) and ``Opt(model, lr).step()`` walking ``model.parameters()`` over the tensors of the
    student's array engine."""
    out = []
    need = required(getattr(cls, method))
    if not holder and n_args == 2 and recipe is not None and words(need[1]) & COUNT_WORDS:
        for first in (0, 1):
            for form in ("layer", "list", "model"):
                out.append((f"{name}(lr).{method}({form}, {need[1]}) with {need[1]} counting steps from {first}",
                            _layers(cls, method, recipe, form, count_from=first)))
            if container is not None:
                out.append((f"{name}(lr).{method}(your {container.name}, {need[1]}) with {need[1]} counting steps "
                            f"from {first}", _layers(cls, method, recipe, "container", container, count_from=first)))
    if holder and n_args == 0 and engine is not None and engine.grad_attr and not getattr(engine, "scalar", False):
        out.append((f"{name}(model, lr).{method}() with model.parameters() giving your {engine.name} objects",
                    _holds_engine_model(cls, method, engine)))
    return out


COUNT_WORDS = {"epoch", "epochs", "iteration", "iterations", "iter", "it", "step", "steps", "t", "count", "counter",
               "time", "timestep", "n", "i"}
HOOK_PAIRS = (("pre_", "post_"), ("before_", "after_"), ("pre", "post"))


def _step_hooks(cls, method) -> tuple[list[str], list[str]]:
    """The hooks a class asks to have called around each step, as the nnfs book's optimisers do
    (``pre_update_params()`` sets the decayed learning rate, ``post_update_params()`` counts the
    step; MiNNi's ``pre_update()``/``post_update()``): zero-argument methods in a pair
    ``pre_X``/``post_X`` (or ``before_X``/``after_X``). A hook the step method calls itself is
    not called again."""
    names = [n for n in dir(cls) if not n.startswith("_")]
    code = getattr(getattr(cls, method, None), "__code__", None)
    calls = set(code.co_names) if code is not None else set()
    pre, post = [], []
    for a, b in HOOK_PAIRS:
        for n in names:
            twin = b + n[len(a):]
            if not n.startswith(a) or n in pre or twin not in names or len(n) == len(a):
                continue
            first, second = getattr(cls, n, None), getattr(cls, twin, None)
            if callable(first) and callable(second) and not required(first) and not required(second) \
                    and not {n, twin} & calls:
                pre.append(n)
                post.append(twin)
    return pre, post


def _around_hooks(cls, method, conventions):
    """``conventions`` with the class's step hooks (``_step_hooks``) called on the optimiser
    before and after each step."""
    pre, post = _step_hooks(cls, method)
    if not pre:
        return conventions
    said = f", with {', '.join(p + '()' for p in pre)} before and {', '.join(p + '()' for p in post)} after each step"

    def hooked(make):
        def wrapped(kind, hyper):
            made = make(kind, hyper)
            if made is None:
                return None
            make_state, run, *rest = made

            def run_hooked(state):
                opt = getattr(state, "opt", None)
                for h in pre if opt is not None else ():
                    getattr(opt, h)()
                run(state)
                for h in post if opt is not None else ():
                    getattr(opt, h)()

            return (make_state, run_hooked, *rest)

        return wrapped

    return [(how + said, None if make is None else hooked(make)) for how, make in conventions]


class _EngineModel:
    """A stand-in model for ``Opt(model, lr)`` on an array engine: ``model.parameters()`` (and its
    other common names) gives the tensors, in the kit's key order."""

    def __init__(self, tensors):
        self._tensors = list(tensors)

    def parameters(self):
        return list(self._tensors)

    params = get_parameters = get_params = parameters


def _holds_engine_model(cls, method, engine):
    """``Opt(model, lr).step()`` over tensors of the student's array engine, reached through the
    model's ``parameters()``; the same tensors live across steps (state kept per tensor survives)."""
    inner = _holds_engine_tensors(cls, method, engine)
    return lambda kind, hyper: inner(kind, hyper, model=True)


def _kw(cls, kind, hyper):
    lr = hyper.get("lr", 0.1)
    arg = hyper.get(MOMENTUM_ARG)
    if arg is not None:  # the argument behaviour showed to be the momentum (``_momentum_by_behaviour``)
        kw = hyper_kwargs(cls, lr=lr, betas=hyper.get("betas") if kind == "adam" else None,
                          eps=hyper.get("eps") if kind == "adam" else None)
        kw[arg] = hyper.get("momentum", 0.9) if kind == "momentum" else 0.0
        return kw
    momentum = hyper.get("momentum", 0.9) if kind == "momentum" else (0.0 if _takes(cls, MOMENTUM_ARGS) else None)
    return hyper_kwargs(cls, lr=lr, momentum=momentum, betas=hyper.get("betas") if kind == "adam" else None,
                        eps=hyper.get("eps") if kind == "adam" else None)


class _DictState:
    def __init__(self, P, G):
        self.P, self.G = P, G

    def load(self, P, G):
        for k in P:
            self.P[k][...] = P[k]
            self.G[k][...] = G[k]


def _step_params_grads(cls, method, form):
    def make(kind, hyper):
        kw = _kw(cls, kind, hyper)

        def make_state(P, G):
            state = _DictState(P, G)
            state.opt = attempt(cls, **kw)
            return state

        def run(state):
            if form == "dict":
                getattr(state.opt, method)(state.P, state.G)
            elif form == "dicts in lists":
                getattr(state.opt, method)([state.P], [state.G])
            elif form == "aliased grads":
                getattr(state.opt, method)(state.P, aliases(state.G))
            else:
                keys = list(state.P)
                plist, glist = [state.P[k] for k in keys], [state.G[k] for k in keys]
                getattr(state.opt, method)(plist, glist)
                for k, p in zip(keys, plist):
                    state.P[k] = p

        return make_state, run, lambda s: s.P

    return make


def _step_pairs(cls, method, order):
    """Opt(lr).apply_gradients(zip(grads, vars)): one list of (gradient, parameter) pairs (or
    (parameter, gradient)), the parameters updated in place."""
    def make(kind, hyper):
        kw = _kw(cls, kind, hyper)

        def make_state(P, G):
            state = _DictState(P, G)
            state.opt = attempt(cls, **kw)
            return state

        def run(state):
            keys = list(state.P)
            pairs = [(state.G[k], state.P[k]) if order == "grad, param" else (state.P[k], state.G[k]) for k in keys]
            getattr(state.opt, method)(pairs)

        return make_state, run, lambda s: s.P

    return make


def aliases(G: dict) -> dict:
    """The gradients under every key a student's update may read for parameter k: k, dk, dL_dk,
    grad_k, k_grad (the student reads its own name; the kit need not know it)."""
    out = {}
    for k, g in G.items():
        for name in (k, f"d{k}", f"dL_d{k}", f"grad_{k}", f"{k}_grad", f"d_{k}"):
            out.setdefault(name, g)
    return out


class _Holder:
    """A stand-in model for step(model, grads): its parameters by get_parameters()/set_parameters(),
    as a params dict and as attributes."""

    def __init__(self, P):
        self.params = P
        for k, v in P.items():
            setattr(self, k, v)

    def get_parameters(self):
        return {k: v.copy() for k, v in self.params.items()}

    def set_parameters(self, new):
        for k, v in new.items():
            self.params[k] = np.asarray(v, dtype=float)
            setattr(self, k, self.params[k])

    get_params, set_params = get_parameters, set_parameters


def _step_model_grads(cls, method):
    def make(kind, hyper):
        kw = _kw(cls, kind, hyper)

        def make_state(P, G):
            state = _DictState(P, G)
            state.holder = _Holder(P)
            state.opt = attempt(cls, **kw)
            return state

        def run(state):
            getattr(state.opt, method)(state.holder, aliases(state.G))

        return make_state, run, lambda s: s.holder.params

    return make


def _holds_params_step_grads(cls, method, form):
    """Opt(params, lr).step(grads): the optimiser holds the parameter arrays (a list in key order,
    or the dict) and updates them in place; each step is handed the gradients the same way."""
    def make(kind, hyper):
        kw = _kw(cls, kind, hyper)

        def make_state(P, G):
            state = _DictState(P, G)
            state.opt = attempt(cls, list(P.values()) if form == "list" else P, **kw)
            return state

        def run(state):
            getattr(state.opt, method)(list(state.G.values()) if form == "list" else state.G)

        return make_state, run, lambda s: s.P

    return make


def _holds_pairs(cls, method):
    """Opt([(params, grads)], lr).step(): the optimiser holds (params dict, grads dict) pairs."""
    def make(kind, hyper):
        kw = _kw(cls, kind, hyper)

        def make_state(P, G):
            state = _DictState(P, G)
            state.opt = attempt(cls, [(P, G)], **kw)
            return state

        return make_state, lambda s: getattr(s.opt, method)(), lambda s: s.P

    return make


def _holds_engine_tensors(cls, method, engine):
    """Opt(parameters).step() over tensors of the student's autograd engine, holding the kit's
    arrays as their data and the kit's gradients in their grad; ``model=True``: handed a stand-in
    model whose ``parameters()`` gives them (``_holds_engine_model``)."""
    def make(kind, hyper, model=False):
        kw = _kw(cls, kind, hyper)

        def make_state(P, G):
            state = _DictState(P, G)
            state.objs = {}
            for k in P:
                t = engine.tensor(P[k])
                setattr(t, engine.grad_attr, G[k].copy())
                state.objs[k] = t
            state.load = lambda P2, G2: [(engine.write(state.objs[k], P2[k]),
                                          setattr(state.objs[k], engine.grad_attr, np.array(G2[k], dtype=float)))
                                         for k in P2]
            held = list(state.objs.values())
            state.opt = attempt(cls, _EngineModel(held) if model else held, **kw)
            return state

        return (make_state, lambda s: getattr(s.opt, method)(),
                lambda s: {k: engine.data(t) for k, t in s.objs.items()})

    return make


def _scalar_values(cls, method, engine, form, fn=None):
    """The kit's arrays as the student's scalar values (micrograd's ``Value``), one per number,
    each with the kit's gradient in its grad; the optimiser gets them as one flat list, the way
    ``model.parameters()`` hands them: ``Opt(values, lr).step()`` (form "holds"),
    ``Opt(lr).step(values)`` ("handed"), the same with a stand-in model whose ``parameters()`` is
    that list ("holds model", "handed model"), or a function ``f(values, lr)`` ("function", ``fn``). The
    same values live across steps (a velocity kept per value, by index or by id, survives), and
    the arrays are read back from their data."""
    def make(kind, hyper):
        if form == "function" and kind != "sgd":
            return None
        kw = {} if form == "function" else _kw(cls, kind, hyper)

        def make_state(P, G):
            state = _DictState(P, G)
            state.cells = {k: engine.tensor(P[k]) for k in P}
            state.flat = [v for k in P for v in state.cells[k].flat]
            state.load = lambda P2, G2: _load_scalar(engine, state.cells, P2, G2)
            _load_scalar(engine, state.cells, P, G)
            state.model = _ValueHolder(state.flat)
            held = {"holds": state.flat, "holds model": state.model}
            state.opt = attempt(cls, held[form], **kw) if form in held else None if form == "function" \
                else attempt(cls, **kw)
            return state

        def run(state):
            if form.startswith("holds"):
                getattr(state.opt, method)()
            elif form.startswith("handed"):
                getattr(state.opt, method)(state.flat if form == "handed" else state.model)
            else:
                fn(state.flat, hyper.get("lr", 0.1))

        return make_state, run, lambda s: {k: engine.data(c) for k, c in s.cells.items()}

    return make


class _ValueHolder:
    """A stand-in model for ``Opt(model, lr)`` / ``opt.step(model)`` on a scalar engine: its
    parameters, under the names micrograd-style code calls, are the flat list of values."""

    def __init__(self, values):
        self._values = values

    def parameters(self):
        return list(self._values)

    params = get_parameters = get_params = parameters


def _load_scalar(engine, cells, P, G):
    """The kit's numbers into the values' data and its gradients into their grad, element-wise."""
    for k, c in cells.items():
        engine.write(c, P[k])
        for v, g in zip(c.flat, np.asarray(G[k], dtype=float).reshape(-1)):
            setattr(v, engine.grad_attr, float(g))


def _scalar_net_update(net, engine) -> tuple[str, object] | None:
    """A network on a scalar engine that steps itself: ``model.step(lr)`` / ``model.update(lr)``
    walking its own ``parameters()``. It is built for the chain of sizes the kit's weight/bias pairs
    make (one more layer, with zero gradients, when it cannot be built with one), the kit's numbers
    and gradients placed in the values its lists hold (where discovery read W and b), and read
    back from them after the step."""
    for m in SELF_UPDATE + ("sgd", "gd_step", "descend"):
        fn = getattr(net.cls, m, None)
        if not (callable(fn) and len(required(fn)) == 1 and words(required(fn)[0]) & LR_WORDS):
            continue

        def update(kind, hyper, m=m):
            if kind != "sgd":
                return None

            def make_state(P, G):
                state = _DictState(P, G)
                groups = list(_groups(P).items())
                sizes = [groups[0][1][0]] + [n_out for _, (_, n_out, _) in groups]
                if any(a[1][1] != b[1][0] for a, b in zip(groups, groups[1:])):
                    raise Missing("these parameters do not chain into one network")
                for chain in (sizes, sizes + [2]):
                    try:
                        state.pipe = net.pipeline(chain)
                        break
                    except (Missing, StudentRaised):
                        state.pipe = None
                if state.pipe is None:
                    raise Missing(f"{net.name} could not be built for the sizes {sizes}")
                state.groups = groups
                state.load = lambda P2, G2: _load_scalar_net(state, P2, G2)
                _load_scalar_net(state, P, G)
                return state

            def run(state):
                getattr(state.pipe.model, m)(hyper.get("lr", 0.1))

            def read(state):
                got = state.pipe.get_params()
                out = {}
                for k, (pre, (_, _, transposed)) in enumerate(state.groups):
                    out[pre + "W"] = got[f"{2 * k}.W"].T if transposed else got[f"{2 * k}.W"]
                    if pre + "b" in state.P:
                        out[pre + "b"] = got[f"{2 * k}.b"]
                return out

            return make_state, run, read

        return f"{net.name}.{m}", update
    return None


def _load_scalar_net(state, P, G):
    """The kit's pairs into the network's values (W (out, in) in the kit's layout, as the pipeline
    writes them) and their gradients into the values' grad; the layers beyond them: zero gradients."""
    pipe, eng = state.pipe, state.pipe.eng
    params = {}
    for k, layer in enumerate(pipe.layers):
        grads = {"W": None, "b": None}
        if k < len(state.groups):
            pre, (_, _, transposed) = state.groups[k]
            W, gW = np.asarray(P[pre + "W"], dtype=float), np.asarray(G[pre + "W"], dtype=float)
            W, gW = (W.T, gW.T) if transposed else (W, gW)  # (out, in)
            params[f"{2 * k}.W"] = W
            grads["W"] = gW.T if layer["W_layout"] == "in_out" else gW
            if pre + "b" in P:
                params[f"{2 * k}.b"] = np.asarray(P[pre + "b"], dtype=float)
                grads["b"] = np.asarray(G[pre + "b"], dtype=float)
        for name in ("W", "b"):
            cells = eng.cells(pipe.values[layer[name]])
            g = np.zeros(cells.shape) if grads[name] is None else grads[name].reshape(cells.shape)
            for v, gv in zip(cells.flat, g.reshape(-1)):
                setattr(v, eng.grad_attr, float(gv))
    pipe.set_params(params)


def _holds_param_objects(cls, method):
    def make(kind, hyper):
        kw = _kw(cls, kind, hyper)

        def make_state(P, G):
            state = _DictState(P, G)
            state.objs = {k: _Param(P[k], G[k]) for k in P}
            state.opt = attempt(cls, list(state.objs.values()), **kw)
            return state

        def run(state):
            getattr(state.opt, method)()

        def read(state):
            out = {}
            for k, o in state.objs.items():
                moved = [a for a in (o.data, o.value, o.val) if a is not state.P[k]]
                out[k] = moved[0] if moved else o.data  # a rebinding optimiser
            return out

        return make_state, run, read

    return make


def _layers(cls, method, recipe, form, container=None, count_from=None):
    """The student's own linear layers hold the parameters, one layer per "<prefix>W"/"<prefix>b"
    pair of keys, their gradients written where discovery saw backward write them. ``form``
    "container": they are the layers of the student's own container, built for the chain of sizes
    the pairs make, and the optimiser steps that model (``step(model)`` that calls the model's own
    methods). ``count_from``: each step is also handed the step count, from this number."""
    from conformance.adapters.discovery.linear import DiscoveredLinear

    grads_from = recipe.backward.grads_from if recipe.backward else None
    if not isinstance(grads_from, dict) or not all(isinstance(p, tuple) for p in grads_from.values()):
        return None

    def make(kind, hyper):
        kw = {} if form == "self" else _kw(cls, kind, hyper)

        def make_state(P, G):
            state = _DictState(P, G)
            state.groups = _groups(P)
            state.handles = {}
            held = _container_layers(container, recipe, state.groups) if "container" in form else None
            for k, (pre, (n_in, n_out, _)) in enumerate(state.groups.items()):
                handle = DiscoveredLinear(recipe, n_in, n_out, obj=held[1][k] if held else None)
                handle.forward(np.zeros((2, n_in)) if recipe.data == "rows" else np.zeros((2, n_in)))
                handle.backward(np.zeros((2, n_out)))  # the gradient arrays now exist where backward puts them
                state.handles[pre] = handle
            state.model = held[0] if held else None
            state.load = lambda P2, G2: _place(state, recipe, P2, G2)
            _place(state, recipe, P, G)
            objs = [h.obj for h in state.handles.values()]
            held_by = {"holds": objs, "holds model": _Model(objs), "holds container": state.model}
            state.opt = (attempt(cls, held_by[form], **kw) if form in held_by else None if form == "self"
                         else attempt(cls, **kw))
            state.t = count_from
            return state

        def run(state):
            objs = [h.obj for h in state.handles.values()]
            if count_from is not None:  # update_params(layer, epoch): the same count for every layer of a step
                step = getattr(state.opt, method)
                for target in (objs if form == "layer" else [objs] if form == "list" else
                               [state.model] if form == "container" else [_Model(objs)]):
                    step(target, state.t)
                state.t += 1
            elif form.startswith("holds"):
                getattr(state.opt, method)()
            elif form == "self":  # each layer steps itself with its own gradients
                for obj in objs:
                    getattr(obj, method)(hyper.get("lr", 0.1))
            elif form == "layer":
                for obj in objs:
                    getattr(state.opt, method)(obj)
            elif form == "container":
                getattr(state.opt, method)(state.model)
            else:
                getattr(state.opt, method)(objs if form == "list" else _Model(objs))

        return make_state, run, _read_handles

    return make


def _read_handles(state) -> dict:
    """The kit's arrays back from the layer handles, in the orientation of the kit's pairs."""
    out = {}
    for pre, (_, _, transposed) in state.groups.items():
        p = state.handles[pre].get_params()
        out[pre + "W"] = p["W"].T if transposed else p["W"]
        if pre + "b" in state.P:
            out[pre + "b"] = p["b"]
    return out


def _container_layers(container, recipe, groups):
    """(model, its linear layers) of the student's container built for the chain of sizes the
    weight/bias pairs make (the quadratic's one pair: a one-layer network)."""
    from conformance.adapters.discovery.networks import _linear_objects

    shapes = list(groups.values())
    sizes = [shapes[0][0]] + [n_out for _, n_out, _ in shapes]
    if any(a[1] != b[0] for a, b in zip(shapes, shapes[1:])):
        raise Missing("these parameters do not chain into one network")
    model = container.make(sizes, container.hidden_kind or "relu")
    held = _linear_objects(model, recipe.cls)
    if len(held) != len(shapes):
        raise Missing(f"{container.name} built for {sizes} holds {len(held)} layers")
    return model, held


def _groups(P) -> dict:
    """prefix -> (n_in, n_out, transposed) for each "<prefix>W" key: W is (out, in) when its bias has
    its first dimension's size, else (in, out) (the quadratic's W (3, 4) with b (4,))."""
    out = {}
    for key, W in P.items():
        if not key.endswith("W") or np.ndim(W) != 2:
            continue
        pre = key[:-1]
        b = P.get(pre + "b")
        transposed = b is not None and np.size(b) == np.shape(W)[1] != np.shape(W)[0]
        n_out, n_in = (np.shape(W)[1], np.shape(W)[0]) if transposed else np.shape(W)
        out[pre] = (n_in, n_out, transposed)
    if not out or any(k[:-1] not in out for k in P if k.endswith("W")):
        raise Missing("these parameters are not weight/bias pairs of linear layers")
    return out


def _place(state, recipe, P, G):
    for pre, (_, _, transposed) in state.groups.items():
        handle = state.handles[pre]
        W = np.asarray(P[pre + "W"], dtype=float)
        gW = np.asarray(G[pre + "W"], dtype=float)
        W, gW = (W.T, gW.T) if transposed else (W, gW)  # canonical (out, in) from here
        handle.set_params({"W": W, **({"b": P[pre + "b"]} if pre + "b" in P else {})})
        put(handle.obj, recipe.backward.grads_from["W"], gW.T if recipe.layout == "in_out" else gW)
        if "b" in recipe.backward.grads_from and pre + "b" in G:
            put(handle.obj, recipe.backward.grads_from["b"], np.asarray(G[pre + "b"], dtype=float))


# --- a self-holding network: its own arrays hold the parameters and gradients --------------------


def _on_network(cls, method, network, form):
    """The parameters live in a self-holding network's own arrays (``MLP(n_in, n_hidden, n_out)``
    with ``W1``..``b2``) and the gradients where its ``backward(y)`` stores them (``dW1``..). The
    network is built for the chain of sizes the weight/bias pairs make (one extra layer, with zero
    gradients, when the quadratic's one pair is fewer layers than the network has). ``form``: "self"
    (``network.sgd_step(lr)``), "model" (``opt.step(network)``) or "holds" (``Opt(network).step()``)."""
    from conformance.adapters.discovery import gradmodels

    if network.then is None or network.samples != "rows":
        return None  # the gradients are returned, not held: nothing for an optimiser to read

    def make(kind, hyper):
        kw = {} if form == "self" else _kw(cls, kind, hyper)

        def make_state(P, G):
            state = _network_state(network, P, G)
            model, sizes = state.model, state.sizes
            x, labels = np.zeros((2, sizes[0])), np.arange(2) % sizes[-1]
            data = gradmodels._inputs("rows", network.targets, x, labels, sizes[-1])
            attempt(getattr(model, network.grad_method), *data)  # one pass: the gradient arrays now exist
            attempt(getattr(model, network.then[0]), data[1])
            state.load = lambda P2, G2: _place_network(state, network, P2, G2)
            _place_network(state, network, P, G)
            state.opt = None if form == "self" else attempt(cls, model, **kw) if form == "holds" else attempt(cls, **kw)
            return state

        def run(state):
            if form == "self":
                getattr(state.model, method)(hyper.get("lr", 0.1))
            elif form == "holds":
                getattr(state.opt, method)()
            else:
                getattr(state.opt, method)(state.model)

        return make_state, run, _read_network

    return make


def _network_state(network, P, G) -> _DictState:
    """The state of a step on a self-holding network: the network built for the chain of sizes
    the kit's weight/bias pairs make (plus one layer when they are a single pair), its layers."""
    from conformance.adapters.discovery import gradmodels

    state = _DictState(P, G)
    groups = list(_groups(P).items())
    sizes = [groups[0][1][0]] + [n_out for _, (_, n_out, _) in groups]
    if any(a[1][1] != b[1][0] for a, b in zip(groups, groups[1:])):
        raise Missing("these parameters do not chain into one network")
    if len(sizes) == 2:
        sizes.append(2)
    model = attempt(network.make, sizes)
    layers = gradmodels._layout(scan(model, depth=3), sizes)
    if layers is None:
        raise Missing(f"{network.name} built for {sizes} does not hold one weight and bias per layer")
    state.model, state.layers, state.groups, state.sizes = model, layers, groups, sizes
    return state


def _kit_weights(P, G, pre, transposed, layer):
    """The kit's W and its gradient for one pair, in the layout the network stores that layer in."""
    W, gW = np.asarray(P[pre + "W"], dtype=float), np.asarray(G[pre + "W"], dtype=float)
    W, gW = (W.T, gW.T) if transposed else (W, gW)  # (out, in) from here
    return (W.T, gW.T) if layer["W_layout"] == "in_out" else (W, gW)


def _read_network(state) -> dict:
    """The kit's arrays back from the network's own, in the orientation of the kit's pairs."""
    out = {}
    for (pre, (_, _, transposed)), layer in zip(state.groups, state.layers):
        W = np.array(get(state.model, layer["W"]), dtype=float)
        W = W.T if layer["W_layout"] == "in_out" else W  # (out, in)
        out[pre + "W"] = W.T if transposed else W
        if pre + "b" in state.P:
            out[pre + "b"] = np.array(get(state.model, layer["b"]), dtype=float).reshape(-1)
    return out


def _place_network(state, network, P, G):
    """The kit's arrays into the network's parameters and its stored gradients; the layers beyond
    the kit's pairs get zero gradients (so no optimiser moves them)."""
    grads_at = network.then[1]
    for k, layer in enumerate(state.layers):
        if k < len(state.groups):
            pre, (_, _, transposed) = state.groups[k]
            W, gW = _kit_weights(P, G, pre, transposed, layer)
            put(state.model, layer["W"], W)
            put(state.model, grads_at[("W", k)], gW)
            if pre + "b" in P:
                put(state.model, layer["b"], np.asarray(P[pre + "b"], dtype=float))
                put(state.model, grads_at[("b", k)], np.asarray(G[pre + "b"], dtype=float))
            else:
                put(state.model, grads_at[("b", k)], np.zeros(np.shape(get(state.model, grads_at[("b", k)]))))
        else:
            for name in ("W", "b"):
                put(state.model, grads_at[(name, k)], np.zeros(np.shape(get(state.model, grads_at[(name, k)]))))


BATCH_WORDS = {"batch", "mini", "minibatch", "data", "samples", "examples"}


def _mini_batch_update(network) -> tuple[str, object] | None:
    """A network whose SGD step is ``update_mini_batch(mini_batch, eta)``, running its own
    ``backprop(x, y)`` for each example and stepping by the average: the kit stands in for that
    backprop on this instance (it returns the kit's gradients in the student's own structure), so
    the step the student wrote is judged on the kit's quadratic like any optimiser, and the
    gradient its own backprop computes is judged by model_gradcheck alone."""
    from conformance.adapters.discovery import gradmodels

    for m in dir(network.cls):
        fn = getattr(network.cls, m, None)
        need = required(fn) if callable(fn) and not m.startswith("_") else []
        if len(need) < 2 or not words(need[1]) & LR_WORDS or not words(need[0]) & BATCH_WORDS:
            continue
        extra = _plain_sgd_args(need[2:])
        if extra is None:
            continue

        def update(kind, hyper, m=m):
            if kind != "sgd":
                return None

            def make_state(P, G):
                state = _network_state(network, P, G)
                model, layers, sizes = state.model, state.layers, state.sizes
                x, labels = np.zeros((1, sizes[0])), np.zeros(1, dtype=int)
                state.example = gradmodels._inputs(network.samples, network.targets, x, labels, sizes[-1])
                if network.samples == "rows":
                    state.example = [state.example]
                xi, yi = state.example[0]
                real = attempt(getattr(model, network.grad_method), xi, yi)  # the structure its backprop returns
                grads, _ = gradmodels._grads_from(real, model, layers)
                if grads is None:
                    raise Missing(f"{network.name}.{network.grad_method} returned no gradient for some parameter")
                state.real, state.slots = real, {id(a): key for key, a in grads.items()}
                state.load = lambda P2, G2: _load_mini_batch(state, P2, G2)
                _load_mini_batch(state, P, G)
                setattr(model, network.grad_method, lambda *_: _refill(state.real, state.slots, state.kit))
                return state

            def run(state):
                # two examples, each answered with the kit's gradient: their average is that gradient
                getattr(state.model, m)(list(state.example) * 2, hyper.get("lr", 0.1), *extra)

            return make_state, run, _read_network

        update.said = "".join(f", {n}={v:g}" for n, v in zip(need[2:], extra))  # the arguments that make it plain SGD
        return f"{network.name}.{m}", update
    return None


REG_WORDS = {"lmbda", "lmbd", "lambda", "lambd", "lam", "reg", "l2", "decay", "weight", "penalty", "alpha"}
SIZE_WORDS = {"n", "size", "total", "train", "training", "samples", "examples", "len", "count", "num"}


def _plain_sgd_args(names) -> list | None:
    """The values that make Nielsen network2's ``update_mini_batch(mini_batch, eta, lmbda, n)``
    a plain SGD step: a regularisation strength 0, a training-set size 1 (it only divides the
    strength); None when an argument is neither."""
    out = []
    for n in names:
        w = words(n)
        if w & REG_WORDS:
            out.append(0.0)
        elif w & SIZE_WORDS:
            out.append(1)
        else:
            return None
    return out


def _load_mini_batch(state, P, G):
    """The kit's parameters into the network, and the gradients its stand-in backprop will return
    (zero for the layers beyond the kit's pairs), each in the student's own shape and layout."""
    state.kit = {}
    for k, layer in enumerate(state.layers):
        shape_w = np.shape(get(state.model, layer["W"]))
        shape_b = np.shape(get(state.model, layer["b"]))
        if k < len(state.groups):
            pre, (_, _, transposed) = state.groups[k]
            W, gW = _kit_weights(P, G, pre, transposed, layer)
            put(state.model, layer["W"], W)
            state.kit[("W", k)] = gW.copy()
            if pre + "b" in P:
                put(state.model, layer["b"], np.asarray(P[pre + "b"], dtype=float))
            state.kit[("b", k)] = np.asarray(G.get(pre + "b", np.zeros(shape_b)), dtype=float).reshape(shape_b)
        else:
            state.kit[("W", k)], state.kit[("b", k)] = np.zeros(shape_w), np.zeros(shape_b)


def _refill(structure, slots, arrays):
    """``structure`` (what the student's backprop returned: tuples, lists, dicts of arrays) with
    each gradient array replaced by a fresh copy of the kit's, in the same shape."""
    if isinstance(structure, np.ndarray):
        key = slots.get(id(structure))
        return structure.copy() if key is None else arrays[key].reshape(structure.shape).copy()
    if isinstance(structure, dict):
        return {k: _refill(v, slots, arrays) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_refill(v, slots, arrays) for v in structure)
    return structure


def _network_update(network) -> tuple[str, object] | None:
    """A self-holding network that steps itself with the gradients it stores: ``model.sgd_step(lr)``."""
    for m in SELF_UPDATE:
        fn = getattr(network.cls, m, None)
        if callable(fn) and len(required(fn)) == 1 and words(required(fn)[0]) & LR_WORDS:
            def update(kind, hyper, m=m):
                if kind != "sgd":
                    return None
                inner = _on_network(None, m, network, "self")
                return None if inner is None else inner(kind, hyper)
            return f"{network.name}.{m}", update
    return None


# --- functions -------------------------------------------------------------------------------------


def _function_conventions(name, fn):
    need = required(fn)
    if len(need) < 2 or len(need) > 3:
        return []
    out = []
    if len(need) == 3:
        out.append((f"{name}(w, dw, config) -> (w, config)", _config_function(fn)))
        out.append((f"{name}(w, dw, lr) -> w", _lr_function(fn)))
    elif len(need) == 2 and any(p.name == "config" for p in inspect.signature(fn).parameters.values()):
        out.append((f"{name}(w, dw, config) -> (w, config)", _config_function(fn)))
    return out


def _config_keys(fn):
    """The keys ``fn`` puts into an empty config on a first call (its own names for lr, momentum...)."""
    w, dw = np.ones(3), np.ones(3)
    try:
        result = attempt(fn, w, dw, {})
    except StudentRaised:
        return None
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict):
        return list(result[1])
    return None


def _config_function(fn):
    keys = _config_keys(fn)
    if keys is None:
        return None

    def make(kind, hyper):
        config0 = {}
        for k in keys:
            low = k.lower()
            if "learning" in low or low in ("lr", "eta", "step_size", "alpha"):
                config0[k] = hyper.get("lr", 0.1)
            elif low in ("momentum", "mu", "rho") and kind == "momentum":
                config0[k] = hyper.get("momentum", 0.9)
            elif low in ("momentum", "mu") and kind != "momentum":
                config0[k] = 0.0
            elif low in ("beta1", "beta_1") and kind == "adam" and hyper.get("betas"):
                config0[k] = hyper["betas"][0]
            elif low in ("beta2", "beta_2") and kind == "adam" and hyper.get("betas"):
                config0[k] = hyper["betas"][1]
            elif low in ("epsilon", "eps") and kind == "adam" and hyper.get("eps") is not None:
                config0[k] = hyper["eps"]

        def make_state(P, G):
            state = _DictState(P, G)
            state.configs = {k: dict(config0) for k in P}
            return state

        def run(state):
            for k in state.P:
                w, cfg = fn(state.P[k], state.G[k], state.configs[k])
                state.P[k], state.configs[k] = np.asarray(w, dtype=float), cfg

        return make_state, run, lambda s: s.P

    make.keys = keys
    return make


def _lr_function(fn):
    def make(kind, hyper):
        if kind != "sgd":
            return None

        def make_state(P, G):
            return _DictState(P, G)

        def run(state):
            for k in state.P:
                w = fn(state.P[k], state.G[k], hyper.get("lr", 0.1))
                if w is not None:
                    state.P[k] = np.asarray(w, dtype=float)

        return make_state, run, lambda s: s.P

    return make


# --- functions over the whole parameter dict: update_parameters(parameters, grads, ...) ----------

PARAM_WORDS, GRAD_WORDS = {"param", "params", "parameters", "weights"}, {"grad", "grads", "gradients"}
STATE_WORDS = {"v", "s", "velocity", "velocities", "cache", "m", "moment", "moments", "state"}


def _numbered(P: dict) -> dict:
    """The kit's keys -> the course's names: the k-th weight/bias pair is W{k+1}/b{k+1}."""
    out, k = {}, 0
    for key in P:
        if key.endswith("W"):
            k += 1
            out[key] = f"W{k}"
            if key[:-1] + "b" in P:
                out[key[:-1] + "b"] = f"b{k}"
    return out


PADDED_LAYERS = 4  # a function that names its keys by hand (W1, b1, W2, b2) is handed this many layers


def _mirror_slots(names: dict) -> dict:
    """{course name: kit key} for the layers the kit adds after its own, up to ``PADDED_LAYERS``:
    each a copy of the kit's first weight/bias pair, handed that pair's gradient, so that a function
    naming W1..W4 by hand finds every key it reads and each of its layers' updates is seen. While
    the student's code steps a copy as it steps the original the two stay equal and the gradient is
    exact; the first step that treats them differently already shows in the copy's trajectory."""
    first = [k for k in names if k.endswith("W")][:1]
    if not first:
        return {}
    w, b = first[0], first[0][:-1] + "b"
    have = sum(1 for v in names.values() if v.startswith("W"))
    slots = {}
    for j in range(have + 1, PADDED_LAYERS + 1):
        slots[f"W{j}"] = w
        if b in names:
            slots[f"b{j}"] = b
    return slots


def _dict_function(fn, init_state, padded=False):
    """``update(parameters, grads, [v, [s, t,]] lr, [beta...]) -> parameters | (parameters, v, ...)``
    with its state made by the submission's own ``init_state(parameters)``; ``padded``: the kit's
    layers followed by zero ones (``_padding``)."""
    params = [p for p in inspect.signature(fn).parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = [p.name for p in params]
    state_names = [n for n in names[2:] if n.lower() in STATE_WORDS]
    has_t = "t" in names

    def make(kind, hyper):
        values = {}
        for n in names[2:]:
            low = n.lower()
            if "learning" in low or low in ("lr", "eta", "alpha"):
                values[n] = hyper.get("lr", 0.1)
            elif low in ("beta", "momentum", "mu") and kind == "momentum":
                values[n] = hyper.get("momentum", 0.9)
            elif low in ("beta1", "beta_1") and kind == "adam" and hyper.get("betas"):
                values[n] = hyper["betas"][0]
            elif low in ("beta2", "beta_2") and kind == "adam" and hyper.get("betas"):
                values[n] = hyper["betas"][1]
            elif low in ("epsilon", "eps") and kind == "adam" and hyper.get("eps") is not None:
                values[n] = hyper["eps"]
        if state_names and init_state is None:
            return None

        def make_state(P, G):
            state = _DictState(P, G)
            state.names = _numbered(P)
            state.course = {state.names[k]: P[k] for k in P}
            state.mirror = _mirror_slots(state.names) if padded else {}
            state.course.update({slot: np.array(P[k], dtype=float) for slot, k in state.mirror.items()})
            made = init_state(state.course) if state_names else ()
            state.slots = list(made) if isinstance(made, tuple) else [made]
            state.t = 0
            return state

        def run(state):
            state.t += 1
            course_grads = aliases({**{state.names[k]: state.G[k] for k in state.G},
                                    **{slot: np.array(state.G[k], dtype=float) for slot, k in state.mirror.items()}})
            args = {names[0]: state.course, names[1]: course_grads, **values}
            args.update(zip(state_names, state.slots))
            if has_t:
                args["t"] = state.t
            result = fn(**args)
            new = result[0] if isinstance(result, tuple) else result
            if isinstance(result, tuple):
                state.slots = list(result[1:1 + len(state_names)]) or state.slots
            state.course = {k: np.asarray(v, dtype=float) for k, v in new.items()}

        def read(state):
            back = {v: k for k, v in state.names.items()}
            return {back[k]: v for k, v in state.course.items() if k in back}

        def mirrored(state):
            return {f"{k}@{slot[1:]}": np.array(state.course[slot], dtype=float)
                    for slot, k in state.mirror.items() if slot in state.course}

        return (make_state, run, read, mirrored) if padded else (make_state, run, read)

    return make


def _state_initialiser(defs, fn, n_state: int):
    """The submission's function that makes ``fn``'s ``n_state`` state dicts from the parameters
    (initialize_velocity, initialize_adam): it returns that many dicts of arrays; names rank."""
    P = {"W1": np.ones((2, 3)), "b1": np.ones((2, 1))}
    hits = []
    for name, f in defs:
        if f is fn or not inspect.isfunction(f) or len(required(f)) != 1:
            continue
        try:
            made = attempt(f, {k: v.copy() for k, v in P.items()})
        except StudentRaised:
            continue
        parts = made if isinstance(made, tuple) else (made,)
        if len(parts) == n_state and all(isinstance(d, dict) and d and all(isinstance(v, np.ndarray) for v in d.values())
                                         for d in parts):
            hits.append((-len(words(name) & (words(fn.__name__) | {"velocity", "adam", "momentum"})), name, f))
    return min(hits, key=lambda h: h[:2])[2] if hits else None


def _dict_function_conventions(defs, name, fn):
    params = [p.name for p in inspect.signature(fn).parameters.values()]
    if len(params) < 3 or not (words(params[0]) & PARAM_WORDS and words(params[1]) & GRAD_WORDS):
        return []
    n_state = sum(n.lower() in STATE_WORDS for n in params[2:])
    init = _state_initialiser(defs, fn, n_state) if n_state else None
    how = f"{name}(parameters, grads, ...) -> parameters" + (f", state from {init.__name__}" if init else "")
    return [(how, _dict_function(fn, init)),
            (f"{how}, handed W1..W{PADDED_LAYERS}/b1..b{PADDED_LAYERS} (it names its keys by hand; the kit's "
             "extra layers are zero and never move)", _dict_function(fn, init, padded=True))]


# --- finding ---------------------------------------------------------------------------------------


def _handle(name, kind, make, hyper, how):
    made = make(kind, hyper)
    if made is None:
        raise Missing(f"{how} cannot run a {kind} step")
    return HolderOptimizer(name, kind, *made[:3], {"api": how}, mirrored=made[3] if len(made) > 3 else None)


LR_WORDS = {"lr", "learning", "rate", "eta", "alpha", "step", "size"}
SELF_UPDATE = ("update", "step", "sgd_step", "update_params", "update_parameters", "apply_gradients", "apply_grads",
               "gradient_step", "optimize")


def _self_update(recipe) -> tuple[str, object] | None:
    """Layers that update themselves from their stored gradients: ``layer.update(lr)``."""
    cls = recipe.cls
    for m in SELF_UPDATE:
        fn = getattr(cls, m, None)
        if callable(fn) and len(required(fn)) == 1 and words(required(fn)[0]) & LR_WORDS:
            def layer_update(kind, hyper, m=m):
                if kind != "sgd":
                    return None
                inner = _layers(type("Self", (), {}), m, recipe, "self")
                return None if inner is None else inner(kind, hyper)
            return f"{recipe.name}.{m}", layer_update
    return None


def _step_in_backward(recipe) -> tuple[str, object] | None:
    """Layers whose ``backward(dy, lr)`` takes the SGD step itself. The kit chooses the layer's
    input and upstream gradient so that the gradient the layer computes is the kit's: x = [I; 0]
    (one row per input feature, then a zero row) and dy = [G_W; g_b - column sums of G_W], so
    x.T @ dy = G_W and the column sums of dy are g_b (rescaled by the factor the layer's own
    gradient carries, e.g. 1/B when it averages). Then the step the student wrote is judged on the
    kit's quadratic like any optimiser: a step with the previous call's gradient fails.

    A layer that works on one sample at a time (``recipe.per_sample``, or a bias that a batch
    turns into a matrix: ``b -= lr * dy`` with dy (B, out)) gets the same rows one call each:
    SGD's steps add up to the one step with the kit's gradient."""
    import dataclasses

    from conformance.adapters.discovery.linear import DiscoveredLinear, object_lr_name

    bw = recipe.backward
    if bw is None or recipe.data != "rows" or bw.raised:
        return None
    # a layer built with its rate (Dense(n_in, n_out, lr=0.01)) whose backward(dy) steps with it: the kit
    # sets that attribute to its own lr for the step, as it hands lr to a backward(dy, lr)
    held = bw.style == "dy" and bw.grads_from == "implied"
    if bw.style != "dy_lr" and not held:
        return None
    one_by_one = dataclasses.replace(recipe, per_sample=True)

    def step(obj, dy, lr):
        if not held:
            return getattr(obj, bw.method)(dy, lr)
        name = object_lr_name(obj)
        if name is None:
            raise Missing(f"{recipe.name} holds no learning rate the kit can set for its own step")
        own = getattr(obj, name)
        setattr(obj, name, lr)
        try:
            return getattr(obj, bw.method)(dy)
        finally:
            setattr(obj, name, own)

    def keeps_bias(n_in, n_out, lr):
        """Whether one batched step leaves the bias with n_out numbers."""
        if recipe.per_sample:
            return False
        if not recipe.b_path:
            return True
        handle = DiscoveredLinear(recipe, n_in, n_out)
        x, dy = inputs(np.ones((n_in, n_out)), np.ones(n_out))
        try:
            handle.forward(x)
            attempt(step, handle.obj, dy, lr)
        except StudentRaised:
            return True  # the batched call's own failure is judged, not avoided
        return np.size(get(handle.obj, recipe.b_path)) == n_out

    def step_rows(handle, x, dy, lr):
        for i in range(len(x)):
            handle.forward(x[i:i + 1])
            step(handle.obj, dy[i:i + 1], lr)

    def inputs(G_W, g_b):  # G_W (in, out), g_b (out,)
        n_in = G_W.shape[0]
        x = np.vstack([np.eye(n_in), np.zeros((1, n_in))])
        dy = np.vstack([G_W, (g_b - G_W.sum(axis=0))[None, :]])
        return x, dy

    def update(kind, hyper):
        if kind != "sgd":
            return None
        lr = hyper.get("lr", 0.1)

        def make_state(P, G):
            state = _DictState(P, G)
            state.groups = _groups(P)
            state.handles = {}
            for pre, (n_in, n_out, transposed) in state.groups.items():
                rows = not keeps_bias(n_in, n_out, lr)
                handle = DiscoveredLinear(one_by_one if rows else recipe, n_in, n_out)
                handle.rows = rows
                # the factor between the layer's own gradient and x.T @ dy, read without a step
                G_W = np.linspace(-1.0, 1.0, n_in * n_out).reshape(n_in, n_out)
                x, dy = inputs(G_W, np.linspace(0.5, 1.0, n_out))
                handle.forward(x)
                handle.backward(dy)
                got = handle.get_grads()["W"].T  # (in, out)
                handle.factor = float(np.sum(got * G_W) / np.sum(G_W * G_W))
                if not np.isfinite(handle.factor) or abs(handle.factor) < 1e-12:
                    raise Missing(f"{recipe.name}.{bw.method} computes no weight gradient from x and dy")
                state.handles[pre] = handle
            return state

        def run(state):
            for pre, (n_in, n_out, transposed) in state.groups.items():
                handle = state.handles[pre]
                W, gW = np.asarray(state.P[pre + "W"], dtype=float), np.asarray(state.G[pre + "W"], dtype=float)
                W, gW = (W.T, gW.T) if transposed else (W, gW)  # (out, in)
                gb = np.asarray(state.G.get(pre + "b", np.zeros(n_out)), dtype=float).reshape(-1)
                handle.set_params({"W": W, **({"b": state.P[pre + "b"]} if pre + "b" in state.P else {})})
                x, dy = inputs(gW.T, gb)
                if handle.rows:
                    step_rows(handle, x, dy / handle.factor, lr)
                else:
                    handle.forward(x)
                    step(handle.obj, dy / handle.factor, lr)

        return make_state, run, _read_handles

    return f"{recipe.name}.{bw.method}", update


def find(defs, recipe, taken=(), engine=None, container=None, network=None,
         enginenet=None) -> tuple[dict[str, Found], list[str]]:
    """kind -> Found for sgd, momentum and adam; and what was tried and rejected. ``network``: a
    self-holding network (no layer objects), whose own update and whose optimisers are tried too;
    ``enginenet``: a network on a scalar ``engine``, whose own ``step(lr)`` is tried too."""
    found: dict[str, Found] = {}
    rejected: list[str] = []
    scalar = bool(getattr(engine, "scalar", False)) and engine.grad_attr is not None
    own = _scalar_net_update(enginenet, engine) if scalar and enginenet is not None else None
    if own is not None:
        name, make = own
        how = (f"{name}(lr) on your network's own {engine.name}s (the kit's numbers in their .{engine.data_attr}, "
               f"its gradients in their .{engine.grad_attr})")
        if _behaviour(lambda hyper: _handle(name, "sgd", make, hyper, how)) == "proportional":
            found["sgd"] = Found(name, how, "sgd",
                                 lambda hyper, make=make, how=how, name=name: _handle(name, "sgd", make, hyper, how))
        taken = set(taken) | {enginenet.cls}
    own = _network_update(network) if network is not None else None
    batch_step = _mini_batch_update(network) if network is not None and own is None else None
    if own is not None or batch_step is not None:
        name, make = own or batch_step
        how = f"{name}(lr) on your network's own arrays" if own else \
            f"{name}(mini_batch, lr{make.said}) with the kit's gradients standing in for your {network.grad_method}"
        if _behaviour(lambda hyper: _handle(name, "sgd", make, hyper, how)) == "proportional":
            found["sgd"] = Found(name, how, "sgd",
                                 lambda hyper, make=make, how=how, name=name: _handle(name, "sgd", make, hyper, how))
    if network is not None:
        taken = set(taken) | {network.cls}
    stepping = _step_in_backward(recipe) if recipe is not None and "sgd" not in found else None
    if stepping is not None:
        name, make = stepping
        args = "(dy, lr)" if recipe.backward.style == "dy_lr" else "(dy) with the rate it was built with set to the kit's lr"
        how = f"{name}{args}: the step inside backward, on inputs that make your layer's gradient the kit's"
        # a step inside backward is the layer's SGD: any move counts (a stale gradient moves, not in proportion)
        if _behaviour(lambda hyper: _handle(name, "sgd", make, hyper, how)) is not None:
            found["sgd"] = Found(name, how, "sgd",
                                 lambda hyper, make=make, how=how, name=name: _handle(name, "sgd", make, hyper, how))
    if recipe is not None and recipe.backward is not None:
        own = _self_update(recipe)
        if own is not None:
            name, make = own
            how = f"{name}(lr) on each layer"
            if _behaviour(lambda hyper: _handle(name, "sgd", make, hyper, how)) == "proportional":
                found["sgd"] = Found(name, how, "sgd",
                                     lambda hyper, make=make, how=how, name=name: _handle(name, "sgd", make, hyper, how))
    for name, obj in [*defs, *_nested_classes(defs)]:
        if obj in taken or not callable(obj):
            continue
        if inspect.isclass(obj):
            if not any(callable(getattr(obj, m, None)) for m in STEP_NAMES):
                continue
            conventions, declared = _class_conventions(name, obj, recipe, engine, container, network), _kind_of(obj)
            if declared == "momentum":
                conventions, declared = _momentum_by_behaviour(name, obj, conventions)
        elif inspect.isfunction(obj):
            conventions = _dict_function_conventions(defs, name, obj) or _function_conventions(name, obj)
            if scalar and len(required(obj)) == 2 and words(required(obj)[1]) & LR_WORDS:
                conventions.append((f"{name}([{engine.name}s], lr) over a flat list of {engine.name}s, each number "
                                    f"of the kit's parameters one {engine.name} with its .{engine.grad_attr} set",
                                    _scalar_values(None, None, engine, "function", obj)))
            keys = next((getattr(m, "keys", ()) for _, m in conventions if m is not None and hasattr(m, "keys")), ())
            declared = _kind_of(obj, keys)
        else:
            continue
        tried = False
        for how, make in conventions:
            if make is None:
                continue
            tried = True
            kinds = [declared] if declared else ["sgd"]
            if declared == "momentum":
                kinds.append("sgd")  # SGD(lr, momentum=0) is plain SGD
            moved = None
            for kind in kinds:
                moved = _behaviour(lambda hyper, kind=kind, make=make: _handle(name, kind, make, hyper, how))
                if moved is None:
                    continue
                if kind == "sgd" and moved != "proportional":
                    kind = "adam" if declared is None and moved == "scaled" and "adam" in words(name) else None
                    if kind is None:
                        continue
                if kind not in found or (_rank(name, kind) < _rank(found[kind].name, kind)):
                    found[kind] = Found(name, how, kind,
                                        lambda hyper, kind=kind, make=make, how=how, name=name:
                                        _handle(name, kind, make, hyper, how))
            if moved is not None:
                break
        if tried and not any(f.name == name for f in found.values()):
            on_values = [(how, make) for how, make in conventions if make is not None and f"{engine.name}s]" in how] \
                if scalar else []
            rejected.append(_unmoved_values(name, engine, *on_values[0]) if len(on_values) == 1 else
                            f"{name} (no calling convention the kit tried moved every parameter)")
    return found, rejected


def _unmoved_values(name, engine, how, make) -> str:
    """Why an optimiser handed the kit's parameters as scalar values was not taken, in one clause:
    how many of the values' numbers one step moved, or that the step raised."""
    P, G = _quad()
    call = how.split(" over ")[0]
    try:
        opt = _handle(name, "sgd", make, {"lr": 0.1}, how)
        params = {k: v.copy() for k, v in P.items()}
        attempt(opt.step, params, {k: v.copy() for k, v in G.items()})
    except StudentRaised as exc:
        from conformance.runner import describe_exception
        return f"{name} (handed the parameters as {engine.name}s with their .{engine.grad_attr} set, {call} raised " \
               f"{describe_exception(exc.cause)})"
    except (Missing, TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        return f"{name} (the kit could not drive it as {call}: {exc})"
    moved = sum(int(np.sum(params[k] != P[k])) for k in P)
    total = sum(v.size for v in P.values())
    what = f"no {engine.name}'s .{engine.data_attr} moved" if moved == 0 else \
        f"only {moved} of the {total} {engine.name}s' .{engine.data_attr} moved"
    return f"{name} (handed the parameters as {engine.name}s with their .{engine.grad_attr} set, {call} ran and {what})"


def _rank(name, kind) -> int:
    w = words(name)
    return 0 if kind in w or (kind == "sgd" and w & {"sgd", "gradient", "descent", "gd"}) else 1


__all__ = ["find", "Found"]
