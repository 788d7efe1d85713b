"""The grader's ``--map api.toml``: read and validated once by the grader, its tables cross into
every sandboxed child as data, and each record names the map in force.

The submission is written for these tests: two classes that both compute x W + b, the first
(which discovery takes when nothing says otherwise) with its bias gradient averaged over the
batch. A map pinning the second changes the grade; a malformed map stops the run before any
submission is graded, with one sentence.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import REQUIRE_SANDBOX_ENV, skip_or_fail
from graders import cli, grade
from graders.grade import Options, grade_all

TWO_LAYERS = '''
import numpy as np


class Linear:  # defined first: without a map, discovery takes it
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dy):
        self.dW = self.x.T @ dy
        self.db = dy.mean(axis=0)  # averaged over the batch: the planted bug
        return dy @ self.W.T


class Dense:
    def __init__(self, n_in, n_out):
        self.W = np.random.randn(n_in, n_out) * 0.1
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dy):
        self.dW = self.x.T @ dy
        self.db = dy.sum(axis=0)
        return dy @ self.W.T
'''
FAST = ["-k", "linear or inventory"]


def _class(tmp_path: Path) -> Path:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "two.py").write_text(TWO_LAYERS)
    return subs


def _graded(options: Options) -> dict:
    records, _ = grade_all(options)
    record = records[0]
    if record["status"] == "error" and "sandbox" in (record["error"] or ""):
        skip_or_fail(f"the grading sandbox cannot run here: {record['error']}", require=REQUIRE_SANDBOX_ENV)
    return record


def test_a_map_changes_the_grade_crosses_into_the_sandbox_and_is_named_in_the_record(tmp_path):
    subs, out = _class(tmp_path), tmp_path / "out"
    without = _graded(Options(subs, out, timeout=10, pytest_args=FAST))
    assert without["map"] is None
    assert (without["components"]["linear"]["verdict"], without["inventory"]["linear"]["name"]) == ("fail", "Linear")
    assert "[bias_gradient_averaged]" in without["components"]["linear"]["diagnosis"]

    api = tmp_path / "maps" / "api.toml"  # outside the submissions: the child cannot read it, only its pins
    api.parent.mkdir()
    api.write_text('[linear]\nclass = "Dense"\n')
    pinned = _graded(Options(subs, out, timeout=10, pytest_args=FAST, api_map=api))  # same out: regraded
    assert (pinned["components"]["linear"]["verdict"], pinned["inventory"]["linear"]["name"]) == ("pass", "Dense")
    assert pinned["map"] == {"path": str(api.resolve()), "sha256": hashlib.sha256(api.read_bytes()).hexdigest()}
    assert json.loads((out / "two" / "record.json").read_text())["map"] == pinned["map"]
    assert pinned["key"] != without["key"]


def test_a_map_naming_a_class_the_submission_lacks_is_that_rows_error_in_one_sentence(tmp_path):
    api = tmp_path / "api.toml"
    api.write_text('[linear]\nclass = "Affine"\n')
    record = _graded(Options(_class(tmp_path), tmp_path / "out", timeout=10, pytest_args=FAST, api_map=api))
    assert record["status"] == "error"
    assert record["error"].startswith("the map's [linear] names 'Affine', which the submission does not define: "
                                      "write one of Linear, Dense")


@pytest.mark.parametrize("text, sentence", [
    ('[linear]\nweights = "W"\n', "[linear] has no key 'weights': write one of class, function"),
    ('[linear]\nlayout = "sideways"\n', "[linear] layout = 'sideways' is not allowed: write one of 'in_out', 'out_in'."),
    ('[convolution]\nclass = "Conv"\n', "[convolution] is not a component the map can pin: use one of [linear]"),
    ('[linear\nclass = "Dense"\n', "is not valid TOML"),
    (None, "does not exist: pass the path of your api.toml to --map."),
])
def test_a_malformed_map_stops_the_run_before_grading_with_exit_2_and_one_sentence(tmp_path, monkeypatch, capsys,
                                                                                   text, sentence):
    api = tmp_path / "api.toml"
    if text is not None:
        api.write_text(text)
    graded = []
    monkeypatch.setattr(grade, "run_worker", lambda path, options, log: graded.append(path) or (None, "stub", 0.0))
    code = cli.main(["grade", str(_class(tmp_path)), "--out", str(tmp_path / "out"), "--map", str(api)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and graded == [] and not (tmp_path / "out").exists()
    assert err.startswith(f"error: {api}") and sentence in err and len(err.splitlines()) == 1


def test_cli_passes_the_map_path_to_grading(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "_grade", lambda options, show_gradebook: seen.append(options) or 0)
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--map", "api.toml"]) == 0
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    assert [o.api_map for o in seen] == [Path("api.toml"), None]


def test_the_reproduce_snippet_in_the_feedback_names_the_map(tmp_path):
    api = tmp_path / "mine.toml"
    api.write_text('[linear]\nclass = "Linear"\n')  # the buggy one, pinned: its checks fail with a snippet
    record = _graded(Options(_class(tmp_path), tmp_path / "out", timeout=10, pytest_args=FAST, api_map=api))
    assert record["components"]["linear"]["verdict"] == "fail"
    feedback = (tmp_path / "out" / "two" / "feedback.md").read_text()
    assert "run_probe('layer.check', case, impl='<your --impl>', map_file='mine.toml')" in feedback
