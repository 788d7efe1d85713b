"""Probes for the grader's own tests: call a function the submission defines, by name.

Registered only in the sandboxed child of ``tests/test_grader_sandbox.py`` (``extra_probes``).
"""
import numpy as np

from conformance.probes import probe


@probe("toy.call")
def call(adapter, inputs: dict) -> dict:
    fn = adapter.namespace.get(inputs["fn"])
    if fn is None:
        from conformance.adapters.base import Missing

        raise Missing(f"no function named {inputs['fn']}")
    return {"y": np.asarray(fn(*inputs.get("args", [])))}


@probe("toy.raw")
def raw(adapter, inputs: dict):
    """Returns whatever the student's function returns, unchecked (to test the wire's refusals)."""
    return adapter.namespace[inputs["fn"]](*inputs.get("args", []))
