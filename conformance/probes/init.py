"""Probe for init: large weight matrices drawn as the student's code initialises them, and what
claims each is He or Xavier (SPEC 13)."""
from __future__ import annotations

import numpy as np

from conformance.adapters.base import Missing
from conformance.probes import probe


@probe("init.draw")
def draw(adapter, inputs: dict) -> dict:
    """inputs: kinds ["he", "xavier"], fan_in, fan_out, seed. Returns {kind: (fan_out, fan_in)
    array, or the sentence saying why that initialiser is missing}, "claims": {kind: what says it
    is that kind}, "asked": the kinds the assignment asks for."""
    out, claims = {}, {}
    for kind in inputs["kinds"]:
        try:
            W, claims[kind] = adapter.init_draw(kind, int(inputs["fan_in"]), int(inputs["fan_out"]),
                                                int(inputs["seed"]))
            out[kind] = np.asarray(W, dtype=float)
        except Missing as exc:
            out[kind] = str(exc)
    return {**out, "claims": claims, "asked": [str(k) for k in adapter.init_asks()]}
