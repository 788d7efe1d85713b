"""The sandboxed child: loads one submission and runs probes on request, nothing else.

Started by ``graders.sandbox`` as ``python -I -S -B -c <stub>`` with a JSON config. In order:

1. resource limits (address space, CPU seconds, file size, open files, no core; the process
   count after step 2); after step 2 it also asks to be killed when the worker that started it dies;
2. isolation: new network (no network at all), IPC and mount namespaces; in the mount namespace
   a root of its own (``build_root``): the system folders, the Python install, five devices,
   /proc, and /tmp holding only this child's working folder and its library folder (the kit's
   probe/adapter/loader modules and numpy); hidden folders visible there even so (data sets
   under /usr/share, the Python's site-packages) are covered by empty tmpfs mounts; then the user is
   dropped to ``nobody`` when started as root, or every capability the new user namespace gave
   is dropped when not. A new PID namespace too: this process stays outside as a *keeper* that
   only waits and passes on the exit status, its child is the namespace's process 1 and does
   everything below, with a fresh /proc: whatever it starts can signal or see no process
   outside, and dies with it. Every mount is then made read-only but the working folder.
   This fails closed: if the namespaces can't be had, the child says why on stderr and exits
   before any student code runs, unless the grader chose another mode (graders/isolation.py):
   ``container`` (``contain``: a user of its own, Landlock where the kernel has it, the syscall
   filter required) or ``audit-hook`` (``--audit-hook-only``);
3. imports numpy and the kit pieces, then a seccomp filter (no new processes or programs, no
   leaving the process group, no sockets, keyrings, shared memory, mounts or ptrace: the audit
   hook is a Python-level fence, which ``_posixsubprocess`` passes without an audit event),
   then an audit hook refusing sockets,
   subprocesses, fork/exec, signals to other processes, ctypes, links, folder fds and opening
   hidden paths, with messages a student can read;
4. loads the submission, answers ``hello``, then serves ``{"probe", "inputs"}`` requests.

Only stdlib, numpy and the staged ``conformance`` modules are importable here.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import sys

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x8000000, 0x10000000, 0x20000000, 0x40000000
CLONE_THREAD, PR_SET_PDEATHSIG = 0x10000, 1
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, SYS_MOUNT_SETATTR = -100, 0x8000, 0x1, 0x2, 442
MS_RDONLY, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 1, 4096, 8192, 16384, 1 << 18
NOBODY = 65534
SETUP_FAILED = 2  # exit code: the sandbox itself could not be set up (its reason: stderr's last line)


def set_limits(limits: dict) -> None:
    mb = 1024 * 1024
    pairs = {
        resource.RLIMIT_AS: limits["address_space_mb"] * mb,
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_FSIZE: limits["file_size_mb"] * mb,
        resource.RLIMIT_NOFILE: limits["open_files"],
        resource.RLIMIT_CORE: 0,
    }  # RLIMIT_NPROC comes after isolation: it counts every process of the uid, and the fork into
    # the PID namespace must not fail because the instructor runs many (see limit_processes)
    for which, value in pairs.items():
        resource.setrlimit(which, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing us


def limit_processes(limits: dict) -> None:
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))


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


class _Libc:
    def __init__(self):
        import ctypes

        self.ctypes = ctypes
        self.libc = ctypes.CDLL(None, use_errno=True)

    def call(self, name: str, *args) -> None:
        if getattr(self.libc, name)(*args) != 0:
            errno = self.ctypes.get_errno()
            raise OSError(errno, f"{name}: {os.strerror(errno)}")

    def mount(self, source, target, fstype, flags, data=None) -> None:
        enc = lambda s: None if s is None else str(s).encode()  # noqa: E731
        self.call("mount", enc(source), enc(target), enc(fstype), self.ctypes.c_ulong(flags), enc(data))

    def set_read_only(self, path: str, read_only: bool, recursive: bool) -> None:
        """mount_setattr(2) (Linux 5.12+, syscall 442 on every architecture): set MOUNT_ATTR_RDONLY
        and MOUNT_ATTR_NOSUID, or clear MOUNT_ATTR_RDONLY, on the mount at ``path``, and on every
        mount below it when ``recursive``."""
        attr = (self.ctypes.c_uint64 * 4)(*((MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0) if read_only
                                            else (0, MOUNT_ATTR_RDONLY)), 0, 0)
        flags = AT_RECURSIVE if recursive else 0  # struct mount_attr {attr_set, attr_clr, propagation, userns_fd}
        if self.libc.syscall(self.ctypes.c_long(SYS_MOUNT_SETATTR), self.ctypes.c_int(AT_FDCWD), path.encode(),
                             self.ctypes.c_uint(flags), attr, self.ctypes.c_size_t(32)) != 0:
            errno = self.ctypes.get_errno()
            raise OSError(errno, f"mount_setattr {path}: {os.strerror(errno)}")

    def drop_capabilities(self) -> None:
        """Empty the effective, permitted and inheritable sets and set no_new_privs. Creating a user
        namespace hands its creator every capability in it (CAP_SYS_ADMIN included: enough to unmount
        the tmpfs that hides the kit, the submissions and the output folder); root's path to nobody
        drops them by changing user, this is the unprivileged path's equivalent."""
        PR_SET_NO_NEW_PRIVS, LINUX_CAPABILITY_VERSION_3 = 38, 0x20080522
        header = (self.ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)  # version, pid 0 = this process
        self.call("capset", header, (self.ctypes.c_uint32 * 6)())  # two all-zero {eff, perm, inh} words
        self.call("prctl", *map(self.ctypes.c_ulong, (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)))  # unused args must be 0


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


