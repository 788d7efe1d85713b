"""The class roster (``--roster roster.csv``): submission ids to students, and the grades for an LMS.

A roster is a CSV with a header row; ``submission`` and ``name`` are required, the LMS ids optional::

    submission,name,canvas_id,sis_user_id,sis_login_id,section
    ada,"Lovelace, Ada",1001,S0001,ada@uni.edu,Section 1

``canvas_csv`` writes Canvas's gradebook import format: the columns ``Student, ID, SIS User ID,
SIS Login ID, Section`` (Canvas finds a student by ``ID``, its own user id, then by SIS User ID, then
SIS Login ID, then by name), one assignment column, and a ``Points Possible`` row under the header
(Canvas reads the assignment's points from it when the import creates the assignment). The
assignment column is matched by the number in parentheses (``Backprop Kit (12345)``: the id in the
assignment's URL); a name without one makes Canvas create a new assignment of that name.
``grades_csv`` is the plain ``submission,name,score``. ``unmatched`` lists the submissions without
a roster row and the roster rows without a submission: never dropped silently.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

REQUIRED = ("submission", "name")
OPTIONAL = ("canvas_id", "sis_user_id", "sis_login_id", "section")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
DEFAULT_ASSIGNMENT = "Backprop Kit"


class RosterError(Exception):
    """A roster that cannot be used; the message names the file and row and says what to fix."""


@dataclass(frozen=True)
class Student:
    submission: str
    name: str
    row: int  # the file's line (the header is row 1), to name it in messages
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


def read(path: Path) -> dict[str, Student]:
    """{submission id: Student}, or ``RosterError`` naming the file and the row at fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a byte-order mark
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"roster {path} cannot be read ({type(exc).__name__}): pass a UTF-8 CSV file.") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    lacking = [c for c in REQUIRED if c not in header]
    if lacking:
        raise RosterError(f"roster {path} has no {' or '.join(repr(c) for c in lacking)} column in its header "
                          f"(row 1): the header needs submission,name and may add {','.join(OPTIONAL)}.")
    reader.fieldnames = header
    students: dict[str, Student] = {}
    for row in reader:
        row_number = reader.line_num  # the line a text editor shows (csv skips blank lines when counting rows)
        cells = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(cells.values()):
            continue  # a blank line
        sub_id = cells["submission"]
        if not sub_id:
            raise RosterError(f"roster {path}, row {row_number}, has no submission id: fill it in or delete the row.")
        if sub_id in students:
            raise RosterError(f"roster {path}, row {row_number}, repeats the submission id {sub_id!r} of row "
                              f"{students[sub_id].row}: keep one row per submission.")
        students[sub_id] = Student(sub_id, cells["name"], row_number, **{k: cells.get(k, "") for k in OPTIONAL})
    return students


def unmatched(records: list[dict], roster: dict[str, Student]) -> dict[str, list]:
    graded = {r["submission"] for r in records}
    return {"no_roster_entry": sorted(graded - set(roster)),
            "no_submission": [roster[s] for s in sorted(set(roster) - graded)]}


def _cell(value: str) -> str:
    """A text cell no spreadsheet reads as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _score(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


def _write(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def canvas_csv(records: list[dict], roster: dict[str, Student], assignment: str = DEFAULT_ASSIGNMENT) -> str:
    """Canvas's gradebook import: header, Points Possible row, one row per rostered submission."""
    possible = max((r["max_score"] for r in records), default=0.0)
    rows = [[*CANVAS_COLUMNS, assignment], ["Points Possible", "", "", "", "", _score(possible)]]
    for r in sorted(records, key=lambda r: r["submission"]):
        s = roster.get(r["submission"])
        if s is not None:
            rows.append([_cell(s.name), s.canvas_id, s.sis_user_id, s.sis_login_id, _cell(s.section),
                         _score(r["score"])])
    return _write(rows)


def grades_csv(records: list[dict], roster: dict[str, Student]) -> str:
    """submission,name,score for every graded submission (name empty when the roster lacks it)."""
    rows = [["submission", "name", "score"]]
    for r in sorted(records, key=lambda r: r["submission"]):
        s = roster.get(r["submission"])
        rows.append([_cell(r["submission"]), _cell(s.name if s else ""), _score(r["score"])])
    return _write(rows)


def unmatched_csv(found: dict[str, list]) -> str:
    """problem,submission,name,row: what could not be paired, one line each."""
    rows = [["problem", "submission", "name", "roster_row"]]
    rows += [["no roster entry", _cell(s), "", ""] for s in found["no_roster_entry"]]
    rows += [["no submission", _cell(s.submission), _cell(s.name), str(s.row)] for s in found["no_submission"]]
    return _write(rows)


def unmatched_text(found: dict[str, list]) -> list[str]:
    lines = []
    if found["no_roster_entry"]:
        lines.append(f"not in the roster (left out of canvas.csv): {', '.join(found['no_roster_entry'])}")
    if found["no_submission"]:
        lines.append("in the roster without a submission: "
                     + ", ".join(f"{s.submission} ({s.name}, row {s.row})" for s in found["no_submission"]))
    return lines
