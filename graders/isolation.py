"""Which fence the grader's sandbox puts around student code, chosen once before grading starts.

``--isolation auto|namespaces|container|audit-hook``:

* ``namespaces``: network, mount, IPC and PID namespaces of its own, a root of its own, then
  ``nobody`` or no capabilities (graders/namespaces.py ``isolate``). Fails closed where the kernel
  refuses them: every row is then an error that says so.
* ``container``: for a root grader that cannot create namespaces, which is Docker's default and
  Gradescope's. The child becomes a user of its own (``sandbox_uid``: no other process has it, so
  its signals reach nothing else), in a private working folder only it may enter, capped in size
  by the worker; the syscall filter (no sockets, no new processes) and the rlimits as in every
  mode; Landlock, where the kernel has it, confines its reads and writes to the folders it needs.
  Before grading starts, ``secrets_readable`` checks from a process running as that user that the
  kit, the submissions, the results and the data sets are unreadable to it (owner and mode).
* ``audit-hook``: the Python audit hook and the syscall filter alone (the weak fence that
  ``--audit-hook-only`` asked for), never as root.
* ``auto``: namespaces when this process can create them, else container mode when it runs as
  root, else namespaces (which then fail closed, as before).
"""
from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

MODES = ("auto", "namespaces", "container", "audit-hook")
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = (
    0x20000, 0x8000000, 0x10000000, 0x20000000, 0x40000000)
UID_BASE = 1_000_000  # container mode's users: UID_BASE + 8 * pid + n, above any account's uid


class IsolationRefused(Exception):
    """The isolation asked for cannot be had here; raised before anything is graded."""


def _ask_a_child(work) -> str:
    """What ``work()`` (run in a forked child, which then exits without running anything else)
    writes back as text; "" when the child died first."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            os.write(write, work().encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        answer = fh.read()
    os.waitpid(pid, 0)
    return answer


def namespaces_available() -> tuple[bool, str]:
    """Whether a child of this process can unshare what the sandbox's namespaces need (the user
    namespace too when not root), tried in a forked process; (yes or no, why not)."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID | (0 if os.getuid() == 0 else CLONE_NEWUSER)

    def unshare() -> str:
        libc = ctypes.CDLL(None, use_errno=True)
        return str(0 if libc.unshare(flags) == 0 else ctypes.get_errno())

    answer = _ask_a_child(unshare)
    errno = int(answer) if answer.isdigit() else -1
    return errno == 0, "" if errno == 0 else (os.strerror(errno) if errno > 0 else "the probe died")


def choose(requested: str) -> tuple[str, str]:
    """(the mode in force, why) for ``--isolation requested``."""
    if requested not in MODES:
        raise IsolationRefused(f"--isolation {requested!r} is not one of {', '.join(MODES)}")
    if requested != "auto":
        if requested == "container" and os.getuid() != 0:
            raise IsolationRefused("container isolation gives each sandbox a user of its own, which needs the "
                                   "grader to run as root: run as root, or use --isolation namespaces")
        return requested, "asked for"
    ok, why = namespaces_available()
    if ok:
        return "namespaces", "auto: namespaces can be created"
    if os.getuid() == 0:
        return "container", f"auto: namespaces refused ({why}), running as root"
    return "namespaces", f"auto: namespaces refused ({why}) and not root: every row will say so"


def sandbox_uid(serial: int) -> int:
    """A user id for one sandboxed child that no other running process has: derived from this
    process's pid (unique among running processes) and a per-process serial."""
    return UID_BASE + 8 * os.getpid() + serial % 8


def secret_paths(submissions: Path, out: Path, hide: list[str]) -> dict[str, str]:
    """{path: what it is} of what a sandbox's user must not read in container mode: the kit (its
    reference solutions, fixtures and judges, wherever it is installed), the submissions, the
    results, the data sets the kit reads, the home folder and every ``--hide`` folder."""
    from graders.staging import KIT_ROOT
    from reference.datasets.sources import ENV_DATA_DIR, cache_root

    found = {}
    if (KIT_ROOT / "pyproject.toml").exists():  # a source checkout: all of it
        found[str(KIT_ROOT)] = "the kit's checkout"
    for name in ("reference", "fixtures", "conformance", "graders", "backprop_kit"):
        module = sys.modules.get(name) or __import__(name)
        found.setdefault(str(Path(module.__file__).resolve().parent), f"the kit's {name} package")
    found[str(Path(submissions).resolve())] = "the submissions"
    found[str(Path(out).resolve())] = "the results folder"
    for path, what in ((os.environ.get(ENV_DATA_DIR), "the data folder"), (cache_root(), "the data cache"),
                       ("/usr/share/datasets", "the system's data sets"), (Path.home(), "the home folder")):
        if path and Path(path).exists():
            found.setdefault(str(Path(path).resolve()), what)
    for h in hide:
        found.setdefault(str(Path(h).resolve()), "a --hide folder")
    covered = sorted(found)  # a path inside another listed one is fenced with it
    return {p: found[p] for p in covered if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in covered)}


def readable_to(paths: list[str], uid: int) -> list[bool]:
    """Whether user ``uid`` can read (a file) or enter (a folder) each of ``paths``, tried by a
    forked process that has become that user (so ownership, mode, groups and every folder above
    count)."""
    from graders.namespaces import become

    def look() -> str:
        become(uid)
        return "".join("1" if os.access(p, os.R_OK) or (os.path.isdir(p) and os.access(p, os.X_OK)) else "0"
                       for p in paths) + "."

    answer = _ask_a_child(look)
    if len(answer) != len(paths) + 1:
        raise IsolationRefused("the grader could not check what a sandbox's user can read (the check died)")
    return [c == "1" for c in answer[:-1]]


def check_container(submissions: Path, out: Path, hide: list[str]) -> None:
    """Raise ``IsolationRefused`` naming every secret a sandbox's user could read, and what to do."""
    python = [os.path.realpath(sys.executable), os.path.dirname(os.__file__)]  # the child's interpreter
    closed = [p for p, ok in zip(python, readable_to(python, sandbox_uid(0))) if not ok]
    if closed:
        raise IsolationRefused(
            f"container isolation: a sandbox's user cannot run this Python: {closed[0]} is closed to other users. "
            f"Grade with a Python installed where every user can read it (the system's, or a virtualenv on it)")
    paths = secret_paths(submissions, out, hide)
    open_to = [p for p, ok in zip(paths, readable_to(list(paths), sandbox_uid(0))) if ok]
    if open_to:
        listed = "; ".join(f"{p} ({paths[p]})" for p in open_to)
        raise IsolationRefused(
            f"container isolation: a sandbox's user could read {listed}. Make each unreadable to other users "
            f"(chmod o-rwx {' '.join(open_to)}), or grade where namespaces can be created")
