"""Training a network on a scalar autograd engine (issue #12, SPEC 16): the capability that says
so, the spiral task calibrated for one, validation outputs computed a chunk at a time, and a loop
out of its budget asked for no more work.

The networks are the zoo's scalar shapes (tests/zoo/networks), whose correct versions are known
to train; array code is the reference and the zoo's array-engine shape.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conformance.adapters import build_adapter
from conformance.adapters.discovery.scalar import on_scalar_engine
from conformance.cases import training as cases
from conformance.loader import load_impl

ZOO = Path(__file__).parent / "zoo" / "networks"
KIT = Path(__file__).parents[1]


def adapter(name: str):
    return build_adapter(load_impl(str(ZOO / f"{name}.py")))


@pytest.mark.parametrize("impl, scalar", [("micrograd_scalar_neurons", True), ("scalar_var_functional", True),
                                          ("tensor_module_engine", False), ("reference", False)])
def test_scalar_engine_capability_is_offered_only_by_networks_on_one(impl, scalar):
    ad = build_adapter(load_impl("reference")) if impl == "reference" else adapter(impl)
    assert ("scalar_engine" in ad.capabilities()) is scalar
    pipe = ad.make_pipeline([2, 3, 3], "relu", "classification")
    assert on_scalar_engine(pipe) is scalar


def test_scalar_task_is_the_spiral_data_on_a_smaller_network_and_the_note_names_both():
    usual, small = cases.TASKS["spiral"], cases.TASKS[cases.SCALAR_TASKS["spiral"]]
    assert small.dataset == usual.dataset and small.sizes[0] == usual.sizes[0] and small.sizes[-1] == usual.sizes[-1]
    assert small.budget_s >= usual.budget_s and small.threshold < usual.threshold
    note = cases.scalar_note("spiral")
    assert "scalar autograd engine" in note and "2-16-3, 60 epochs" in note and "2-64-32-3, 300 epochs" in note
    xor, usual = cases.TASKS[cases.SCALAR_TASKS["xor"]], cases.TASKS["xor"]  # XOR: the same task, a larger budget
    assert (xor.sizes, xor.epochs, xor.threshold) == (usual.sizes, usual.epochs, usual.threshold)
    assert xor.budget_s > usual.budget_s and f"budget {xor.budget_s:g} CPU s" in cases.scalar_note("xor")


def test_validation_outputs_of_a_scalar_network_are_the_same_a_chunk_at_a_time():
    pipe = adapter("scalar_var_functional").make_pipeline([2, 5, 3], "relu", "classification")
    x = np.random.default_rng(4).standard_normal((37, 2))  # not a multiple of the chunk
    whole = pipe.predict(x, chunk=len(x))
    assert whole.shape == (37, 3)
    np.testing.assert_allclose(pipe.predict(x), whole, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pipe.predict(x[:1]), whole[:1], rtol=0, atol=1e-12)


@pytest.mark.slow
def test_spiral_check_on_a_scalar_engine_trains_the_scalar_task_and_says_so(tmp_path):
    """The conformance module itself, as a student runs it: pass, at 2-16-3, with the sentence."""
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "pytest", str(KIT / "conformance" / "test_training_spiral.py"),
                           "--impl", str(ZOO / "scalar_var_functional.py"), "-p", "no:cacheprovider", "-q",
                           "--report", str(report)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    entry = json.loads(report.read_text())["components"]["training_spiral"]
    assert entry["verdict"] == "pass", done.stdout[-2000:]
    message = entry["checks"][0]["message"]
    assert "trained on the spiral task calibrated for one: 2-16-3" in message and "(60 epochs" in message, message
