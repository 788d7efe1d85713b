"""Backprop Kit conformance suite: checks any student's NumPy layers against SPEC.md.

Run it with ``pytest conformance --impl mypkg`` (or ``pytest --pyargs conformance --impl ...``).

The suite asks for numpy's BLAS on one thread when it is imported before numpy (pytest loads the
kit's plugin first): the arrays it checks are small, and a training check's time budget, counted
in CPU seconds of the thread that trains, must not depend on how many cores the machine has or
how busy they are (several BLAS threads on a loaded machine spin for much of their time). An
environment variable already set wins.
"""
import os
import sys

if "numpy" not in sys.modules:  # afterwards the variables would change nothing but the environment
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

from conformance.components import COMPONENTS  # noqa: E402

__all__ = ["COMPONENTS"]
