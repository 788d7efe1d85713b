"""TOML on every Python the kit supports: the standard library's ``tomllib`` from 3.11, the
``tomli`` backport before it (the same API; a dependency on Python 3.10 in pyproject.toml).

>>> from conformance.tomlread import tomllib
>>> tomllib.loads("points = 3")
{'points': 3}
"""
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = ["tomllib"]
