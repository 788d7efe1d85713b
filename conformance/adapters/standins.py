"""Objects of the student's own classes whose maths is the kit's: what a gradient checker is
judged on (SPEC 12), so that a bug in the student's layers, activations or loss never fails a
correct checker (SPEC 0.3).

A stand-in keeps the student's class (``isinstance`` holds, attributes stay where the student's
code keeps them) and gets the kit's ``forward``/``backward`` in place of the student's. The
kit chooses the weights, the hidden activation ("identity", so the network is linear in each
parameter, or "tanh") and the bug: ``planted`` is False (correct), True (every gradient 1.5
times too large) or "negated" (every gradient of the wrong sign, to tell a checker that compares
with the wrong sign).

>>> ACTIVATIONS["tanh"][1](np.array([0.0]))   # derivative, from the output
array([1.])
"""
from __future__ import annotations

import numpy as np

BUG_SCALE = {False: 1.0, True: 1.5, "negated": -1.0}
ACTIVATIONS = {  # name -> (f(z), f'(z) written with the output a = f(z))
    "identity": (lambda z: z, lambda a: np.ones_like(a)),
    "tanh": (np.tanh, lambda a: 1.0 - a ** 2),
}
STEP_NAMES = ("epsilon", "eps", "h", "delta", "step", "step_size", "dx", "e")


def scale_of(planted) -> float:
    return BUG_SCALE[planted]


def kit_weights(sizes, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W (out, in), b (out,)) per layer, drawn by the kit, never by the student's constructor."""
    rng = np.random.default_rng(seed + 7)
    return [(rng.standard_normal((o, i)) / np.sqrt(i), 0.1 * rng.standard_normal(o)) for i, o in zip(sizes, sizes[1:])]


def step_kwargs(fn, factor: float) -> dict:
    """{name: default * factor} for ``fn``'s finite-difference step argument; {} at factor 1 or when
    it has none (then the checker runs at its own defaults only)."""
    import inspect

    if factor == 1.0:
        return {}
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    for name in STEP_NAMES:
        p = params.get(name)
        if p is not None and isinstance(p.default, float) and p.default > 0:
            return {name: p.default * factor}
    return {}


def step_default(fn) -> tuple[str, float] | None:
    got = step_kwargs(fn, 2.0)
    return next(((k, v / 2.0) for k, v in got.items()), None)


class KitChain:
    """The kit's network: linear layers (W (out, in), b) with ``act`` between them; forward
    returns the output; backward(dout) fills ``grads`` (times the bug's scale) and returns dx."""

    def __init__(self, act: str, scale: float):
        self.f, self.df = ACTIVATIONS[act]
        self.scale = scale
        self.cache = None

    def forward(self, x, weights):
        hs, h = [], np.asarray(x, dtype=float)
        for k, (W, b) in enumerate(weights):
            hs.append(h)
            z = h @ W.T + b                        # (B, in) @ (in, out) -> (B, out)
            h = z if k == len(weights) - 1 else self.f(z)
        self.cache = (hs, [np.array(W) for W, _ in weights])
        return h

    def backward(self, dout):
        hs, Ws = self.cache
        grads, g = [None] * len(Ws), np.asarray(dout, dtype=float)
        for k in reversed(range(len(Ws))):
            grads[k] = (self.scale * g.T @ hs[k], self.scale * g.sum(axis=0))  # (out, in), (out,)
            g = g @ Ws[k]                          # (B, out) @ (out, in) -> (B, in)
            if k > 0:
                g = g * self.df(hs[k])
        return grads, self.scale * g


def kit_loss(out: np.ndarray, target, act: str) -> tuple[float, np.ndarray]:
    """The loss a kit network is checked with, and d loss / d out. With ``act`` "identity" it is
    linear in the output (sum(out * c) / B), so the whole network is linear in each parameter;
    else the batch mean of softmax cross-entropy on int or one-hot ``target``."""
    B = len(out)
    if act == "identity":
        c = np.cos(np.arange(out.size)).reshape(out.shape)
        return float(np.sum(out * c) / B), c / B
    z = out - out.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    t = np.asarray(target)
    onehot = t.astype(float) if t.shape == out.shape else np.eye(out.shape[1])[t.astype(int).ravel()]
    return float(-np.sum(onehot * np.log(p)) / B), (p - onehot) / B


def retype(obj, methods: dict, prefix: str = "Kit"):
    """``obj`` (in place) as an instance of a subclass of its own class with ``methods``."""
    base = type(obj)
    obj.__class__ = type(f"{prefix}{base.__name__}", (base,), methods)
    return obj


def loss_stand_in(obj, net_state: dict, act: str):
    """The student's loss object with the kit's loss: forward(pred, target) in either order (the
    prediction is the argument equal to the network's last output), backward(*anything)."""

    def pick(args):
        arrays = [np.asarray(a) for a in args if isinstance(a, (np.ndarray, list, float, int))]
        last = net_state.get("out")
        pred = next((a for a in arrays if last is not None and a.shape == last.shape and np.allclose(a, last)), None)
        if pred is None:
            pred = next((a for a in arrays if a.ndim == 2 and a.dtype.kind == "f"), arrays[0])
        target = next((a for a in arrays if a is not pred), None)
        return np.asarray(pred, dtype=float), target

    def forward(self, *args, **kwargs):
        pred, target = pick(list(args) + list(kwargs.values()))
        value, grad = kit_loss(pred, target, act)
        self._bpk_grad = grad
        return value

    def backward(self, *args, **kwargs):
        if args or kwargs:
            forward(self, *args, **kwargs)
        return self._bpk_grad.copy()

    return retype(obj, {"forward": forward, "__call__": forward, "backward": backward,
                        "loss": forward, "gradient": backward})


