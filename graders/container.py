"""Container mode, for a root grader without namespaces (Docker's default, Gradescope): the child
becomes a user of its own (``ChildConfig.uid``), then confines itself with Landlock where the
kernel has it. What that user must not read the grader checked before grading started
(``graders.isolation.check_container``)."""
from __future__ import annotations

import ctypes
import os

from .libc import Libc
from .messages import ChildConfig
from .namespaces import DEVICES, SYSTEM, IsolationError, become


def contain(cfg: ChildConfig) -> tuple[dict, ChildConfig]:
    """Become the user of its own the worker chose (owner of the 0700 working folder), with no
    groups and no capabilities, then Landlock. The syscall filter, which refuses sockets, is
    required in this mode (``graders.serve.main``). Returns what is in force, and ``cfg``."""
    if os.getuid() != 0:
        raise IsolationError("the grading sandbox's container isolation needs the grader to run as root")
    uid = cfg.uid
    try:
        become(uid)  # from root to another uid: every capability goes with it
    except OSError as exc:
        raise IsolationError(f"the grading sandbox could not become user {uid} ({exc.strerror})") from None
    return {"mode": "container", "network": "none: the syscall filter refuses sockets",
            "filesystem": (f"its own 0700 working folder (size-capped by the worker); the kit, submissions and "
                           f"results unreadable to user {uid}; " + landlock(cfg)),
            "user": f"{uid} (no capabilities; a user of its own)",
            "processes": f"its own user {uid}: signals reach no other process"}, cfg


# Landlock (Linux 5.13+): what a process may do beneath each folder, set by the process itself,
# unprivileged, for good. Access rights by ABI version (1: the first 13 bits; 2: REFER;
# 3: TRUNCATE; 5: IOCTL_DEV); ABI 4 adds TCP rules, ABI 6 scopes signals and abstract sockets.
LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1, 2, 4, 8
LL_ALL_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446


def landlock(cfg: ChildConfig) -> str:
    """Confine this process with Landlock: read (and map) the system folders, the Python install,
    its library folder, /proc and a few devices; read and write its working folder only; no TCP
    and no signals outside its domain where the ABI has them. Returns what is in force."""
    libc = Libc()
    try:
        abi = libc.syscall("landlock_create_ruleset", SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                           ctypes.c_uint32(1))
    except OSError as exc:
        return f"no Landlock ({os.strerror(exc.errno)}): other folders are fenced by owner and mode only"
    handled = LL_ALL_BY_ABI[min(abi, 5)]

    class Ruleset(ctypes.Structure):  # struct landlock_ruleset_attr
        _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

    class Beneath(ctypes.Structure):  # struct landlock_path_beneath_attr (packed)
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    attr = Ruleset(handled, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)  # TCP bind+connect; signals+abstract
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    try:
        fd = libc.syscall("landlock_create_ruleset", SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                          ctypes.c_size_t(size), ctypes.c_uint32(0))
    except OSError as exc:
        raise IsolationError(f"the grading sandbox could not create its Landlock rules "
                             f"({os.strerror(exc.errno)})") from None
    read = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
    file_rights = LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | (1 << 14 if abi >= 3 else 0)
    rules = [(f, read) for f in (*SYSTEM, *cfg.keep, cfg.lib, *cfg.bind_into_lib.values(),
                                 "/proc", "/sys/devices/system/cpu", "/etc/ld.so.cache")]
    rules += [(f"/dev/{d}", LL_READ_FILE | LL_WRITE_FILE) for d in DEVICES] + [(cfg.work, handled)]
    try:
        for path, rights in rules:
            try:
                target = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:  # absent here (/lib32, say): nothing to allow
                continue
            try:
                if not os.path.isdir(path):
                    rights &= file_rights
                rule = Beneath(rights & handled, target)
                libc.syscall("landlock_add_rule", SYS_LANDLOCK_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(1),
                             ctypes.byref(rule), ctypes.c_uint32(0))
            except OSError as exc:
                raise IsolationError(f"the grading sandbox could not allow {path} in its Landlock rules "
                                     f"({os.strerror(exc.errno)})") from None
            finally:
                os.close(target)
        try:
            libc.no_new_privs()
            libc.syscall("landlock_restrict_self", SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0))
        except OSError as exc:
            raise IsolationError(f"the grading sandbox could not restrict itself with Landlock "
                                 f"({os.strerror(exc.errno)})") from None
    finally:
        os.close(fd)
    return (f"Landlock ABI {abi}: reads only system folders, Python, its library and working folder, writes only "
            f"its working folder" + (", no TCP" if abi >= 4 else "") + ("; no signals out" if abi >= 6 else ""))
