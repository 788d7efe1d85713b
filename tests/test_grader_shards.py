"""Grading on many machines (issue #15): --shard i/N, merge, and the roster's exports after a merge.

The main check grades a small class in 3 shards and once whole, in the sandbox, and compares the
merged class files with the single run's byte for byte. The refusals (other options, overlap,
gaps, unfinished shards) run with a stand-in worker: they are about the shards, not the grades.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REQUIRE_SANDBOX_ENV, skip_or_fail
from graders import cli, grade, shards
from graders.grade import Options, grade_all

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "submissions"
CLASS_FILES = ("gradebook.csv", "summary.json", "report.html", "canvas.csv", "grades.csv", "unmatched.csv")
ROSTER = ("submission,name,canvas_id,sis_user_id,sis_login_id,section\n"
          "ada,\"Lovelace, Ada\",1001,S1,ada@uni.edu,A\nben,Ben Ng,1002,S2,ben@uni.edu,A\n"
          "eli,Eli Roe,1003,S3,eli@uni.edu,B\nzoe,Zoe Kay,1009,S9,zoe@uni.edu,B\n")


def _small_class(folder: Path) -> Path:
    """ada 1/3, ben and gus 2/3, eli 3/3, kim 1/3 (a folder without a notebook: graded without a worker)."""
    folder.mkdir()
    for name in ("ada.ipynb", "ben.ipynb", "eli.ipynb", "gus.ipynb"):
        shutil.copy(EXAMPLES / name, folder / name)
    (folder / "kim").mkdir()
    (folder / "kim" / "README.txt").write_text("no notebook")
    return folder


def test_three_shards_merge_into_the_bytes_of_one_run(tmp_path, capsys):
    subs = _small_class(tmp_path / "subs")
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    fast = {"pytest_args": ["-k", "relu or sigmoid"]}  # the CLI passes no pytest options: grade_all it is
    whole, _ = grade_all(Options(subs, tmp_path / "whole", jobs=2, timeout=5, roster=roster,
                                 assignment="Backprop Kit (12345)", **fast))
    if whole[0]["status"] == "error" and "sandbox" in (whole[0]["error"] or ""):  # ada
        skip_or_fail(f"the grading sandbox cannot run here: {whole[0]['error']}", require=REQUIRE_SANDBOX_ENV)
    parts = [tmp_path / f"part{i}" for i in (1, 2, 3)]
    held = []
    for i, part in enumerate(parts, start=1):
        records, _ = grade_all(Options(subs, part, jobs=2, timeout=5, roster=roster, shard=(i, 3),
                                       assignment="Backprop Kit (12345)", **fast))
        held.append([r["submission"] for r in records])
    assert held == [["ada", "kim"], ["ben", "gus"], ["eli"]]
    manifest = json.loads((parts[1] / "shard.json").read_text())
    assert manifest["shard"] == "2/3" and manifest["submissions"] == ["ben", "gus"]
    assert manifest["class"] == ["ada", "ben", "eli", "gus", "kim"] and manifest["settings"]["timeout"] == 5
    capsys.readouterr()
    assert cli.main(["merge", *map(str, reversed(parts)), "--out", str(tmp_path / "merged")]) == 0
    printed = capsys.readouterr().out
    assert "not in the roster (left out of canvas.csv): gus, kim" in printed
    assert "in the roster without a submission: zoe (Zoe Kay, row 5)" in printed
    for name in CLASS_FILES:
        assert (tmp_path / "merged" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    for sub in ("ada", "ben", "eli", "gus", "kim"):
        for name in ("feedback.md", "feedback.html"):
            assert (tmp_path / "merged" / sub / name).read_bytes() == (tmp_path / "whole" / sub / name).read_bytes()
    gradebook = (tmp_path / "merged" / "gradebook.csv").read_text()
    assert gradebook.count("\n") == 6 and ",fail," in gradebook  # eli's planted sigmoid bug made it through


def _fake_worker(path, options, log):
    return None, "not graded in this test", 0.0


@pytest.fixture
def three_shards(tmp_path, monkeypatch):
    monkeypatch.setattr(grade, "run_worker", _fake_worker)
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("ada", "ben", "chen", "dara", "eli", "fay"):  # shards 1, 2, 1, 1, 3, 3
        (subs / f"{name}.py").write_text("x = 1\n")
    parts = [tmp_path / f"part{i}" for i in (1, 2, 3)]
    for i, part in enumerate(parts, start=1):
        grade_all(Options(subs, part, timeout=5, shard=(i, 3)))
    return subs, parts


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "x", "", "2/3/1", "-1/3"])
def test_a_bad_shard_is_one_sentence_saying_what_to_write(text, capsys):
    with pytest.raises(shards.ShardError, match=r"is not i/N with 1 <= i <= N: write, e\.g\., --shard 2/4"):
        shards.parse_shard(text)
    with pytest.raises(SystemExit):
        cli.main(["grade", "subs", "--out", "out", f"--shard={text}"])
    assert "is not i/N" in capsys.readouterr().err


def test_shards_are_chosen_by_id_so_a_new_student_moves_no_one(tmp_path, monkeypatch):
    monkeypatch.setattr(grade, "run_worker", _fake_worker)
    subs = tmp_path / "subs"
    subs.mkdir()
    ids = [f"s{k:02d}" for k in range(30)]
    for sub in ids:
        (subs / f"{sub}.py").write_text("x = 1\n")

    def held(out: str) -> list[list[str]]:
        return [[r["submission"] for r in grade_all(Options(subs, tmp_path / f"{out}{i}", shard=(i, 4)))[0]]
                for i in range(1, 5)]

    before = held("before")
    assert sorted(sum(before, [])) == ids and all(before)  # a partition, no shard empty
    (subs / "a00.py").write_text("x = 1\n")  # sorts first: would shift every position in a listing
    after = held("after")
    assert [[s for s in part if s != "a00"] for part in after] == before


def _refusal(parts, tmp_path) -> str:
    with pytest.raises(shards.ShardError) as info:
        shards.merge(parts, tmp_path / "merged")
    assert not (tmp_path / "merged").exists()  # nothing written
    return str(info.value)


def test_merge_refuses_a_missing_shard_naming_it_and_its_submissions(three_shards, tmp_path):
    _, parts = three_shards
    message = _refusal([parts[0], parts[2]], tmp_path)
    assert message.startswith("shard 2/3 is missing (ben): grade it with --shard")


def test_merge_refuses_a_shard_given_twice(three_shards, tmp_path):
    _, parts = three_shards
    message = _refusal([parts[0], parts[1], parts[2], parts[1]], tmp_path)
    assert f"shards {parts[1]} and {parts[1]} are both 2/3 and both hold ben: pass each shard once." == message


def test_merge_refuses_shards_of_other_options_or_splits(three_shards, tmp_path):
    subs, parts = three_shards
    grade_all(Options(subs, tmp_path / "slow", timeout=9, shard=(2, 3)))
    message = _refusal([parts[0], tmp_path / "slow", parts[2]], tmp_path)
    assert message.startswith(f"shards {parts[0]} and {tmp_path / 'slow'} were graded with a different timeout (5 vs 9)")
    grade_all(Options(subs, tmp_path / "halves", timeout=5, shard=(2, 2)))
    assert "is 2/2 but" in _refusal([parts[0], tmp_path / "halves"], tmp_path)


def test_merge_refuses_a_submission_without_a_finished_record(three_shards, tmp_path):
    _, parts = three_shards
    (parts[2] / "fay" / "record.json").unlink()
    message = _refusal(parts, tmp_path)
    assert message.startswith("submissions fay have no finished record.json in their shard")


def test_merge_refuses_a_folder_that_is_not_a_shard(three_shards, tmp_path):
    _, parts = three_shards
    assert _refusal([parts[0], tmp_path / "subs"], tmp_path).startswith(f"{tmp_path / 'subs' / 'shard.json'} cannot be read")


def test_merge_of_complete_shards_lists_every_submission_once(three_shards, tmp_path):
    _, parts = three_shards
    records, summary, students = shards.merge(parts, tmp_path / "merged")
    assert [r["submission"] for r in records] == ["ada", "ben", "chen", "dara", "eli", "fay"]
    assert summary["submissions"] == 6 and students is None
    assert json.loads((tmp_path / "merged" / "shard.json").read_text())["shard"] == "1/1"


def test_merge_refuses_when_its_own_kit_is_not_the_one_that_graded(three_shards, tmp_path):
    _, parts = three_shards
    for part in parts:
        manifest = json.loads((part / "shard.json").read_text())
        manifest["settings"]["kit"] = "0.0.1+000000000000"
        (part / "shard.json").write_text(json.dumps(manifest))
    assert _refusal(parts, tmp_path).startswith("the shards were graded with kit 0.0.1+000000000000 and this is kit ")
