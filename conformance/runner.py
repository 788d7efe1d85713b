"""Runners: where probes execute. The judge never knows which one it talks to.

A probe is a kit function registered under a name (``conformance.probes``); it is given the
student's adapter and plain inputs, calls the student's code, and returns plain outputs.

Plain data, both ways: a dict whose values are numpy arrays, numbers, strings, booleans, None,
or lists/dicts of those. Nothing else crosses the sandbox boundary (no pickles).

* ``InProcessRunner`` calls the probe in this process (a student running ``pytest conformance``).
* ``graders.sandbox.SandboxRunner`` sends the call to a sandboxed child process and waits, with a
  time limit, for its plain-data answer (the grader).
"""
from __future__ import annotations

import os
import signal
import traceback
from contextlib import contextmanager
from typing import Any, Protocol

Plain = dict[str, Any]


class ProbeFailure(Exception):
    """A probe could not produce outputs.

    kind: "missing" (the implementation does not define what the probe needs),
          "error"   (the student's code raised, or returned something unusable),
          "timeout" (the call ran out of time).
    crashed: the process that ran the probe died (the grader's worker budgets these).
    """

    def __init__(self, kind: str, message: str, *, crashed: bool = False):
        super().__init__(message)
        self.kind, self.message, self.crashed = kind, message, crashed


class Runner(Protocol):
    style: str

    def call(self, probe: str, inputs: Plain, timeout: float | None = None) -> Plain: ...


def describe_exception(exc: BaseException, kit: tuple[str, ...] = ()) -> str:
    """One sentence naming the exception and the innermost frame of the student's code: frames of
    the kit (``conformance``, and in the grader's child every folder of ``kit``: numpy, the sandbox)
    name nothing a student can fix."""
    def students(filename: str) -> bool:
        path = os.path.abspath(filename)
        return "/conformance/" not in filename.replace("\\", "/") and not any(
            path == k or path.startswith(k.rstrip("/") + "/") for k in kit)

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if students(f.filename)]
    where = f" (in {frames[-1].name}, {frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


GUESS_TYPES = (AttributeError, KeyError, IndexError, TypeError)
CALL_MISMATCH = ("positional argument", "unexpected keyword", "required keyword", "takes no arguments",
                 "is not callable", "object is not subscriptable", "not iterable")


def kit_guess(exc: BaseException) -> str | None:
    """A sentence when ``exc`` is the kit's own failure to adapt the student's code, not the
    student's: raised inside the kit's adapters (an attribute or key the kit assumed, a call with
    the arguments it guessed), never inside the student's own lines. None otherwise."""
    if not isinstance(exc, GUESS_TYPES):
        return None
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames or "/conformance/adapters/" not in frames[-1].filename.replace("\\", "/"):
        return None
    if isinstance(exc, TypeError) and not any(m in str(exc) for m in CALL_MISMATCH):
        return None  # the kit's sentence about an unusable answer (a list for a number...): the student's
    return (f"the kit could not drive this code its way ({type(exc).__name__}: {exc}, in the kit's "
            f"{frames[-1].name}); pin the component with --map (conformance/MAP.md)")


def not_handed_in(exc: BaseException) -> str | None:
    """A sentence when ``exc`` is the submission using a name whose import failed while loading (a
    course helper module not handed in, ``from common.np import *``), or that a statement the kit
    skipped would have bound: what the check needs is not there, so the check is ``missing``,
    never the student's ``error``. None otherwise."""
    from conformance.loader import KIT_PACKAGES, ImportUnavailable

    if not isinstance(exc, ImportUnavailable) or exc.module in KIT_PACKAGES:
        return None  # the kit's own packages are never the student's to import: that stays their error
    if exc.skipped:
        return (f"{describe_exception(exc)}: the kit skipped that top-level statement when it loaded your code, "
                f"so it cannot run this code (not an error of yours); make that statement an import or a plain "
                f"assignment, or pin the component with --map (conformance/MAP.md)")
    return (f"{describe_exception(exc)}: the module it comes from is not in the submission, so the kit cannot run "
            f"this code; hand that module in beside your code")


@contextmanager
def alarm(timeout: float | None, what: str = "ran longer than {:g} s", unless_running: bool = False):
    """Interrupt a hung call in the main thread after ``timeout`` seconds (POSIX only), raising
    TimeoutError(``what``). ``unless_running``: leave a timer already running alone (discovery
    inside a probe keeps the probe's own limit)."""
    usable = timeout and hasattr(signal, "setitimer") and not (
        unless_running and signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0))
    if usable:
        try:
            def _raise(signum, frame):
                raise TimeoutError(what.format(timeout))

            old = signal.signal(signal.SIGALRM, _raise)
        except ValueError:  # not the main thread
            usable = False
    if usable:
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    finally:
        if usable:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


class InProcessRunner:
    """Runs probes in this process, against an adapter built from the student's namespace."""

    def __init__(self, adapter):
        self.adapter = adapter
        self.style = adapter.style

    def call(self, probe: str, inputs: Plain, timeout: float | None = None) -> Plain:
        from conformance.adapters.base import Missing
        from conformance.probes import PROBES, load_all

        if probe not in PROBES:
            load_all()
        fn = PROBES[probe]
        try:
            with alarm(timeout):
                return fn(self.adapter, inputs)
        except Missing as exc:
            raise ProbeFailure("missing", str(exc)) from None
        except TimeoutError as exc:
            raise ProbeFailure("timeout", f"{probe} {exc}") from None
        except ProbeFailure:
            raise
        except Exception as exc:  # the student's code raised: report it, never crash the suite
            guess = kit_guess(exc) or not_handed_in(exc)
            if guess:
                raise ProbeFailure("missing", guess) from None
            raise ProbeFailure("error", describe_exception(exc)) from None
