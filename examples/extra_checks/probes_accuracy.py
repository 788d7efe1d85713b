"""Probe of the instructor-only component `accuracy` (runs in the sandboxed child, beside the
student's code): calls the student's ``accuracy(probs, labels)`` on the kit's inputs and returns
what came back. It never compares: test_accuracy.py's judge does, in the trusted worker."""
import numpy as np

from conformance.adapters.base import Missing
from conformance.probes import probe


@probe("accuracy.call")
def call(adapter, inputs: dict) -> dict:
    fn = adapter.namespace.get("accuracy")
    if not callable(fn):
        raise Missing("the assignment asks for a function accuracy(probs, labels); none is defined")
    probs = np.asarray(inputs["probs"], dtype=float)
    labels = np.asarray(inputs["labels"], dtype=int)
    got = fn(probs.copy(), labels.copy())
    return {"got": float(np.asarray(got, dtype=float))}
