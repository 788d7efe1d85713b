"""HTML pages of a conformance report: the student's page (``pytest --report-html``), the table a
notebook shows (``backprop_kit.check()``), and the parts the grader's pages reuse.

Templates are Jinja2 (``templates/``) with autoescaping on for everything: every string that
came from a submission (names, messages, dropped cells' text, exception texts) is escaped, and
the pages carry a Content-Security-Policy that runs no script but the kit's own (by hash) and
loads nothing (pictures are inline PNGs, ``figures``).

>>> html = fragment({"impl": "nb", "style": "canonical", "components": {"relu": {
...     "verdict": "pass", "diagnosis": "all 13 checks pass", "checks": []}}, "inventory": {}})
>>> "v-pass" in html and "<table" in html
True
"""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from conformance.components import COMPONENTS

TEMPLATES = Path(__file__).with_name("templates")
CHECKS_SHOWN = 4  # non-passing checks shown per component (the rest are counted)
_VALUE_CAP = 400


def environment(*template_dirs: Path):
    """A Jinja2 environment over ``template_dirs`` then the kit's own templates, escaping all."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader([*map(str, template_dirs), str(TEMPLATES)]), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["points"] = points
    return env


def points(value) -> str:
    """A score for people: two decimals at most, no trailing zeros (64.0385 -> 64.04, 15.0 -> 15)."""
    text = f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def csp(script: str | None = None) -> str:
    """The pages' Content-Security-Policy: inline styles, inline images, and at most the one
    script of the kit (allowed by its hash, so no other script runs even if one got in)."""
    policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    if script:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        policy += f"; script-src 'sha256-{digest}'"
    return policy


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= _VALUE_CAP else text[: _VALUE_CAP - 4] + " ..."


def check_view(check: dict, draw: bool = True) -> dict:
    """What the page shows of one check: its sentence, likely cause, picture, values, snippet."""
    from conformance.pages import figures

    facts = [(k, _short(check[k])) for k in ("expected", "got", "where") if k in check]
    facts += [(str(k), _short(v)) for k, v in (check.get("evidence") or {}).items() if k != "plot"]
    plot = check.get("plot")
    figure = figures.draw(plot) if draw else None
    alt = {"arrays": "heatmaps of the expected values, yours and their difference",
           "training": "loss and validation accuracy per epoch against the threshold",
           "non_finite": "the inputs, those giving NaN or inf circled"}.get((plot or {}).get("kind"), "")
    return {"name": str(check.get("name", "")), "outcome": str(check.get("outcome", "")),
            "message": str(check.get("message") or ""), "likely_cause": str(check.get("likely_cause") or ""),
            "facts": facts, "snippet": str(check.get("snippet") or ""), "figure": figure, "figure_alt": alt}


def component_rows(report: dict, components=None, scored: dict | None = None, draw: bool = True) -> list[dict]:
    """One row per component: id, the student's name for it, verdict, diagnosis, points (when
    ``scored`` gives {id: (score, points)}), and the checks worth showing (those that did not
    pass, and any with a picture, e.g. a passing training curve)."""
    inventory = report.get("inventory") or {}
    rows = []
    for comp in components or [c for c in COMPONENTS if c in report["components"]]:
        entry = report["components"][comp]
        shown = [c for c in entry.get("checks", []) if c.get("outcome") != "pass" and c.get("required") is not False
                 or (c.get("plot") or {}).get("kind") == "training"]
        pts = None
        if scored is not None:
            score, worth = scored[comp]
            pts = f"{points(score)} / {points(worth)}" if worth else "not scored"
        rows.append({"id": comp, "name": (inventory.get(comp) or {}).get("name") or "",
                     "verdict": entry["verdict"], "diagnosis": str(entry.get("diagnosis") or ""),
                     "policy": str(entry.get("policy") or ""), "points": pts,
                     "checks": [check_view(c, draw) for c in shown[:CHECKS_SHOWN]],
                     "more": max(0, len(shown) - CHECKS_SHOWN)})
    return rows


def inventory_lines(report: dict) -> list[tuple[str, str]]:
    return [(c, str(e.get("detail"))) for c, e in (report.get("inventory") or {}).items()
            if isinstance(e, dict) and e.get("detail")]


def dropped_lines(report: dict, cap: int = 60) -> list[dict]:
    from conformance.report import dropped_where

    return [{"where": dropped_where(d), "kind": str(d.get("kind", "")), "text": str(d.get("text", ""))[:120],
             "reason": str(d.get("reason", ""))} for d in (report.get("dropped") or [])[:cap]]


def student_page(report: dict) -> str:
    """The whole report as one self-contained HTML page (``--report-html``)."""
    return environment().get_template("student.html.j2").render(
        report=report, rows=component_rows(report), inventory=inventory_lines(report),
        dropped=dropped_lines(report), csp=csp())


def fragment(report: dict, components=None, notes=(), footer: str = "") -> str:
    """The table a notebook shows: one ``<div>`` with its own scoped style, no script."""
    return environment().get_template("fragment.html.j2").render(
        report=report, rows=component_rows(report, components), notes=list(notes), footer=footer)