class IsolationError(Exception):
    """Namespaces were asked for and could not be had: the child stops before any student code."""


def isolate(cfg: dict) -> dict:
    """Namespaces, mounts and a user drop; returns what is in force. Fails closed: the audit hook
    alone only when the grader asked for it (``--isolation audit-hook``); container mode
    (``contain``) only when it asked for that (graders/isolation.py chooses)."""
    done = {"mode": cfg["limits"].get("isolation", "namespaces"), "network": "audit hook only",
            "filesystem": "audit hook only", "user": str(os.getuid())}
    root = os.getuid() == 0
    if done["mode"] == "container":
        return contain(cfg, done)
    if done["mode"] != "namespaces":
        done["fallback_reason"] = "namespaces turned off (--isolation audit-hook)"
        if root:  # never as root: nobody, where nobody can run this Python; else no grading
            needed = [os.path.dirname(os.__file__), cfg["lib"], cfg["work"], *cfg["bind_into_lib"].values()]
            shut = [p for p in needed if not _others_can_enter(p)]
            if shut:
                raise IsolationError(f"the grading sandbox will not run student code as root, and nobody cannot "
                                     f"enter {shut[0]}: grade as another user, or with namespaces")
            os.chown(cfg["work"], NOBODY, NOBODY)
            drop_to_nobody(done)
        return done
    # /tmp is the child's own, so folders under it are hidden already (and /tmp's parents can't be)
    hide = [h for h in cfg["hide"] if not (_under(h, "/tmp") or _under("/tmp", h))]
    libc = _Libc()
    # CLONE_NEWPID too: without it, kill(-1) would reach every process of the uid
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID | (0 if root else CLONE_NEWUSER)
    uid, gid = os.getuid(), os.getgid()
    try:
        libc.call("unshare", flags)
    except OSError as exc:
        raise IsolationError(  # the README's instructors section says how to allow them
            f"the grading sandbox could not create its namespaces ({exc.strerror}): grade as root, "
            f"allow unprivileged user namespaces, or pass --isolation container (as root) or --audit-hook-only "
            f"for a weaker fence") from None
    try:
        if not root:
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as fh:
                    fh.write(text)
        done["network"] = "network namespace (no interfaces; System V IPC of its own)"
        become_process_one(cfg)
        # Nothing we mount may propagate back to the host: make every mount private first.
        libc.mount("none", "/", None, MS_REC | MS_PRIVATE)
        done["processes"] = f"PID namespace (process 1, {build_root(libc, cfg, hide)})"
        cfg.update(lib="/tmp/lib", work="/tmp/work", submission=f"/tmp/work/{cfg['submission_name']}")
        done["filesystem"] = ("mount namespace (a root of its own: system folders, Python, numpy and its "
                              "folders; " + read_only_but(libc, "/tmp/work") + ")")
        if root:
            os.chown("/tmp/work", NOBODY, NOBODY)
            drop_to_nobody(done)
        else:
            libc.drop_capabilities()
            groups = sorted(set(os.getgroups()) - {gid})
            done["user"] += " (no capabilities" + (f"; keeps groups {', '.join(map(str, groups))}" if groups else "") + ")"
    except OSError as exc:
        raise IsolationError(f"the grading sandbox could not be set up ({exc})") from None
    return done


