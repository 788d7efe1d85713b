"""The sandboxed child: loads one submission and runs probes on request, nothing else.

Started by ``graders.sandbox`` as ``python -I -S -B -c <stub> CONFIG`` (a ``ChildConfig``),
from the library folder ``graders.staging`` prepared (these modules live there as
``bpk_sandbox``). In order:

1. resource limits (address space, CPU seconds, file size, open files, no core; the process
   count after step 2); after step 2 it also asks to be killed when the worker that started it dies;
2. isolation, as ``Limits.isolation`` says (graders/isolation.py chooses): ``graders.namespaces``
   (network, IPC, mount and PID namespaces, a root of its own, read-only but the working folder,
   ``nobody`` or no capabilities; fails closed), ``graders.container`` (a user of its own,
   Landlock where the kernel has it, the syscall filter required) or the audit hook alone;
3. imports numpy and the kit pieces, then the syscall filter (``graders.seccomp``), then the
   audit hook (``graders.audit``);
4. loads the submission, sends ``READY``, its ``Hello``, then answers each ``Request`` with an
   ``Answer`` (``graders.messages``).

Only the standard library, numpy and the staged modules are importable here.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import sys
from dataclasses import replace

from .audit import install_audit_hook
from .container import contain
from .messages import READY, SETUP_FAILED, Answer, ChildConfig, Hello, Limits, MessageError, Request
from .namespaces import IsolationError, die_with_parent, isolate, under
from .seccomp import install_syscall_filter


def set_limits(limits: Limits) -> None:
    """Every rlimit but RLIMIT_NPROC, which comes after isolation: it counts every process of the
    uid, and the fork into the PID namespace must not fail because the instructor runs many."""
    mb = 1024 * 1024
    for which, value in ((resource.RLIMIT_AS, limits.address_space_mb * mb), (resource.RLIMIT_CPU, limits.cpu_seconds),
                         (resource.RLIMIT_FSIZE, limits.file_size_mb * mb), (resource.RLIMIT_NOFILE, limits.open_files),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing us


class CappedWriter:
    """Stands in for sys.stdout/sys.stderr: keeps the first ``cap`` characters, drops the rest."""

    def __init__(self, cap: int):
        self.cap, self.parts, self.size, self.dropped = cap, [], 0, 0

    def write(self, text) -> int:
        text = str(text)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _setup_failed(sentence: str) -> None:
    """Stop before any student code ran: the worker shows this line (stderr's last)."""
    print(sentence, file=sys.stderr, flush=True)
    os._exit(SETUP_FAILED)


def main(argv: list[str]) -> None:
    cfg = ChildConfig.from_wire(json.loads(argv[-1]))
    set_limits(cfg.limits)
    host_lib = cfg.lib
    try:
        isolation, cfg = (contain if cfg.limits.isolation == "container" else isolate)(cfg)
    except IsolationError as exc:
        _setup_failed(str(exc))
    # frames that are not the student's: the library folder where it is now (inside a root of its
    # own, /tmp/lib: numpy's frames there are numpy's), where it was, numpy's links, the stdlib
    kit = tuple(dict.fromkeys((cfg.lib, host_lib, cfg.links, os.path.dirname(os.__file__))))
    resource.setrlimit(resource.RLIMIT_NPROC, (cfg.limits.processes, cfg.limits.processes))
    die_with_parent(cfg.parent)  # after isolation: a change of user clears the setting
    os.chdir(cfg.work)
    sys.path[:] = [cfg.lib] + [p for p in sys.path if p and "site-packages" not in p]
    sys.modules["bpk_sandbox"].__path__ = [os.path.join(cfg.lib, "bpk_sandbox")]  # it moved
    sys.path_importer_cache.clear()
    if not isolation["filesystem"].startswith("mount"):
        sys.path.append(cfg.links)  # numpy through symlinks when it could not be bound in
    os.environ.clear()
    os.environ.update({"HOME": cfg.work, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "LANG": "C.UTF-8"})

    import numpy as np  # noqa: F401  (loaded before the audit hook: its own imports use ctypes)

    from conformance.adapters import AdapterError, build_adapter
    from conformance.adapters.base import Missing
    from conformance.runner import describe_exception, kit_guess, not_handed_in
    from conformance.loader import LoadError, load_impl
    from conformance.probes import PROBES, load_all
    import importlib

    from . import wire

    load_all()
    for name in cfg.extra_probes:
        importlib.import_module(name)
    hidden = [h for h in cfg.hide + cfg.hide_extra
              if not (under(cfg.work, h) or under(cfg.lib, h) or under("/tmp", h))]
    if cfg.limits.syscall_filter:
        try:
            isolation["syscalls"] = install_syscall_filter()
        except OSError as exc:  # libseccomp is there and the filter still won't load: fail closed
            _setup_failed(f"the grading sandbox could not load its syscall filter ({exc})")
    else:
        isolation["syscalls"] = "none (turned off: Limits.syscall_filter)"
    if isolation["mode"] == "container" and not isolation["syscalls"].startswith("seccomp"):
        # without namespaces, the filter is what keeps sockets and new processes away
        _setup_failed(f"the grading sandbox's container isolation needs its syscall filter, which is "
                      f"{isolation['syscalls']}: install libseccomp2")
    install_audit_hook(hidden, cfg.keep, cfg.work)
    out = CappedWriter(cfg.limits.output_cap)
    sys.stdout = sys.stderr = out
    reader = wire.Reader(cfg.req_fd)

    def send(message: Hello | Answer) -> None:
        if isinstance(message.message, str):  # name the student's file, not the sandbox's path
            message = replace(message, message=message.message.replace(cfg.work + "/", ""))
        try:
            wire.send(cfg.ans_fd, replace(message, output_dropped_chars=out.dropped).to_wire())
        except (wire.WireError, MessageError) as exc:
            wire.send(cfg.ans_fd, Answer(ok=False, kind="error", message=str(exc)).to_wire())

    wire.send(cfg.ans_fd, READY)  # set up: from here on, whatever this process says may be the student's
    try:
        loaded = load_impl(cfg.submission)
        adapter = build_adapter(loaded, style=cfg.style, pins=cfg.pins)
    except BaseException as exc:  # LoadError, AdapterError, or anything a class body raised
        message = str(exc) if isinstance(exc, (LoadError, AdapterError)) else describe_exception(exc, kit)
        send(Hello(ok=False, kind="error", message=message, isolation=isolation))
        return
    send(Hello(ok=True, style=adapter.style, detected_because=list(adapter.detected_because),
               dropped=[dict(vars(d)) for d in loaded.dropped], notes=list(loaded.notes), isolation=isolation))
    while True:
        try:
            request = Request.from_wire(reader.read())
        except EOFError:
            return
        try:
            if request.probe not in PROBES:
                raise KeyError(f"no probe named {request.probe!r}")
            reply = Answer(ok=True, outputs=PROBES[request.probe](adapter, request.inputs))
        except Missing as exc:
            reply = Answer(ok=False, kind="missing", message=str(exc))
        except BaseException as exc:  # SystemExit and KeyboardInterrupt from student code too
            guess = kit_guess(exc) or not_handed_in(exc)
            reply = (Answer(ok=False, kind="missing", message=guess) if guess else
                     Answer(ok=False, kind="error", message=describe_exception(exc, kit)))
        send(reply)
