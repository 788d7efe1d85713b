"""Probes for sgd, momentum and adam: the student's optimizer on the kit's fixed quadratic.

loss(theta) = 0.5 * sum(a * (theta - c)^2) over every parameter, so grad = a * (theta - c).
Computing that gradient here is the quadratic's definition, not a judgement: the judge replays
the same quadratic with each candidate update rule and compares trajectories.
"""
from __future__ import annotations

import numpy as np

from conformance.probes import probe


@probe("optim.trajectory")
def trajectory(adapter, inputs: dict) -> dict:
    """inputs: kind ("sgd"|"momentum"|"adam"), hyper {lr, momentum | betas, eps}, params
    {name: array}, a {name: array}, c {name: array}, steps. Returns the parameters after every
    step: {"trajectory": {name: (steps, *shape) array}}, with ``W@2`` for a copy of W the student's
    code stepped as its second layer (a function that names its layers' keys by hand)."""
    opt = adapter.make_optimizer(inputs["kind"], **inputs["hyper"])
    params = {k: np.array(v, dtype=float) for k, v in inputs["params"].items()}
    a, c = inputs["a"], inputs["c"]
    history = {k: [] for k in params}
    mirrors = getattr(opt, "mirrors", dict)  # copies of the kit's arrays the student's code also stepped
    for _ in range(int(inputs["steps"])):
        grads = {k: np.asarray(a[k]) * (params[k] - np.asarray(c[k])) for k in params}
        opt.step(params, grads)
        for k, v in {**params, **mirrors()}.items():
            history.setdefault(k, []).append(np.array(v, dtype=float))
    return {"trajectory": {k: np.stack(v) for k, v in history.items()},
            "student_name": opt.student_name, "conventions": dict(opt.conventions)}
