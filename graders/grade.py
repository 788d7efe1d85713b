"""Batch grading: a folder of submissions in, a gradebook and per-student feedback out.

``grade_all(options, progress=callback)`` returns the records and writes, in ``options.out``::

    gradebook.csv  summary.json  report.html  <id>/feedback.md  <id>/feedback.html  <id>/results.json
    <id>/record.json
    canvas.csv  grades.csv  unmatched.csv      with a roster (graders.roster)
    shard.json                                 with --shard i/N (graders.shards)

(``report.html`` and ``feedback.html``: ``graders.pages``, self-contained HTML with pictures.)

Each submission is graded by its own worker process (``graders.worker``) with a hard wall-clock
limit; whatever happens to it, it gets a record. ``record.json`` is written last and carries the
key (submission content hash + kit version + options), so a re-run skips finished submissions
unless ``force`` is set; ``retry_failed`` regrades only those whose row is ``error`` or ``timeout``
(after the machine was overloaded or out of disk, say), keeping every ``ok`` row.

``api_map`` (``--map api.toml``, conformance/MAP.md) is read and validated once, here: a malformed
map raises ``MapError`` before anything is graded; its tables (``pins``, plain JSON) cross into each
sandboxed child with the rest of the job, and each record names the map in force (path, sha256).
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Callable

from conformance.adapters.discovery.apimap import read_map
from conformance.components import COMPONENTS
from graders import exports, extra as extras, isolation, pages, roster as rosters, rubric as rubrics, shards
from graders.messages import Hello, Limits, WorkerOptions

SUFFIXES = (".ipynb", ".py")


@dataclass
class Options:
    submissions: Path
    out: Path
    jobs: int = 1
    timeout: float = 60.0  # cap on each probe call
    rubric: Path | None = None
    style: str | None = None
    force: bool = False
    retry_failed: bool = False  # regrade rows whose status is error/timeout, keep the ok ones
    max_timeouts: int = 8
    worker_timeout: float | None = None  # hard limit on one submission; default from timeout
    limits: dict = field(default_factory=dict)  # overrides of graders.messages.Limits
    isolation: str = "auto"  # --isolation: graders/isolation.py chooses the mode in force once
    pytest_args: list[str] = field(default_factory=list)
    extra_probes: list[str] = field(default_factory=list)
    hide: list[str] = field(default_factory=list)
    api_map: Path | None = None  # --map api.toml, read once by grade_all
    pins: dict | None = None  # the map's tables as read: what crosses into each child (set by grade_all)
    shard: tuple[int, int] | None = None  # --shard i/N: grade only graders.shards.shard_of(id, N) == i
    roster: Path | None = None  # --roster roster.csv: canvas.csv, grades.csv, unmatched.csv
    assignment: str = rosters.DEFAULT_ASSIGNMENT  # canvas.csv's assignment column
    extra_checks: Path | None = None  # --extra-checks DIR (graders.extra), read by grade_all
    extra_sha256: str | None = None  # that folder's hash (set by grade_all): changing a check regrades


def discover(folder: Path) -> list[tuple[str, Path | None, str | None]]:
    """(submission id, file, problem) per submission: a file, or a folder holding one notebook.
    One id, one submission: when ``ada.ipynb``, ``ada.py`` and ``ada/`` are all there, the
    notebook wins, then the script, then the folder. Links are refused, never followed: the
    grader may read what the student cannot (another student's notebook, a root-only file), so
    a link, anywhere in a submission, or a path leading out of ``folder`` is a row with a problem."""
    folder = Path(folder)
    rank = {".ipynb": 0, ".py": 1}
    candidates = []
    for entry in folder.iterdir():
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir():  # follows a link to learn the type only; the link is refused below
            candidates.append((entry.name, 3, entry))
        elif entry.suffix in SUFFIXES and (entry.is_file() or entry.is_symlink()):
            candidates.append((entry.stem, rank[entry.suffix], entry))
    found = []
    for sub_id, _, entry in sorted(candidates):
        if found and found[-1][0] == sub_id:
            continue
        if entry.is_dir() and not entry.is_symlink():
            path, problem = _submission_in(entry, folder)
        else:
            path, problem = entry, None
        problem = problem or _escape_problem(path, folder)
        found.append((sub_id, None if problem else path, problem))
    return found


def _submission_in(student: Path, folder: Path) -> tuple[Path | None, str | None]:
    """The first notebook (else script) anywhere in a student's folder, or why there is none."""
    links, files = [], []
    for dirpath, dirnames, filenames in os.walk(student):  # never descends into a linked folder
        links += [Path(dirpath, n) for n in dirnames + filenames if Path(dirpath, n).is_symlink()]
        dirnames[:] = [d for d in dirnames if d != ".ipynb_checkpoints"]
        files += [Path(dirpath, n) for n in filenames if Path(n).suffix in SUFFIXES and Path(dirpath, n).is_file()]
    if links:
        return None, _escape_problem(sorted(links)[0], folder, more=len(links) - 1)
    notebooks = sorted(p for p in files if p.suffix == ".ipynb") or sorted(files)
    if not notebooks:
        return None, f"the folder {student.name} holds no .ipynb or .py file"
    return notebooks[0], None


def _escape_problem(path: Path | None, folder: Path, more: int = 0) -> str | None:
    """The sentence refusing ``path`` when it is a link or resolves outside ``folder``, else None."""
    if path is None or not path.is_symlink() and path.resolve().is_relative_to(folder.resolve()):
        return None
    name = path.relative_to(folder).as_posix()
    also = f" (and {more} more link{'s' * (more > 1)})" if more else ""
    what = "is a link" if path.is_symlink() else "leads outside the submissions folder"
    return f"{name}{also} {what}, which the grader does not follow: submit the file itself, not a link."


def kit_version() -> str:
    try:
        version = metadata.version("backprop-kit")
    except metadata.PackageNotFoundError:
        version = "unknown"
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for pkg, pattern in (("conformance", "*.py"), ("conformance", "*.toml"), ("graders", "*.py"), ("graders", "*.toml"),
                         ("reference", "*.py"), ("fixtures", "*")):  # styles.toml and the shipped rubrics too
        for path in sorted((root / pkg).rglob(pattern)):  # golden data changes a grade too
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.read_bytes())
    return f"{version}+{digest.hexdigest()[:12]}"


