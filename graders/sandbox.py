"""``SandboxRunner``: the conformance suite's runner when grading untrusted submissions.

The worker (trusted: kit code only) draws inputs and judges answers; this runner ships each
probe call to a sandboxed child process (``graders/serve.py``) over two dedicated pipes and
waits for a plain-data answer (``graders/messages.py``, framed by ``graders/wire.py``). Student
prints never touch the pipes.

* A call that outlives its timeout kills the child's whole process group and raises
  ``ProbeFailure("timeout", ...)``; the next call starts a fresh child.
* A child that dies, or answers something malformed or too big, raises ``ProbeFailure("error")``:
  the judge then scores the check 0 (fail closed).
* A submission that cannot be loaded at all raises the same ``ProbeFailure`` for every call
  (``load_failure`` keeps it), without restarting the child each time.
* The child can forge anything it sends: every string in its answers is cut to ``MESSAGE_CAP``
  characters (one exception message must not fill the output folder), sending waits no longer
  than the call's timeout, and the isolation its hello reports is checked from outside
  (``graders.observe``).

>>> with SandboxRunner("examples/submissions/alice.ipynb") as runner:   # doctest: +SKIP
...     runner.call("init.draw", {"kind": "he", "fan_in": 4, "fan_out": 3, "seed": 0}, timeout=5)
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from conformance.adapters import STYLES
from conformance.runner import ProbeFailure
from graders import isolation, wire
from graders.messages import READY, SETUP_FAILED, Answer, ChildConfig, Hello, Limits, MessageError, Request
from graders.observe import (MESSAGE_CAP, WorkWatch, children_of, clip_strings, clip_text, observed_isolation,
                             reconcile_isolation, sweep_shared_folders)
from graders.staging import default_hidden, normalise_notebook, stage_library

SETTING_UP = "setting up the sandbox"  # before the child's READY: only the kit's code has run
HELLO_LIST_CAP = 200  # entries kept of each list in the hello (dropped cells, notes, ...)


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
        self.hello: Hello | None = None
        self.load_failure: ProbeFailure | None = None
        self.children_started = 0
        self.events: list[str] = []  # one sentence per timeout/crash, for the feedback

    # --- the Runner protocol ------------------------------------------------------------
    @property
    def style(self) -> str:
        hello = self.ensure_started()
        return (hello and hello.style) or self.requested_style or "unknown"

    def call(self, probe: str, inputs: dict, timeout: float | None = None) -> dict:
        if self.ensure_started() is None:
            raise self.load_failure
        timeout = timeout or self.default_timeout
        deadline = time.monotonic() + timeout  # sending and answering, together
        try:
            wire.send(self._req_w, Request(probe, inputs or {}).to_wire(), deadline=deadline)
        except TimeoutError:  # e.g. the child filled its own request pipe (reopened via /proc/self/fd)
            self._kill()
            message = f"{probe} was stopped: the submission's process took no inputs for {timeout:g} s"
            self.events.append(message)
            raise ProbeFailure("timeout", message) from None
        except (BrokenPipeError, OSError):
            raise self._died(probe) from None
        except (wire.WireError, MessageError) as exc:
            raise ProbeFailure("error", f"the kit could not send inputs for {probe}: {exc}") from None
        try:
            answer = Answer.from_wire(self._read(timeout, probe, deadline))
        except MessageError as exc:
            self._kill()
            raise ProbeFailure("error", f"the sandbox sent a malformed answer for {probe} ({exc})") from None
        if answer.ok and answer.outputs is not None:
            return answer.outputs
        if answer.ok:
            raise ProbeFailure("error", f"{probe} returned None, not a dict of outputs")
        raise ProbeFailure(answer.kind if answer.kind in ("missing", "error") else "error",
                           clip_text(answer.message or ""))

    # --- child management ---------------------------------------------------------------
    def ensure_started(self) -> Hello | None:
        """Start a child if none runs; return its hello, or None when the submission won't load."""
        if self.load_failure is not None:
            return None
        if self.proc is not None and self.proc.poll() is None:
            return self.hello
        self._spawn()
        try:
            ready = self._read(self.load_timeout, SETTING_UP)  # sent before any student code runs
            if ready != READY:
                self._kill()
                raise ProbeFailure("error", "the sandbox sent a malformed answer while setting up")
            hello = self._checked_hello(self._read(self.load_timeout, "loading the submission"))
        except ProbeFailure as exc:
            self.load_failure = exc
            return None
        self.hello = hello
        if not hello.ok:
            self.load_failure = ProbeFailure("error", clip_text(hello.message or "the submission could not be loaded"))
            self._kill()
            return None
        return hello

    def _checked_hello(self, sent: Any) -> Hello:
        """The hello, or a failed one saying why it does not fit ``Hello``; its lists cut to
        ``HELLO_LIST_CAP`` entries, and the isolation it reports checked against what the grader
        sees of the child (``observed_isolation``)."""
        try:
            hello = Hello.from_wire(sent)
        except MessageError as exc:
            hello = Hello(ok=False, message=f"the sandbox's hello is malformed: {exc}")
        if hello.style not in (*STYLES, self.requested_style):  # it names a rubric file and a CSV cell
            if hello.style is not None:
                self.events.append(f"the sandbox named an unknown style {clip_text(hello.style, 80)!r}; ignored")
            hello = dataclasses.replace(hello, style=None)  # then the requested style, or "unknown"
        for key in ("detected_because", "dropped", "notes"):
            value = getattr(hello, key)
            if len(value) > HELLO_LIST_CAP:
                hello = dataclasses.replace(hello, **{key: value[:HELLO_LIST_CAP]})
                self.events.append(f"the sandbox listed {len(value)} {key}; the first {HELLO_LIST_CAP} are kept")
        if self.proc is not None:
            isolation, fixes = reconcile_isolation(hello.isolation, observed_isolation(self.proc.pid))
            hello = dataclasses.replace(hello, isolation=isolation)
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
        cfg = ChildConfig(
            req_fd=req_r, ans_fd=ans_w, parent=os.getpid(), limits=self.limits, style=self.requested_style,
            box=str(box / "box"), lib=str(self.lib), work=str(box / "work"),
            submission=str(box / "work" / self.submission.name),
            bind_into_lib={p.name: str(p.resolve()) for p in (self.root / "links").iterdir()},
            links=str(self.root / "links"), hide=self.hide, hide_extra=[str(self.root)],
            keep=list(dict.fromkeys([sys.base_prefix, sys.base_exec_prefix])),
            extra_probes=self.extra_probe_modules, pins=self.pins, uid=self.uid)
        stub = ("import sys; sys.path.insert(0, %r); from bpk_sandbox.serve import main; "
                "main(sys.argv[1:])" % str(self.lib))
        self._stderr_path = box / "stderr.txt"
        with open(self._stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [os.path.realpath(sys.executable), "-I", "-S", "-B", "-c", stub, json.dumps(cfg.to_wire())],
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
            return clip_strings(reader.read(deadline=deadline or time.monotonic() + timeout))
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
        return ProbeFailure(kind, message, crashed=True)  # the worker's budget counts crashes

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
        for pid in children_of(proc.pid):
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
