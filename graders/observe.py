"""What the worker sees of its sandboxed child from outside: its namespaces, user, capabilities
and syscall filter through /proc (``observed_isolation``, checked against what the child says,
``reconcile_isolation``); in container mode, the size of its working folder (``WorkWatch``) and
what its user left in the shared folders (``sweep_shared_folders``). Every string the child
sends is believed only once cut to ``MESSAGE_CAP`` characters (``clip_text``)."""
from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from typing import Any

from graders.namespaces import NOBODY

MESSAGE_CAP = 2000  # characters kept of any one string the child sends


def clip_text(text: str, cap: int = MESSAGE_CAP) -> str:
    """``text`` cut to about ``cap`` characters: its beginning (the exception and its message) and
    its last 200 (where ``describe`` names the student's line), with a marker saying what was cut."""
    if len(text) <= cap:
        return text
    head, tail = cap - 200, 200
    return f"{text[:head]} ... [{len(text) - head - tail} characters cut] ... {text[-tail:]}"


def clip_strings(obj: Any) -> Any:
    if isinstance(obj, str):
        return clip_text(obj)
    if isinstance(obj, dict):
        return {clip_text(k): clip_strings(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clip_strings(v) for v in obj]
    return obj


def _ns(pid: int | str, name: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/{name}")
    except OSError:  # gone, or not ours to inspect
        return None


def _status(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return dict(line.rstrip("\n").split(":\t", 1) for line in fh if ":\t" in line)
    except OSError:
        return {}


def children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(c) for c in fh.read().split()]
    except (OSError, ValueError):
        return []


def observed_isolation(pid: int) -> dict:
    """What the grader sees from outside of the sandboxed child ``pid`` (the keeper) through /proc.

    network / filesystem / processes: True when it has a network / mount / PID-for-children
    namespace of its own, False when it shares the grader's, None when that cannot be read.
    ``runner``: the process that runs the submission (the keeper's child in a PID namespace, else
    ``pid``), with its ``uid`` and effective ``capabilities`` (an int; None when unreadable).
    """
    def differs(theirs: str | None, ours: str | None) -> bool | None:
        return None if theirs is None or ours is None else theirs != ours

    seen = {"network": differs(_ns(pid, "net"), _ns("self", "net")),
            "filesystem": differs(_ns(pid, "mnt"), _ns("self", "mnt")),
            "processes": differs(_ns(pid, "pid_for_children"), _ns("self", "pid"))}
    runner = pid
    if seen["processes"]:
        runner = (children_of(pid) or [None])[0]
    status = _status(runner) if runner is not None else {}
    uid = status.get("Uid", "").split()
    seen.update(runner=runner, uid=int(uid[1]) if uid else None,  # the effective uid
                capabilities=int(status["CapEff"], 16) if "CapEff" in status else None,
                syscall_filter=status["Seccomp"].strip() == "2" if "Seccomp" in status else None)
    return seen


def reconcile_isolation(reported: Any, seen: dict) -> tuple[dict, list[str]]:
    """The child's isolation report with every claim that ``seen`` (``observed_isolation``)
    contradicts replaced by what the grader saw, and one sentence per replacement."""
    items = list(reported.items())[:20] if isinstance(reported, dict) else []
    report = {clip_text(str(k)): clip_text(str(v)) for k, v in items}
    fixes = []

    def settle(key: str, claim_prefix: str, truth: bool | None, own: str, shared: str) -> None:
        claimed = report.get(key, "").startswith(claim_prefix)
        if truth is not None and claimed != truth:
            fixes.append(f"the sandbox reported {key} {report.get(key, '(nothing)')!r} but the grader sees "
                         f"{own if truth else shared}")
            report[key] = f"{own if truth else shared} (seen by the grader)"

    settle("network", "network namespace", seen["network"], "network namespace", "the grader's network")
    settle("filesystem", "mount namespace", seen["filesystem"], "mount namespace", "the grader's filesystem")
    settle("processes", "PID namespace", seen["processes"], "PID namespace", "the grader's processes")
    settle("syscalls", "seccomp", seen.get("syscall_filter"), "seccomp filter", "none")
    if seen["uid"] is not None:
        uid, caps, claimed = seen["uid"], seen["capabilities"], report.get("user", "")
        first = claimed.split(" ")[0]
        claimed_uid = NOBODY if first == "nobody" else int(first) if first.isdigit() else None
        if claimed_uid != uid or ("no capabilities" in claimed and caps not in (None, 0)):
            user = ("nobody" if uid == NOBODY else str(uid)) + (
                "" if caps is None else " (no capabilities)" if caps == 0 else f" (capabilities {caps:#x})")
            fixes.append(f"the sandbox reported user {claimed or '(nothing)'!r} but the grader sees {user}"
                         + (": the submission ran as root" if uid == 0 else ""))
            report["user"] = f"{user} (seen by the grader)"
    return report, fixes


class WorkWatch:
    """Container mode's cap on the child's working folder: a thread that measures it every
    ``every`` seconds and kills the child's process group once it holds more than ``cap_mb``
    (``over`` then says why the child died). Each file is capped by RLIMIT_FSIZE besides."""

    def __init__(self, folder: Path, cap_mb: int, pgid: int, every: float = 0.2):
        import threading

        self.folder, self.cap, self.pgid, self.every = folder, cap_mb * 1024 * 1024, pgid, every
        self.over = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def size(self) -> int:
        total = 0
        for dirpath, dirnames, filenames in os.walk(self.folder):
            for name in dirnames + filenames:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
                except OSError:
                    pass
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            if self.size() > self.cap:
                self.over = True
                try:
                    os.killpg(self.pgid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")  # writable by every user where Landlock is missing


def sweep_shared_folders(uid: int) -> list[str]:
    """Remove what user ``uid`` (a container-mode child's, used by no one else) left in the
    folders every user may write to; returns what was removed."""
    removed = []
    for folder in SHARED_FOLDERS:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
                removed.append(entry.path)
            except OSError:
                pass
    return removed
