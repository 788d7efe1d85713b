"""What the grader writes: gradebook.csv, feedback.md, Gradescope results.json, summary.json
(the HTML pages are ``graders.pages``). Scores a person reads are rounded (``64.04 / 100``); the
CSV and the JSON keep them in full.

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
from conformance.pages import points
from conformance.report import dropped_where

GRADEBOOK_COLUMNS = ("submission", "status", "score", "max_score", "style", *COMPONENTS)


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
    writer.writerow(GRADEBOOK_COLUMNS)
    for r in sorted(records, key=lambda r: r["submission"]):
        writer.writerow([_text_cell(r["submission"]), r["status"], _full(r["score"]), _full(r["max_score"]),
                         _text_cell(r["style"]), *(r["components"][c]["verdict"] for c in COMPONENTS)])
    return out.getvalue()


def feedback_md(r: dict) -> str:
    lines = [f"# Feedback for {r['submission']}", "",
             f"Status: **{r['status']}**. Score: **{_num(r['score'])} / {_num(r['max_score'])}** "
             f"({r['rubric']}).", ""]
    if r.get("error"):
        lines += [f"Your submission could not be graded: {r['error']}", ""]
    if r.get("because"):
        lines += [f"API style: {r['style']} ({'; '.join(r['because'])}).", ""]
    lines += ["| component | verdict | points | diagnosis |", "|---|---|---|---|"]
    for c in COMPONENTS:
        e = r["components"][c]
        pts = f"{_num(e['score'])} / {_num(e['points'])}" if e["points"] else "not scored"
        diagnosis = (e.get("policy") or e["diagnosis"]).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {c} | {e['verdict']} | {pts} | {diagnosis} |")
    lines += _what_to_fix(r)
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
        parts.append("Reproduce with:\n    " + str(ch["snippet"]).replace("\n", "\n    "))
    return "\n".join(parts)


def _what_to_fix(r: dict, per_component: int = 4) -> list[str]:
    """Per component that lost points or did not pass: each failing check's sentence and its
    evidence (expected vs got, where the largest error is, how to reproduce it). A check that
    is only `missing` is listed when the component carries points."""
    out = []
    for c in COMPONENTS:
        e = r["components"][c]
        bad = [ch for ch in e["checks"] if ch["outcome"] != "pass" and (ch["outcome"] != "missing" or e["points"])]
        if not bad:
            continue
        out += ["", f"### {c}: {e['verdict']} ({_num(e['score'])} / {_num(e['points'])} points)"
                if e["points"] else f"### {c}: {e['verdict']} (not scored)", ""]
        for ch in bad[:per_component]:
            message = (ch.get("message") or "").strip().replace("\n", "\n  ")
            out.append(f"- `{ch['name']}` ({ch['outcome']}): {message}")
            evidence = check_evidence(ch)
            if evidence:
                out += _indented(evidence)
        if len(bad) > per_component:
            out.append(f"- ... and {len(bad) - per_component} more checks of {c} that did not pass.")
    return ["", "## What to fix"] + out if out else []


def gradescope_results(r: dict) -> dict:
    """Gradescope's autograder results.json: one test per component; scored ones count."""
    tests = []
    for c in COMPONENTS:
        e = r["components"][c]
        tests.append({
            "name": c, "score": e["score"], "max_score": e["points"],
            "status": "passed" if e["verdict"] == "pass" else "failed",
            "output": e.get("policy") or e["diagnosis"], "visibility": "visible",
        })
    output = f"Status: {r['status']}."
    if r.get("error"):
        output += f" This submission could not be graded: {r['error']}"
    return {"score": r["score"], "execution_time": int(round(r.get("execution_time", 0))),
            "output": output, "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def diagnosis_key(component: str, entry: dict) -> str:
    """What a class-wide count groups by: the component and the most frequent cause of its worst
    checks (the same bug reads the same for every student), else its diagnosis without the counts."""
    causes = Counter(ch["cause"] for ch in entry["checks"] if ch["outcome"] == entry["verdict"] and ch.get("cause"))
    if causes:
        return f"{component}: {causes.most_common(1)[0][0]}"
    return f"{component}: {re.sub(r'^[0-9]+ of [0-9]+ checks [a-z]+: ', '', entry['diagnosis'])}"


def summary(records: list[dict], top: int = 10) -> dict:
    n = len(records)
    pass_rate = {c: (sum(r["components"][c]["verdict"] == "pass" for r in records) / n if n else 0.0)
                 for c in COMPONENTS}
    diagnoses = Counter()
    for r in records:
        for c in COMPONENTS:
            e = r["components"][c]
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
