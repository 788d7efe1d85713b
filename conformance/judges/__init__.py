"""Judges: compare a probe's outputs with expectations (the reference, the fixtures, numerical
derivatives of the student's own forward) and return an ``Outcome``.

Shared arithmetic and tolerances live in ``judges/common.py``; the catalogue of likely causes in
``conformance/diagnoses.py``. A judge is ``fn(case, outputs) -> Outcome`` and fails closed.
"""
