"""Backprop Kit conformance suite: checks any student's NumPy layers against SPEC.md.

Run it with ``pytest conformance --impl mypkg`` (or ``pytest --pyargs conformance --impl ...``).
"""
from conformance.components import COMPONENTS

__all__ = ["COMPONENTS"]
