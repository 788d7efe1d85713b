"""Container isolation (``--isolation container``, or ``auto`` where namespaces are refused).

Inside Docker's default profile, or on Gradescope, the grader is root without CAP_SYS_ADMIN: it
cannot create the sandbox's namespaces. This module denies them the same way, running the grader
under ``setpriv --bounding-set=-sys_admin``, and then grades

* the hostile suite of tests/hostile/cases.py plus two container cases: every case gets the row
  it gets with namespaces; the canary, the kit's files and the submissions are untouched, no
  socket is reached and nothing the children started outlives the batch;
* the example class: the same status, score and verdict per component as with namespaces.

Container mode refuses to start while a sandbox's user could read the kit or the data sets, so
these batches close the checkout and ``/usr/share/datasets`` to other users while they run
(``closed_to_others``) and then restore their modes. The unit tests at the end need no root.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO, REQUIRE_SANDBOX_ENV, skip_or_fail
from graders import isolation
from graders.grade import Options, grade_all
from graders.observe import WorkWatch, sweep_shared_folders
from hostile.cases import (CASES, Case, Listener, base_cells, escaped_files, forward, notebook_v4, orphans,
                           processes_mentioning, write_all)
from test_grader_hostile import LIMITS, _assert_row
from test_grader_unprivileged import AS_NOBODY, _interpreter, _tree_digest

WITHOUT_SYS_ADMIN = ["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin"]
EXAMPLES = REPO / "examples" / "submissions"
# Without a tmpfs of its own, the working folder is capped by the worker's measuring (64 MB here).
FILL_WORK = Case("fill_work", "ok", "error", says="wrote more than 64 MB in its working folder", extra=forward(
    "import time\nfor i in range(6):\n    with open(f'big{i}.bin', 'wb') as fh:\n        fh.write(b'x' * 15_000_000)\n"
    "time.sleep(3)\nreturn super().forward(x)"))
# Each child is a user of its own: kill(-1) reaches its own process only, never another sandbox.
OWN_USER = Case("own_user", "ok", "pass", extra=forward(
    "import os\nuid = os.getuid()\nif uid in (0, 65534) or uid < 100000:\n"
    "    raise PermissionError(f'the sandbox runs this submission as uid {uid}')\n"
    "with open('/proc/self/status') as status:\n"
    "    effective = next(line for line in status if line.startswith('CapEff'))\n"
    "if int(effective.split()[1], 16):\n    raise PermissionError('capabilities left: ' + effective)\n"
    "return super().forward(x)"))
GRADE = ("import json, sys\nfrom pathlib import Path\nfrom graders.grade import Options, grade_all\n"
         "o = json.loads(sys.argv[1])\n"
         "grade_all(Options(Path(o['subs']), Path(o['out']), jobs=2, timeout=o['timeout'], limits=o['limits'],\n"
         "                  pytest_args=o['pytest_args'], isolation=o['isolation'], hide=o['hide']))\n")


def _needs_root_without_namespaces() -> None:
    if os.getuid() != 0 or shutil.which("setpriv") is None:
        skip_or_fail("container isolation is tested as root, with setpriv to take CAP_SYS_ADMIN away from the "
                     "grader", require=REQUIRE_SANDBOX_ENV)
    denied = subprocess.run([*WITHOUT_SYS_ADMIN, "unshare", "--mount", "--net", "true"], capture_output=True)
    assert denied.returncode != 0, "without CAP_SYS_ADMIN, root could still create namespaces here"


@contextlib.contextmanager
def closed_to_others(*paths: Path):
    """Take read, write and search away from other users on ``paths`` (those that exist), and give
    each its mode back afterwards."""
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in paths if p.exists()}
    try:
        for p, mode in modes.items():
            p.chmod(mode & ~0o007)
        yield
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def _private_tmp() -> Path:
    """A temporary folder the sandboxes' users may pass through (0711, in the system's /tmp)."""
    folder = Path(tempfile.mkdtemp(prefix="bpk-container-", dir="/tmp"))
    folder.chmod(0o711)
    return folder


def _grade_without_namespaces(python: str, subs: Path, out: Path, tmp: Path, *, isolation_mode: str = "auto",
                              pytest_args: list[str] = (), timeout: float = 5, limits: dict | None = None,
                              hide: list[str] = ()):
    job = {"subs": str(subs), "out": str(out), "timeout": timeout, "limits": limits or {},
           "pytest_args": list(pytest_args), "isolation": isolation_mode, "hide": list(hide)}
    env = {**os.environ, "TMPDIR": str(tmp), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([*WITHOUT_SYS_ADMIN, python, "-c", GRADE, json.dumps(job)], capture_output=True,
                          text=True, timeout=900, cwd=tmp, env=env)


def _kit_digest() -> str:
    digest = hashlib.sha256()
    for folder in ("reference", "fixtures", "conformance", "graders"):
        digest.update(_tree_digest(REPO / folder).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def python():
    """A Python a sandbox's user can run, with the kit importable (this one, or a venv on the
    system's Python of the same version when this one sits under a folder closed to others)."""
    _needs_root_without_namespaces()
    root = Path(tempfile.mkdtemp(prefix="bpk-interpreter-", dir="/tmp"))
    root.chmod(0o755)  # where other users can run the venv it may hold
    try:
        yield _interpreter(AS_NOBODY, root, {**os.environ, "OMP_NUM_THREADS": "1"})
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def batch(python, tmp_path_factory):
    root = tmp_path_factory.mktemp("container")  # 0700: the canary and submissions are root's alone
    canary = root / "outside" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text("still here")
    listener = Listener()
    subs = root / "submissions"
    cases = write_all(subs, port=listener.port, canary=canary)
    for case in (FILL_WORK, OWN_USER):
        (subs / f"{case.name}.ipynb").write_text(json.dumps(notebook_v4(base_cells() + [case.extra])))
    submitted, kit = _tree_digest(subs), _kit_digest()
    tmp = _private_tmp()
    try:
        with closed_to_others(REPO, Path("/usr/share/datasets")):
            proc = _grade_without_namespaces(python, subs, root / "out", tmp, pytest_args=["-k", "linear or relu"],
                                             limits=LIMITS)
        left_in_tmp = sorted(p.name for p in tmp.iterdir())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    records = {p.parent.name: json.loads(p.read_text()) for p in (root / "out").glob("*/record.json")}
    return {"proc": proc, "records": records, "cases": cases, "canary": canary, "port": listener.port,
            "connection": listener.reached(), "submissions_changed": _tree_digest(subs) != submitted,
            "kit_changed": _kit_digest() != kit, "left_in_tmp": left_in_tmp, "tmp": tmp,
            "summary": json.loads((root / "out" / "summary.json").read_text())}


