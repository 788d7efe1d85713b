"""--extra-checks (issue #15): the instructor's own component, probed in the sandbox, judged in the
worker, scored with its own points; examples/extra_checks is the worked example graded end to end."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REQUIRE_SANDBOX_ENV, skip_or_fail
from graders import cli, extra
from graders.grade import Options, grade_all

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "extra_checks"
RELU = """
class ReLU:
    def forward(self, x):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dy):
        return dy * self.mask
"""
SUBMISSIONS = {
    "right": "import numpy as np\n\ndef accuracy(probs, labels):\n    return np.mean(probs.argmax(axis=1) == labels)\n",
    "percent": "import numpy as np\n\ndef accuracy(probs, labels):\n    return 100 * np.mean(probs.argmax(axis=1) == labels)\n",
    "none": "",
}


def test_an_extra_check_grades_scores_and_explains_through_the_sandbox(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name, source in SUBMISSIONS.items():
        (subs / f"{name}.py").write_text(source + RELU)
    options = Options(subs, tmp_path / "out", jobs=2, timeout=5, extra_checks=EXAMPLE,
                      pytest_args=["-k", "relu or accuracy"])
    records = {r["submission"]: r for r in grade_all(options)[0]}
    if records["right"]["status"] == "error" and "sandbox" in (records["right"]["error"] or ""):
        skip_or_fail(f"the grading sandbox cannot run here: {records['right']['error']}", require=REQUIRE_SANDBOX_ENV)
    accuracy = {s: r["components"]["accuracy"] for s, r in records.items()}
    assert {s: (e["verdict"], e["score"], e["points"]) for s, e in accuracy.items()} == {
        "right": ("pass", 10.0, 10.0), "percent": ("fail", 0.0, 10.0), "none": ("missing", 0.0, 10.0)}
    assert all(r["max_score"] == 110 and r["components"]["relu"]["verdict"] == "pass" for r in records.values())
    assert records["right"]["score"] == records["percent"]["score"] + 10
    gradebook = (options.out / "gradebook.csv").read_text().splitlines()
    assert gradebook[0].endswith(",autograd,layernorm,accuracy")  # the kit's components, then the extra one
    assert [row.rsplit(",", 1)[1] for row in gradebook[1:]] == ["missing", "fail", "pass"]
    feedback = (options.out / "percent" / "feedback.md").read_text()
    assert "accuracy returns a percentage: return the fraction (0.5, not 50)." in feedback
    assert "none is defined" in (options.out / "none" / "feedback.md").read_text()
    results = json.loads((options.out / "right" / "results.json").read_text())
    assert {"name": "accuracy", "score": 10.0, "max_score": 10.0}.items() <= results["tests"][-1].items()


@pytest.mark.parametrize("files, says", [
    ({}, "checks.toml cannot be read"),
    ({"checks.toml": "[components]\n", "test_a.py": ""}, "declares no component"),
    ({"checks.toml": "[components.linear]\npoints = 5\n", "test_a.py": ""}, "declares component 'linear'"),
    ({"checks.toml": "[components.My-Check]\npoints = 5\n", "test_a.py": ""}, "use a new lower-case id"),
    ({"checks.toml": "[components.acc]\npoints = -1\n", "test_a.py": ""}, "gives [components.acc] no non-negative points"),
    ({"checks.toml": "[components.acc]\npoints = 5\n"}, "holds no test_*.py module"),
])
def test_a_bad_extra_checks_folder_is_one_sentence_before_grading(tmp_path, capsys, files, says):
    folder = tmp_path / "extra"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    with pytest.raises(extra.ExtraChecksError, match=str(folder)) as info:
        extra.read(folder)
    assert says in str(info.value)
    (tmp_path / "subs").mkdir()
    argv = ["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--extra-checks", str(folder)]
    assert cli.main(argv) == 2 and says in capsys.readouterr().err


def test_changing_an_extra_check_changes_its_hash(tmp_path):
    folder = tmp_path / "extra"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    before = extra.read(folder)
    assert list(before.points) == ["accuracy"] and [p.name for p in before.tests] == ["test_accuracy.py"]
    (folder / "test_accuracy.py").write_text((folder / "test_accuracy.py").read_text() + "\n# stricter\n")
    assert extra.read(folder).sha256 != before.sha256
