"""Probe for gradient_checker: the student's own checker on a correct and a planted-bug layer."""
from __future__ import annotations

from conformance.probes import probe


def _plain(report: dict) -> dict:
    error, passed = report.get("error"), report.get("passed")
    return {"error": None if error is None else float(error), "passed": None if passed is None else bool(passed)}


@probe("gradient_checker.verdicts")
def verdicts(adapter, inputs: dict) -> dict:
    """inputs: seed. Returns what the student's checker said about each case."""
    check = adapter.gradient_checker()
    seed = int(inputs.get("seed", 0))
    return {"correct": _plain(check(planted_bug=False, seed=seed)),
            "planted": _plain(check(planted_bug=True, seed=seed))}
