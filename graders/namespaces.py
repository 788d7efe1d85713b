"""The sandboxed child's isolation in namespaces: new network, IPC, mount and PID namespaces, a
root of its own (``build_root``), every mount read-only but the working folder, then ``nobody``
(as root) or no capabilities (not root). Also the ``audit-hook`` mode's user drop, and ``become``,
which container mode (``graders.container``) and the grader's readability check share."""
from __future__ import annotations

import os
import signal
from dataclasses import replace

from .libc import PR_SET_PDEATHSIG, Libc
from .messages import ChildConfig

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x8000000, 0x10000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MS_RDONLY, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 1, 4096, 8192, 16384, 1 << 18
NOBODY = 65534

# What a Python and numpy run on: bound read-only into the child's root, where nothing else of
# the host is (/etc only lends the dynamic linker's cache, /dev five devices).
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


class IsolationError(Exception):
    """The isolation asked for could not be had: the child stops before any student code."""


def isolate(cfg: ChildConfig) -> tuple[dict, ChildConfig]:
    """Namespaces, mounts and a user drop; returns what is in force and the config as seen from
    inside (paths under the new root, no parent). Fails closed: the audit hook alone only when the
    grader asked for it (``--isolation audit-hook``)."""
    done = {"mode": cfg.limits.isolation, "network": "audit hook only",
            "filesystem": "audit hook only", "user": str(os.getuid())}
    root = os.getuid() == 0
    if done["mode"] != "namespaces":
        done["fallback_reason"] = "namespaces turned off (--isolation audit-hook)"
        if root:  # never as root: nobody, where nobody can run this Python; else no grading
            needed = [os.path.dirname(os.__file__), cfg.lib, cfg.work, *cfg.bind_into_lib.values()]
            shut = [p for p in needed if not _others_can_enter(p)]
            if shut:
                raise IsolationError(f"the grading sandbox will not run student code as root, and nobody cannot "
                                     f"enter {shut[0]}: grade as another user, or with namespaces")
            os.chown(cfg.work, NOBODY, NOBODY)
            drop_to_nobody(done)
        return done, cfg
    # /tmp is the child's own, so folders under it are hidden already (and /tmp's parents can't be)
    hide = [h for h in cfg.hide if not (under(h, "/tmp") or under("/tmp", h))]
    libc = Libc()
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
        cfg = replace(cfg, parent=None, lib="/tmp/lib", work="/tmp/work",  # getppid() is 0 from here on
                      submission=f"/tmp/work/{os.path.basename(cfg.submission)}")
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
    return done, cfg


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


def become_process_one(cfg: ChildConfig) -> None:
    """Fork after unshare(CLONE_NEWPID): the child, process 1 of the new namespace, returns and
    goes on; this process becomes the keeper, the pid the worker knows. The keeper holds no end of
    the wire (the worker must see EOF when the child dies), waits, and ends as the child ended.
    The worker's killpg reaches both (same process group); a child that left the group still
    dies with the keeper (parent-death signal), and every process of the namespace with the child."""
    pid = os.fork()
    if pid == 0:
        return
    for fd in (cfg.req_fd, cfg.ans_fd):
        os.close(fd)
    if os.getuid() == 0:  # it only waits: nothing it does needs root, or capabilities
        drop_to_nobody({})
    else:
        Libc().drop_capabilities()
    die_with_parent(cfg.parent)  # after the change of user, which clears it
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):  # a CPU-time SIGKILL must read as one to the worker
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def build_root(libc: Libc, cfg: ChildConfig, hide: list[str]) -> str:
    """Build the child's filesystem on a fresh tmpfs and make it the root (as switch_root does:
    move it onto / and chroot): SYSTEM, the Python install (``cfg.keep``), /etc/ld.so.cache,
    DEVICES, a /proc, and /tmp with the library folder and the working folder. Of the folders in
    ``hide``, those that are visible there even so (data sets under /usr/share, the Python's
    site-packages, ...) get an empty read-only tmpfs. Returns which /proc the child has."""
    box = cfg.box
    libc.mount("tmpfs", box, "tmpfs", 0, f"mode=0755,size={cfg.limits.work_mb}m")

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
    keep = sorted({os.path.realpath(k) for k in cfg.keep})
    for k in keep:
        if not any(under(k, f) for f in system):
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
    bind(cfg.lib, "/tmp/lib")
    for name, real in cfg.bind_into_lib.items():
        libc.mount(real, f"{box}/tmp/lib/{name}", None, MS_BIND | MS_REC)
    os.makedirs(f"{box}/tmp/work")
    with open(cfg.submission, "rb") as src, open(f"{box}/tmp/work/{os.path.basename(cfg.submission)}", "wb") as dst:
        dst.write(src.read())
    for h in hide:  # a hidden folder that contains a kept one (home, say) is absent already
        if os.path.isdir(box + h) and not any(under(k, h) for k in keep):
            libc.mount("tmpfs", box + h, "tmpfs", MS_RDONLY, "mode=0755,size=4k")
    os.chdir(box)
    libc.mount(box, "/", None, MS_MOVE)
    os.chroot(".")
    os.chdir("/")
    return proc


def read_only_but(libc: Libc, writable: str) -> str:
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
        Libc().libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the rlimits still bound the orphan
        pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)
