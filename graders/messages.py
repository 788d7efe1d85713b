"""What crosses a process boundary in the grader: one frozen dataclass per message.

::

    grade --WorkerOptions (argv)--> worker --ChildConfig (argv, Limits inside)--> child
                                    worker --Request-->                           child
                                    worker <--READY, Hello, then one Answer a call-- child

A type's schema is its fields and their annotations, nothing else: ``to_wire()`` and
``from_wire()`` check a message against it both ways and refuse a key that is unknown or missing
and a value of the wrong type with a ``MessageError`` naming the field. Plain data in and out
(``graders.wire`` frames it; arrays ride in ``Any`` fields). Standard library only: the sandboxed
child imports this module (``graders.staging.CHILD_MODULES``).

>>> Request.from_wire({"probe": "init.draw", "inputs": {"seed": 0}})
Request(probe='init.draw', inputs={'seed': 0})
>>> Request.from_wire({"probe": 3, "inputs": {}})   # raises MessageError("Request.probe is an int, not a str")
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any

SETUP_FAILED = 2  # the child's exit code when the sandbox could not be set up (why: stderr's last line)
READY = {"ready": True}  # the child's first message, sent before any student code runs


class MessageError(ValueError):
    """A message that does not fit its type: one sentence naming the field."""


def _a(hint: Any) -> str:
    """``hint`` named with its article: "an int", "a str or None"."""
    args = typing.get_args(hint)
    if type(None) in args:
        name = _a(next(a for a in args if a is not type(None))).split(" ", 1)[1] + " or None"
    else:
        name = getattr(typing.get_origin(hint) or hint, "__name__", str(hint))
    return ("an " if name[0] in "aeiou" else "a ") + name


def _convert(value: Any, hint: Any, where: str, decoding: bool, named: Any = None) -> Any:
    """``value`` checked against ``hint`` (``named`` in the refusal, when another: X | None);
    nested messages become dicts (encoding) or instances (decoding)."""
    if hint is Any:
        return value
    args = typing.get_args(hint)
    if type(None) in args:  # X | None
        return None if value is None else _convert(value, next(a for a in args if a is not type(None)),
                                                    where, decoding, hint)
    origin = typing.get_origin(hint) or hint
    if isinstance(origin, type) and issubclass(origin, Message):
        if decoding:
            return origin.from_wire(value, where)
        if isinstance(value, origin):
            return value.to_wire()
    elif origin is list and isinstance(value, (list, tuple)):
        return [_convert(v, args[0], f"{where}[{i}]", decoding) for i, v in enumerate(value)]
    elif origin is dict and isinstance(value, dict):
        for k in value:
            if not isinstance(k, str):
                raise MessageError(f"{where} has a key {k!r} that is not a str")
        return {k: _convert(v, args[1], f"{where}[{k!r}]", decoding) for k, v in value.items()}
    elif isinstance(value, origin) and not (isinstance(value, bool) and origin is not bool):
        return value
    elif origin is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise MessageError(f"{where} is {_a(type(value))}, not {_a(named or hint)}")


class Message:
    """Base of every message: its schema is ``dataclasses.fields`` with their type hints."""

    @classmethod
    def _schema(cls) -> dict[str, Any]:
        hints = typing.get_type_hints(cls)
        return {f.name: hints[f.name] for f in dataclasses.fields(cls)}

    def to_wire(self) -> dict:
        name = type(self).__name__
        return {k: _convert(getattr(self, k), hint, f"{name}.{k}", False) for k, hint in self._schema().items()}

    @classmethod
    def from_wire(cls, data: Any, where: str | None = None):
        where = where or cls.__name__
        if not isinstance(data, dict):
            raise MessageError(f"{where} is {_a(type(data))}, not a dict")
        schema = cls._schema()
        unknown, missing = sorted(set(data) - set(schema), key=str), [k for k in schema if k not in data]
        if unknown:
            raise MessageError(f"{where} has no field {unknown[0]!r}")
        if missing:
            raise MessageError(f"{where} lacks its field {missing[0]!r}")
        return cls(**{k: _convert(data[k], hint, f"{where}.{k}", True) for k, hint in schema.items()})


@dataclass(frozen=True)
class Limits(Message):
    """Resource limits of one sandboxed child (set with setrlimit before anything else)."""

    address_space_mb: int = 3072
    cpu_seconds: int = 600
    # RLIMIT_NPROC counts every process of the child's uid: nobody's when the grader runs as root,
    # the instructor's own (their shell and editor included) when not. Fork is refused anyway.
    processes: int = 256
    file_size_mb: int = 16
    open_files: int = 64
    output_cap: int = 64 * 1024  # characters of student print output kept
    answer_cap_mb: int = 64  # largest answer the worker reads (the kit's own probes send under 2 MB)
    # "namespaces" (fails closed where they can't be had), "container" (root without namespaces: a
    # user of its own, Landlock), "audit-hook" (the audit hook alone): graders/isolation.py chooses
    isolation: str = "namespaces"
    work_mb: int = 64  # the child's writable space: its tmpfs root, or in container mode its working folder
    syscall_filter: bool = True  # the child's seccomp filter (graders.seccomp.REFUSED_SYSCALLS)


@dataclass(frozen=True)
class WorkerOptions(Message):
    """grade -> worker: how to grade one submission (``python -m graders.worker JSON``)."""

    submission: str
    result: str  # where the worker writes its RESULT.json
    style: str | None
    timeout: float | None  # cap on every probe call, seconds
    max_timeouts: int  # timeouts after which nothing more is run
    limits: Limits
    hide: list[str]  # folders the child must not see, beside graders.staging.default_hidden's
    extra_probes: list[str]  # probe modules to stage into the child
    pytest_args: list[str]
    pins: dict[str, Any] | None  # the tables of the --map the grader read and validated


@dataclass(frozen=True)
class ChildConfig(Message):
    """sandbox -> child: its command line's last argument. Paths are the worker's until the child
    has a root of its own (then ``graders.namespaces.isolate`` returns them as seen inside)."""

    req_fd: int  # the pipe the child reads Requests from
    ans_fd: int  # the pipe it writes READY, its Hello and Answers to
    parent: int | None  # the worker's pid (None inside a PID namespace, where it cannot be seen)
    limits: Limits
    style: str | None
    box: str  # an empty folder: the mount point of the child's new root
    lib: str  # the staged library (graders.staging.stage_library)
    work: str  # the working folder, holding the submission
    submission: str
    bind_into_lib: dict[str, str]  # {name in lib: real folder} bound in (numpy)
    links: str  # a folder of symlinks to the same, where nothing can be bound
    hide: list[str]  # folders hidden by mounts and the audit hook
    hide_extra: list[str]  # hidden by the audit hook only (the worker's sandbox folder)
    keep: list[str]  # the Python install: never hidden
    extra_probes: list[str]  # module names of staged extra probes
    pins: dict[str, Any]
    uid: int | None  # container mode: the child's user of its own


@dataclass(frozen=True)
class Request(Message):
    """worker -> child: run one probe."""

    probe: str
    inputs: dict[str, Any]


@dataclass(frozen=True)
class Hello(Message):
    """child -> worker, once the submission is loaded (``ok``) or could not be (``kind``,
    ``message``); ``isolation`` is what the child says is in force, which the worker checks."""

    ok: bool
    style: str | None = None
    detected_because: list[str] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)  # conformance.loader.Dropped's fields
    notes: list[str] = field(default_factory=list)
    isolation: dict[str, str] | None = None
    kind: str | None = None
    message: str | None = None
    output_dropped_chars: int = 0


@dataclass(frozen=True)
class Answer(Message):
    """child -> worker: a probe's outputs (``ok``), or why there are none (``kind`` "missing" or
    "error", ``message``)."""

    ok: bool
    outputs: dict[str, Any] | None = None
    kind: str | None = None
    message: str | None = None
    output_dropped_chars: int = 0
