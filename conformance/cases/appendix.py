"""The case for appendix_a: the single-sample worked example of fixtures/appendix_a.json (its
parameters, sample and target go to the probe; its answers stay with the judge)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "appendix_a.json"
QUANTITIES = ("a1", "h1", "f", "L", "dL_dW1", "dL_db1", "dL_dW2", "dL_db2")


class FixtureError(Exception):
    pass


def load_fixture(path: Path = FIXTURE) -> dict:
    """{"params": {W1, b1, W2, b2}, "x", "y", "expected": {quantity: array}}; raises FixtureError."""
    try:
        data = json.loads(Path(path).read_text())
        src = data.get("inputs", data)
        params_src = src.get("params", src)
        params = {k: np.asarray(params_src[k], float) for k in ("W1", "b1", "W2", "b2")}
        expected_src = data.get("expected", data)
        expected = {q: np.asarray(expected_src[q], float) for q in QUANTITIES}
        return {"params": params, "x": np.asarray(src["x"], float), "y": float(np.ravel(src["y"])[0]),
                "expected": expected}
    except FileNotFoundError:
        raise FixtureError(f"the kit's fixture {path} is missing: run `python -m fixtures.generate` "
                           f"(or reinstall the kit).") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise FixtureError(f"the kit's fixture {path} is malformed ({type(exc).__name__}: {exc}): "
                           f"regenerate it with `python -m fixtures.generate`.") from None


def build_appendix(fixture: dict) -> dict:
    """The probe's inputs: the example's parameters and sample, never its answers."""
    x = fixture["x"]
    return {"recipe": "cases.appendix.build_appendix(appendix.load_fixture())", "input_dim": int(x.size),
            "hidden_dim": int(fixture["params"]["W1"].shape[0]),
            "activation": "relu", "params": fixture["params"], "x": x, "y": fixture["y"]}
