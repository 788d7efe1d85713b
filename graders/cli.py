"""Command line of the grader: the only layer that prints.

    python -m graders grade SUBMISSIONS --out OUT [--jobs N] [--timeout S] [--rubric R.toml]
                                         [--style NAME] [--map API.toml] [--force]
    python -m graders demo [--out demo-out]      grade examples/submissions, print the gradebook
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from conformance.adapters.discovery.apimap import MapError
from graders import exports
from graders.grade import Options, grade_all
from graders.isolation import MODES, IsolationRefused
from graders.rubric import RubricError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "submissions"


def _progress(state: dict) -> None:
    graded = state["done"] - state["skipped"]
    left = state["total"] - state["done"]
    rate = (time.monotonic() - state["started"]) / graded if graded else 0.0
    eta = f"~{rate * left:.0f} s left" if left else "finished"
    end = "\n" if not left else ""
    print(f"\r[{state['done']}/{state['total']}] not ok: {state['errors']}  {eta}  "
          f"(last: {state['last']} {state['status']})\033[K", end=end, file=sys.stderr, flush=True)


def _grade(options: Options, show_gradebook: bool) -> int:
    if not options.submissions.is_dir():
        print(f"error: {options.submissions} is not a folder: pass the folder holding one notebook per student.",
              file=sys.stderr)
        return 2
    try:
        records, summary = grade_all(options, progress=_progress)
    except (RubricError, MapError, IsolationRefused) as exc:  # before anything was graded
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if show_gradebook:
        print((options.out / "gradebook.csv").read_text(), end="")
    print("\n".join(exports.summary_text(summary)))
    print(f"gradebook: {options.out / 'gradebook.csv'}   class report: {options.out / 'report.html'}   "
          f"feedback: {options.out}/<submission>/feedback.md (.html)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graders", description="Batch-grade submitted notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade a folder of submissions")
    g.add_argument("submissions", type=Path)
    g.add_argument("--out", type=Path, required=True)
    d = sub.add_parser("demo", help="grade the example submissions and print the gradebook")
    d.add_argument("--out", type=Path, default=Path("demo-out"))
    for p in (g, d):
        p.add_argument("--jobs", type=int, default=2)
        p.add_argument("--timeout", type=float, default=60.0, help="seconds allowed to each call into student code")
        p.add_argument("--rubric", type=Path)
        p.add_argument("--style")
        p.add_argument("--map", type=Path, dest="api_map", metavar="API.toml",
                       help="pin what discovery gets wrong, for every submission (conformance/MAP.md)")
        p.add_argument("--force", action="store_true", help="regrade submissions already graded")
        p.add_argument("--retry-failed", action="store_true",
                       help="regrade the submissions whose row is error or timeout, keep the ok ones")
        p.add_argument("--hide", action="append", default=[], metavar="FOLDER",
                       help="another folder student code must not see (your solutions, say); repeatable")
        p.add_argument("--isolation", choices=MODES, default="auto",
                       help="the sandbox's fence: namespaces; container (root without namespaces, as in "
                            "Docker or Gradescope); audit-hook (the weakest); auto: namespaces if they can be "
                            "had, else container as root, else every row says why (default)")
        p.add_argument("--audit-hook-only", action="store_true", help="the same as --isolation audit-hook")
    a = parser.parse_args(argv)
    submissions = a.submissions if a.command == "grade" else EXAMPLES
    options = Options(submissions=submissions, out=a.out, jobs=a.jobs, timeout=a.timeout, rubric=a.rubric,
                      style=a.style, api_map=a.api_map, force=a.force, retry_failed=a.retry_failed,
                      isolation="audit-hook" if a.audit_hook_only else a.isolation,
                      hide=[str(Path(h).resolve()) for h in a.hide])
    return _grade(options, show_gradebook=a.command == "demo")
