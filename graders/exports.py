"""What the grader writes: gradebook.csv, feedback.md, Gradescope results.json, summary.json
(the HTML pages are ``graders.pages``). Scores a person reads are rounded (``64.04 / 100``), in
results.json too (Gradescope shows it to students); the CSV, record.json and summary.json keep them
in full.

Every function takes *records* (one dict per submission, built by ``graders.grade.make_record``)
and returns text or plain data; ``write_atomic`` puts it on disk so that a crash never leaves a
half-written file behind.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

from conformance.components import COMPONENTS
from conformance.cases import reproduce
from conformance.pages import points
from conformance.report import dropped_where

GRADEBOOK_COLUMNS = ("submission", "status", "score", "max_score", "style", *COMPONENTS)


def component_ids(records: list[dict]) -> list[str]:
    """The kit's components, then the instructor's own (graders.extra) in the order records have them."""
    return list(dict.fromkeys([*COMPONENTS, *(c for r in records for c in r["components"])]))


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _num(x: float) -> str:
    """A score for people (feedback, summaries): 64.0385 -> 64.04, 15.0 -> 15."""
    return points(x)


def _full(x: float) -> str:
    """A score for the gradebook CSV: full precision (64.0385, 15)."""
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


def _text_cell(value) -> str:
    """A text cell no spreadsheet reads as a formula (a file named ``=HYPERLINK(...).ipynb``, say)."""
    value = "" if value is None else str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def gradebook_csv(records: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    ids = component_ids(records)
    writer.writerow([*GRADEBOOK_COLUMNS, *ids[len(COMPONENTS):]])
    for r in sorted(records, key=lambda r: r["submission"]):
        writer.writerow([_text_cell(r["submission"]), r["status"], _full(r["score"]), _full(r["max_score"]),
                         _text_cell(r["style"]), *(r["components"].get(c, {}).get("verdict", "") for c in ids)])
    return out.getvalue()


def _head(r: dict) -> list[str]:
    lines = [f"Status: **{r['status']}**. Score: **{_num(r['score'])} / {_num(r['max_score'])}** "
             f"({r['rubric']}).", ""]
    if r.get("error"):
        lines += [f"Your submission could not be graded: {r['error']}", ""]
    if r.get("because"):
        lines += [f"API style: {r['style']} ({'; '.join(r['because'])}).", ""]
    return lines


def _notes(r: dict) -> list[str]:
    """How the grader read the code, what it did not run, imports, time limits and crashes."""
    lines = []
    found = [(c, e) for c, e in (r.get("inventory") or {}).items() if e.get("detail")]
    if found:
        lines += ["", "## How the grader read your code", ""]
        lines += [f"- **{c}**: {str(e['detail']).replace(chr(10), ' ')}" for c, e in found]
    if r.get("dropped"):
        lines += ["", "## Code that was not run", "",
                  "Only imports, definitions and constants are kept; everything else is dropped:", ""]
        for d in r["dropped"][:60]:
            where = dropped_where(d)
            lines.append(f"- {where} ({d.get('kind')}): `{str(d.get('text', ''))[:80]}`: {d.get('reason', '')}")
    if r.get("imports"):
        lines += ["", f"Imports noted by the grader: {', '.join(r['imports'])}."]
    if r.get("events"):
        lines += ["", "## Time limits and crashes", ""] + [f"- {e}" for e in r["events"][:20]]
    return lines


def feedback_md(r: dict) -> str:
    lines = [f"# Feedback for {r['submission']}", "", *_head(r)]
    lines += ["| component | verdict | points | diagnosis |", "|---|---|---|---|"]
    for c in r["components"]:
        e = r["components"][c]
        pts = f"{_num(e['score'])} / {_num(e['points'])}" if e["points"] else "not scored"
        diagnosis = (e.get("policy") or e["diagnosis"]).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {c} | {e['verdict']} | {pts} | {diagnosis} |")
    fix = [c for c in r["components"] if _to_fix(r["components"][c])]
    if fix:
        lines += ["", "## What to fix"]
        for c in fix:
            lines += ["", f"### {c}", "", component_md(r, c)]
    lines += _notes(r)
    return "\n".join(lines) + "\n"


def _indented(text: str, max_lines: int = 25) -> list[str]:
    body = text.splitlines()
    more = [f"... ({len(body) - max_lines} more lines)"] if len(body) > max_lines else []
    return ["  ```"] + [f"  {line}" for line in body[:max_lines] + more] + ["  ```"]


def _short_json(value, cap: int = 400) -> str:
    text = json.dumps(value)
    return text if len(text) <= cap else text[: cap - 4] + " ..."


def check_evidence(ch: dict) -> str:
    """The evidence the report carries for one check (conformance.checking.report_entry), as text."""
    parts = [f"Likely cause: {ch['likely_cause']}"] if ch.get("likely_cause") else []
    parts += [f"{k}: {_short_json(ch[k])}" for k in ("expected", "got", "where") if k in ch]
    parts += [f"{k}: {_short_json(v)}" for k, v in (ch.get("evidence") or {}).items()]
    if ch.get("snippet"):
        parts.append(reproduce(str(ch["snippet"])))
    return "\n".join(parts)


def _to_fix(e: dict) -> list[dict]:
    """A component's required checks that did not pass; one only ``missing`` counts when the component
    carries points."""
    return [ch for ch in e["checks"] if ch["outcome"] != "pass" and ch.get("required") is not False
            and (ch["outcome"] != "missing" or e["points"])]


def component_md(r: dict, c: str, per_check: int = 4) -> str:
    """One component's feedback in Markdown: its verdict, points and diagnosis, then each check that
    did not pass with its sentence and evidence (expected vs got, where the largest error is, how
    to reproduce it). feedback.md's "What to fix" and Gradescope's test output are this text."""
    e = r["components"][c]
    pts = f"{_num(e['score'])} / {_num(e['points'])} points" if e["points"] else "not scored"
    lines = [f"**{e['verdict']}**, {pts}: {(e.get('policy') or e['diagnosis']).strip()}"]
    bad = _to_fix(e)
    if bad:
        lines.append("")
    for ch in bad[:per_check]:
        message = (ch.get("message") or "").strip().replace("\n", "\n  ")
        lines.append(f"- `{ch['name']}` ({ch['outcome']}): {message}")
        evidence = check_evidence(ch)
        if evidence:
            lines += _indented(evidence)
    if len(bad) > per_check:
        lines.append(f"- ... and {len(bad) - per_check} more checks of {c} that did not pass.")
    return "\n".join(lines)


def _rounded(x: float) -> float:
    """A score for a results file people read through a web page: two decimals, as the pages round it."""
    return round(float(x), 2)


def gradescope_results(r: dict) -> dict:
    """Gradescope's autograder results.json: one test per component (scored or not), its output the
    component's Markdown feedback (``component_md``), its visibility the rubric's ``[visibility]``;
    the top-level output the head and notes of feedback.md. Scores rounded as the pages show them."""
    visibility = r.get("visibility") or {}
    tests = []
    for c in r["components"]:
        e = r["components"][c]
        tests.append({
            "name": c, "score": _rounded(e["score"]), "max_score": _rounded(e["points"]),
            "status": "passed" if e["verdict"] == "pass" and not e.get("policy") else "failed",
            "output": component_md(r, c), "output_format": "md",
            "visibility": visibility.get(c, visibility.get("*", "visible")),
        })
    output = "\n".join(_head(r) + _notes(r)).strip() + "\n"
    return {"score": _rounded(r["score"]), "execution_time": int(round(r.get("execution_time", 0))),
            "output": output, "output_format": "md", "visibility": visibility.get("*", "visible"),
            "stdout_visibility": "hidden", "tests": tests}


def diagnosis_key(component: str, entry: dict) -> str:
    """What a class-wide count groups by: the component and the most frequent cause of its worst
    checks (the same bug reads the same for every student), else its diagnosis without the counts."""
    causes = Counter(ch["cause"] for ch in entry["checks"] if ch["outcome"] == entry["verdict"] and ch.get("cause")
                     and ch.get("required") is not False)
    if causes:
        return f"{component}: {causes.most_common(1)[0][0]}"
    return f"{component}: {re.sub(r'^[0-9]+ of [0-9]+ checks [a-z]+: ', '', entry['diagnosis'])}"


def summary(records: list[dict], top: int = 10) -> dict:
    n = len(records)
    pass_rate = {c: (sum(r["components"].get(c, {}).get("verdict") == "pass" for r in records) / n if n else 0.0)
                 for c in component_ids(records)}
    diagnoses = Counter()
    for r in records:
        for c, e in r["components"].items():
            if e["verdict"] in ("fail", "error", "timeout") and r["status"] != "error":
                diagnoses[diagnosis_key(c, e)] += 1
    return {
        "submissions": n,
        "status": dict(Counter(r["status"] for r in records)),
        "mean_score": round(sum(r["score"] for r in records) / n, 4) if n else 0.0,
        "pass_rate": {c: round(v, 4) for c, v in pass_rate.items()},
        "common_diagnoses": [{"diagnosis": d, "count": k} for d, k in diagnoses.most_common(top)],
        "errors": sorted(r["submission"] for r in records if r["status"] == "error"),
        "timeouts": sorted(r["submission"] for r in records if r["status"] == "timeout"),
        "isolation": next((r["sandbox"] for r in records if r.get("sandbox")), None),
    }


def summary_text(s: dict) -> list[str]:
    lines = [f"{s['submissions']} submissions: " + ", ".join(f"{k} {v}" for k, v in sorted(s["status"].items()))
             + f"; mean score {_num(s['mean_score'])}", "pass rate per component:"]
    lines += [f"  {c:<17} {rate:6.0%}" for c, rate in s["pass_rate"].items()]
    if s["common_diagnoses"]:
        lines.append("most common diagnoses:")
        lines += [f"  {d['count']:>3} x {d['diagnosis'][:110]}" for d in s["common_diagnoses"][:5]]
    for key in ("errors", "timeouts"):
        if s[key]:
            lines.append(f"{key}: {', '.join(s[key])}")
    if s.get("isolation"):
        lines.append(f"isolation: {s['isolation']['mode']} ({s['isolation']['why']})")
    return lines


def dumps(obj) -> str:
    return json.dumps(obj, indent=2, sort_keys=False) + "\n"
