"""The batch grader end to end on the example class (examples/submissions), with short limits.

The class is graded once per module (only the linear, sigmoid and model_gradcheck checks run,
to keep CI cheap) and every output is checked against the issue's contract: the gradebook's
exact shape, Gradescope's results.json schema (also for submissions that could not be graded),
the feedback a student needs, the intended diagnoses of the planted bugs, determinism, resume.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from conformance.components import COMPONENTS, VERDICTS
from graders import cli, exports, grade, policy, rubric as rubrics
from graders.grade import Options, grade_all
from graders.messages import Hello
from hostile.cases import processes_mentioning

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "submissions"
FAST = ["-k", "linear or sigmoid or softmax or model_gradcheck or inventory or gradient_checker or init"]
HEADER = "submission,status,score,max_score,style," + ",".join(COMPONENTS)
STATUSES = ("ok", "error", "timeout")
VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")

# submission -> component -> (verdict, cause named in the diagnosis): the bugs planted by
# examples/submissions/_generate.py, and the correct work beside them.
INTENDED = {
    "ada": {"linear": ("pass", None), "sigmoid": ("pass", None), "model_gradcheck": ("pass", None)},
    "chen": {"linear": ("pass", None), "model_gradcheck": ("fail", "double_batch_average")},
    "dara": {"linear": ("pass", None), "sigmoid": ("fail", "derivative_sign_error")},
    "eli": {"linear": ("fail", "bias_gradient_averaged"), "sigmoid": ("fail", "ignores_upstream_gradient")},
    "fay": {"linear": ("pass", None), "sigmoid": ("pass", None), "model_gradcheck": ("pass", None)},
    "hana": {"sigmoid": ("fail", "derivative_from_input"), "model_gradcheck": ("pass", None)},
    "ivy": {"linear": ("fail", "transposed_gradient"), "sigmoid": ("pass", None)},
    # issue #13: initialisation inside the constructor; a correct checker beside a broken ReLU; a
    # forward-only Softmax whose gradient the loss on logits folds in
    "jo": {"init": ("pass", None), "gradient_checker": ("pass", None), "model_gradcheck": ("fail", None),
           "linear": ("pass", None), "softmax": ("pass", None)},
}


def _class_folder(dest: Path) -> Path:
    shutil.copytree(EXAMPLES, dest, ignore=shutil.ignore_patterns("_*"))
    (dest / "kim").mkdir()  # a student folder without a notebook
    (dest / "kim" / "README.txt").write_text("I forgot to upload it")
    return dest


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs = _class_folder(root / "submissions")
    options = Options(subs, root / "out", jobs=2, timeout=5, pytest_args=FAST)
    records, summary = grade_all(options)
    return {"subs": subs, "out": root / "out", "root": root, "options": options, "summary": summary,
            "records": {r["submission"]: r for r in records}}


def _rows(out: Path) -> list[dict]:
    with open(out / "gradebook.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_gradebook_has_one_sorted_row_per_submission_in_the_fixed_shape(graded):
    text = (graded["out"] / "gradebook.csv").read_text()
    assert text.splitlines()[0] == HEADER
    rows = _rows(graded["out"])
    ids = [r["submission"] for r in rows]
    assert ids == sorted(ids) == ["ada", "ben", "chen", "dara", "eli", "fay", "gus", "hana", "ivy", "jo", "kim"]
    for row in rows:
        assert row["status"] in STATUSES
        assert all(row[c] in VERDICTS for c in COMPONENTS)
        assert 0 <= float(row["score"]) <= float(row["max_score"])
    by_id = {r["submission"]: r for r in rows}
    assert by_id["fay"]["status"] == "ok"  # graded from fay/homework.ipynb
    assert by_id["hana"]["style"] == "single_sample"  # a .py submission
    assert by_id["gus"]["status"] == by_id["kim"]["status"] == "error"
    assert {by_id[s]["style"] for s in ("ada", "ben", "chen", "dara", "hana")} == {
        "canonical", "layer_dicts", "attr_grads", "dense_net", "single_sample"}


@pytest.mark.parametrize("sub", sorted(INTENDED))
def test_planted_bugs_get_their_intended_diagnoses(graded, sub):
    record = graded["records"][sub]
    for component, (verdict, cause) in INTENDED[sub].items():
        entry = record["components"][component]
        assert entry["verdict"] == verdict, (component, entry["diagnosis"])
        if cause:
            assert f"[{cause}]" in entry["diagnosis"]
            assert entry["score"] < entry["points"] or not entry["points"]


def test_a_softmax_whose_gradient_the_loss_folds_in_passes_and_says_so(graded):
    """jo's Softmax has no backward; its SoftmaxCrossEntropy takes logits and returns d/dlogits
    (assignment 000 folds the softmax into the loss): the gradient checks are not required."""
    entry = graded["records"]["jo"]["components"]["softmax"]
    assert entry["verdict"] == "pass" and "gradient folded into cross_entropy (d/dlogits)" in entry["diagnosis"]
    assert entry["score"] == entry["points"]


def test_results_json_follows_gradescope_schema_for_every_submission(graded):
    for sub, record in graded["records"].items():
        results = json.loads((graded["out"] / sub / "results.json").read_text())
        assert set(results) <= {"score", "execution_time", "output", "visibility", "stdout_visibility",
                                "extra_data", "tests", "leaderboard", "output_format"}
        assert isinstance(results["execution_time"], int) and isinstance(results["output"], str)
        assert results["visibility"] in VISIBILITY and results["stdout_visibility"] in VISIBILITY
        assert [t["name"] for t in results["tests"]] == list(COMPONENTS)
        for t in results["tests"]:
            assert set(t) <= {"score", "max_score", "status", "name", "name_format", "number", "output",
                              "output_format", "tags", "visibility", "extra_data"}
            assert t["status"] in ("passed", "failed") and t["visibility"] in VISIBILITY
            assert 0 <= t["score"] <= t["max_score"] and isinstance(t["output"], str)
            entry = record["components"][t["name"]]
            assert (t["status"] == "passed") == (entry["verdict"] == "pass" and "policy" not in entry)
            assert t["output_format"] == "md" and t["output"] == exports.component_md(record, t["name"])
            assert t["score"] == round(entry["score"], 2)
        # each score rounded to 2 decimals on its own, as the pages show them
        assert results["score"] == round(record["score"], 2)
        assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]), abs=0.005 * len(COMPONENTS))
    for sub, why in (("gus", "no code cells"), ("kim", "holds no .ipynb")):
        results = json.loads((graded["out"] / sub / "results.json").read_text())
        assert results["score"] == 0 and "could not be graded" in results["output"] and why in results["output"]
        assert all(t["status"] == "failed" and t["score"] == 0 for t in results["tests"])


def test_feedback_gives_the_student_what_to_fix(graded):
    out = graded["out"]
    eli = (out / "eli" / "feedback.md").read_text()
    assert "## What to fix" in eli and "### linear\n\n**fail**, " in eli
    assert "Likely cause:" in eli and "Reproduce with:" in eli
    chen = (out / "chen" / "feedback.md").read_text()
    assert "expected" in chen.split("### model_gradcheck")[1] and "largest error" in chen
    assert "syntax error" in (out / "fay" / "feedback.md").read_text()  # the dropped cell is listed
    assert "could not be graded: gus.ipynb has no code cells" in (out / "gus" / "feedback.md").read_text()
    ada = (out / "ada" / "feedback.md").read_text()
    assert "## What to fix" not in ada and "| linear | pass | 15 / 15 |" in ada
    for sub in graded["records"]:
        for name in ("feedback.md", "grading.log"):
            path = out / sub / name
            assert not path.exists() or "MissingIDFieldWarning" not in path.read_text()


def test_policy_reports_imports_and_the_rubric_decides(graded):
    ivy, dara = graded["records"]["ivy"], graded["records"]["dara"]
    assert ivy["imports"] == ["torch"] and "Imports noted by the grader: torch." in (
        graded["out"] / "ivy" / "feedback.md").read_text()
    assert dara["imports"] == ["tensorflow"]
    # their assignments allow the comparison with a framework: reported, nothing zeroed
    assert not any("policy" in e for r in (ivy, dara) for e in r["components"].values())
    assert graded["records"]["ada"]["imports"] == []


def test_summary_counts_what_the_gradebook_says(graded):
    rows, summary = _rows(graded["out"]), graded["summary"]
    assert summary == json.loads((graded["out"] / "summary.json").read_text())
    assert summary["submissions"] == len(rows)
    assert summary["errors"] == ["gus", "kim"] and summary["timeouts"] == []
    for c in COMPONENTS:
        assert summary["pass_rate"][c] == pytest.approx(sum(r[c] == "pass" for r in rows) / len(rows), abs=1e-4)
    assert any("double_batch_average" in d["diagnosis"] for d in summary["common_diagnoses"])


def test_grading_twice_gives_an_identical_gradebook(graded):
    again = Options(graded["subs"], graded["root"] / "again", jobs=2, timeout=5, pytest_args=FAST)
    grade_all(again)
    for name in ("gradebook.csv", "summary.json"):
        assert (again.out / name).read_bytes() == (graded["out"] / name).read_bytes()


def test_rerun_resumes_regrades_changed_submissions_force_regrades_all_retry_failed_the_failed(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("ada.ipynb", "gus.ipynb"):
        shutil.copy(EXAMPLES / name, subs / name)
    options = Options(subs, tmp_path / "out", jobs=2, timeout=5, pytest_args=["-k", "relu"])

    def run(**changes) -> tuple[dict, dict]:
        states = []
        grade_all(Options(**{**vars(options), **changes}), progress=states.append)
        mtimes = {s: (options.out / s / "record.json").stat().st_mtime_ns for s in ("ada", "gus")}
        return (states[-1] if states else None), mtimes

    _, first = run()
    state, second = run()
    assert state is None and second == first  # nothing left to grade, nothing rewritten
    nb = json.loads((subs / "gus.ipynb").read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                        "source": ["import numpy as np\n"]})
    (subs / "gus.ipynb").write_text(json.dumps(nb))
    state, third = run()
    assert (state["skipped"], state["last"]) == (1, "gus")
    assert third["ada"] == second["ada"] and third["gus"] != second["gus"]
    state, fourth = run(force=True)
    assert state["skipped"] == 0 and state["done"] == 2
    assert all(fourth[s] != third[s] for s in fourth)
    # gus (an empty notebook) is an error row: --retry-failed regrades it and keeps ada's ok row
    state, fifth = run(retry_failed=True)
    assert (state["skipped"], state["last"], state["status"]) == (1, "gus", "error")
    assert fifth["ada"] == fourth["ada"] and fifth["gus"] != fourth["gus"]


def test_a_crash_in_one_submission_never_stops_the_batch(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("a", "b", "c"):
        (subs / f"{name}.py").write_text("x = 1\n")
    def flaky(path, options, log):
        if path.stem == "b":
            raise RuntimeError("disk on fire")
        return None, "not graded in this test", 0.0

    monkeypatch.setattr(grade, "run_worker", flaky)
    records, summary = grade_all(Options(subs, tmp_path / "out", jobs=2))
    assert [r["submission"] for r in records] == ["a", "b", "c"]
    assert "disk on fire" in records[1]["error"] and summary["errors"] == ["a", "b", "c"]
    assert all((tmp_path / "out" / s / "results.json").exists() for s in "abc")


def test_a_submission_that_outlives_the_hard_limit_is_stopped_with_its_sandbox(tmp_path, monkeypatch):
    subs, private_tmp = tmp_path / "subs", tmp_path / "tmp"
    subs.mkdir()
    private_tmp.mkdir()
    (subs / "stuck.py").write_text("class Stuck:  # a class body runs while the file loads\n    while True:\n        pass\n")
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    records, _ = grade_all(Options(subs, tmp_path / "out", timeout=30, worker_timeout=3))
    assert records[0]["status"] == "timeout" and "longer than 3 s" in records[0]["error"]
    assert {c["verdict"] for c in records[0]["components"].values()} == {"timeout"}
    results = json.loads((tmp_path / "out" / "stuck" / "results.json").read_text())
    assert "longer than 3 s" in results["output"]
    deadline = time.monotonic() + 5  # the sandboxed child dies with its worker (parent-death signal)
    while processes_mentioning(str(private_tmp)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(str(private_tmp)) == []
    assert list(private_tmp.iterdir()) == []


# --- rubrics --------------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["canonical", "layer_dicts", "attr_grads", "dense_net", "single_sample"])
def test_shipped_rubrics_load_and_score_only_known_components(style):
    r = rubrics.default_for(style)
    assert Path(r.source).stem == style and r.max_score == 100
    assert set(r.points) <= set(COMPONENTS) and "reference" in r.zero


RUBRIC = """
title = "test"
partial = "{partial}"
[points]
linear = 10
relu = 6
[policy.zero]
torch = ["linear"]
"""


def _result(imports=()):
    checks = [{"name": f"c{i}", "outcome": "pass" if i < 3 else "fail", "message": ""} for i in range(4)]
    report = {"components": {"linear": {"verdict": "fail", "diagnosis": "1 of 4 checks fail", "checks": checks},
                             "relu": {"verdict": "pass", "diagnosis": "all pass", "checks": checks[:3]}}}
    return {"hello": Hello(ok=True, style="canonical").to_wire(), "report": report, "imports": list(imports)}


@pytest.mark.parametrize("partial, imports, linear, relu", [
    ("fraction", (), 7.5, 6.0),  # 3 of 4 checks passed
    ("all_or_nothing", (), 0.0, 6.0),
    ("fraction", ("torch",), 0.0, 6.0),  # the rubric zeroes linear for torch, not relu
])
def test_rubric_partial_credit_and_policy(tmp_path, partial, imports, linear, relu):
    path = tmp_path / "rubric.toml"
    path.write_text(RUBRIC.format(partial=partial))
    record = grade.make_record("s", _result(imports), None, rubrics.load(path), 1.0)
    assert (record["components"]["linear"]["score"], record["components"]["relu"]["score"]) == (linear, relu)
    assert record["score"] == linear + relu and record["max_score"] == 16
    assert ("policy" in record["components"]["linear"]) == bool(imports)
    assert record["components"]["sigmoid"] == {"verdict": "missing", "diagnosis": "not run", "checks": [],
                                               "points": 0.0, "score": 0.0}


@pytest.mark.parametrize("partial, forward, score", [
    ("fraction", "pass", 10.0),
    ("fraction", "fail", 7.5),  # 3 of the 4 required checks, not 3 of 6
    ("all_or_nothing", "fail", 0.0),
])
def test_checks_not_required_never_cost_points(partial, forward, score):
    """A folded Softmax (SPEC.md 0.6): its gradient checks, not required, count in neither part of
    the fraction, and a pass is full marks."""
    from conformance.report import summarise

    checks = [{"name": f"c{i}", "outcome": "pass", "message": ""} for i in range(3)]
    checks += [{"name": "forward", "outcome": forward, "message": ""}]
    checks += [{"name": f"gradient{i}", "outcome": "missing", "message": "not required", "cause": "no_backward",
                "convention": "gradient folded into cross_entropy (d/dlogits)", "required": False} for i in range(2)]
    entry = summarise(checks)
    assert entry["verdict"] == forward
    r = rubrics.Rubric(title="t", points={"softmax": 10}, partial=partial)
    assert rubrics.score_component(r, "softmax", entry) == score
    assert [c["name"] for c in exports._to_fix({**entry, "points": 10})] == ([] if forward == "pass" else ["forward"])


@pytest.mark.parametrize("text, says", [
    ("[points]\nlinearr = 3\n", "unknown components ['linearr']"),
    ("[points]\nlinear = -1\n", "not a non-negative number"),
    ("partial = 'most'\n", "partial = 'most'"),
    ("[points\n", "cannot be read"),
])
def test_bad_rubric_is_one_sentence_naming_the_file(tmp_path, capsys, text, says):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(rubrics.RubricError, match="mine.toml") as info:
        rubrics.load(path)
    assert says in str(info.value)
    (tmp_path / "subs").mkdir()
    code = cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--rubric", str(path)])
    assert code == 2 and says in capsys.readouterr().err


def test_cli_refuses_a_missing_folder(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    assert "is not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("flags, force, retry", [([], False, False), (["--force"], True, False),
                                                  (["--retry-failed"], False, True)])
def test_cli_passes_the_rerun_flags_to_grading(tmp_path, monkeypatch, flags, force, retry):
    seen = []
    monkeypatch.setattr(cli, "_grade", lambda options, show_gradebook: seen.append(options) or 0)
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), *flags]) == 0
    assert (seen[0].force, seen[0].retry_failed) == (force, retry)


def test_cli_hides_the_folders_it_is_given(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "_grade", lambda options, show_gradebook: seen.append(options) or 0)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["grade", str(tmp_path), "--out", "out", "--hide", "solutions", "--hide", "/srv/keys"]) == 0
    assert seen[0].hide == [str(tmp_path / "solutions"), "/srv/keys"]


@pytest.mark.parametrize("flags, mode", [([], "auto"), (["--audit-hook-only"], "audit-hook"),
                                         (["--isolation", "container"], "container"),
                                         (["--isolation", "namespaces"], "namespaces")])
def test_cli_turns_namespaces_off_only_when_asked(tmp_path, monkeypatch, flags, mode):
    seen = []
    monkeypatch.setattr(cli, "_grade", lambda options, show_gradebook: seen.append(options) or 0)
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), *flags]) == 0
    assert (seen[0].isolation, seen[0].limits) == (mode, {})


def test_discover_gives_one_submission_per_id(tmp_path):
    for name in ("ada.ipynb", "ada.py", "ada/work.ipynb", "bo/src/net.py", "bo/notes.txt", "cy/README",
                 ".hidden.ipynb", "_generate.py", "notes.txt", "dee/.ipynb_checkpoints/x.ipynb", "dee/x.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    found = [(sub, path.relative_to(tmp_path).as_posix() if path else None, problem)
             for sub, path, problem in grade.discover(tmp_path)]
    assert found == [("ada", "ada.ipynb", None), ("bo", "bo/src/net.py", None),
                     ("cy", None, "the folder cy holds no .ipynb or .py file"), ("dee", "dee/x.py", None)]


# --- links: never followed, since the grader may read what the student cannot ---------------

LINK_REFUSED = "is a link, which the grader does not follow: submit the file itself, not a link."


@pytest.mark.parametrize("links, files, named", [
    ({"carol/carol.ipynb": "../alice/alice.ipynb"}, [], "carol/carol.ipynb"),  # another student's work
    ({"carol.ipynb": "alice/alice.ipynb"}, [], "carol.ipynb"),
    ({"carol.ipynb": "{outside}/secret.ipynb"}, [], "carol.ipynb"),  # a file the student cannot read
    ({"carol.ipynb": "{outside}/gone.ipynb"}, [], "carol.ipynb"),  # dangling
    ({"carol.ipynb": "{outside}/secret.ipynb"}, ["carol.py"], "carol.ipynb"),  # the notebook wins, refused
    ({"carol": "{outside}"}, [], "carol"),  # a linked folder
    ({"carol/data": "{outside}"}, ["carol/carol.ipynb"], "carol/data"),  # a linked folder inside
    ({"carol/notes.txt": "{outside}/secret.ipynb"}, ["carol/carol.ipynb"], "carol/notes.txt"),
    ({"carol/b.py": "{outside}/secret.ipynb", "carol/a.py": "../alice/alice.ipynb"}, ["carol/c.py"],
     "carol/a.py (and 1 more link)"),
])
def test_discover_refuses_links_with_a_sentence_naming_them(tmp_path, links, files, named):
    subs, outside = tmp_path / "subs", tmp_path / "outside"
    for name in ["alice/alice.ipynb", *files]:
        (subs / name).parent.mkdir(parents=True, exist_ok=True)
        (subs / name).write_text("{}")
    outside.mkdir()
    (outside / "secret.ipynb").write_text("{}")
    for name, target in links.items():
        (subs / name).parent.mkdir(parents=True, exist_ok=True)
        (subs / name).symlink_to(target.format(outside=outside))
    assert grade.discover(subs) == [("alice", subs / "alice" / "alice.ipynb", None),
                                    ("carol", None, f"{named} {LINK_REFUSED}")]
    (tmp_path / "linked").symlink_to(subs)  # the instructor's own link to the folder is followed
    assert grade.discover(tmp_path / "linked")[0] == ("alice", tmp_path / "linked" / "alice" / "alice.ipynb", None)


def test_a_linked_submission_never_reaches_a_worker_and_its_row_says_why(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.py").write_text("x = 1\n")
    (subs / "carol.py").symlink_to(subs / "alice.py")
    seen = []
    monkeypatch.setattr(grade, "run_worker", lambda path, options, log: seen.append(path) or (None, "stub", 0.0))
    records, summary = grade_all(Options(subs, tmp_path / "out"))
    assert seen == [subs / "alice.py"] and summary["errors"] == ["alice", "carol"]
    carol = records[1]
    assert (carol["submission"], carol["status"], carol["score"]) == ("carol", "error", 0)
    assert carol["error"] == f"carol.py {LINK_REFUSED}"
    assert f"could not be graded: carol.py {LINK_REFUSED}" in (tmp_path / "out" / "carol" / "feedback.md").read_text()
    assert LINK_REFUSED in json.loads((tmp_path / "out" / "carol" / "results.json").read_text())["output"]


# --- the policy scan: imports by statement, by a constant name, by a computed name ----------

COMPUTED_IMPORT, COMPUTED_MODULE = policy.DYNAMIC["__import__"], policy.DYNAMIC["import_module"]


@pytest.mark.parametrize("suffix", [".py", ".ipynb"])
@pytest.mark.parametrize("source, flagged", [
    ("import torch.nn as nn\nfrom reference import Linear", ["reference", "torch"]),
    ("nn = __import__('torch.nn')", ["torch"]),
    ("nn = __import__('tor' + 'ch')", ["torch"]),
    ("t = f\"{'tor'}ch\"\nnn = __import__(f\"{'tor'}ch\")", ["torch"]),
    ("import importlib\nnn = importlib.import_module('torch.nn')", ["torch"]),
    ("from importlib import import_module as load\nnn = load('.nn', package='jax')", ["jax"]),
    ("def load(name):\n    return __import__(name)", [COMPUTED_IMPORT]),
    ("import builtins\nm = builtins.__import__(*names)", [COMPUTED_IMPORT]),
    ("import importlib\nm = importlib.import_module(NAME)", [COMPUTED_MODULE]),
    ("exec('from reference import Linear')", ["reference"]),
    ("exec(open('helper.py').read())", [policy.DYNAMIC_CODE]),
    ("m = __import__('numpy')\nmodel.eval()\nimport_module(name)", []),  # unwatched, a method, their own function
])
def test_policy_flags_imports_by_statement_and_by_name(tmp_path, suffix, source, flagged):
    path = tmp_path / f"sub{suffix}"
    if suffix == ".py":
        path.write_text(source)
    else:
        cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source}]
        path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert policy.flagged_imports(path) == flagged


@pytest.mark.parametrize("source, zero_rule, zeroed", [
    ("nn = __import__('tor' + 'ch')", None, True),  # a constant name counts as `import torch`
    ("nn = __import__(name)", None, False),  # a computed name is reported, not zeroed
    ("nn = __import__(name)", f'"{COMPUTED_IMPORT}" = ["*"]', True),  # unless the rubric says so
])
def test_a_dynamic_import_is_reported_and_the_rubric_decides(tmp_path, source, zero_rule, zeroed):
    (tmp_path / "sub.py").write_text(source)
    rubric = rubrics.default_for("attr_grads")  # zeroes torch
    if zero_rule:
        (tmp_path / "r.toml").write_text(RUBRIC.format(partial="fraction") + zero_rule + "\n")
        rubric = rubrics.load(tmp_path / "r.toml")
    imports = policy.flagged_imports(tmp_path / "sub.py")
    record = grade.make_record("s", {**_result(), "imports": imports}, None, rubric, 1.0)
    assert record["imports"] == imports and len(imports) == 1
    assert ("policy" in record["components"]["relu"]) == zeroed and (record["score"] == 0) == zeroed
    assert f"Imports noted by the grader: {imports[0]}." in exports.feedback_md(record)


def test_gradebook_cells_never_start_a_spreadsheet_formula():
    from graders.exports import gradebook_csv

    verdicts = {c: {"verdict": "pass"} for c in COMPONENTS}
    records = [{"submission": sub, "status": "ok", "score": 1.0, "max_score": 2.0, "style": style, "components": verdicts}
               for sub, style in (("=cmd()", "canonical"), ("+1", "@SUM(A1)"), ("ada", "-x"))]
    rows = list(csv.reader(io.StringIO(gradebook_csv(records))))[1:]
    assert [(r[0], r[4]) for r in rows] == [("'+1", "'@SUM(A1)"), ("'=cmd()", "canonical"), ("ada", "'-x")]


# --- input that is no network at all: the grader's half of test_plugin's BAD_INPUT table ------

def test_bad_input_is_missing_with_what_was_tried_in_the_gradebook_never_a_traceback(tmp_path):
    from test_plugin import BAD_INPUT, KIT_TRACEBACK, MINE

    subs = tmp_path / "subs"
    subs.mkdir()
    for case, (source, _) in BAD_INPUT.items():
        (subs / f"{case}.py").write_text(source)
    unit_tier = ["-m", "not slow", "-k", " or ".join(MINE + ["inventory"])]
    records, _ = grade_all(Options(subs, tmp_path / "out", jobs=2, timeout=10, pytest_args=unit_tier))
    assert [r["submission"] for r in records] == sorted(BAD_INPUT)
    for record in records:
        tried = BAD_INPUT[record["submission"]][1]
        assert (record["status"], record["error"]) == ("ok", None), record["error"]
        assert {c: record["components"][c]["verdict"] for c in MINE} == dict.fromkeys(MINE, "missing")
        assert tried in record["components"]["linear"]["diagnosis"]
        feedback = (tmp_path / "out" / record["submission"] / "feedback.md").read_text()
        assert tried in feedback and not KIT_TRACEBACK.search(feedback)


@pytest.mark.parametrize("dropped, where", [
    ({"cell": None, "line": 9, "file": "net.py"}, "- net.py, line 9 (statement)"),
    ({"cell": None, "line": 4, "file": "src/layers.py"}, "- src/layers.py, line 4 (statement)"),
    ({"cell": 2, "line": 1, "file": "hw.ipynb"}, "- cell 2, line 1 (statement)"),
])
def test_feedback_names_a_dropped_statement_by_file_and_line_or_by_cell(dropped, where):
    entry = {**dropped, "kind": "statement", "text": "print('hello')", "reason": "not a definition"}
    result = {**_result(), "hello": Hello(ok=True, dropped=[entry]).to_wire()}
    feedback = exports.feedback_md(grade.make_record("s", result, None, None, 1.0))
    assert f"{where}: `print('hello')`: not a definition" in feedback and "cell None" not in feedback
