"""``--map api.toml``: pin what discovery got wrong, in a few lines (conformance/MAP.md).

A map has one table per component id. A table narrows discovery to the named class or function
and overrides what it names; everything it leaves out is still found by behaviour::

    [linear]
    class = "Layer_Dense"
    weight = "weights"          # obj.weights ; "params.W" is obj.params["W"] ; "W.data" a parameter's data
    bias = "biases"
    layout = "in_out"           # W stored (in, out); "out_in" for (out, in)
    backward = "backward"
    grad_weight = "dweights"
    grad_bias = "dbiases"

    [cross_entropy]
    function = "categorical_crossentropy"
    order = "target, pred"
    gradient = "categorical_crossentropy_prime"

A malformed map stops the run with one sentence naming the key and what to write.
"""
from __future__ import annotations

from conformance.tomlread import tomllib

KEYS = {
    "linear": {"class": str, "function": str, "backward_function": str, "args": str, "weight": str, "bias": str,
               "layout": ("in_out", "out_in"), "data": ("rows", "cols"), "forward": str, "backward": str,
               "backward_args": ("dy", "x, dy", "dy, lr"), "grad_weight": str, "grad_bias": str},
    **{kind: {"class": str, "function": str, "forward": str, "backward": str, "derivative": str,
              "derivative_of": ("input", "output")} for kind in ("relu", "sigmoid", "tanh", "softmax")},
    **{kind: {"class": str, "function": str, "method": str, "input": ("logits", "probs", "pred"),
              "targets": ("int", "onehot", "float"), "order": ("pred, target", "target, pred"),
              "data": ("rows", "cols"), "gradient": str} for kind in ("cross_entropy", "mse")},
    **{kind: {"class": str, "function": str, "backward_function": str}
       for kind in ("batchnorm", "dropout", "conv2d", "layernorm")},
}


class MapError(Exception):
    """The map file is malformed; the message is one sentence naming the key and what to write."""


def read_map(path) -> dict:
    """Parse and validate ``path``; returns {component: {key: value}}."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise MapError(f"{path} does not exist: pass the path of your api.toml to --map.") from None
    except tomllib.TOMLDecodeError as exc:
        raise MapError(f"{path} is not valid TOML ({exc}): see conformance/MAP.md for the format.") from None
    return validate(data, str(path))


def validate(data: dict, where: str = "the map") -> dict:
    for comp, table in data.items():
        if comp not in KEYS:
            raise MapError(f"{where}: [{comp}] is not a component the map can pin: use one of "
                           f"{', '.join('[' + k + ']' for k in KEYS)}.")
        if not isinstance(table, dict):
            raise MapError(f"{where}: {comp} must be a table ([{comp}] followed by key = \"value\" lines).")
        for key, value in table.items():
            allowed = KEYS[comp].get(key)
            if allowed is None:
                raise MapError(f"{where}: [{comp}] has no key {key!r}: write one of {', '.join(KEYS[comp])}.")
            if allowed is str and not isinstance(value, str):
                raise MapError(f"{where}: [{comp}] {key} must be a quoted name, e.g. {key} = \"...\".")
            if isinstance(allowed, tuple) and value not in allowed:
                raise MapError(f"{where}: [{comp}] {key} = {value!r} is not allowed: write one of "
                               f"{', '.join(repr(a) for a in allowed)}.")
        if "class" in table and "function" in table:
            raise MapError(f"{where}: [{comp}] names both a class and a function: keep one.")
    return data


def resolve(obj, dotted: str) -> tuple:
    """The discovery path (see objects.py) for ``dotted`` on ``obj``: each step an attribute, or a
    key of a dict. Raises LookupError naming the step that is not there."""
    steps, here = [], obj
    for part in dotted.split("."):
        if isinstance(here, dict) and part in here:
            steps.append(("k", part))
            here = here[part]
        elif hasattr(here, part):
            steps.append(("a", part))
            here = getattr(here, part)
        else:
            raise LookupError(f"{dotted!r}: {part!r} is not there")
    return tuple(steps)


# --- applying a map to what discovery finds --------------------------------------------------


def only(defs: list, table: dict, what: str) -> list:
    """The definitions a pinned table leaves to discovery: just the class or function it names."""
    name = table.get("class") or table.get("function")
    if not name:
        return defs
    kept = [(n, o) for n, o in defs if n == name]
    if not kept:
        raise MapError(f"the map's [{what}] names {name!r}, which the submission does not define: "
                       f"write one of {', '.join(n for n, _ in defs[:12])}.")
    return kept


def pin_linear(recipe, table: dict, obj_after_backward=None):
    """Overwrite what ``table`` names on a discovered LinearRecipe (built at 5 -> 3)."""
    from conformance.adapters.discovery import linear

    obj = recipe.build(linear.N_IN, linear.N_OUT)
    try:
        if "weight" in table:
            recipe.w_path = resolve(obj, table["weight"])
        if "bias" in table:
            recipe.b_path = resolve(obj, table["bias"])
    except LookupError as exc:
        raise MapError(f"the map's [linear] {exc} on a {recipe.name} built as {recipe.call.text}.") from None
    recipe.layout = table.get("layout", recipe.layout)
    recipe.data = table.get("data", recipe.data)
    if "forward" in table:
        recipe.forward = linear.Forward(table["forward"])
    if "backward" in table or "backward_args" in table:
        style = {"dy": "dy", "x, dy": "x_dy", "dy, lr": "dy_lr"}[table.get("backward_args", "dy")]
        bw = recipe.backward or linear.Backward(table.get("backward", "backward"), style)
        bw.method, bw.style = table.get("backward", bw.method), style
        recipe.backward = bw
    if "grad_weight" in table or "grad_bias" in table:
        bw = recipe.backward or linear.Backward("backward", "dy")
        grads = dict(bw.grads_from) if isinstance(bw.grads_from, dict) else {}
        for key, name in (("grad_weight", "W"), ("grad_bias", "b")):
            if key in table:
                grads[name] = table[key]  # a dotted path, resolved after each backward
        bw.grads_from, recipe.backward = grads, bw
    return recipe
