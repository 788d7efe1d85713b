"""The Gradescope autograder end to end: ``python -m graders gradescope`` builds the zip; a fake
``$AUTOGRADER_ROOT`` gets the zip's files where Gradescope puts them; ``setup.sh`` runs the steps
that need no network (apt-get, pip's downloads and the MNIST fetch are what ``BPK_SETUP_OFFLINE``
skips: the kit's dependencies come from this virtualenv's site-packages, the kit itself is
installed from the zip's source tree into a fresh virtualenv); ``run_autograder`` grades what is in
``submission/`` with that installed kit, and ``results/results.json`` is checked against
Gradescope's published results format (``SCHEMA``) and against the grade itself.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import jsonschema
import pytest

from conformance.components import COMPONENTS
from conformance.tomlread import tomllib
from conftest import REQUIRE_SANDBOX_ENV, skip_or_fail
from graders import cli, exports, grade, gradescope, rubric as rubrics
from graders.messages import Hello

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "submissions"
FAST = ("-k", "linear or sigmoid or model_gradcheck or inventory or init")  # as test_grader: CI stays cheap

# Gradescope's results.json ("Autograder Specifications", output format), as a JSON Schema.
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
TEST = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "score": {"type": "number"}, "max_score": {"type": "number"}, "status": {"enum": ["passed", "failed"]},
        "name": {"type": "string"}, "name_format": FORMAT, "number": {"type": "string"},
        "output": {"type": "string"}, "output_format": FORMAT, "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": VISIBILITY, "extra_data": {"type": "object"},
    },
}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "additionalProperties": False,
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"}, "output_format": FORMAT, "test_output_format": FORMAT,
        "test_name_format": FORMAT, "visibility": VISIBILITY, "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"}, "tests": {"type": "array", "items": TEST},
        "leaderboard": {"type": "array", "items": {
            "type": "object", "required": ["name", "value"],
            "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}}}},
    },
    "anyOf": [{"required": ["score"]}, {"required": ["tests"]}],  # a score, on top or per test
}
# What the kit promises beyond Gradescope's minimum: every key, Markdown, one test per component.
OURS = {**SCHEMA, "required": ["score", "execution_time", "output", "output_format", "visibility", "tests"],
        "properties": {**SCHEMA["properties"], "output_format": {"const": "md"},
                       "tests": {"type": "array", "minItems": len(COMPONENTS), "maxItems": len(COMPONENTS),
                                 "items": {**TEST, "required": ["name", "score", "max_score", "status", "output",
                                                                "output_format", "visibility"],
                                           "properties": {**TEST["properties"], "output_format": {"const": "md"}}}}}}
RUBRIC = """
title = "gradescope test"
[points]
linear = 10
sigmoid = 10
model_gradcheck = 10
[visibility]
"*" = "after_published"
model_gradcheck = "hidden"
"""


def _validate(results: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(results)
    jsonschema.Draft202012Validator(OURS).validate(results)
    assert [t["name"] for t in results["tests"]] == list(COMPONENTS)
    assert results["score"] == round(results["score"], 2) and all(t["score"] == round(t["score"], 2)
                                                                  for t in results["tests"])


def _clean_env(**extra) -> dict:
    """The environment of a Gradescope container: no PYTHONPATH to this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BACKPROP_KIT_DATA")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """A fake root after setup.sh: source/ from the zip, run_autograder beside it, the kit installed."""
    return _set_up(tmp_path_factory.mktemp("gradescope"), sys.executable)


@pytest.fixture(scope="module")
def system_autograder(tmp_path_factory):
    """The same with the virtualenv made from the system's Python, as on Gradescope's image (every
    user can run it: container isolation needs that)."""
    system = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}", path="/usr/bin:/usr/local/bin")
    if system is None or os.getuid() != 0 or shutil.which("setpriv") is None:
        skip_or_fail("Gradescope's container is imitated as root, with setpriv and a system Python of this version",
                     require=REQUIRE_SANDBOX_ENV)
    return _set_up(tmp_path_factory.mktemp("gradescope-system"), system)


def _set_up(tmp: Path, python: str) -> dict:
    (tmp / "rubric.toml").write_text(RUBRIC)
    manifest = gradescope.build_zip(tmp / "autograder.zip", rubric=tmp / "rubric.toml", timeout=5, pytest_args=FAST)
    root = tmp / "root"
    with zipfile.ZipFile(tmp / "autograder.zip") as zf:
        zf.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        (root / "source" / name).chmod(0o755)  # zipfile does not restore modes; Gradescope's unzip does
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    deps = sysconfig.get_paths()["purelib"]  # numpy, pytest, nbformat, jinja2, ... and setuptools
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], capture_output=True, text=True,
                           cwd=root / "source", timeout=600,
                           env=_clean_env(AUTOGRADER_ROOT=str(root), BPK_SETUP_OFFLINE=deps,
                                          BPK_SETUP_PYTHON=python))
    assert setup.returncode == 0, setup.stdout + setup.stderr
    return {"root": root, "manifest": manifest, "setup": setup, "zip": tmp / "autograder.zip"}


def _run(autograder, files: dict[str, str | Path], prefix: tuple[str, ...] = ()) -> dict:
    root = autograder["root"]
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for name, content in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copy(content, path)
        else:
            path.write_text(content)
    proc = subprocess.run([*prefix, str(root / "run_autograder")], capture_output=True, text=True, cwd=root, timeout=900,
                          env=_clean_env(AUTOGRADER_ROOT=str(root)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    _validate(results)
    return results


def test_setup_installs_the_kit_that_built_the_zip(autograder):
    root = autograder["root"]
    assert "backprop-kit: check: done" in autograder["setup"].stdout
    where = subprocess.run([str(root / "venv" / "bin" / "python"), "-c",
                            "import graders, graders.grade as g; print(graders.__file__); print(g.kit_version())"],
                           capture_output=True, text=True, env=_clean_env(), cwd=root, timeout=120)
    path, version = where.stdout.split()
    assert Path(path).is_relative_to(root / "venv") and version == autograder["manifest"]["kit"]
    setup_sh = (root / "source" / "setup.sh").read_text()
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in setup_sh
    assert setup_sh.index("torch==2.13.0") < setup_sh.index('install --quiet "$source_dir/kit"')


@pytest.mark.parametrize("case", ["notebook", "script"])
def test_a_submission_is_graded_into_results_json(autograder, case):
    files = {"notebook": {"ada.ipynb": EXAMPLES / "ada.ipynb", "README.md": "my notes",
                          ".ipynb_checkpoints/ada-checkpoint.ipynb": "{}"},
             "script": {"hana.py": EXAMPLES / "hana.py"}}[case]
    results = _run(autograder, files)
    if "could not be graded" in results["output"]:
        skip_or_fail(f"the grading sandbox cannot run here: {results['output'][:300]}", require=REQUIRE_SANDBOX_ENV)
    tests = {t["name"]: t for t in results["tests"]}
    assert results["visibility"] == "after_published" and tests["model_gradcheck"]["visibility"] == "hidden"
    assert all(t["visibility"] == "after_published" for n, t in tests.items() if n != "model_gradcheck")
    assert results["score"] == pytest.approx(sum(t["score"] for t in tests.values()), abs=0.05)
    assert (tests["linear"]["max_score"], tests["relu"]["max_score"]) == (10, 0)
    if case == "notebook":  # ada is correct work
        assert tests["linear"]["status"] == "passed" and tests["linear"]["score"] == 10
        assert tests["linear"]["output"].startswith("**pass**, 10 / 10 points: ")
        assert "Score: **" in results["output"] and "rubric.toml" in results["output"]
    else:  # hana's planted bug: sigmoid's derivative taken from the input
        assert tests["sigmoid"]["status"] == "failed" and tests["sigmoid"]["score"] < 10
        assert "derivative_from_input" in tests["sigmoid"]["output"]
        assert "Reproduce with:" in tests["sigmoid"]["output"]


def test_in_gradescopes_container_the_student_runs_as_a_user_of_its_own(system_autograder):
    """Root without CAP_SYS_ADMIN, as in Gradescope's Docker container: auto takes container
    isolation; run_autograder closes the root to other users first; the student's code runs as a
    user of its own without capabilities (the notebook checks that itself: linear passes only then)."""
    from hostile.cases import base_cells, notebook_v4
    from test_grader_container import OWN_USER, WITHOUT_SYS_ADMIN, closed_to_others

    notebook = json.dumps(notebook_v4(base_cells() + [OWN_USER.extra]))
    with closed_to_others(Path("/usr/share/datasets")):
        results = _run(system_autograder, {"own_user.ipynb": notebook}, prefix=tuple(WITHOUT_SYS_ADMIN))
    tests = {t["name"]: t for t in results["tests"]}
    assert "could not be graded" not in results["output"], results["output"][:600]
    assert tests["linear"]["status"] == "passed", tests["linear"]["output"][:600]
    assert system_autograder["root"].stat().st_mode & 0o007 == 0


@pytest.mark.parametrize("files, says", [
    ({"hw.ipynb": "{this is not json"}, "hw.ipynb"),
    ({}, "the upload holds no notebook (.ipynb) or Python file (.py)"),
    ({"a.ipynb": "{}", "b/c.ipynb": "{}"}, "the upload holds 2 notebooks (a.ipynb, b/c.ipynb): upload only the one"),
])
def test_a_submission_that_cannot_be_graded_still_gets_results_saying_why(autograder, files, says):
    results = _run(autograder, files)
    assert results["score"] == 0 and "could not be graded" in results["output"] and says in results["output"]
    assert all(t["status"] == "failed" and t["score"] == 0 and says in t["output"] for t in results["tests"])


def test_the_kit_stops_with_a_result_when_the_installed_kit_is_not_the_one_that_built_the_zip(autograder):
    root = autograder["root"]
    manifest = root / "source" / gradescope.MANIFEST
    saved = manifest.read_text()
    try:
        manifest.write_text(json.dumps({**json.loads(saved), "kit": "0.0.1+000000000000"}))
        results = _run(autograder, {"ada.ipynb": EXAMPLES / "ada.ipynb"})
    finally:
        manifest.write_text(saved)
    assert results["score"] == 0 and "built with backprop-kit 0.0.1+000000000000" in results["output"]


def test_run_autograder_writes_a_result_even_when_the_kit_cannot_start(autograder, tmp_path):
    root = tmp_path / "bare"  # no venv: setup.sh never ran here
    (root / "submission").mkdir(parents=True)
    shutil.copy(autograder["root"] / "run_autograder", root / "run_autograder")
    proc = subprocess.run([str(root / "run_autograder")], capture_output=True, text=True, timeout=60,
                          env=_clean_env(AUTOGRADER_ROOT=str(root)))
    assert proc.returncode == 0
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(results)
    assert results["score"] == 0 and results["tests"][0]["status"] == "failed"
    assert results["output"] == gradescope.FALLBACK


# --- building the zip, and the results of one record (no sandbox) --------------------------------

def test_the_cli_builds_a_reproducible_zip_with_the_instructor_files(tmp_path, capsys):
    (tmp_path / "mine.toml").write_text(RUBRIC)
    (tmp_path / "api.toml").write_text('[linear]\nclass = "Dense"\n')
    args = ["gradescope", "--rubric", str(tmp_path / "mine.toml"), "--style", "layer_dicts",
            "--map", str(tmp_path / "api.toml"), "--timeout", "20"]
    assert cli.main([*args, "--out", str(tmp_path / "a.zip")]) == 0
    assert "a.zip: 0." in capsys.readouterr().out
    assert cli.main([*args, "--out", str(tmp_path / "b.zip")]) == 0
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read(gradescope.MANIFEST))
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        kit_toml = tomllib.loads(zf.read("kit/pyproject.toml").decode())
    assert {"setup.sh", "run_autograder", "config/mine.toml", "config/api.toml", "kit/graders/gradescope.py",
            "kit/graders/rubrics/canonical.toml", "kit/conformance/adapters/styles.toml"} <= names
    assert not any("__pycache__" in n or n.endswith(".pyc") or n.startswith("kit/tests/") for n in names)
    assert modes["setup.sh"] == modes["run_autograder"] == 0o100755
    assert manifest == {"kit": grade.kit_version(), "style": "layer_dicts", "timeout": 20.0, "isolation": "auto",
                        "pytest_args": [], "rubric": "config/mine.toml", "map": "config/api.toml"}
    assert kit_toml["project"]["name"] == "backprop-kit"


@pytest.mark.parametrize("args, says", [
    (["--rubric", "{tmp}/bad.toml"], "bad.toml [visibility] gives linear the value 'soon'"),
    (["--style", "keras"], "--style 'keras' is not a style"),
    (["--map", "{tmp}/bad.toml"], "bad.toml"),
])
def test_the_cli_refuses_what_would_break_every_result(tmp_path, capsys, args, says):
    (tmp_path / "bad.toml").write_text('[visibility]\nlinear = "soon"\n')
    code = cli.main(["gradescope", "--out", str(tmp_path / "a.zip"), *[a.format(tmp=tmp_path) for a in args]])
    assert code == 2 and says in capsys.readouterr().err and not (tmp_path / "a.zip").exists()


@pytest.mark.parametrize("files, picked, says", [
    (["hw.ipynb", "helpers.py", "notes.txt"], "hw.ipynb", None),
    (["src/net.py", "__MACOSX/._net.py", ".hidden.py"], "src/net.py", None),
    (["hw.ipynb", ".ipynb_checkpoints/hw-checkpoint.ipynb"], "hw.ipynb", None),
    (["a.py", "b.py"], None, "2 Python files (a.py, b.py) and no notebook"),
    (["notes.txt"], None, "no notebook (.ipynb) or Python file (.py)"),
])
def test_the_one_file_to_grade_is_picked_or_refused_with_a_sentence(tmp_path, files, picked, says):
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    path, why = gradescope.pick_submission(tmp_path)
    assert (path and path.relative_to(tmp_path).as_posix(), why and says in why) == (picked, says and True)


def test_a_linked_upload_is_refused(tmp_path):
    (tmp_path / "elsewhere.py").write_text("x = 1\n")
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "hw.py").symlink_to(tmp_path / "elsewhere.py")
    path, why = gradescope.pick_submission(tmp_path / "up")
    assert path is None and "hw.py is a link" in why


def test_results_round_scores_as_the_pages_do_and_follow_the_rubric(tmp_path):
    (tmp_path / "r.toml").write_text(RUBRIC + '\n[policy.zero]\ntorch = ["sigmoid"]\n')
    rubric = rubrics.load(tmp_path / "r.toml")
    checks = [{"name": f"c{i}", "outcome": "pass" if i < 2 else "fail", "message": f"m{i}", "expected": [1.0],
               "got": [2.0]} for i in range(3)]
    report = {"components": {"linear": {"verdict": "fail", "diagnosis": "1 of 3 checks fail", "checks": checks},
                             "sigmoid": {"verdict": "pass", "diagnosis": "all pass", "checks": checks[:2]}}}
    result = {"hello": Hello(ok=True, style="canonical").to_wire(), "report": report, "imports": ["torch"]}
    record = grade.make_record("s", result, None, rubric, 3.6)
    results = exports.gradescope_results(record)
    tests = {t["name"]: t for t in results["tests"]}
    assert record["components"]["linear"]["score"] == 6.6667 and tests["linear"]["score"] == 6.67
    assert results["score"] == 6.67 and results["execution_time"] == 4
    assert tests["sigmoid"]["status"] == "failed" and "forbids" in tests["sigmoid"]["output"]  # zeroed by policy
    assert tests["linear"]["output"] in exports.feedback_md(record)  # the same text as feedback.md
    assert "`c2` (fail): m2" in tests["linear"]["output"] and "expected: [1.0]" in tests["linear"]["output"]
    assert (results["visibility"], tests["model_gradcheck"]["visibility"], tests["relu"]["visibility"]) == (
        "after_published", "hidden", "after_published")
    _validate(results)
