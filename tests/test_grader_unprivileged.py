"""The grader run by an unprivileged user, as instructors run it.

The other grader suites run as root here, where the child only unshares its network and mount
namespaces and then becomes ``nobody``. An unprivileged grader takes the other path: the child
must create a user namespace to get those two, and it stays the grader's own uid. This module
grades a small batch with the real command line (``python -m graders grade ... --jobs 1``) as
uid 65534 (``setpriv --reuid=65534 --regid=65534 --clear-groups`` when pytest runs as root,
directly when it runs as anyone else) and asserts what the root suites assert: the correct
submission earns what it earns as root, the hostile cases of tests/hostile/cases.py get their
rows, every child reports its namespaces (no silent fallback to the audit hook) and holds no
capabilities, and nothing outside the sandbox changes.

Without ``setpriv`` or unprivileged user namespaces the module is skipped, naming the command
that failed; ``BACKPROP_KIT_REQUIRE_SANDBOX=1`` (CI) turns that skip into a failure.
"""
from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from conftest import REPO, REQUIRE_SANDBOX_ENV, skip_or_fail
from hostile.cases import (CASES, ESCAPES, Case, Listener, base_cells, escaped_files, forward, notebook_v4, orphans,
                           processes_mentioning, write_all)
from test_grader_hostile import FENCED, _assert_row

NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
NAMESPACES = ["unshare", "--user", "--map-root-user", "--net", "--mount", "true"]
# network, reading the instructor's files, writing outside the box, fork bomb, memory hog, and
# what runs past the audit hook (on this path `kill -9 -1` would reach the grader itself)
PICKED = ("correct", "socket_connect", "read_fixtures", "overwrite_canary", "fork_bomb", "alloc_50gb", *ESCAPES)
# The fence must not rest on the audit hook alone: a child holding CAP_SYS_ADMIN in its user
# namespace could unmount the tmpfs that hides the kit, the submissions and the output folder.
NO_CAPABILITIES = Case("no_capabilities", "ok", "pass", extra=forward(
    "with open('/proc/self/status') as status:\n"
    "    effective = next(line for line in status if line.startswith('CapEff'))\n"
    "if int(effective.split()[1], 16):\n"
    "    raise PermissionError('the sandbox left this submission capabilities: ' + effective)\n"
    "return super().forward(x)"))
# The child runs as the grader's own uid, so no same-uid path into another mount namespace (a
# /proc/<pid>/root of the worker or the grader, where the kit is not hidden) may be open to it.
WORKER_ROOT = Case("worker_root", "ok", "pass", extra=forward(
    "import os\n"
    "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
    "    try:\n"
    "        open('/proc/%s/root{kit}/fixtures/appendix_a.json' % pid).read()\n"
    "    except OSError:\n"
    "        continue\n"
    "    raise RuntimeError('read the kit through /proc/%s/root' % pid)\n"
    "return super().forward(x)").format(kit=REPO))
GRADED = [c for c in CASES if c.name in PICKED] + [NO_CAPABILITIES, WORKER_ROOT]
# The grader re-runs its interpreter for each worker and for each child (realpath, -I -S):
# an interpreter the unprivileged user can start but not restart would fail every row.
CAN_GRADE = ("import os, subprocess, sys, graders.cli\n"
             "subprocess.run([sys.executable, '-c', 'import graders.worker'], check=True)\n"
             "subprocess.run([os.path.realpath(sys.executable), '-I', '-S', '-c', ''], check=True)")


def _probe(cmd: list[str], **kwargs) -> str | None:
    """None when ``cmd`` succeeds, else one sentence saying how it failed."""
    shown = " ".join("'...'" if "\n" in a else a for a in cmd)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kwargs)
    except OSError as exc:
        return f"`{shown}` could not start ({exc})"
    tail = (proc.stderr.strip().splitlines() or [""])[-1]
    return None if proc.returncode == 0 else f"`{shown}` failed ({tail})"


def _interpreter(prefix: list[str], root: Path, env: dict) -> str:
    """A Python the grading user can run and re-run with the kit importable: this one, or else
    (a venv whose base Python sits in a folder only root may enter, as here) a throwaway venv
    on the system Python of the same version that sees this venv's packages through a .pth."""
    if _probe(prefix + [sys.executable, "-c", CAN_GRADE], env=env) is None:
        return sys.executable
    system = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}", path="/usr/local/bin:/usr/bin")
    venv = root / "venv"
    if system:
        subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
        site = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        (site / "backprop_kit_packages.pth").write_text(
            f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
        failed = _probe(prefix + [str(venv / "bin" / "python"), "-c", CAN_GRADE], env=env)
        if failed is None:
            return str(venv / "bin" / "python")
    skip_or_fail(f"uid {NOBODY} cannot run {sys.executable} with the kit importable, nor a same-version system "
                 f"Python; install the kit in a virtualenv that uid can read", require=REQUIRE_SANDBOX_ENV)


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode() + (path.read_bytes() if path.is_file() else b"/"))
    return digest.hexdigest()