class DictIO:
    """Parameters in ``obj.params['W'|'b']``, gradients in ``obj.grads`` (W stored (out, in) or,
    when ``in_out``, (in, out))."""

    def __init__(self, in_out: bool = False):
        self.in_out = in_out

    def read(self, obj):
        W = np.asarray(obj.params["W"], dtype=float)
        return (W.T if self.in_out else W), np.asarray(obj.params["b"], dtype=float).reshape(-1)

    def write(self, obj, W, b):
        for key, value in (("W", W.T if self.in_out else W), ("b", b)):
            old = obj.params.get(key)
            obj.params[key] = np.array(value, dtype=float).reshape(np.shape(old) if old is not None and np.size(old) == np.size(value) else np.shape(value))

    def store_grads(self, obj, dW, db):
        grads = getattr(obj, "grads", None)
        if not isinstance(grads, dict):
            grads = obj.grads = {}
        grads["W"] = dW.T if self.in_out else dW
        grads["b"] = db.reshape(np.shape(obj.params["b"]))


def network_stand_in(model, linears: list, io, forward: str, backward: str, act: str, planted, seed: int,
                     state: dict, cols: bool = False, targets_backward: bool = False):
    """The student's container ``model`` with the kit's ``forward``/``backward`` over the linear
    objects it holds (whose weights the kit writes), ``act`` between them and the bug ``planted``;
    ``state["out"]`` keeps the last output for the loss stand-in."""
    sizes = [io.read(linears[0])[0].shape[1]] + [io.read(obj)[0].shape[0] for obj in linears]
    for obj, (W, b) in zip(linears, kit_weights(sizes, seed)):
        io.write(obj, W, b)
    chain = KitChain(act, scale_of(planted))

    def fwd(self, x, *rest, **kwargs):
        x = np.asarray(x, dtype=float)
        out = chain.forward(x.T if cols else x, [io.read(obj) for obj in linears])
        state["out"] = out.T if cols else out
        return state["out"].copy()

    def bwd(self, *args, **kwargs):
        arrays = [np.asarray(a, dtype=float) for a in list(args) + list(kwargs.values()) if isinstance(a, np.ndarray)]
        if targets_backward or not arrays:  # backward(targets, output) or backward(): the kit's loss gradient
            target = next((a for a in arrays if state.get("out") is None or not np.allclose(a, state["out"])), None)
            dout = kit_loss(state["out"].T if cols else state["out"], target.T if cols and target is not None
                            and target.ndim == 2 else target, act)[1]
        else:
            dout = arrays[0].T if cols else arrays[0]
        grads, dx = chain.backward(dout)
        for obj, (dW, db) in zip(linears, grads):
            io.store_grads(obj, dW, db)
        return dx.T if cols else dx

    methods = {forward: fwd, backward: bwd}
    for alias in ("forward", "predict", "__call__"):
        if alias != forward and callable(getattr(type(model), alias, None)):
            methods[alias] = fwd
    return retype(model, methods)


def one_sample_stand_in(model, act: str, planted, seed: int, keys: dict, where: dict, shapes: dict, prefix: str,
                        copies: bool):
    """A one-sample network of assignment 004 in the student's API, with the kit's maths:
    f = W2 act(W1 x + b1) + b2 returned as a float, backward(x, y, f) -> {prefix + name: gradient}
    of L = (f - y)^2 / 2 (times the bug's scale), get_parameters()/set_parameters(dict) under the
    student's ``keys`` (canonical name -> student key), its arrays kept where the student keeps them
    (``where``: "attr" or "params") in the student's ``shapes``; ``copies``: get_parameters returns
    copies (else the live arrays, as the student's does)."""
    d, h = shapes["W1"][1], shapes["W1"][0]
    (W1, b1), (W2, b2) = kit_weights([d, h, 1], seed)
    canon = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    store = model.__dict__ if where == "attr" else model.params
    transposed = shapes.get("W1_stored") == (d, h) and d != h
    for name, value in canon.items():
        value = value.T if name == "W1" and transposed else value
        store[keys[name]] = np.array(value, dtype=float).reshape(shapes.get(name + "_stored", value.shape))
    f_act, df_act = ACTIVATIONS[act]
    scale = scale_of(planted)

    def read(name):
        value = np.asarray(store[keys[name]], dtype=float)
        value = value.T if name == "W1" and transposed else value
        return value.reshape(canon[name].shape)

    def forward(self, x, *rest):
        x = np.asarray(x, dtype=float).reshape(-1)
        self._bpk = (x, f_act(read("W1") @ x + read("b1")))
        return float((read("W2") @ self._bpk[1] + read("b2"))[0])

    def backward(self, x, y, f, *rest):
        forward(self, x)
        x, a = self._bpk
        df = scale * (float(np.ravel(f)[0]) - float(np.ravel(y)[0]))
        da = df * read("W2")[0] * df_act(a)
        grads = {"W1": np.outer(da, x), "b1": da, "W2": df * a[None, :], "b2": np.array([df])}
        grads["W1"] = grads["W1"].T if transposed else grads["W1"]
        return {prefix + keys[n]: g.reshape(shapes.get(n + "_stored", g.shape)) for n, g in grads.items()}

    def get_parameters(self):
        return {keys[n]: (np.array(store[keys[n]]) if copies else store[keys[n]]) for n in canon}

    def set_parameters(self, params):
        for k, v in params.items():
            if k in store:
                store[k] = np.array(v, dtype=float)

    return retype(model, {"forward": forward, "backward": backward, "get_parameters": get_parameters,
                          "set_parameters": set_parameters, "__call__": forward})
