"""``SandboxRunner``: the conformance suite's runner when grading untrusted submissions.

The worker (trusted: kit code only) draws inputs and judges answers; this runner ships each
probe call to a sandboxed child process (``graders/child.py``) over two dedicated pipes and
waits for a plain-data answer (``graders/wire.py``). Student prints never touch the pipes.

* A call that outlives its timeout kills the child's whole process group and raises
  ``ProbeFailure("timeout", ...)``; the next call starts a fresh child.
* A child that dies, or answers something malformed or too big, raises ``ProbeFailure("error")``:
  the judge then scores the check 0 (fail closed).
* A submission that cannot be loaded at all raises the same ``ProbeFailure`` for every call
  (``load_failure`` keeps it), without restarting the child each time.
* The child can forge anything it sends: every string in its answers is cut to ``MESSAGE_CAP``
  characters (one exception message must not fill the output folder), sending waits no longer
  than the call's timeout, and the isolation its hello reports is checked from outside
  (``observed_isolation``).

>>> with SandboxRunner("examples/submissions/alice.ipynb") as runner:   # doctest: +SKIP
...     runner.call("init.draw", {"kind": "he", "fan_in": 4, "fan_out": 3, "seed": 0}, timeout=5)
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from conformance.adapters import STYLES
from conformance.runner import ProbeFailure
from graders import isolation, wire
from graders.child import NOBODY, SETUP_FAILED

KIT_ROOT = Path(__file__).resolve().parent.parent
_SKIPPED_FROM_CHILD = {"judges", "plugin.py", "conftest.py", "__pycache__"}
SETTING_UP = "setting up the sandbox"  # before the child's "ready": only the kit's code has run
MESSAGE_CAP = 2000  # characters kept of any one string the child sends
HELLO_LIST_CAP = 200  # entries kept of each list in the hello (dropped cells, notes, ...)
HELLO_KEYS = {"ok", "kind", "message", "style", "detected_because", "dropped", "notes", "isolation",
              "output_dropped_chars"}  # graders/child.py's hello; anything else is dropped


@dataclass(frozen=True)
class Limits:
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
    syscall_filter: bool = True  # the child's seccomp filter (graders.child.REFUSED_SYSCALLS)


def base_site_packages() -> list[Path]:
    """The base Python's site-packages/dist-packages folders (scipy, IPython, ... live there; the
    child needs only the standard library and the numpy bound into its library folder)."""
    schemes = {sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("prefix"), "posix_prefix"}
    schemes |= {"posix_local", "deb_system"} & set(sysconfig.get_scheme_names())  # Debian's Pythons
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    found = {Path(sysconfig.get_paths(scheme, vars=base)[key]).resolve()
             for scheme in schemes for key in ("purelib", "platlib")}
    venv = Path(sys.prefix).resolve() if sys.prefix != sys.base_prefix else None  # hidden already
    return sorted(p for p in found if p.is_dir() and not (venv and p.is_relative_to(venv)))


def default_hidden(*extra: str | os.PathLike) -> list[str]:
    """Folders the child must not see: the kit, its virtualenv, home, data folders, the temporary
    folder (other workers' sandboxes hold other students' notebooks), the base Python's
    site-packages, ``extra``."""
    candidates = [KIT_ROOT, sys.prefix, Path.home(), "/usr/share/datasets", "/usr/share/doc", "/usr/local/etc",
                  tempfile.gettempdir(),
                  os.environ.get("BACKPROP_KIT_DATA"), os.environ.get("XDG_CACHE_HOME"),
                  *base_site_packages(), *extra]
    out = []
    for c in candidates:
        if c and Path(c).resolve() != Path("/"):
            out.append(str(Path(c).resolve()))
    return list(dict.fromkeys(out))


def stage_library(dest: Path, extra_probes: tuple[Path, ...] = (), own_numpy: bool = False) -> tuple[Path, list[str]]:
    """Copy what the child may import into ``dest``: the probe side of ``conformance`` (no judges,
    no plugin) and the child's own two modules. numpy is bound in (or linked) by the child, or
    with ``own_numpy`` (container mode, where the folder numpy is installed in may be closed to
    the child's user) hard-linked, else copied, into the library folder."""
    import numpy

    lib = dest / "lib"
    shutil.copytree(KIT_ROOT / "conformance", lib / "conformance",
                    ignore=lambda d, names: [n for n in names if n in _SKIPPED_FROM_CHILD
                                             or n.startswith("test_") or n.endswith(".md")])
    (lib / "bpk_sandbox").mkdir()
    (lib / "bpk_sandbox" / "__init__.py").write_text("")
    for name in ("child.py", "wire.py"):
        shutil.copy(Path(__file__).with_name(name), lib / "bpk_sandbox" / name)
    (lib / "nbformat").mkdir()  # a package, as the real one is (the loader imports nbformat.warnings)
    shutil.copy(Path(__file__).with_name("nbformat_shim.py"), lib / "nbformat" / "__init__.py")
    (lib / "nbformat" / "warnings.py").write_text(
        "class MissingIDFieldWarning(UserWarning):\n    pass\n\n\nclass DuplicateCellId(UserWarning):\n    pass\n")
    try:
        import tomllib  # noqa: F401
    except ModuleNotFoundError:  # Python 3.10: the child reads styles.toml with the tomli backport,
        import tomli  # its Python sources (a compiled wheel's modules need a library beside the package)

        shutil.copytree(Path(tomli.__file__).parent, lib / "tomli",
                        ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    names = []
    for i, path in enumerate(extra_probes):
        names.append(f"bpk_extra_probes_{i}")
        shutil.copy(path, lib / f"{names[-1]}.py")
    site = Path(numpy.__file__).resolve().parent.parent
    (dest / "links").mkdir()
    for name in ("numpy", "numpy.libs"):
        if (site / name).exists() and own_numpy:
            shutil.copytree(site / name, lib / name, copy_function=_link_or_copy,
                            ignore=shutil.ignore_patterns("__pycache__", "tests"))
        elif (site / name).exists():
            (lib / name).mkdir()  # mount point for the bind mount; an empty dir shadows nothing
            (dest / "links" / name).symlink_to(site / name)
    for d in (dest, lib):
        d.chmod(0o755)
    return lib, names


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)  # same inode: the same owner and mode, no copy of numpy's 70 MB
    except OSError:
        shutil.copy2(src, dst)


def normalise_notebook(path: Path) -> bytes:
    """A notebook as version-4 JSON when the real nbformat can read it (the child only has a
    v4 reader); anything else (a .py file, a broken notebook) unchanged, for the child's loader
    to accept or refuse with its own sentence. Parsing JSON runs none of the submission's code."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)  # discover() refused links; one swapped in since fails here
    with os.fdopen(fd, "rb") as fh:
        raw = fh.read()
    if path.suffix != ".ipynb":
        return raw
    import warnings

    import nbformat

    try:
        with warnings.catch_warnings():  # e.g. MissingIDFieldWarning: noise in every student's log
            warnings.simplefilter("ignore")
            return nbformat.writes(nbformat.reads(raw.decode("utf-8"), as_version=4)).encode()
    except Exception:  # whatever nbformat refuses, the child's loader explains
        return raw


def clip_text(text: str, cap: int = MESSAGE_CAP) -> str:
    """``text`` cut to about ``cap`` characters: its beginning (the exception and its message) and
    its last 200 (where ``describe`` names the student's line), with a marker saying what was cut."""
    if len(text) <= cap:
        return text
    head, tail = cap - 200, 200
    return f"{text[:head]} ... [{len(text) - head - tail} characters cut] ... {text[-tail:]}"


def _clip_strings(obj: Any) -> Any:
    if isinstance(obj, str):
        return clip_text(obj)
    if isinstance(obj, dict):
        return {clip_text(k): _clip_strings(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clip_strings(v) for v in obj]
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


def _children(pid: int) -> list[int]:
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
        runner = (_children(pid) or [None])[0]
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


class SandboxRunner:
    """Runs probes in a sandboxed child process; see the module docstring."""

    def __init__(self, submission: str | os.PathLike, *, style: str | None = None, limits: Limits = Limits(),
                 hide: list[str] | None = None, load_timeout: float = 30.0, default_timeout: float = 60.0,
                 extra_probes: tuple[str | os.PathLike, ...] = (), pins: dict | None = None):
        self.submission = Path(submission).resolve()
        self.pins = pins or {}  # a --map's tables, validated by the grader; the child's adapter uses them
        self.requested_style = style
        self.limits = limits
        self.hide = hide if hide is not None else default_hidden(self.submission.parent)
        self.load_timeout = load_timeout
        self.default_timeout = default_timeout
        self.root = Path(tempfile.mkdtemp(prefix="bpk-sandbox-"))
        self.contained = limits.isolation == "container"
        self.lib, self.extra_probe_modules = stage_library(self.root, tuple(Path(p) for p in extra_probes),
                                                           own_numpy=self.contained)
        if self.contained:  # its user may pass through to lib/ and its own work/, list nothing
            self.root.chmod(0o711)
        self.uid: int | None = None  # container mode: the current child's user of its own
        self.watch: WorkWatch | None = None
        self.proc: subprocess.Popen | None = None
        self.hello: dict | None = None
        self.load_failure: ProbeFailure | None = None
        self.children_started = 0
        self.events: list[str] = []  # one sentence per timeout/crash, for the feedback

    # --- the Runner protocol ------------------------------------------------------------
    @property
    def style(self) -> str:
        hello = self.ensure_started()
        return hello.get("style", self.requested_style or "unknown") if hello else (self.requested_style or "unknown")

    def call(self, probe: str, inputs: dict, timeout: float | None = None) -> dict:
        if self.ensure_started() is None:
            raise self.load_failure
        timeout = timeout or self.default_timeout
        deadline = time.monotonic() + timeout  # sending and answering, together
        try:
            wire.send(self._req_w, {"probe": probe, "inputs": inputs}, deadline=deadline)
        except TimeoutError:  # e.g. the child filled its own request pipe (reopened via /proc/self/fd)
            self._kill()
            message = f"{probe} was stopped: the submission's process took no inputs for {timeout:g} s"
            self.events.append(message)
            raise ProbeFailure("timeout", message) from None
        except (BrokenPipeError, OSError):
            raise self._died(probe) from None
        except wire.WireError as exc:
            raise ProbeFailure("error", f"the kit could not send inputs for {probe}: {exc}") from None
        answer = self._read(timeout, probe, deadline)
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            self._kill()
            raise ProbeFailure("error", f"the sandbox sent a malformed answer for {probe}")
        if answer["ok"]:
            outputs = answer.get("outputs")
            if not isinstance(outputs, dict):
                raise ProbeFailure("error", f"{probe} returned {type(outputs).__name__}, not a dict of outputs")
            return outputs
        kind = answer.get("kind") if answer.get("kind") in ("missing", "error") else "error"
        raise ProbeFailure(kind, clip_text(str(answer.get("message", ""))))

    # --- child management ---------------------------------------------------------------
    def ensure_started(self) -> dict | None:
        """Start a child if none runs; return its hello, or None when the submission won't load."""
        if self.load_failure is not None:
            return None
        if self.proc is not None and self.proc.poll() is None:
            return self.hello
        self._spawn()
        try:
            ready = self._read(self.load_timeout, SETTING_UP)  # sent before any student code runs
            if ready != {"ready": True}:
                self._kill()
                raise ProbeFailure("error", "the sandbox sent a malformed answer while setting up")
            hello = self._read(self.load_timeout, "loading the submission")
        except ProbeFailure as exc:
            self.load_failure = exc
            return None
        hello = self._checked_hello(hello)
        if hello.get("ok") is not True:
            message = clip_text(str(hello.get("message") or "the submission could not be loaded"))
            self.load_failure = ProbeFailure("error", message)
            self.hello = hello
            self._kill()
            return None
        self.hello = hello
        return hello

    def _checked_hello(self, hello: Any) -> dict:
        """The hello with only its known keys, lists cut to ``HELLO_LIST_CAP`` entries, and the
        isolation it reports checked against what the grader sees of the child (``observed_isolation``)."""
        if not isinstance(hello, dict):
            hello = {"ok": False, "message": "the sandbox's hello is not a dict"}
        hello = {k: v for k, v in hello.items() if k in HELLO_KEYS}
        if hello.get("style") not in (*STYLES, self.requested_style):  # it names a rubric file and a CSV cell
            if "style" in hello:
                self.events.append(f"the sandbox named an unknown style {clip_text(str(hello['style']), 80)!r}; ignored")
            hello.pop("style", None)  # then the requested style, or "unknown"
        for key, value in list(hello.items()):
            if isinstance(value, list) and len(value) > HELLO_LIST_CAP:
                hello[key] = value[:HELLO_LIST_CAP]
                self.events.append(f"the sandbox listed {len(value)} {key}; the first {HELLO_LIST_CAP} are kept")
        if self.proc is not None:
            hello["isolation"], fixes = reconcile_isolation(hello.get("isolation"), observed_isolation(self.proc.pid))
            self.events += fixes
        return hello

    def _spawn(self) -> None:
        self.children_started += 1
        box = self.root / f"child-{self.children_started}"
        for d in ("box", "work"):
            (box / d).mkdir(parents=True)
        (box / "work" / self.submission.name).write_bytes(normalise_notebook(self.submission))
        if self.contained:
            self.uid = isolation.sandbox_uid(self.children_started)
            box.chmod(0o711)
            os.chown(box / "work", self.uid, self.uid)
            (box / "work").chmod(0o700)
        req_r, self._req_w = os.pipe()
        self._ans_r, ans_w = os.pipe()
        cfg = {
            "req_fd": req_r, "ans_fd": ans_w, "parent": os.getpid(), "limits": asdict(self.limits), "style": self.requested_style,
            "box": str(box / "box"), "lib": str(self.lib), "work": str(box / "work"),
            "submission": str(box / "work" / self.submission.name), "submission_name": self.submission.name,
            "bind_into_lib": {p.name: str(p.resolve()) for p in (self.root / "links").iterdir()},
            "links": str(self.root / "links"), "hide": self.hide, "hide_extra": [str(self.root)],
            "keep": list(dict.fromkeys([sys.base_prefix, sys.base_exec_prefix])),
            "extra_probes": self.extra_probe_modules, "output_cap": self.limits.output_cap, "pins": self.pins,
            "uid": self.uid,
        }
        stub = "import sys; sys.path.insert(0, %r); from bpk_sandbox.child import main; main(sys.argv[1:])" % str(self.lib)
        self._stderr_path = box / "stderr.txt"
        with open(self._stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [os.path.realpath(sys.executable), "-I", "-S", "-B", "-c", stub, json.dumps(cfg)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, pass_fds=(req_r, ans_w),
                cwd=box / "work", env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
                                       "OPENBLAS_NUM_THREADS": "1"},
                start_new_session=True, close_fds=True)
        os.close(req_r)
        os.close(ans_w)
        os.set_blocking(self._req_w, False)  # wire.send waits for room only until the call's deadline
        self._box = box
        if self.contained:  # no tmpfs to cap its folder: the worker measures it and stops the child
            self.watch = WorkWatch(box / "work", self.limits.work_mb, self.proc.pid)

    def _read(self, timeout: float, what: str, deadline: float | None = None) -> Any:
        """The child's next message, every string in it cut to ``MESSAGE_CAP`` characters."""
        reader = wire.Reader(self._ans_r, self.limits.answer_cap_mb * 1024 * 1024)
        try:
            return _clip_strings(reader.read(deadline=deadline or time.monotonic() + timeout))
        except TimeoutError:
            self._kill()
            self.events.append(f"{what} ran longer than {timeout:g} s and was stopped")
            raise ProbeFailure("timeout", f"{what} ran longer than {timeout:g} s and was stopped") from None
        except EOFError:
            raise self._died(what) from None
        except (wire.WireError, ValueError, RecursionError) as exc:
            self._kill()
            raise ProbeFailure("error", f"the sandbox answered {what} with malformed data ({exc})") from None

    def _died(self, what: str) -> ProbeFailure:
        if self.proc is not None:
            self.proc.wait()
        lines = self._stderr_lines()
        tail, last = " ".join(lines[-6:])[-300:], (lines or [""])[-1][-MESSAGE_CAP:]
        over = self.watch is not None and self.watch.over
        code = self._kill()  # removes the box, stderr.txt with it
        if over:
            kind, message = "error", (f"the submission wrote more than {self.limits.work_mb} MB in its working "
                                      f"folder during {what} and was stopped")
        elif what == SETTING_UP and code == SETUP_FAILED and last.startswith("the grading sandbox"):
            kind, message = "error", last  # no student code ran yet: the sentence is the sandbox's own
        else:
            if code in (-signal.SIGXCPU, -signal.SIGKILL) and code is not None:
                kind, how = "timeout", "ran out of CPU time"
            else:
                kind, how = "error", f"exited (code {code}) without answering"
            message = f"the submission's process {how} during {what}" + (f": {tail}" if tail else "")
        self.events.append(message)
        failure = ProbeFailure(kind, message)
        failure.crashed = True  # the worker's budget counts these (a restart per call adds up)
        return failure

    def _stderr_lines(self) -> list[str]:
        """The last lines of the child's stderr (its last 4 KB)."""
        try:
            return self._stderr_path.read_bytes()[-4096:].decode(errors="replace").strip().splitlines()
        except OSError:
            return []

    def _kill(self) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        # The keeper's child first (process 1 of the sandbox's PID namespace: all the rest die with
        # it), by pid: it may have left the process group. While the keeper lives, its child's pid
        # can't be reused.
        for pid in _children(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        code = proc.wait()
        if self.watch is not None:
            self.watch.stop()
        if self.uid is not None:
            sweep_shared_folders(self.uid)
        for fd in (self._req_w, self._ans_r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._box, ignore_errors=True)
        return code

    def close(self) -> None:
        self._kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "SandboxRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
