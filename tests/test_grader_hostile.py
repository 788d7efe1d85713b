"""The grader against hostile notebooks (tests/hostile/cases.py): one batch, one row per case.

All cases are graded once, together, with --jobs 2 and short limits (only the linear and relu
checks run: relu never touches the hostile Linear, so it shows the rest is still graded). Each
row is then asserted on its own, and the whole batch on what it must not have done outside the
sandbox: the canary file outside every working folder survives, the socket listening on
127.0.0.1 receives no connection, no sandboxed process outlives the batch, the grader's own
process (cwd, environment, numpy) is untouched, and the other rows are graded normally.
The cases that only a fence stops are graded a second time with namespaces turned off, as on a
kernel that refuses them, where the child's audit hook is the only fence.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from conformance.components import COMPONENTS
from graders.grade import Options, grade_all
from hostile.cases import (CASES, ESCAPES, Listener, base_cells, escaped_files, forward, notebook_v4, orphans,
                           processes_mentioning, write_all)

LIMITS = {"address_space_mb": 1024, "cpu_seconds": 30, "processes": 64}


def _grade_hostile(root: Path, limits: dict, only: tuple[str, ...] | None = None) -> dict:
    canary = root / "outside" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text("still here")
    private_tmp = root / "tmp"  # every temporary folder of the grader and its sandboxes lands here
    private_tmp.mkdir()
    listener = Listener()
    port = listener.port
    cases = write_all(root / "submissions", port=port, canary=canary, only=only)
    before = {"cwd": os.getcwd(), "env": dict(os.environ), "allclose": np.allclose}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TMPDIR", str(private_tmp))
        mp.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
        options = Options(root / "submissions", root / "out", jobs=2, timeout=5, limits=limits,
                          pytest_args=["-k", "linear or relu"])
        records, summary = grade_all(options)
    connection = listener.reached()
    return {"cases": cases, "records": {r["submission"]: r for r in records}, "summary": summary, "root": root,
            "canary": canary, "connection": connection, "port": port, "before": before, "private_tmp": private_tmp,
            "after": {"cwd": os.getcwd(), "env": dict(os.environ), "allclose": np.allclose}}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    return _grade_hostile(tmp_path_factory.mktemp("hostile"), LIMITS)


# Where user namespaces are refused (some CI kernels), the audit hook is the only fence: these
# cases are graded again with namespaces turned off, and must come out the same.
FENCED = ("correct", "fork_bomb", "socket_connect", "read_fixtures", "import_reference", "delete_canary",
          "overwrite_canary")


@pytest.fixture(scope="module")
def fallback_batch(tmp_path_factory):
    return _grade_hostile(tmp_path_factory.mktemp("fallback"), {**LIMITS, "isolation": "audit-hook"}, only=FENCED)


# The escapes are refused by the syscall filter; graded without it, the namespaces must hold alone.
UNFILTERED = ("correct", *ESCAPES)


@pytest.fixture(scope="module")
def unfiltered_batch(tmp_path_factory):
    return _grade_hostile(tmp_path_factory.mktemp("unfiltered"), {**LIMITS, "syscall_filter": False}, only=UNFILTERED)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_case_gets_its_expected_row(batch, case):
    _assert_row(batch["records"][case.name], case)


@pytest.mark.parametrize("case", [c for c in CASES if c.name in FENCED], ids=lambda c: c.name)
def test_hostile_case_without_namespaces_gets_the_same_row(fallback_batch, case):
    """As root the child would have to become nobody, who cannot enter this test's 0700 temporary
    folders: it refuses to run student code as root instead (each row an error saying so). Not as
    root, the audit hook and the syscall filter alone must give the usual rows; the unprivileged
    suite grades these cases that way as uid 65534 too."""
    record = fallback_batch["records"][case.name]
    if os.getuid() == 0:
        assert record["status"] == "error" and record["score"] == 0
        assert record["error"].startswith("the grading sandbox will not run student code as root")
        return
    assert record["isolation"]["network"] == "audit hook only"
    _assert_row(record, case)


def _assert_row(record: dict, case) -> None:
    assert record["status"] == case.status
    if case.linear is not None:
        assert record["components"]["linear"]["verdict"] == case.linear
    assert record["components"]["relu"]["verdict"] == case.relu
    if case.says:
        text = json.dumps([record["components"]["linear"], record["dropped"], record["error"]])
        assert case.says in text
    if case.score_zero:
        assert record["score"] == 0
    elif case.relu == "pass":
        assert record["components"]["relu"]["score"] == record["components"]["relu"]["points"] > 0
    if case.linear != "pass":  # fail closed: whatever went wrong, linear earns less than full points
        linear = record["components"]["linear"]
        assert linear["score"] < linear["points"]


@pytest.mark.parametrize("name", UNFILTERED)
def test_escape_without_the_syscall_filter_runs_and_changes_nothing_outside(unfiltered_batch, name):
    """The shell runs (its failures are silent), so the row is ok and linear passes; what it
    tried is checked by the no-effect test below."""
    record = unfiltered_batch["records"][name]
    assert record["isolation"]["syscalls"].startswith("none")
    assert record["isolation"]["processes"].startswith("PID namespace")
    assert (record["status"], record["components"]["linear"]["verdict"], record["components"]["relu"]["verdict"]) == (
        "ok", "pass", "pass")


@pytest.mark.parametrize("which", ["batch", "fallback_batch", "unfiltered_batch"])
def test_hostile_batch_has_no_effect_outside_the_sandbox(request, which):
    batch = request.getfixturevalue(which)
    assert batch["canary"].read_text() == "still here"
    assert not batch["connection"], "a sandboxed submission reached a socket on 127.0.0.1"
    assert processes_mentioning(str(batch["private_tmp"])) == []
    assert orphans(batch["port"]) == [], "a process started past the audit hook outlived its grading"
    assert escaped_files(batch["canary"], batch["port"]) == [], "code past the audit hook wrote outside its folder"
    assert list(batch["private_tmp"].iterdir()) == []  # every sandbox folder was removed
    assert batch["after"] == batch["before"]


def test_hostile_batch_keeps_logs_small_and_rows_complete(batch):
    out = batch["root"] / "out"
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == sorted(c.name for c in CASES)
    for case in CASES:
        assert (out / case.name / "grading.log").stat().st_size < 1_000_000  # 100 MB printed, not kept
        assert "bpk-" not in (out / case.name / "feedback.md").read_text()  # no sandbox paths: same text each run
        results = json.loads((out / case.name / "results.json").read_text())
        assert [t["name"] for t in results["tests"]] == list(COMPONENTS)
    assert sorted(batch["summary"]["timeouts"]) == sorted(c.name for c in CASES if c.status == "timeout")
    assert sorted(batch["summary"]["errors"]) == sorted(c.name for c in CASES if c.status == "error")


def test_hostile_children_were_isolated(batch):
    """Where namespaces work, every loaded child reports them (a silent fallback would be a leak)."""
    isolation = [r["isolation"] for r in batch["records"].values() if r["isolation"]]
    assert isolation
    if any(i["network"].startswith("network namespace") for i in isolation):
        assert all(i["network"].startswith("network namespace") for i in isolation)
        assert all(i["filesystem"].startswith("mount namespace") for i in isolation)
        assert all("; read-only but /tmp/work)" in i["filesystem"] for i in isolation)
        assert all(i["processes"].startswith("PID namespace (process 1, fresh /proc") for i in isolation)
        assert all(i["network"].endswith("System V IPC of its own)") for i in isolation)
    assert all(i["syscalls"].startswith("seccomp") for i in isolation)  # namespaces or not


@pytest.mark.parametrize("hidden", [True, False], ids=["hidden", "not_hidden"])
def test_hide_option_covers_an_instructor_folder_outside_tmp(tmp_path, hidden):
    """A world-readable folder outside the system folders is not in the child's root at all;
    --hide FOLDER makes the audit hook refuse it by name too (what --audit-hook-only relies on)."""
    solutions = Path(tempfile.mkdtemp(prefix="bpk-solutions-", dir="/var/tmp"))
    try:
        solutions.chmod(0o755)
        (solutions / "key.txt").write_text("ANSWER")
        (solutions / "key.txt").chmod(0o644)
        subs = tmp_path / "submissions"
        subs.mkdir()
        cell = forward(f"raise RuntimeError('read: ' + open({str(solutions / 'key.txt')!r}).read())")
        (subs / "peek.ipynb").write_text(json.dumps(notebook_v4(base_cells() + [cell])))
        options = Options(subs, tmp_path / "out", jobs=1, timeout=5, pytest_args=["-k", "linear"],
                          hide=[str(solutions)] if hidden else [])
        records, _ = grade_all(options)
        text = json.dumps(records[0]["components"]["linear"])
        assert "ANSWER" not in text
        assert ("the grading sandbox hides" if hidden else "No such file or directory") in text
    finally:
        shutil.rmtree(solutions)