def submission_key(path: Path | None, options: Options, rubric: rubrics.Rubric | None, kit: str) -> str:
    digest = hashlib.sha256(path.read_bytes() if path else b"")
    scoring = [rubric.source, rubric.points, rubric.partial, rubric.zero, rubric.visibility] if rubric else None
    settings = [kit, options.style, options.timeout, options.max_timeouts, options.limits, options.pytest_args,
                scoring, options.pins, *([options.extra_sha256] if options.extra_sha256 else [])]
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def run_worker(path: Path, options: Options, log: Path) -> tuple[dict | None, str | None, float]:
    """Run one worker; (its result, or None with the reason, elapsed seconds). A worker that outlives
    the hard limit is killed with its sandboxes and comes back as a ``timeout`` load failure."""
    hard = options.worker_timeout or max(300.0, 30 * options.timeout)
    # Everything the worker and its sandboxes write goes under tmp, removed even after a kill.
    with tempfile.TemporaryDirectory(prefix="bpk-grade-", ignore_cleanup_errors=True) as tmp:
        if options.limits.get("isolation") == "container":
            os.chmod(tmp, 0o711)  # the sandbox's user passes through to its folders; it lists nothing
        result_path = Path(tmp) / "result.json"
        job = WorkerOptions(
            submission=str(Path(path).resolve()), result=str(result_path), style=options.style,
            timeout=options.timeout or None, max_timeouts=options.max_timeouts, limits=Limits(**options.limits),
            hide=[str(options.out.resolve()), str(options.submissions.resolve()),
                  str(Path(tmp).resolve().parent), *options.hide],  # tmp's parent: the other workers' folders
            extra_probes=list(options.extra_probes),
            # --map is only named in the "Reproduce with" snippets; the installed runner never reads it
            pytest_args=[*options.pytest_args, *([f"--map={Path(options.api_map).name}"] if options.api_map else [])],
            pins=options.pins)  # already read and validated: the child gets them as they are
        cmd = [sys.executable, "-m", "graders.worker", json.dumps(job.to_wire())]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "TMPDIR": tmp}
        start = time.monotonic()
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as log_fh:
            proc = subprocess.Popen(cmd, stdout=log_fh, stderr=subprocess.STDOUT, cwd=tmp, env=env,
                                    start_new_session=True)
            try:
                proc.wait(timeout=hard)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                # recorded like a load that timed out: nothing of the submission was graded
                stopped = {"kind": "timeout", "message": f"grading took longer than {hard:g} s and was stopped"}
                return {"load_failure": stopped}, None, time.monotonic() - start
        elapsed = time.monotonic() - start
        if proc.returncode != 0 or not result_path.exists():
            return None, f"the grader's worker failed (exit code {proc.returncode}); see {log.name}", elapsed
        return json.loads(result_path.read_text()), None, elapsed


