"""Judges: compare a probe's outputs with expectations (the reference, the fixtures, numerical
derivatives of the student's own forward) and return an ``Outcome``.

Shared arithmetic lives in ``judges/common.py``, tolerances in ``conformance/tolerances.py``, the
catalogue of likely causes in ``conformance/diagnoses.py``. A judge is ``fn(case, outputs) ->
Outcome`` and fails closed.
"""