def contain(cfg: dict, done: dict) -> dict:
    """Container mode (root without namespaces): become the user of its own the worker chose
    (``cfg["uid"]``, owner of the 0700 working folder), with no groups and no capabilities, then
    Landlock where the kernel has it. What other users may not read (the kit, the submissions,
    the results) the grader checked before grading started; the syscall filter, which refuses
    sockets, is required in this mode (``main``)."""
    if os.getuid() != 0:
        raise IsolationError("the grading sandbox's container isolation needs the grader to run as root")
    uid = cfg["uid"]
    try:
        become(uid)  # from root to another uid: every capability goes with it
    except OSError as exc:
        raise IsolationError(f"the grading sandbox could not become user {uid} ({exc.strerror})") from None
    done["user"] = f"{uid} (no capabilities; a user of its own)"
    done["network"] = "none: the syscall filter refuses sockets"
    done["processes"] = f"its own user {uid}: signals reach no other process"
    done["filesystem"] = (f"its own 0700 working folder (size-capped by the worker); the kit, submissions and "
                          f"results unreadable to user {uid}; " + landlock(cfg))
    return done


# Landlock (Linux 5.13+): what a process may do beneath each folder, set by the process itself,
# unprivileged, for good. Access rights by ABI version (1: the first 13 bits; 2: REFER;
# 3: TRUNCATE; 5: IOCTL_DEV); ABI 4 adds TCP rules, ABI 6 scopes signals and abstract sockets.
LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1, 2, 4, 8
LL_ALL_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446


def landlock(cfg: dict) -> str:
    """Confine this process with Landlock: read (and map) the system folders, the Python install,
    its library folder, /proc and a few devices; read and write its working folder only; no TCP
    and no signals outside its domain where the ABI has them. Returns what is in force."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    abi = syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return f"no Landlock ({os.strerror(ctypes.get_errno())}): other folders are fenced by owner and mode only"
    handled = LL_ALL_BY_ABI[min(abi, 5)]

    class Ruleset(ctypes.Structure):  # struct landlock_ruleset_attr
        _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

    class Beneath(ctypes.Structure):  # struct landlock_path_beneath_attr (packed)
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    attr = Ruleset(handled, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)  # TCP bind+connect; signals+abstract
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    fd = syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(size),
                 ctypes.c_uint32(0))
    if fd < 0:
        raise IsolationError(f"the grading sandbox could not create its Landlock rules "
                             f"({os.strerror(ctypes.get_errno())})")
    read = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
    file_rights = LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | (1 << 14 if abi >= 3 else 0)
    rules = [(f, read) for f in (*SYSTEM, *cfg["keep"], cfg["lib"], *cfg["bind_into_lib"].values(),
                                 "/proc", "/sys/devices/system/cpu", "/etc/ld.so.cache")]
    rules += [(f"/dev/{d}", LL_READ_FILE | LL_WRITE_FILE) for d in DEVICES] + [(cfg["work"], handled)]
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
                if syscall(ctypes.c_long(SYS_LANDLOCK_ADD_RULE), ctypes.c_int(fd), ctypes.c_int(1), ctypes.byref(rule),
                           ctypes.c_uint32(0)) != 0:
                    raise IsolationError(f"the grading sandbox could not allow {path} in its Landlock rules "
                                         f"({os.strerror(ctypes.get_errno())})")
            finally:
                os.close(target)
        PR_SET_NO_NEW_PRIVS = 38
        if libc.prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0),
                      ctypes.c_ulong(0)) != 0 or syscall(ctypes.c_long(SYS_LANDLOCK_RESTRICT_SELF),
                                                         ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            raise IsolationError(f"the grading sandbox could not restrict itself with Landlock "
                                 f"({os.strerror(ctypes.get_errno())})")
    finally:
        os.close(fd)
    return (f"Landlock ABI {abi}: reads only system folders, Python, its library and working folder, writes only "
            f"its working folder" + (", no TCP" if abi >= 4 else "") + ("; no signals out" if abi >= 6 else ""))


def _others_can_enter(path: str) -> bool:
    """Whether every folder from / down to ``path`` lets other users through (o+x)."""
    path = os.path.realpath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        if path == os.path.dirname(path):
            return True
        path = os.path.dirname(path)


def become(uid: int) -> None:
    """Root becomes user ``uid`` (group ``uid``), with no supplementary groups."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def drop_to_nobody(done: dict) -> None:
    become(NOBODY)
    done["user"] = "nobody"


