"""The C library calls the sandboxed child's fences make, each raising ``OSError`` with the call's
name: mount(2), mount_setattr(2), capset(2), prctl(2) and raw syscalls (Landlock's)."""
from __future__ import annotations

import ctypes
import os

AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, SYS_MOUNT_SETATTR = -100, 0x8000, 0x1, 0x2, 442
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


class Libc:
    def __init__(self):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long

    def _raise(self, name: str) -> None:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")

    def call(self, name: str, *args) -> None:
        if getattr(self.libc, name)(*args) != 0:
            self._raise(name)

    def syscall(self, name: str, number: int, *args) -> int:
        """syscall(2) by number; its result, or ``OSError`` naming ``name`` when it is negative."""
        result = self.libc.syscall(ctypes.c_long(number), *args)
        if result < 0:
            self._raise(name)
        return result

    def mount(self, source, target, fstype, flags, data=None) -> None:
        enc = lambda s: None if s is None else str(s).encode()  # noqa: E731
        self.call("mount", enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))

    def set_read_only(self, path: str, read_only: bool, recursive: bool) -> None:
        """mount_setattr(2) (Linux 5.12+, syscall 442 on every architecture): set MOUNT_ATTR_RDONLY
        and MOUNT_ATTR_NOSUID, or clear MOUNT_ATTR_RDONLY, on the mount at ``path``, and on every
        mount below it when ``recursive``."""
        attr = (ctypes.c_uint64 * 4)(*((MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0) if read_only
                                       else (0, MOUNT_ATTR_RDONLY)), 0, 0)
        flags = AT_RECURSIVE if recursive else 0  # struct mount_attr {attr_set, attr_clr, propagation, userns_fd}
        self.syscall(f"mount_setattr {path}", SYS_MOUNT_SETATTR, ctypes.c_int(AT_FDCWD), path.encode(),
                     ctypes.c_uint(flags), attr, ctypes.c_size_t(32))

    def no_new_privs(self) -> None:
        """No exec from here on gains privileges (Landlock and capset's path need it)."""
        self.call("prctl", *map(ctypes.c_ulong, (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)))  # unused args must be 0

    def drop_capabilities(self) -> None:
        """Empty the effective, permitted and inheritable sets and set no_new_privs. Creating a user
        namespace hands its creator every capability in it (CAP_SYS_ADMIN included: enough to unmount
        the tmpfs that hides the kit, the submissions and the output folder); root's path to nobody
        drops them by changing user, this is the unprivileged path's equivalent."""
        LINUX_CAPABILITY_VERSION_3 = 0x20080522
        header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)  # version, pid 0 = this process
        self.call("capset", header, (ctypes.c_uint32 * 6)())  # two all-zero {eff, perm, inh} words
        self.no_new_privs()