def _blank_components(verdict: str, diagnosis: str, ids=COMPONENTS) -> dict:
    return {c: {"verdict": verdict, "diagnosis": diagnosis, "checks": []} for c in ids}


def make_record(sub_id: str, result: dict | None, error: str | None, rubric_given: rubrics.Rubric | None,
                elapsed: float, extra: dict[str, float] | None = None) -> dict:
    """One submission's record: status, per-component verdict/score/diagnosis, what was dropped.
    ``extra``: the instructor's own components and their points (``graders.extra``), after the kit's."""
    ids = (*COMPONENTS, *(extra or {}))
    result = result or {}
    hello = Hello.from_wire(result["hello"]) if result.get("hello") else Hello(ok=False)
    failure = result.get("load_failure")
    report = result.get("report")
    style = hello.style or "unknown"
    if error is None and failure:
        error = failure["message"]
        status = "timeout" if failure["kind"] == "timeout" else "error"
        components = _blank_components(status, f"not graded: {error}", ids)
    elif error is None and not report:
        error = "the conformance suite produced no report"
        status, components = "error", _blank_components("error", f"not graded: {error}", ids)
    elif error is not None:
        status, components = "error", _blank_components("error", f"not graded: {error}", ids)
    else:
        components = {c: dict(report["components"].get(c) or {"verdict": "missing", "diagnosis": "not run",
                                                               "checks": []}) for c in ids}
        status = "timeout" if any(e["verdict"] == "timeout" for e in components.values()) else "ok"
    rubric = rubric_given or rubrics.default_for(style if style != "unknown" else None)
    rubric = rubrics.with_points(rubric, extra or {})
    imports = result.get("imports") or []
    zeroed = rubrics.zeroed_by_policy(rubric, imports, ids)
    for c, e in components.items():
        e["points"] = rubric.points.get(c, 0.0)
        e["score"] = 0.0 if c in zeroed else rubrics.score_component(rubric, c, e)
        if c in zeroed:
            e["policy"] = zeroed[c]
    return {
        "submission": sub_id, "status": status, "style": style,
        "score": round(sum(e["score"] for e in components.values()), 4), "max_score": rubric.max_score,
        "rubric": Path(rubric.source).name, "components": components, "error": error,
        "because": hello.detected_because, "dropped": hello.dropped,
        "notes": hello.notes, "imports": imports, "events": result.get("events", []),
        "isolation": hello.isolation, "execution_time": round(elapsed, 2),
        "inventory": _inventory(report),
        "visibility": {c: rubric.visibility_of(c) for c in ("*", *COMPONENTS)},
    }


def _inventory(report: dict | None) -> dict:
    """How the child said it found each component: {id: {"name", "detail"}}, strings capped
    (the report came through the student's process)."""
    found = (report or {}).get("inventory") or {}
    out = {}
    for comp in COMPONENTS:
        entry = found.get(comp) if isinstance(found, dict) else None
        if isinstance(entry, dict):
            out[comp] = {k: str(entry.get(k) or "")[:600] for k in ("name", "detail")}
    return out


def read_api_map(path: Path) -> tuple[dict, dict]:
    """(pins, which map is in force {"path", "sha256"}) of ``--map path``; raises ``MapError``
    (one sentence naming the key and what to write) when the map is malformed."""
    pins = read_map(path)
    return pins, {"path": str(Path(path).resolve()), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}