def _grade(prefix: list[str], python: str, submissions: Path, out: Path, env: dict,
           args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    cmd = prefix + [python, "-m", "graders", "grade", str(submissions), "--out", str(out), "--jobs", "1",
                    "--timeout", "5", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=submissions.parent, env=env)


def _records(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/record.json")}


def _grading_user() -> tuple[list[str], int, bool]:
    """(command prefix, uid, whether pytest runs as root) to grade as an unprivileged user."""
    as_root = os.getuid() == 0
    if as_root and shutil.which("setpriv") is None:
        skip_or_fail("setpriv (util-linux) is not installed, so the grader cannot be run as an unprivileged "
                     "user here", require=REQUIRE_SANDBOX_ENV)
    prefix = AS_NOBODY if as_root else []
    failed = _probe(prefix + NAMESPACES)
    if failed:
        skip_or_fail(f"{failed}: this kernel refuses user namespaces to unprivileged users",
                     require=REQUIRE_SANDBOX_ENV)
    return prefix, NOBODY if as_root else os.getuid(), as_root


@pytest.fixture(scope="module")
def batch():
    root = Path(tempfile.mkdtemp(prefix="bpk-unprivileged-"))
    try:
        yield _run_batch(root, *_grading_user())
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def fallback_batch():
    """The cases only a fence stops, graded with --audit-hook-only: the audit hook and the syscall
    filter alone, as on a kernel that refuses user namespaces."""
    root = Path(tempfile.mkdtemp(prefix="bpk-unprivileged-"))
    try:
        yield _run_batch(root, *_grading_user(), only=FENCED, extra=(), args=("--audit-hook-only",))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run_batch(root: Path, prefix: list[str], uid: int, as_root: bool, only: tuple[str, ...] = PICKED,
               extra: tuple[Case, ...] = (NO_CAPABILITIES, WORKER_ROOT), args: tuple[str, ...] = ()) -> dict:
    root.chmod(0o755)  # mkdtemp's 0700 would shut the grading user out
    canary = root / "outside" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text("still here")
    listener = Listener()
    port = listener.port
    subs = root / "submissions"
    write_all(subs, port=port, canary=canary, only=only)
    for case in extra:
        (subs / f"{case.name}.ipynb").write_text(json.dumps(notebook_v4(base_cells() + [case.extra])))
    private_tmp = root / "tmp"  # every temporary folder of the grader, its workers and sandboxes
    private_tmp.mkdir()
    if as_root:  # the grading user owns what it may write, the canary too: only the fence protects it
        for path in (canary.parent, canary, private_tmp):
            os.chown(path, uid, uid)
    user = pwd.getpwuid(uid)
    env = {**os.environ, "HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name,
           "TMPDIR": str(private_tmp), "OMP_NUM_THREADS": "1"}
    python = _interpreter(prefix, root, env)
    submitted = _tree_digest(subs)
    out = root / "out"
    out.mkdir()
    if as_root:
        os.chown(out, uid, uid)
    proc = _grade(prefix, python, subs, out, env, args)
    connection = listener.reached()
    as_root_record = None
    if as_root and not args:  # the same correct submission graded on the root path, for the score to match
        alone = root / "correct-alone"
        alone.mkdir()
        shutil.copy(subs / "correct.ipynb", alone)
        _grade([], sys.executable, alone, root / "out-root", {**os.environ, "OMP_NUM_THREADS": "1"})
        as_root_record = _records(root / "out-root").get("correct")
    return {"proc": proc, "records": _records(out), "out": out, "uid": uid, "as_root_record": as_root_record,
            "canary": canary, "connection": connection, "port": port, "private_tmp": private_tmp, "root": root,
            "submissions_changed": _tree_digest(subs) != submitted}


def test_unprivileged_batch_completes_with_a_row_per_submission(batch):
    assert batch["proc"].returncode == 0, batch["proc"].stderr[-2000:]
    rows = (batch["out"] / "gradebook.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == sorted(c.name for c in GRADED)


def test_correct_submission_scores_as_it_does_on_the_root_path(batch):
    record = batch["records"]["correct"]
    assert record["status"] == "ok"
    # every component passes but autograd: the correct submission builds no autograd engine
    assert {c: e["verdict"] for c, e in record["components"].items()} == {
        **dict.fromkeys(record["components"], "pass"), "autograd": "missing"}
    assert record["score"] == record["max_score"] > 0
    if batch["as_root_record"] is not None:
        reference = batch["as_root_record"]
        assert reference["isolation"]["user"] == "nobody"  # it really took the root path
        assert (record["status"], record["score"]) == (reference["status"], reference["score"])
        assert {c: e["score"] for c, e in record["components"].items()} == {
            c: e["score"] for c, e in reference["components"].items()}


@pytest.mark.parametrize("case", GRADED, ids=lambda c: c.name)
def test_unprivileged_case_gets_its_expected_row(batch, case):
    _assert_row(batch["records"][case.name], case)


def test_unprivileged_children_were_in_namespaces_without_capabilities(batch):
    """Unshare was probed to work here: a child on the audit hook alone is a silent fallback."""
    isolation = {name: r["isolation"] for name, r in batch["records"].items()}
    assert len(isolation) == len(GRADED)
    for name, iso in isolation.items():
        assert iso is not None, f"{name}: the child never said how it was isolated"
        assert iso["network"].startswith("network namespace"), (name, iso)
        assert iso["filesystem"].startswith("mount namespace"), (name, iso)
        assert iso["user"] == f"{batch['uid']} (no capabilities)", (name, iso)
        assert iso["processes"] == "PID namespace (process 1, fresh /proc)", (name, iso)
        assert iso["syscalls"].startswith("seccomp"), (name, iso)
        assert iso["filesystem"].endswith("; read-only but /tmp/work)"), (name, iso)


def test_unprivileged_batch_has_no_effect_outside_the_sandbox(batch):
    assert batch["canary"].read_text() == "still here"
    assert not batch["connection"], "a sandboxed submission reached a socket on 127.0.0.1"
    assert not batch["submissions_changed"], "the submissions folder changed during grading"
    assert processes_mentioning(str(batch["root"])) == []
    assert orphans(batch["port"]) == [], "a process started past the audit hook outlived its grading"
    assert escaped_files(batch["canary"], batch["port"]) == [], "code past the audit hook wrote outside its folder"
    assert list(batch["private_tmp"].iterdir()) == []  # every worker and sandbox folder was removed
    assert sorted(p.name for p in batch["out"].iterdir()) == sorted(
        ["gradebook.csv", "summary.json", "report.html", *(c.name for c in GRADED)])


@pytest.mark.parametrize("audit_hook_only", [False, True], ids=["fails_closed", "audit_hook_only"])
def test_root_without_namespaces_never_runs_student_code(tmp_path, audit_hook_only):
    """Root without CAP_SYS_ADMIN (a container's default, say) cannot unshare: asked for namespaces,
    no student code runs (container mode is what --isolation auto picks there:
    tests/test_grader_container.py), nor behind the audit hook alone, unless the instructor said
    --audit-hook-only, and then not as root
    either (nobody cannot enter the grader's 0700 temporary folders here): each row says which."""
    if os.getuid() != 0 or shutil.which("setpriv") is None:
        skip_or_fail("needs root and setpriv to take CAP_SYS_ADMIN away from the grader", require=REQUIRE_SANDBOX_ENV)
    subs = tmp_path / "submissions"
    subs.mkdir()
    (subs / "correct.ipynb").write_text(json.dumps(notebook_v4(base_cells())))
    out = tmp_path / "out"
    cmd = ["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", sys.executable, "-m", "graders", "grade",
           str(subs), "--out", str(out), "--jobs", "1", "--timeout", "5",
           *(["--audit-hook-only"] if audit_hook_only else ["--isolation", "namespaces"])]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = _records(out)["correct"]
    assert record["status"] == "error" and record["score"] == 0
    if audit_hook_only:
        assert record["error"].startswith("the grading sandbox will not run student code as root")
    else:
        assert record["error"].startswith("the grading sandbox could not create its namespaces")
        assert "--audit-hook-only" in record["error"]


@pytest.mark.parametrize("case", [c for c in CASES if c.name in FENCED], ids=lambda c: c.name)
def test_unprivileged_case_behind_the_audit_hook_only_gets_its_row(fallback_batch, case):
    record = fallback_batch["records"][case.name]
    assert record["isolation"]["network"] == "audit hook only"
    assert record["isolation"]["syscalls"].startswith("seccomp")
    _assert_row(record, case)


def test_audit_hook_only_batch_has_no_effect_outside(fallback_batch):
    assert fallback_batch["proc"].returncode == 0, fallback_batch["proc"].stderr[-2000:]
    assert fallback_batch["canary"].read_text() == "still here"
    assert not fallback_batch["connection"]
    assert processes_mentioning(str(fallback_batch["root"])) == []
