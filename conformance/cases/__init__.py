"""Seeded input builders: every array the suite feeds a student's code is made here, one module
per family (``layers``, ``losses``, ``stretch``; the multi-step checks' ``models``, ``optim``,
``gradchecker``, ``init``, ``appendix``, ``training``, ``autograd``). Nothing here imports a judge.

Each builder takes a seed and shapes, returns a plain dict (it crosses the sandbox as is) and
records the call that rebuilds it under ``"recipe"``: the failure snippet pastes that call.

>>> from conformance.cases import layers
>>> case = layers.linear_case(seed=0, batch=4, in_features=5, out_features=3)
>>> case["x"].shape, case["params"]["W"].shape, case["recipe"]
((4, 5), (3, 5), 'cases.layers.linear_case(seed=0, batch=4, in_features=5, out_features=3)')

This module holds what every family shares: the recipe and snippet helpers and the points at
which a judge wants the student's forward evaluated (for numerical derivatives).
"""
from __future__ import annotations

import sys

import numpy as np

from conformance.tolerances import EPS

PLACEHOLDER = "impl='<your --impl>'"  # in every snippet; Check.expect writes the run's impl and options there


def recipe(_builder, *args, **kwargs) -> str:
    """The call that rebuilds a case: ``_builder`` is the builder function itself, or its path from
    ``conformance`` ("cases.stretch.build_conv2d")."""
    if callable(_builder):
        _builder = f"{_builder.__module__.removeprefix('conformance.')}.{_builder.__name__}"
    return f"{_builder}({', '.join([*map(repr, args), *(f'{k}={v!r}' for k, v in kwargs.items())])})"


def snippet(case_recipe: str, probe: str, judge=None, then: str = "") -> str:
    """Code that reproduces one check outside pytest: the case rebuilt from its recipe, the probe
    run on your code, then the judge's message (when ``judge`` can be imported) or ``then``."""
    module = case_recipe.split("(", 1)[0].rsplit(".", 1)[0]
    package, _, name = f"conformance.{module}".rpartition(".")
    lines = [f"from {package} import {name}", "from conformance.checking import run_probe",
             f"case = {name}.{case_recipe.removeprefix(module + '.')}",
             f"out = run_probe({probe!r}, case, {PLACEHOLDER})"]
    if judge is not None and getattr(sys.modules.get(judge.__module__), judge.__name__, None) is judge:
        lines += [f"from {judge.__module__} import {judge.__name__}", f"print({judge.__name__}(case, out).message)"]
    return "\n".join(lines + ([then] if then else []))


def reproduce(code: str) -> str:
    """A snippet as the feedback shows it."""
    return "Reproduce with:\n    " + code.replace("\n", "\n    ")


def plus_minus_points(x: np.ndarray, eps: float = EPS) -> np.ndarray:
    """(2*x.size, *x.shape): x + eps*e_i and x - eps*e_i for every element i, interleaved."""
    flat = np.repeat(np.asarray(x, dtype=float).reshape(1, -1), 2 * x.size, axis=0)
    idx = np.arange(x.size)
    flat[2 * idx, idx] += eps
    flat[2 * idx + 1, idx] -= eps
    return flat.reshape((2 * x.size,) + x.shape)


def unit_directions(params: dict, rng: np.random.Generator, count: int) -> list[dict]:
    """``count`` random directions over all of ``params`` (same keys and shapes), each of norm 1."""
    out = []
    for _ in range(count):
        d = {k: rng.standard_normal(np.shape(v)) for k, v in params.items()}
        norm = np.sqrt(sum(float(np.sum(v * v)) for v in d.values()))
        out.append({k: v / norm for k, v in d.items()})
    return out


def plus_minus(params: dict, directions: list[dict], eps: float = EPS) -> list[dict]:
    """[theta + eps d1, theta - eps d1, theta + eps d2, ...]."""
    return [{k: params[k] + s * eps * d[k] for k in params} for d in directions for s in (1.0, -1.0)]
