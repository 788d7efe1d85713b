"""The sandboxed child's syscall filter (seccomp, through libseccomp): installed after numpy and
the kit are imported and before any student code runs. The audit hook (``graders.audit``) is a
Python-level fence, which ``_posixsubprocess`` passes without an audit event; this one holds."""
from __future__ import annotations

import os

CLONE_THREAD, PR_SET_PDEATHSIG = 0x10000, 1

# Refused with EPERM by the syscall filter. A numpy program needs none of them; the namespaces
# already fence most, the filter stops what they don't (Unix sockets are paths, keyrings are
# shared by the uid) and what a program started past the audit hook would need.
REFUSED_SYSCALLS = (
    "fork", "vfork", "execve", "execveat",  # new processes and programs (threads stay allowed)
    "socket", "socketpair",  # any family: the network namespace leaves Unix sockets reachable
    "keyctl", "add_key", "request_key",  # the grader's session keyring; nobody's outlives the batch
    "ptrace", "process_vm_readv", "process_vm_writev",  # other processes' memory
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "mount_setattr", "move_mount",
    "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",  # the sandbox's own namespaces and mounts
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "name_to_handle_at", "open_by_handle_at",  # kernel interfaces with a history of escapes
    "setsid", "setpgid",  # leaving the process group the worker kills
    "shmget", "shmat", "msgget", "semget", "memfd_create",  # memory outside RLIMIT_AS's reach
)


def install_syscall_filter() -> str:
    """A seccomp filter built with libseccomp (the library behind systemd's and podman's filters,
    which knows each architecture's syscall numbers): REFUSED_SYSCALLS and ``clone`` without
    CLONE_THREAD fail with EPERM, ``clone3`` with ENOSYS (its flags are out of a filter's reach;
    the C library then falls back to ``clone``). A syscall of another architecture's ABI kills the
    process (libseccomp's default). Returns what is in force; raises if the filter won't load."""
    import ctypes

    try:
        lib = ctypes.CDLL("libseccomp.so.2")
    except OSError:
        return "none (libseccomp.so.2 is not installed)"

    class ArgCmp(ctypes.Structure):  # struct scmp_arg_cmp
        _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                    ("datum_b", ctypes.c_uint64)]

    allow, equal, masked_eq = 0x7FFF0000, 4, 7  # SCMP_ACT_ALLOW, SCMP_CMP_EQ, SCMP_CMP_MASKED_EQ
    refuse = lambda errno: 0x00050000 | errno  # noqa: E731  (SCMP_ACT_ERRNO)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(ArgCmp)]
    lib.seccomp_load.argtypes = lib.seccomp_release.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(allow)
    if not ctx:
        raise OSError("seccomp_init failed")

    def rule(action: int, name: str, *compare: ArgCmp) -> None:
        number = lib.seccomp_syscall_resolve_name(name.encode())
        if number < 0:  # not a syscall of this architecture (fork on arm64, say)
            return
        rc = lib.seccomp_rule_add_array(ctx, action, number, len(compare), (ArgCmp * len(compare))(*compare))
        if rc < 0:
            raise OSError(-rc, f"seccomp rule for {name}: {os.strerror(-rc)}")

    try:
        for name in REFUSED_SYSCALLS:
            rule(refuse(1), name)
        rule(refuse(1), "clone", ArgCmp(0, masked_eq, CLONE_THREAD, 0))  # flags & CLONE_THREAD == 0: a process
        rule(refuse(1), "prctl", ArgCmp(0, equal, PR_SET_PDEATHSIG, 0))  # the death signal set above stays
        rule(refuse(38), "clone3")  # ENOSYS
        rc = lib.seccomp_load(ctx)  # sets no_new_privs first
        if rc < 0:
            raise OSError(-rc, f"seccomp_load: {os.strerror(-rc)}")
    finally:
        lib.seccomp_release(ctx)
    return "seccomp (no new processes or programs, sockets, keyrings, mounts, ptrace, shared memory)"