def grade_all(options: Options, progress: Callable[[dict], None] | None = None) -> tuple[list[dict], dict]:
    """Grade the folder (``options.shard``: only that share of it) and write OUT. Raises
    ``RubricError``, ``MapError``, ``RosterError`` or ``ExtraChecksError`` before grading anything."""
    in_force = None
    if options.api_map is not None:  # before anything is graded: a malformed map stops the run
        pins, in_force = read_api_map(options.api_map)
        options = replace(options, pins=pins)
    rubric = rubrics.load(options.rubric) if options.rubric else None
    roster = rosters.read(options.roster) if options.roster else None
    extra = extras.read(options.extra_checks) if options.extra_checks else None
    if extra:  # probes go to each child, test modules to each worker's pytest; the folder stays hidden
        options = replace(options, extra_sha256=extra.sha256,
                          extra_probes=[*options.extra_probes, *map(str, extra.probes)],
                          pytest_args=[*options.pytest_args, *map(str, extra.tests)],
                          hide=[*options.hide, str(extra.folder)])
    mode, why = isolation.choose(options.limits.get("isolation") or options.isolation)
    options = replace(options, limits={**options.limits, "isolation": mode})
    options.out.mkdir(mode=0o700 if mode == "container" else 0o777, parents=True, exist_ok=True)
    if mode == "container":  # before anything is graded: what the sandbox's users could read
        isolation.check_container(options.submissions, options.out, options.hide)
    kit = kit_version()
    subs = every = discover(options.submissions)
    if options.shard:
        subs = [s for s in every if shards.shard_of(s[0], options.shard[1]) == options.shard[0]]
    records: dict[str, dict] = {}
    todo = []
    for sub_id, path, problem in subs:
        key = submission_key(path, options, rubric, kit)
        saved = options.out / sub_id / "record.json"
        if not options.force and saved.exists():
            try:
                record = json.loads(saved.read_text())
                if record.get("key") == key and not (options.retry_failed and record.get("status") != "ok"):
                    records[sub_id] = record
                    continue
            except (OSError, json.JSONDecodeError):
                pass
        todo.append((sub_id, path, problem, key))
    state = {"done": len(records), "total": len(subs), "errors": 0, "skipped": len(records), "started": time.monotonic()}

    def one(sub_id, path, problem, key) -> dict:
        folder = options.out / sub_id
        try:
            if problem:
                result, error, elapsed = None, problem, 0.0
            else:
                result, error, elapsed = run_worker(path, options, folder / "grading.log")
            record = make_record(sub_id, result, error, rubric, elapsed, extra and extra.points)
        except Exception as exc:  # the batch goes on whatever one submission does
            record = make_record(sub_id, None, f"the grader failed on this submission ({type(exc).__name__}: {exc})",
                                 rubric, 0.0, extra and extra.points)
        record["key"] = key
        record["map"] = in_force
        record["sandbox"] = {"mode": mode, "why": why}  # the isolation chosen for the batch (the summary says it)
        exports.write_atomic(folder / "feedback.md", exports.feedback_md(record))
        exports.write_atomic(folder / "feedback.html", pages.feedback_html(record))
        exports.write_atomic(folder / "results.json", exports.dumps(exports.gradescope_results(record)))
        exports.write_atomic(folder / "record.json", exports.dumps(record))  # last: marks it finished
        return record

    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        futures = [pool.submit(one, *t) for t in todo]
        for fut in as_completed(futures):
            record = fut.result()
            records[record["submission"]] = record
            state["done"] += 1
            state["errors"] += record["status"] != "ok"
            if progress:
                progress(dict(state, last=record["submission"], status=record["status"]))
    ordered = [records[k] for k in sorted(records)]
    if options.shard:
        roster_in_force = {"path": str(options.roster.resolve()), "sha256": shards.file_sha256(options.roster)} \
            if options.roster else None
        shards.write_manifest(options.out, options.shard, grading_settings(options, rubric, kit, in_force),
                              [s[0] for s in every], list(records),
                              {"roster": roster_in_force, "assignment": options.assignment})
    return ordered, write_class_files(options.out, ordered, roster, options.assignment)


def grading_settings(options: Options, rubric: rubrics.Rubric | None, kit: str, api_map: dict | None) -> dict:
    """What a grade depends on besides the submission: two shards merge only when these agree."""
    return {"kit": kit, "rubric": shards.file_sha256(options.rubric) if rubric else
            "shipped " + shards.folder_sha256(list(rubrics.RUBRICS.glob("*.toml"))),
            "style": options.style, "map": api_map and api_map["sha256"], "timeout": options.timeout,
            "worker_timeout": options.worker_timeout, "max_timeouts": options.max_timeouts,
            "limits": options.limits, "pytest_args": [a for a in options.pytest_args if not a.endswith(".py")],
            "extra_checks": options.extra_sha256}


def write_class_files(out: Path, records: list[dict], roster: dict | None = None,
                      assignment: str = rosters.DEFAULT_ASSIGNMENT) -> dict:
    """The class-wide files, from the records alone (``grade_all`` and ``graders.shards`` merge both
    write them here, so one run and a merge of shards give the same bytes): gradebook.csv,
    summary.json, report.html and, with a roster, canvas.csv, grades.csv and unmatched.csv."""
    records = json.loads(exports.dumps(records))  # fresh records read exactly as saved ones
    exports.write_atomic(out / "gradebook.csv", exports.gradebook_csv(records))
    summary = exports.summary(records)
    exports.write_atomic(out / "summary.json", exports.dumps(summary))
    exports.write_atomic(out / "report.html", pages.class_report_html(records, summary))
    if roster is not None:
        exports.write_atomic(out / "canvas.csv", rosters.canvas_csv(records, roster, assignment))
        exports.write_atomic(out / "grades.csv", rosters.grades_csv(records, roster))
        exports.write_atomic(out / "unmatched.csv", rosters.unmatched_csv(rosters.unmatched(records, roster)))
    return summary
