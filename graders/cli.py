"""Command line of the grader: the only layer that prints.

    python -m graders grade SUBMISSIONS --out OUT [--jobs N] [--timeout S] [--rubric R.toml]
                                         [--style NAME] [--map API.toml] [--force]
                                         [--shard i/N] [--roster roster.csv [--assignment NAME]]
                                         [--extra-checks DIR]
    python -m graders merge OUT_1 ... OUT_N --out OUT [--roster roster.csv] [--assignment NAME]
    python -m graders demo [--out demo-out]      grade examples/submissions, print the gradebook
    python -m graders gradescope --out autograder.zip [--rubric R.toml] [--style NAME] [--map API.toml]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.adapters.discovery.apimap import MapError
from graders import exports, gradescope, roster as rosters, shards
from graders.extra import ExtraChecksError
from graders.grade import Options, grade_all
from graders.isolation import MODES, IsolationRefused
from graders.progress import Progress
from graders.rubric import RubricError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "submissions"


def _grade(options: Options, show_gradebook: bool) -> int:
    if not options.submissions.is_dir():
        print(f"error: {options.submissions} is not a folder: pass the folder holding one notebook per student.",
              file=sys.stderr)
        return 2
    try:
        records, summary = grade_all(options, progress=Progress())
    except (RubricError, MapError, rosters.RosterError, ExtraChecksError, IsolationRefused) as exc:  # before grading
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if options.roster:
        print("\n".join(rosters.unmatched_text(rosters.unmatched(records, rosters.read(options.roster)))))
    if show_gradebook:
        print((options.out / "gradebook.csv").read_text(), end="")
    _summary(options.out, summary)
    return 0


def _gradescope(a: argparse.Namespace) -> int:
    try:
        gradescope.build_zip(a.out, rubric=a.rubric, style=a.style, api_map=a.api_map, timeout=a.timeout,
                             isolation="audit-hook" if a.audit_hook_only else a.isolation)
    except (RubricError, MapError, gradescope.GradescopeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{a.out}: {a.out.stat().st_size / 1e6:.1f} MB; upload it as the assignment's autograder "
          "(README: On Gradescope)")
    return 0


def _merge(a) -> int:
    try:
        records, summary, students = shards.merge(a.shards, a.out, a.roster, a.assignment)
    except (shards.ShardError, rosters.RosterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if students is not None:
        print("\n".join(rosters.unmatched_text(rosters.unmatched(records, students))))
    _summary(a.out, summary)
    return 0


def _summary(out: Path, summary: dict) -> None:
    print("\n".join(exports.summary_text(summary)))
    print(f"gradebook: {out / 'gradebook.csv'}   class report: {out / 'report.html'}   "
          f"feedback: {out}/<submission>/feedback.md (.html)")


def _shard(text: str) -> tuple[int, int]:
    try:
        return shards.parse_shard(text)
    except shards.ShardError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graders", description="Batch-grade submitted notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade a folder of submissions")
    g.add_argument("submissions", type=Path)
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--shard", type=_shard, metavar="i/N", help="grade only the i-th of N shares of the folder")
    m = sub.add_parser("merge", help="join the OUT folders of shards graded with --shard i/N")
    m.add_argument("shards", type=Path, nargs="+")
    m.add_argument("--out", type=Path, required=True)
    d = sub.add_parser("demo", help="grade the example submissions and print the gradebook")
    d.add_argument("--out", type=Path, default=Path("demo-out"))
    for p in (g, m, d):
        p.add_argument("--roster", type=Path, help="CSV of submission,name[,canvas_id,...]: canvas.csv and grades.csv")
        p.add_argument("--assignment", default=None, help="canvas.csv's assignment column, e.g. 'Backprop Kit (12345)'")
    for p in (g, d):
        p.add_argument("--extra-checks", type=Path, metavar="DIR", help="your own checks (docs/extra-checks.md)")
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
    gradescope.add_arguments(sub.add_parser("gradescope", help="build the autograder zip to upload to Gradescope"))
    a = parser.parse_args(argv)
    if a.command == "gradescope":
        return _gradescope(a)
    if a.command == "merge":
        return _merge(a)
    if a.assignment and not a.roster:
        parser.error("--assignment names the column of canvas.csv, which only --roster writes: add --roster roster.csv")
    submissions = a.submissions if a.command == "grade" else EXAMPLES
    options = Options(submissions=submissions, out=a.out, jobs=a.jobs, timeout=a.timeout, rubric=a.rubric,
                      style=a.style, api_map=a.api_map, force=a.force, retry_failed=a.retry_failed,
                      isolation="audit-hook" if a.audit_hook_only else a.isolation,
                      hide=[str(Path(h).resolve()) for h in a.hide], shard=getattr(a, "shard", None),
                      roster=a.roster, assignment=a.assignment or rosters.DEFAULT_ASSIGNMENT,
                      extra_checks=a.extra_checks)
    return _grade(options, show_gradebook=a.command == "demo")
