"""Parity: one .py file reads the same in the student's own process and in the grader's sandbox.

The file is the correct canonical implementation followed by what students leave at the top level
of a script: imports the sandbox lacks (tqdm, a course helper that was not handed in), a data load,
a training loop, a print and a ``__main__`` block. The list of dropped statements, and the inventory
probe (style, clues, what was found under which name) over the adapter the grader builds, must be
the same both ways: where the file is loaded must not change what it defines. And for three
files of other API shapes, the inventory in the grader's record.json is the one
``build_adapter(load_impl(path)).inventory()`` gives locally.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conformance.adapters import build_adapter
from conformance.loader import load_impl
from conformance.runner import InProcessRunner
from graders.sandbox import SandboxRunner

from conftest import REQUIRE_SANDBOX_ENV, skip_or_fail

IMPLS = Path(__file__).resolve().parent / "impls"

# tqdm is no dependency of the kit (nor in the sandbox); course_helpers_q12 exists nowhere
SCRIPT = '''

from tqdm import tqdm
import course_helpers_q12 as helpers

X, y = helpers.load_mnist()
model = Sequential(Linear(784, 10, rng=np.random.default_rng(0)))
for epoch in tqdm(range(5)):
    model.forward(X)
print("trained")

if __name__ == "__main__":
    helpers.plot(model)
'''


def _started(runner):
    """The sandbox child's hello; skipped (or failed, where CI requires the sandbox) when no sandbox
    can run here, failed when it could not load what loads in-process."""
    hello = runner.ensure_started()
    if hello is None:
        message = runner.load_failure.message
        if message.startswith("the grading sandbox"):
            skip_or_fail(f"the grading sandbox cannot run here: {message}", require=REQUIRE_SANDBOX_ENV)
        pytest.fail(f"the sandbox could not load what loads in-process: {message}")
    return hello


def _plain(value):
    """What crossed the wire looks like after it: JSON types only (tuples become lists)."""
    return json.loads(json.dumps(value))


def test_a_py_file_gives_the_same_inventory_and_dropped_list_in_process_and_in_the_sandbox(tmp_path):
    path = tmp_path / "student.py"
    path.write_text((IMPLS / "canonical.py").read_text() + SCRIPT)
    loaded = load_impl(str(path))
    # Discovery runs on both sides: the same sentences say how each component was found.
    local = InProcessRunner(build_adapter(loaded)).call("inventory", {})
    local_dropped = [dict(vars(d)) for d in loaded.dropped]
    kinds = [(d["kind"], d["text"]) for d in local_dropped]
    assert ("import_failed", "from tqdm import tqdm") in kinds and ("statement", "for epoch in tqdm(range(5)):") in kinds

    with SandboxRunner(path, load_timeout=60) as runner:
        hello = _started(runner)
        remote = runner.call("inventory", {}, timeout=60)
    assert _plain(remote) == _plain(local)
    assert hello.dropped == local_dropped


# The grader's record.json carries discovery's sentence for each component; it must be the one a
# student sees locally for the same file (names and texts; None is "" and texts are capped there).
PARITY_FILES = [IMPLS / "canonical.py", IMPLS / "attr_grads.py", IMPLS.parent / "zoo" / "shapes" / "nnfs_layer_dense.py"]


@pytest.mark.parametrize("source", PARITY_FILES, ids=[p.stem for p in PARITY_FILES])
def test_the_graders_record_holds_the_inventory_a_student_sees_locally(tmp_path, source):
    from graders.grade import Options, grade_all

    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / source.name).write_text(source.read_text())
    local = {comp: {"name": f.name or "", "detail": f.detail[:600]}
             for comp, f in build_adapter(load_impl(str(subs / source.name))).inventory().items()}
    grade_all(Options(subs, tmp_path / "out", timeout=30, pytest_args=["-k", "inventory"]))
    record = json.loads((tmp_path / "out" / source.stem / "record.json").read_text())
    if record["status"] != "ok" and "sandbox" in (record["error"] or ""):
        skip_or_fail(f"the grading sandbox cannot run here: {record['error']}", require=REQUIRE_SANDBOX_ENV)
    assert record["status"] == "ok", record["error"]
    assert any(e["name"] for e in local.values())  # something was found: the comparison is not of blanks
    assert record["inventory"] == local


# A backend switch that reads the environment runs on both sides (its condition, a flag from
# os.getenv), and a name a skipped statement would have bound says so the same way on both sides.
BACKEND = '''import os
import numpy as np

USE_GPU = os.getenv("BPK_GPU_PARITY_Q13", "0") == "1"
if USE_GPU or os.environ.get("BPK_CLOUD_PARITY_Q13"):
    import cupy_not_here_q13 as xp
else:
    try:
        import cupy_not_here_q13 as xp
    except ImportError:
        xp = np
        print("numpy")
SLOPE = float(os.sys.argv[-1])


def relu(x):
    return xp.maximum(0, x)


def scaled(x):
    return SLOPE * x
'''


def test_a_backend_switch_and_a_skipped_name_read_the_same_in_process_and_in_the_sandbox(tmp_path):
    path = tmp_path / "backend_q13.py"
    path.write_text(BACKEND)
    loaded = load_impl(str(path))
    local = InProcessRunner(build_adapter(loaded))
    relu = {"kind": "relu", "hyper": {}, "x": np.linspace(-1, 1, 6).reshape(2, 3), "dy": np.ones((2, 3))}
    assert local.call("layer.check", relu)["y"].tolist() == np.maximum(0, relu["x"]).tolist()
    with SandboxRunner(path, load_timeout=60) as runner:
        hello = _started(runner)
        assert hello.dropped == [dict(vars(d)) for d in loaded.dropped]
        assert [d["text"] for d in hello.dropped] == ['print("numpy")', "SLOPE = float(os.sys.argv[-1])"]
        assert _plain(runner.call("inventory", {}, timeout=60)) == _plain(local.call("inventory", {}))
        remote = runner.call("layer.check", relu, timeout=60)
    assert remote["y"].tolist() == np.maximum(0, relu["x"]).tolist()