def test_auto_chooses_container_mode_and_says_so_once(batch):
    assert batch["proc"].returncode == 0, batch["proc"].stderr[-2000:]
    assert batch["summary"]["isolation"]["mode"] == "container"
    assert batch["summary"]["isolation"]["why"].startswith("auto: namespaces refused")


@pytest.mark.parametrize("case", [*CASES, FILL_WORK, OWN_USER], ids=lambda c: c.name)
def test_hostile_case_in_container_mode_gets_its_expected_row(batch, case):
    _assert_row(batch["records"][case.name], case)


def test_every_loaded_child_was_contained(batch):
    """Each child that loaded says container mode, a user of its own without capabilities, the
    syscall filter, and Landlock or why not; the grader saw the same from outside (no correction
    among the events)."""
    loaded = [r for r in batch["records"].values() if r["isolation"]]
    assert len(loaded) >= len(CASES) - 3
    users = set()
    for record in loaded:
        seen = record["isolation"]
        assert seen["mode"] == "container"
        assert seen["user"].endswith("(no capabilities; a user of its own)"), seen
        users.add(int(seen["user"].split()[0]))
        assert seen["syscalls"].startswith("seccomp")
        assert "Landlock ABI" in seen["filesystem"] or "no Landlock" in seen["filesystem"]
        assert not any("but the grader sees" in e for e in record["events"]), record["events"]
    assert min(users) >= isolation.UID_BASE


def test_container_batch_has_no_effect_outside(batch):
    assert batch["canary"].read_text() == "still here"
    assert not batch["connection"], "a sandboxed submission reached a socket on 127.0.0.1"
    assert not batch["submissions_changed"] and not batch["kit_changed"]
    assert processes_mentioning(str(batch["tmp"])) == []
    assert orphans(batch["port"]) == [], "a process started past the audit hook outlived its grading"
    assert escaped_files(batch["canary"], batch["port"]) == []
    assert batch["left_in_tmp"] == []  # every worker and sandbox folder was removed


def test_example_class_gets_the_same_grades_in_container_mode(python, tmp_path):
    """Verdict, diagnosis and score of every component, status and score of every row: the same
    as with namespaces."""
    subs = tmp_path / "class"
    shutil.copytree(EXAMPLES, subs)
    records, _ = grade_all(Options(subs, tmp_path / "namespaces", jobs=2, isolation="namespaces"))
    tmp = _private_tmp()
    try:
        with closed_to_others(REPO, Path("/usr/share/datasets")):
            proc = _grade_without_namespaces(python, subs, tmp_path / "container", tmp, timeout=60)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]

    def grades(record: dict) -> tuple:
        return (record["status"], record["score"], record["error"],
                {c: (e["verdict"], e["diagnosis"], e["score"]) for c, e in record["components"].items()})

    contained = {p.parent.name: json.loads(p.read_text()) for p in (tmp_path / "container").glob("*/record.json")}
    assert {r["submission"]: grades(r) for r in records} == {k: grades(r) for k, r in contained.items()}
    assert {r["isolation"]["mode"] for r in contained.values() if r["isolation"]} == {"container"}
    assert (tmp_path / "container" / "gradebook.csv").read_text() == (tmp_path / "namespaces" / "gradebook.csv").read_text()