def become_process_one(cfg: dict) -> None:
    """Fork after unshare(CLONE_NEWPID): the child, process 1 of the new namespace, returns and
    goes on; this process becomes the keeper, the pid the worker knows. The keeper holds no end of
    the wire (the worker must see EOF when the child dies), waits, and ends as the child ended.
    The worker's killpg reaches both (same process group); a child that left the group still
    dies with the keeper (parent-death signal), and every process of the namespace with the child."""
    pid = os.fork()
    if pid == 0:
        cfg["parent"] = None  # outside our namespace: getppid() is 0 from here on
        return
    for fd in (cfg["req_fd"], cfg["ans_fd"]):
        os.close(fd)
    if os.getuid() == 0:  # it only waits: nothing it does needs root, or capabilities
        drop_to_nobody({})
    else:
        _Libc().drop_capabilities()
    die_with_parent(cfg["parent"])  # after the change of user, which clears it
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):  # a CPU-time SIGKILL must read as one to the worker
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


# What a Python and numpy run on: bound read-only into the child's root, where nothing else of
# the host is (/etc only lends the dynamic linker's cache, /dev five devices).
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")


def build_root(libc: _Libc, cfg: dict, hide: list[str]) -> str:
    """Build the child's filesystem on a fresh tmpfs and make it the root (as switch_root does:
    move it onto / and chroot): SYSTEM, the Python install (``cfg["keep"]``), /etc/ld.so.cache,
    DEVICES, a /proc, and /tmp with the library folder and the working folder. Of the folders in
    ``hide``, those that are visible there even so (data sets under /usr/share, the Python's
    site-packages, ...) get an empty read-only tmpfs. Returns which /proc the child has."""
    box = cfg["box"]
    libc.mount("tmpfs", box, "tmpfs", 0, f"mode=0755,size={cfg['limits']['work_mb']}m")

    def bind(source: str, target: str | None = None) -> None:
        target = box + (target or source)
        if os.path.isdir(source):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "a").close()
        libc.mount(source, target, None, MS_BIND | MS_REC)

    system = [f for f in SYSTEM if os.path.isdir(f) and not os.path.islink(f)]
    for folder in SYSTEM:
        if os.path.islink(folder):  # merged /usr: /bin -> usr/bin
            os.symlink(os.readlink(folder), box + folder)
        elif folder in system:
            bind(folder)
    keep = sorted({os.path.realpath(k) for k in cfg["keep"]})
    for k in keep:
        if not any(_under(k, f) for f in system):
            bind(k)
    if os.path.isfile("/etc/ld.so.cache"):
        bind("/etc/ld.so.cache")
    for device in DEVICES:
        if os.path.exists(f"/dev/{device}"):
            bind(f"/dev/{device}")
    os.makedirs(f"{box}/proc")
    try:  # a /proc of the new PID namespace lists only its own processes
        libc.mount("proc", f"{box}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        proc = "fresh /proc"
    except OSError as exc:  # refused where the host's /proc has hidden parts (some containers):
        proc = f"no /proc: {exc.strerror}"  # then none (the host's would list every process)
    bind(cfg["lib"], "/tmp/lib")
    for name, real in cfg["bind_into_lib"].items():
        libc.mount(real, f"{box}/tmp/lib/{name}", None, MS_BIND | MS_REC)
    os.makedirs(f"{box}/tmp/work")
    with open(cfg["submission"], "rb") as src, open(f"{box}/tmp/work/{cfg['submission_name']}", "wb") as dst:
        dst.write(src.read())
    for h in hide:  # a hidden folder that contains a kept one (home, say) is absent already
        if os.path.isdir(box + h) and not any(_under(k, h) for k in keep):
            libc.mount("tmpfs", box + h, "tmpfs", MS_RDONLY, "mode=0755,size=4k")
    os.chdir(box)
    libc.mount(box, "/", None, MS_MOVE)
    os.chroot(".")
    os.chdir("/")
    return proc


def read_only_but(libc: _Libc, writable: str) -> str:
    """Make every mount read-only (and nosuid) except ``writable`` (bound onto itself to be a mount
    of its own): whatever runs past the audit hook writes nowhere else, the Python install included."""
    try:
        libc.mount(writable, writable, None, MS_BIND)
        libc.set_read_only("/", True, recursive=True)
        libc.set_read_only(writable, False, recursive=False)
        return f"read-only but {writable}"
    except OSError as exc:  # before Linux 5.12 there is no mount_setattr
        return f"not read-only: {exc.strerror}"


def die_with_parent(parent: int | None) -> None:
    """Be killed when the worker that started us dies (e.g. the grader stopped it at its hard
    limit), so that no submission outlives its grading; exit now if it is gone already."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the rlimits still bound the orphan
        pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)


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


def main(argv: list[str]) -> None:
    cfg = json.loads(argv[0])
    set_limits(cfg["limits"])
    req_fd, ans_fd = cfg["req_fd"], cfg["ans_fd"]
    kit = (cfg["lib"], cfg["links"], os.path.dirname(os.__file__))  # frames that are not the student's
    try:
        isolation = isolate(cfg)
    except IsolationError as exc:  # before any student code: the worker shows this line (stderr)
        print(exc, file=sys.stderr, flush=True)
        os._exit(SETUP_FAILED)
    limit_processes(cfg["limits"])
    die_with_parent(cfg["parent"])  # after isolate: a change of user clears the setting
    os.chdir(cfg["work"])
    sys.path[:] = [cfg["lib"]] + [p for p in sys.path if p and "site-packages" not in p]
    sys.modules["bpk_sandbox"].__path__ = [os.path.join(cfg["lib"], "bpk_sandbox")]  # it moved
    sys.path_importer_cache.clear()
    if not isolation["filesystem"].startswith("mount"):
        sys.path.append(cfg["links"])  # numpy through symlinks when it could not be bound in
    os.environ.clear()
    os.environ.update({"HOME": cfg["work"], "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "LANG": "C.UTF-8"})

    import numpy as np  # noqa: F401  (loaded before the audit hook: its own imports use ctypes)

    from bpk_sandbox import wire
    from conformance.adapters import AdapterError, build_adapter
    from conformance.adapters.base import Missing
    from conformance.runner import describe_exception, kit_guess
    from conformance.loader import LoadError, load_impl
    from conformance.probes import PROBES, load_all
    import importlib

    load_all()
    for name in cfg["extra_probes"]:
        importlib.import_module(name)
    hidden = [h for h in cfg["hide"] + cfg["hide_extra"]
              if not (_under(cfg["work"], h) or _under(cfg["lib"], h) or _under("/tmp", h))]
    if cfg["limits"].get("syscall_filter", True):
        try:
            isolation["syscalls"] = install_syscall_filter()
        except OSError as exc:  # libseccomp is there and the filter still won't load: fail closed
            print(f"the grading sandbox could not load its syscall filter ({exc})", file=sys.stderr, flush=True)
            os._exit(SETUP_FAILED)
    else:
        isolation["syscalls"] = "none (turned off: Limits.syscall_filter)"
    if isolation["mode"] == "container" and not isolation["syscalls"].startswith("seccomp"):
        # without namespaces, the filter is what keeps sockets and new processes away
        print(f"the grading sandbox's container isolation needs its syscall filter, which is "
              f"{isolation['syscalls']}: install libseccomp2", file=sys.stderr, flush=True)
        os._exit(SETUP_FAILED)
    install_audit_hook(hidden, cfg["keep"], cfg["work"])
    out = CappedWriter(cfg["output_cap"])
    sys.stdout = sys.stderr = out
    reader = wire.Reader(req_fd)

    def answer(payload: dict) -> None:
        payload["output_dropped_chars"] = out.dropped
        if isinstance(payload.get("message"), str):  # name the student's file, not the sandbox's path
            payload["message"] = payload["message"].replace(cfg["work"] + "/", "")
        try:
            wire.send(ans_fd, payload)
        except wire.WireError as exc:
            wire.send(ans_fd, {"ok": False, "kind": "error", "message": str(exc)})

    wire.send(ans_fd, {"ready": True})  # set up: from here on, whatever this process says may be the student's
    try:
        loaded = load_impl(cfg["submission"])
        adapter = build_adapter(loaded, style=cfg["style"], pins=cfg.get("pins"))
    except BaseException as exc:  # LoadError, AdapterError, or anything a class body raised
        message = str(exc) if isinstance(exc, (LoadError, AdapterError)) else describe_exception(exc, kit)
        answer({"ok": False, "kind": "error", "message": message, "isolation": isolation})
        return
    answer({
        "ok": True, "style": adapter.style, "detected_because": list(adapter.detected_because),
        "dropped": [dict(vars(d)) for d in loaded.dropped], "notes": list(loaded.notes),
        "isolation": isolation,
    })
    while True:
        try:
            request = reader.read()
        except EOFError:
            return
        name = request.get("probe")
        try:
            if name not in PROBES:
                raise KeyError(f"no probe named {name!r}")
            answer({"ok": True, "outputs": PROBES[name](adapter, request.get("inputs") or {})})
        except Missing as exc:
            answer({"ok": False, "kind": "missing", "message": str(exc)})
        except BaseException as exc:  # SystemExit and KeyboardInterrupt from student code too
            guess = kit_guess(exc)
            answer({"ok": False, "kind": "missing", "message": guess} if guess else
                   {"ok": False, "kind": "error", "message": describe_exception(exc, kit)})


if __name__ == "__main__":
    main(sys.argv[1:])
