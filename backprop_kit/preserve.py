"""Leave the caller's session as it was: ``check()`` runs the student's own code in their own
process, so whatever that code (or the suite) changes is put back afterwards.

Saved and restored: numpy's global random state, error handling and print options; Python's
``random`` state; the warnings filters; ``sys.path``; the environment; hypothesis's profile and
storage folder (a temporary one meanwhile, so nothing is written beside the notebook); the
namespace's bindings;
and, reachable from the namespace (a few levels deep through lists, dicts and objects'
attributes), the contents of numpy arrays, lists, dicts, objects' attributes and the attributes
of the classes the student defined. Identity is kept: an array is refilled, not replaced, so a
name bound to it before still sees the same object.

>>> import numpy as np
>>> ns = {"weights": np.zeros(3), "log": []}
>>> with preserved(ns):
...     ns["weights"] += 1; ns["log"].append("step"); ns["extra"] = 1
>>> ns["weights"].tolist(), ns["log"], "extra" in ns
([0.0, 0.0, 0.0], [], False)
"""
from __future__ import annotations

import os
import random
import sys
import tempfile
import types
import warnings
from contextlib import contextmanager

import numpy as np

from conformance.loader import SESSION_NAMES

DEPTH = 4  # how far below the namespace's values arrays and containers are saved
MAX_ITEMS = 20_000  # containers and arrays saved at most (a huge data set list stays as it is)
MAX_BYTES = 512 * 2**20  # array bytes copied at most; bigger arrays are the student's data, not state
_ATOMIC = (type(None), bool, int, float, complex, str, bytes, range, types.ModuleType, types.FunctionType,
           types.BuiltinFunctionType, types.MethodType)


class _Saved:
    """What was reachable from the namespace, by identity."""

    def __init__(self, namespace: dict, owner: str):
        self.arrays: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.lists: dict[int, tuple[list, list]] = {}
        self.dicts: dict[int, tuple[dict, dict]] = {}
        self.classes: dict[int, tuple[type, dict]] = {}
        self.owner, self.bytes = owner, 0
        # the bindings of every name; below, only what the student's public names hold (never
        # IPython's own objects: In, Out, get_ipython, exit)
        self.dicts[id(namespace)] = (namespace, dict(namespace))
        for name, value in list(namespace.items()):
            if not name.startswith("_") and name not in SESSION_NAMES:
                self._walk(value, 1)

    def _count(self) -> int:
        return len(self.arrays) + len(self.lists) + len(self.dicts) + len(self.classes)

    def _walk(self, value, depth: int) -> None:
        if depth > DEPTH or self._count() >= MAX_ITEMS or isinstance(value, _ATOMIC):
            return
        key = id(value)
        if isinstance(value, np.ndarray):
            if key not in self.arrays and value.flags.writeable and self.bytes + value.nbytes <= MAX_BYTES:
                if value.dtype != object:
                    self.arrays[key] = (value, value.copy())
                    self.bytes += value.nbytes
            return
        if isinstance(value, type):
            if value.__module__ == self.owner and key not in self.classes:  # class-level counters, registries
                self.classes[key] = (value, dict(vars(value)))
                for item in list(vars(value).values()):
                    self._walk(item, depth + 1)
            return
        if isinstance(value, list):
            if key not in self.lists:
                self.lists[key] = (value, list(value))
                for item in value:
                    self._walk(item, depth + 1)
            return
        if isinstance(value, dict):
            if key not in self.dicts:
                self.dicts[key] = (value, dict(value))
                for item in list(value.values()):
                    self._walk(item, depth + 1)
            return
        if isinstance(value, (tuple, set, frozenset)):
            for item in value:
                self._walk(item, depth + 1)
            return
        attrs = getattr(value, "__dict__", None)
        if isinstance(attrs, dict) and type(value).__module__ not in ("builtins",):
            self._walk(attrs, depth)  # an object's attributes: its __dict__, restored like a dict

    def restore(self) -> None:
        for arr, saved in self.arrays.values():
            if arr.shape == saved.shape and not np.array_equal(arr, saved, equal_nan=saved.dtype.kind in "fc"):
                arr[...] = saved
        for lst, saved in self.lists.values():
            if len(lst) != len(saved) or any(a is not b for a, b in zip(lst, saved)):
                lst[:] = saved
        for dct, saved in self.dicts.values():
            if dct.keys() != saved.keys() or any(dct[k] is not v for k, v in saved.items()):
                dct.clear()
                dct.update(saved)
        for cls, saved in self.classes.values():
            for name in [n for n in vars(cls) if n not in saved]:
                try:
                    delattr(cls, name)
                except (AttributeError, TypeError):
                    pass
            for name, value in saved.items():
                if vars(cls).get(name, _MISSING) is not value and name not in ("__dict__", "__weakref__", "__doc__"):
                    try:
                        setattr(cls, name, value)
                    except (AttributeError, TypeError):
                        pass


_MISSING = object()


def _hypothesis_home(directory, restore: bool = False):
    """Hypothesis's storage folder: read it (``directory`` None, not restoring) or set it."""
    try:
        from hypothesis import configuration
    except ImportError:
        return None
    if directory is None and not restore:
        return vars(configuration).get("__hypothesis_home_directory")
    configuration.set_hypothesis_home_dir(directory)
    return None


@contextmanager
def preserved(namespace: dict):
    """Run the block, then put the session back as it was (see the module docstring)."""
    owner = namespace.get("__name__", "__main__")
    np_random, np_err, np_print = np.random.get_state(), np.geterr(), np.get_printoptions()
    py_random = random.getstate()
    path, environ, modules = list(sys.path), dict(os.environ), set(sys.modules)
    saved = _Saved(namespace, owner)
    try:
        from hypothesis import settings as _hypothesis_settings

        profile = _hypothesis_settings.get_current_profile_name()
    except Exception:  # hypothesis is a dependency of the kit; a broken install only loses this
        _hypothesis_settings, profile = None, None
    home = _hypothesis_home(None)
    scratch = tempfile.TemporaryDirectory(prefix="backprop-kit-", ignore_cleanup_errors=True)
    _hypothesis_home(scratch.name)  # hypothesis keeps its files there, not in the student's folder
    try:
        with warnings.catch_warnings():
            yield
    finally:
        _hypothesis_home(home, restore=True)
        scratch.cleanup()
        saved.restore()
        np.random.set_state(np_random)
        np.seterr(**np_err)
        np.set_printoptions(**np_print)
        random.setstate(py_random)
        sys.path[:] = path
        for key in set(os.environ) - set(environ):
            del os.environ[key]
        for key, value in environ.items():
            if os.environ.get(key) != value:
                os.environ[key] = value
        if _hypothesis_settings is not None and profile and \
                _hypothesis_settings.get_current_profile_name() != profile:
            _hypothesis_settings.load_profile(profile)
        # the student's own modules (a layers.py the notebook imports) stay imported; pytest's
        # imports of the suite's test modules are dropped so a later check() collects them afresh
        for name in set(sys.modules) - modules:
            if name.startswith("conformance.test_"):
                del sys.modules[name]
