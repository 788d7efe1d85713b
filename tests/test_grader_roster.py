"""--roster (issue #15): Canvas's gradebook import, grades.csv, and the students nobody may lose."""
from __future__ import annotations

import csv
import io

import pytest

from graders import cli, grade, roster as rosters
from graders.grade import Options, grade_all

ROSTER = ("submission,name,canvas_id,sis_user_id,sis_login_id,section\n"
          "ada,\"Lovelace, Ada\",1001,S1,ada@uni.edu,Section A\n"
          "ben,=HYPERLINK(\"x\"),1002,S2,ben@uni.edu,Section A\n"
          "\n"
          "zoe,Zoe Kay,1009,S9,zoe@uni.edu,Section B\n")


def _records(**scores) -> list[dict]:
    return [{"submission": s, "score": v, "max_score": 100.0} for s, v in scores.items()]


def test_canvas_csv_is_canvas_import_format_with_a_points_possible_row(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    students = rosters.read(path)
    text = rosters.canvas_csv(_records(ada=64.0385, ben=100.0, cy=3.5), students, "Backprop Kit (12345)")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Backprop Kit (12345)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "100"]
    assert rows[2] == ["Lovelace, Ada", "1001", "S1", "ada@uni.edu", "Section A", "64.0385"]
    assert rows[3] == ["'=HYPERLINK(\"x\")", "1002", "S2", "ben@uni.edu", "Section A", "100"]  # never a formula
    assert len(rows) == 4  # cy has no roster row: listed in unmatched, not guessed into Canvas
    assert rosters.canvas_csv(_records(ada=1), students).splitlines()[0].endswith(",Backprop Kit")


def test_grades_csv_and_unmatched_keep_every_student_in_view(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    students = rosters.read(path)
    records = _records(ada=64.0385, cy=3.5)
    assert rosters.grades_csv(records, students) == "submission,name,score\nada,\"Lovelace, Ada\",64.0385\ncy,,3.5\n"
    found = rosters.unmatched(records, students)
    assert found["no_roster_entry"] == ["cy"]
    assert [(s.submission, s.row) for s in found["no_submission"]] == [("ben", 3), ("zoe", 5)]
    assert rosters.unmatched_csv(found) == ("problem,submission,name,roster_row\nno roster entry,cy,,\n"
                                            "no submission,ben,\"'=HYPERLINK(\"\"x\"\")\",3\nno submission,zoe,Zoe Kay,5\n")


@pytest.mark.parametrize("text, says", [
    ("id,name\nada,Ada\n", "has no 'submission' column in its header (row 1): the header needs submission,name"),
    ("submission\nada\n", "has no 'name' column in its header (row 1)"),
    ("", "has no 'submission' or 'name' column"),
    ("submission,name\nada,Ada\nben,Ben\nada,Ada Again\n", ", row 4, repeats the submission id 'ada' of row 2: keep one"),
    ("submission,name\nada,Ada\n,Nobody\n", ", row 3, has no submission id: fill it in or delete the row."),
])
def test_a_bad_roster_is_one_sentence_naming_the_file_and_row(tmp_path, capsys, text, says):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(rosters.RosterError, match="roster " + str(path)) as info:
        rosters.read(path)
    assert says in str(info.value) and str(info.value).count(". ") == 0
    (tmp_path / "subs").mkdir()
    assert cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--roster", str(path)]) == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before anything was graded


def test_grading_with_a_roster_writes_the_exports_and_prints_who_is_unmatched(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(grade, "run_worker", lambda path, options, log: (None, "not graded in this test", 0.0))
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("ada", "cy"):
        (subs / f"{name}.py").write_text("x = 1\n")
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER)
    out = tmp_path / "out"
    assert cli.main(["grade", str(subs), "--out", str(out), "--roster", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "not in the roster (left out of canvas.csv): cy" in printed
    assert "in the roster without a submission: ben (=HYPERLINK(\"x\"), row 3), zoe (Zoe Kay, row 5)" in printed
    assert (out / "canvas.csv").read_text().splitlines()[2] == "\"Lovelace, Ada\",1001,S1,ada@uni.edu,Section A,0"
    assert (out / "unmatched.csv").read_text().count("\n") == 4
    grade_all(Options(subs, tmp_path / "plain"))
    assert not (tmp_path / "plain" / "canvas.csv").exists()  # no roster, no roster exports


def test_an_assignment_name_without_a_roster_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--assignment", "Backprop Kit (12345)"])
    assert stop.value.code == 2
    assert "--assignment names the column of canvas.csv, which only --roster writes" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
