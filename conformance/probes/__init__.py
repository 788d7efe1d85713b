"""Probes: kit functions that call the implementation under test and return plain data.

A probe never compares anything with an expected value: that is the judge's job
(``conformance/judges``). Probes must not import ``reference``, ``fixtures`` or ``tests``:
under the grader they run in the sandboxed child, which has no path to those.

Register a probe with ``@probe("component.what")``; its signature is ``fn(adapter, inputs) -> dict``.
"""
from __future__ import annotations

from typing import Callable

PROBES: dict[str, Callable] = {}


def probe(name: str):
    def register(fn):
        if name in PROBES:
            raise ValueError(f"probe {name!r} registered twice")
        PROBES[name] = fn
        return fn

    return register


def load_all() -> None:
    """Import every probe module so that PROBES is complete."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
