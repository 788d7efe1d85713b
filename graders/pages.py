"""The grader's HTML pages: ``<id>/feedback.html`` per submission and ``report.html`` for the class.

Both are rendered from the records (``graders.grade.make_record``) with the kit's Jinja2
templates (``conformance/pages``, autoescaped: a submission's names, messages and dropped
cells are text, never markup) and are self-contained: pictures are inline PNGs drawn with
matplotlib, and a Content-Security-Policy lets no script run but the class report's own
table sorter (allowed by its hash).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from conformance import pages
from conformance.components import VERDICTS
from conformance.pages import figures
from graders import exports

TEMPLATES = Path(__file__).with_name("templates")
# Sorts the gradebook by the clicked column: numbers by value, text alphabetically; click again
# to reverse. The kit's own script, the only one the pages' policy lets run.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("thead th").forEach(function (th, column) {
    var button = th.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var body = table.tBodies[0];
      var up = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var key = function (row) {
        var cell = row.cells[column];
        var value = cell.getAttribute("data-sort") || cell.textContent.trim();
        var number = parseFloat(value);
        return isNaN(number) ? value.toLowerCase() : number;
      };
      Array.from(body.rows).sort(function (a, b) {
        var x = key(a), y = key(b);
        var order = x < y ? -1 : x > y ? 1 : 0;
        return up ? order : -order;
      }).forEach(function (row) { body.appendChild(row); });
    });
  });
});
""".strip()


def _env():
    return pages.environment(TEMPLATES)


def feedback_html(record: dict) -> str:
    """One submission's page: status, score, the component table with points and evidence."""
    report = {"components": record["components"], "inventory": record.get("inventory") or {}}
    scored = {c: (e.get("score", 0.0), e.get("points", 0.0)) for c, e in record["components"].items()}
    return _env().get_template("feedback.html.j2").render(
        r=record, rows=pages.component_rows(report, list(record["components"]), scored=scored), inventory=pages.inventory_lines(report),
        dropped=pages.dropped_lines(record), csp=pages.csp())


def pass_rate_chart(summary: dict) -> str | None:
    rates = summary.get("pass_rate") or {}
    if not rates:
        return None
    names = list(rates)[::-1]
    values = [100 * rates[c] for c in names]
    fig = figures.new_figure(6.5, 0.24 * len(names) + 0.9)
    ax = fig.subplots()
    bars = ax.barh(names, values, color=["#2e9e55" if v >= 50 else "#d9822b" for v in values])
    ax.bar_label(bars, labels=[f"{v:.0f}%" for v in values], fontsize=7, padding=2)
    ax.set_xlim(0, 110)
    ax.set_xlabel("submissions passing (%)")
    ax.tick_params(labelsize=8)
    ax.set_title("pass rate per component", fontsize=10)
    return figures.to_data_uri(fig)


def score_histogram(records: list[dict]) -> str | None:
    scored = [r for r in records if r.get("max_score")]
    if not scored:
        return None
    top = max(r["max_score"] for r in scored)
    fig = figures.new_figure(5.0, 2.8)
    ax = fig.subplots()
    ax.hist([r["score"] for r in scored], bins=np.linspace(0, top, 11), color="#4a78c2", edgecolor="white")
    ax.set_xlabel(f"score (out of {pages.points(top)})")
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("score histogram", fontsize=10)
    return figures.to_data_uri(fig)


def common_diagnoses(records: list[dict], top: int = 10) -> list[dict]:
    """The most frequent diagnoses (``exports.diagnosis_key``), each with the submissions having it."""
    who: dict[str, list[str]] = {}
    for r in records:
        if r["status"] == "error":
            continue
        for c, e in r["components"].items():
            if e["verdict"] in ("fail", "error", "timeout"):
                who.setdefault(exports.diagnosis_key(c, e), []).append(r["submission"])
    counts = Counter({k: len(v) for k, v in who.items()})
    return [{"diagnosis": k, "count": n, "submissions": sorted(who[k])} for k, n in counts.most_common(top)]


def class_report_html(records: list[dict], summary: dict) -> str:
    """The class page: gradebook (sortable, rows linking to feedback pages), charts, diagnoses."""
    ids = exports.component_ids(records)
    rows = [{"id": r["submission"], "status": r["status"], "score": r["score"], "max_score": r["max_score"],
             "style": r["style"], "verdicts": [(c, r["components"].get(c, {}).get("verdict", "")) for c in ids]}
            for r in records]
    return _env().get_template("report.html.j2").render(
        rows=rows, components=ids, summary=summary, severity=VERDICTS,
        pass_rate=pass_rate_chart(summary), histogram=score_histogram(records),
        diagnoses=common_diagnoses(records), script=SORT_SCRIPT, csp=pages.csp(SORT_SCRIPT))