def test_container_mode_refuses_to_start_while_a_secret_is_readable(python, tmp_path):
    """One sentence, before anything is graded, naming each open path and the chmod that closes it:
    here the instructor's solutions folder, left open to every user."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "correct.ipynb").write_text(json.dumps(notebook_v4(base_cells())))
    tmp = _private_tmp()
    solutions = tmp / "solutions"
    solutions.mkdir(mode=0o755)
    try:
        with closed_to_others(REPO, Path("/usr/share/datasets")):
            proc = _grade_without_namespaces(python, subs, tmp_path / "out", tmp, isolation_mode="container",
                                             hide=[str(solutions)])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert f"container isolation: a sandbox's user could read {solutions} (a --hide folder)" in last
    assert f"(chmod o-rwx {solutions})" in last
    assert not (tmp_path / "out" / "correct").exists()


# --- units: no root needed -----------------------------------------------------------------

def test_auto_prefers_namespaces_then_container_as_root(monkeypatch):
    monkeypatch.setattr(isolation, "namespaces_available", lambda: (True, ""))
    assert isolation.choose("auto")[0] == "namespaces"
    monkeypatch.setattr(isolation, "namespaces_available", lambda: (False, "Operation not permitted"))
    monkeypatch.setattr(os, "getuid", lambda: 0)
    assert isolation.choose("auto") == ("container", "auto: namespaces refused (Operation not permitted), running as root")
    monkeypatch.setattr(os, "getuid", lambda: 1000)
    mode, why = isolation.choose("auto")
    assert mode == "namespaces" and "every row will say so" in why
    with pytest.raises(isolation.IsolationRefused, match="needs the grader to run as root"):
        isolation.choose("container")
    with pytest.raises(isolation.IsolationRefused, match="is not one of"):
        isolation.choose("docker")


def test_secret_paths_cover_the_kit_the_class_and_the_results(tmp_path):
    subs, out, solutions = tmp_path / "subs", tmp_path / "subs" / "out", tmp_path / "solutions"
    found = isolation.secret_paths(subs, out, [str(solutions)])
    assert found[str(REPO)] == "the kit's checkout"
    assert found[str(subs)] == "the submissions" and found[str(solutions)] == "a --hide folder"
    assert str(out) not in found  # inside the submissions folder: fenced with it
    assert not any(p.startswith(str(REPO) + "/") for p in found)  # the packages are in the checkout


def test_sandbox_uids_differ_per_child_and_from_every_account():
    uids = {isolation.sandbox_uid(n) for n in range(8)}
    assert len(uids) == 8 and min(uids) >= isolation.UID_BASE


def test_work_watch_stops_a_child_that_fills_its_folder(tmp_path):
    writer = subprocess.Popen([sys.executable, "-c", "import time\nfor i in range(40):\n"
                               "    open(f'f{i}', 'wb').write(b'x' * 1_000_000)\n    time.sleep(0.02)\ntime.sleep(60)"],
                              cwd=tmp_path, start_new_session=True)
    watch = WorkWatch(tmp_path, cap_mb=8, pgid=writer.pid, every=0.05)
    try:
        code = writer.wait(timeout=30)
    finally:
        watch.stop()
    assert watch.over and code == -9
    assert 8 * 1024 * 1024 < watch.size() < 40 * 1024 * 1024


def test_work_watch_leaves_a_child_under_its_cap_alone(tmp_path):
    (tmp_path / "small").write_bytes(b"x" * 100_000)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"], start_new_session=True)
    watch = WorkWatch(tmp_path, cap_mb=1, pgid=sleeper.pid, every=0.05)
    try:
        assert sleeper.wait(timeout=30) == 0
    finally:
        watch.stop()
    assert not watch.over


def test_sweep_removes_only_what_the_childs_user_left(tmp_path):
    if os.getuid() != 0:
        skip_or_fail("needs root to create files owned by another user", require=REQUIRE_SANDBOX_ENV)
    uid = isolation.sandbox_uid(7)
    mine, theirs = Path(f"/tmp/bpk-sweep-{os.getpid()}"), Path(f"/tmp/bpk-keep-{os.getpid()}")
    mine.mkdir()
    (mine / "inner").write_text("x")
    theirs.write_text("kept")
    os.chown(mine, uid, uid)
    try:
        assert str(mine) in sweep_shared_folders(uid)
        assert not mine.exists() and theirs.read_text() == "kept"
    finally:
        shutil.rmtree(mine, ignore_errors=True)
        theirs.unlink()
