"""The sandboxed child's Python audit hook: refusals with sentences a student can read (sockets,
subprocesses, signals, ctypes, links, hidden paths, writes outside the working folder)."""
from __future__ import annotations

import os
import sys

from .namespaces import under as _under

_REFUSED = {
    "socket.__new__", "socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo",
    "subprocess.Popen", "os.system", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn",
    "os.spawn", "os.kill", "os.killpg", "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata",
    "pty.spawn", "os.chroot", "ctypes.call_function",
    "gc.get_objects", "gc.get_referrers", "gc.get_referents",  # the way to this hook's function
}


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def install_audit_hook(hidden: list[str], keep: list[str], work: str) -> None:
    """Refusals with sentences a student can read. A courtesy fence: code in this process can
    undo any Python-level hook (the namespaces and the syscall filter are the fences that hold).
    It reads only names bound here, so patching this module or ``os.path`` does not switch it off."""
    refused, hidden, keep, write_flags = frozenset(_REFUSED), tuple(hidden), tuple(keep), _WRITE_FLAGS
    under, abspath, fsdecode, isdir = _under, os.path.abspath, os.fsdecode, os.path.isdir

    def hook(event: str, args: tuple) -> None:
        if event in refused:
            raise PermissionError(f"the grading sandbox does not allow {event}")
        if event == "object.__setattr__" and len(args) > 1 and args[1] in ("__code__", "__closure__"):
            raise PermissionError("the grading sandbox does not allow replacing a function's code")
        if event == "open" and args and isinstance(args[0], (str, bytes)):
            path = abspath(fsdecode(args[0]))
            if any(under(path, h) for h in hidden) and not any(under(path, k) for k in keep):
                raise PermissionError(f"the grading sandbox hides {path}")
            mode, flags = (list(args) + [None, None])[1:3]
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & write_flags)
            if writes and not under(path, work):
                raise PermissionError(f"the grading sandbox only lets code write files in its working folder, not {path}")
            if isinstance(flags, int) and not under(path, work) and isdir(path):
                # os.open of a folder: its fd would let later calls (dir_fd=) reach past this hook
                raise PermissionError(f"the grading sandbox does not let code open the folder {path}")
        if event in ("os.symlink", "os.link"):  # a link in the working folder could point anywhere
            raise PermissionError(f"the grading sandbox does not allow {event}")
        if event in ("os.remove", "os.rmdir", "os.rename", "shutil.rmtree", "os.truncate") and args:
            target = abspath(fsdecode(args[0])) if isinstance(args[0], (str, bytes)) else None
            if target is not None and not under(target, work):
                raise PermissionError(f"the grading sandbox only lets code change files in its working folder, not {target}")

    sys.addaudithook(hook)
