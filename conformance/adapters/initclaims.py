"""What a constructor says about its initialisation, read from its own code (SPEC 13).

Most submissions initialise inside the layer's constructor rather than in initialiser functions.
The kit judges the draw against what that code claims: its ``init`` argument (handled by the
adapter), else the words of its docstring and comments ("Xavier", "Glorot", "He", "Kaiming"),
else the assignment's text for the style (``styles.toml``: ``init.says``).

>>> claim_in_text("# Initialize weights using He initialization for ReLU")
'he'
>>> claim_in_text("Xavier-uniform; He would be for ReLU") is None   # both named: no claim
True
"""
from __future__ import annotations

import inspect
import re

import numpy as np

WORDS = {"xavier": re.compile(r"xavier|glorot", re.I), "he": re.compile(r"\bhe\b|kaiming|\bhe[_-]", re.I)}
NAMES = {"he": "He (2 / fan_in)", "xavier": "Xavier (2 / (fan_in + fan_out))"}


def claim_in_text(text: str) -> str | None:
    """"he" or "xavier" when ``text`` names exactly one of them."""
    found = [kind for kind, pattern in WORDS.items() if pattern.search(text or "")]
    return found[0] if len(found) == 1 else None


def _comments(source: str) -> str:
    return "\n".join(line.split("#", 1)[1] for line in source.splitlines() if "#" in line)


def code_claim(cls) -> tuple[str | None, str]:
    """(kind, where it is said) from ``cls``'s constructor: its comments and docstring first, then
    the class docstring; (None, "") when its code names neither or both."""
    init = getattr(cls, "__init__", None)
    try:
        source = inspect.getsource(init)
    except (OSError, TypeError):
        source = ""
    for text, where in ((_comments(source), "a comment in its constructor"),
                        (inspect.getdoc(init) or "", "its constructor's docstring"),
                        (inspect.getdoc(cls) or "", "its docstring")):
        kind = claim_in_text(text)
        if kind:
            return kind, where
    return None, ""


def is_random(W) -> bool:
    """Whether a constructor's weights are a random draw (not zeros, ones or any constant)."""
    W = np.asarray(W, dtype=float)
    return W.size > 1 and bool(np.all(np.isfinite(W))) and float(W.std()) > 0


def constructor_claim(cls, name: str, kind: str, says: str | None, style: str | None) -> str:
    """The sentence saying why ``name``'s constructor draw is judged as ``kind``; raises
    LookupError with the reason when the constructor claims another kind (or nothing at all).
    ``style`` None: no assignment is taken as the student's (nothing said of one)."""
    claimed, where = code_claim(cls)
    if claimed is not None:
        if claimed != kind:
            raise LookupError(f"{name}'s constructor initialises {NAMES[claimed]} ({where} says so), not {kind}")
        return f"{name}'s constructor, whose {where.replace('its ', '')} says {NAMES[kind].split(' ')[0]}"
    if says is not None:
        if says != kind:
            raise LookupError(f"{name}'s constructor initialises {NAMES[says]} in the {style} style's assignment, "
                              f"not {kind}")
        return f"{name}'s constructor, which the {style} assignment asks to initialise {NAMES[kind].split(' ')[0]}"
    assignment = f", and the {style} assignment asks for none" if style else ""
    raise LookupError(f"{name}'s constructor says nothing about its initialisation (no He or Xavier in its "
                      f"comments or docstring{assignment})")
