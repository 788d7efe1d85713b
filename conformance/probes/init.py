"""Probe for init: large weight matrices drawn by the student's initialisers."""
from __future__ import annotations

import numpy as np

from conformance.adapters.base import Missing
from conformance.probes import probe


@probe("init.draw")
def draw(adapter, inputs: dict) -> dict:
    """inputs: kinds ["he", "xavier"], fan_in, fan_out, seed. Returns {kind: (fan_out, fan_in)
    array, or the sentence saying why that initialiser is missing}."""
    out = {}
    for kind in inputs["kinds"]:
        try:
            out[kind] = np.asarray(adapter.init_weights(kind, int(inputs["fan_in"]), int(inputs["fan_out"]),
                                                        int(inputs["seed"])), dtype=float)
        except Missing as exc:
            out[kind] = str(exc)
    return out
