"""Cases for autograd (SPEC.md 21): kit-chosen float64 inputs for each operation of a group,
a value used twice, broadcasting, and two training steps, with the points at which the judge
wants the engine's own forward evaluated (central differences, ``conformance/judges/autograd.py``)."""
from __future__ import annotations

import numpy as np

from conformance.cases import plus_minus_points, recipe

GROUPS = {"arithmetic": ("add", "sub", "mul", "matmul"),
          "elementwise": ("exp", "log", "relu", "sigmoid", "tanh", "square"),
          "reductions": ("sum", "mean")}
NUMPY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "matmul": np.matmul, "exp": np.exp, "log": np.log,
         "relu": lambda a: np.maximum(a, 0.0), "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "tanh": np.tanh,
         "square": np.square, "sum": np.sum, "mean": np.mean}
USED_TWICE = ("exp", "log", "relu", "sigmoid", "tanh", "square")  # u(x) + x on a scalar engine
NUMPY.update({f"{u}+x": (lambda f: lambda a, b: f(a) + b)(NUMPY[u]) for u in USED_TWICE})
SCALE = 1.7  # x * c + x: the constant c of a scalar engine's product with x on the left
NUMPY["scale+x"] = lambda a, b: SCALE * a + b
OPS_GROUPS = tuple(GROUPS)


def _signed(rng, shape) -> np.ndarray:
    """Values in +-[0.1, 1.5]: no finite-difference step crosses relu's kink, exp stays O(1)."""
    return rng.uniform(0.1, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def _case(builder: str, seed: int, checks: dict, **extra) -> dict:
    return {"seed": seed, "recipe": recipe(f"cases.autograd.{builder}", seed=seed, **extra), "checks": checks, **extra}


def _check(op: str, inputs: list, dy, same: bool = False, broadcast: bool = False, scalar_only: bool = False) -> dict:
    return {"op": op, "inputs": inputs, "dy": dy, "same": same, "broadcast": broadcast, "scalar_only": scalar_only,
            "points": [plus_minus_points(a) for a in inputs]}


def build_ops(seed: int = 0, group: str = "arithmetic") -> dict:
    """One check per operation of ``group``: a (3, 4), b (3, 4) or (4, 2) for @, log on positives."""
    rng = np.random.default_rng(seed)
    checks = {}
    for op in GROUPS[group]:
        a = np.abs(_signed(rng, (3, 4))) + 0.2 if op == "log" else _signed(rng, (3, 4))
        inputs = [a] + ([_signed(rng, (4, 2) if op == "matmul" else (3, 4))] if group == "arithmetic" else [])
        out_shape = np.shape(NUMPY[op](*inputs))
        checks[op] = _check(op, inputs, rng.standard_normal(out_shape) if out_shape else 1.0)
    return _case("build_ops", seed, checks, group=group)


def build_accumulation(seed: int = 0) -> dict:
    """x + x and x * x: one leaf used twice, whose gradient is the sum of both uses. On a scalar
    engine also x * c + x and u(x) + x for each unary operation u (log on positives): micrograd's
    backward closures each write one input's gradient, and a ``grad =`` in any of them loses the
    other use (x * x hides it when only one of the two lines of a product assigns)."""
    rng = np.random.default_rng(seed)
    x = _signed(rng, (3, 4))
    checks = {"x + x": _check("add", [x], rng.standard_normal((3, 4)), same=True),
              "x * x": _check("mul", [x], rng.standard_normal((3, 4)), same=True)}
    checks["x * c + x"] = _check("scale+x", [x], rng.standard_normal((3, 4)), same=True, scalar_only=True)
    for u in USED_TWICE:
        xu = np.abs(x) + 0.2 if u == "log" else x
        checks["x ** 2 + x" if u == "square" else f"{u}(x) + x"] = _check(f"{u}+x", [xu], rng.standard_normal((3, 4)), same=True, scalar_only=True)
    return _case("build_accumulation", seed, checks)


def build_broadcasting(seed: int = 0) -> dict:
    """(4, 3) + (3,) and (4, 3) * (3,): the (3,) operand's gradient is summed over the batch."""
    rng = np.random.default_rng(seed)
    return _case("build_broadcasting", seed,
                 {f"(4, 3) {s} (3,)": _check(op, [_signed(rng, (4, 3)), _signed(rng, (3,))],
                                             rng.standard_normal((4, 3)), broadcast=True)
                  for op, s in (("add", "+"), ("mul", "*"))})


def build_zero_grad(seed: int = 0) -> dict:
    """x, c, dy for two steps of sum((x * c) * dy); a batch for the engine's linear layer."""
    rng = np.random.default_rng(seed)
    case = {"x": _signed(rng, (3, 4)), "c": _signed(rng, (3, 4)), "dy": rng.standard_normal((3, 4)),
            "x_layer": rng.standard_normal((4, 5)), "dy_layer": rng.standard_normal((4, 3))}
    return {**_case("build_zero_grad", seed, {}), **case}
