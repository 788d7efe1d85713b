"""From recorded checks to verdicts: the per-component summary, the table and the JSON shape.

A component's verdict is its worst check in the order of ``components.VERDICTS`` (SPEC.md 0.6):
every check passing is a pass; a piece the implementation lacks makes an otherwise passing
component ``missing`` (never a pass); a failure is never hidden by a missing piece. Only required
checks count: one the style and the student's own pipeline do not need (``"required": false``,
``conformance.requirements``) is listed, and its reason named in the diagnosis.
"""
from __future__ import annotations

from conformance.components import VERDICTS

NOT_COLLECTED = ("no check of this component was collected (deselected, e.g. by -m 'not slow', "
                 "or not run)")


def _first_sentence(text: str) -> str:
    text = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return text


def dropped_where(d: dict) -> str:
    """Where a dropped statement was: "cell 3, line 2" in a notebook, "src/layers.py, line 7" in a file."""
    if d.get("cell") is not None:
        return f"cell {d['cell']}, line {d.get('line')}"
    return f"{d['file']}, line {d.get('line')}" if d.get("file") else f"line {d.get('line')}"


def summarise(checks: list[dict], reason: str | None = None) -> dict:
    """{"verdict", "diagnosis", "checks": [{"name", "outcome", "message", ...}]} for one component.

    Each check keeps the extra keys its record has (``cause``, ``convention``, and for a check
    that did not pass ``likely_cause``, ``expected``, ``got``, ``where``, ``snippet``,
    ``evidence``: see ``conformance.checking.report_entry``)."""
    public = [{"name": c["name"], "outcome": c["outcome"], "message": c.get("message") or "",
               **{k: v for k, v in c.items() if k not in ("name", "outcome", "message") and v is not None}}
              for c in checks]
    if not checks:
        return {"verdict": "missing", "diagnosis": reason or NOT_COLLECTED, "checks": []}
    waived = [c for c in checks if c.get("required") is False]
    checks = [c for c in checks if c.get("required") is not False]
    if not checks:
        return {"verdict": "missing", "diagnosis": f"no check is required: {waived[0].get('convention')}",
                "checks": public}
    worst = max(checks, key=lambda c: VERDICTS.index(c["outcome"]))
    verdict = worst["outcome"]
    if verdict == "pass":
        found = {c["convention"] for c in checks + waived if c.get("convention")}
        notes = sorted(n for n in found if not any(m != n and m.startswith(n) for m in found))
        diagnosis = f"all {len(checks)} checks pass" + (f", {len(waived)} more not required" if waived else "") \
            + (f"; conventions: {', '.join(notes)}" if notes else "")
    else:
        bad = [c for c in checks if c["outcome"] == verdict]
        cause = f"[{worst['cause']}] " if worst.get("cause") else ""
        diagnosis = f"{len(bad)} of {len(checks)} checks {verdict}: {cause}{_first_sentence(worst.get('message'))}"
    return {"verdict": verdict, "diagnosis": diagnosis, "checks": public}


def table(report: dict, width: int = 140) -> list[str]:
    """The summary table's lines (component, verdict, diagnosis)."""
    lines = [f"impl: {report['impl']}   style: {report['style']}"]
    if report.get("load_error"):
        lines.append(f"load error: {report['load_error']}")
    inventory = report.get("inventory") or {}
    lines.append(f"{'component':<17} {'found as':<20} {'verdict':<8} diagnosis")
    for comp, entry in report["components"].items():
        name = (inventory.get(comp) or {}).get("name") or "-"
        diagnosis = entry["diagnosis"]
        room = max(width - 48, 20)
        if len(diagnosis) > room:
            diagnosis = diagnosis[: room - 3] + "..."
        lines.append(f"{comp:<17} {name[:20]:<20} {entry['verdict']:<8} {diagnosis}")
    return lines
