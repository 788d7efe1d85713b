"""Grade the zoo of API shapes (tests/zoo): how well the kit discovers and judges code it has
never seen the names of.

    python bench/zoo.py [--jobs 2] [--only ID ...] [--tier unit|network|stretch|all] [--train-bugs]
                        [--no-rename] [--keep DIR]

Every shape of tests/zoo/catalogue.py is graded in its correct version and in each bug version,
in its original naming and renamed (tests/zoo/rename.py, applied after planting the bug), by the
unit tier of the suite (linear, relu, sigmoid, tanh, softmax, cross_entropy, mse) in a subprocess
from the repository root; every shape of tests/zoo/networks_catalogue.py the same way by the
whole-network tier (model_gradcheck, sgd, momentum, adam, gradient_checker, autograd,
training_xor, training_spiral), a bug version without the training checks unless its bug is a
training bug or ``--train-bugs`` is given (tests/zoo/harness.py, ``graded``); every shape of
tests/zoo/stretch_catalogue.py by the stretch tier (batchnorm, dropout, conv2d, layernorm). The verdicts of
each run are compared with the catalogue: a correct version must score ``expect`` (a component
it does not define: missing), a bug version must fail the bugged component (components in the
bug's ``also`` may fail too) and score ``expect`` elsewhere. Discovery is timed in-process on
every version before the suites start: ``build_adapter(load_impl(path))`` then
``adapter.inventory()``.

Printed: one line per verdict not as expected (shape, version, naming, component, expected,
got, the kit's diagnosis); a table per shape; the verdicts that changed between the original and
the renamed naming; the contested variants (correct code the judges fail today, graded apart and
not counted in the figures); and, last,

    zoo: A/B verdicts as expected over N API shapes, false passes F, discovery median M ms

B counts the (version, naming, component) verdicts compared, A those as expected, F the graded
bug versions (one per naming) whose bugged component came out ``pass``, M the median discovery
time over all graded versions; N counts the unit, the network and the stretch shapes graded.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conformance.adapters import build_adapter  # noqa: E402
from conformance.loader import load_impl  # noqa: E402
from zoo import harness  # noqa: E402
from zoo.catalogue import SHAPES  # noqa: E402
from zoo.networks_catalogue import NETWORK_SHAPES  # noqa: E402
from zoo.stretch_catalogue import STRETCH_SHAPES  # noqa: E402


def time_discovery(path: Path) -> float:
    """Milliseconds to load ``path`` and take the adapter's inventory (errors count as done)."""
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
        build_adapter(load_impl(str(path))).inventory()
    return (time.perf_counter() - start) * 1000


def short(text: str, n: int = 110) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=harness.WORKERS, help="suites run at once (default 2)")
    parser.add_argument("--only", action="append", metavar="ID", help="grade this shape only (repeatable)")
    parser.add_argument("--tier", choices=("unit", "network", "stretch", "all"), default="all",
                        help="grade the unit shapes, the network shapes, the stretch shapes, or all (default)")
    parser.add_argument("--train-bugs", action="store_true",
                        help="run the training checks on network bug versions too (slow)")
    parser.add_argument("--no-rename", action="store_true", help="grade the original naming only")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write the versions and reports here and keep them")
    args = parser.parse_args()

    unknown = [i for i in args.only or () if i not in harness.ALL_BY_ID]
    if unknown:
        parser.error(f"unknown shape id(s): {', '.join(unknown)}")
    tiers = {"unit": SHAPES, "network": NETWORK_SHAPES, "stretch": STRETCH_SHAPES,
             "all": SHAPES + NETWORK_SHAPES + STRETCH_SHAPES}[args.tier]
    shapes = [s for s in tiers if not args.only or s.id in args.only]
    graded = harness.versions(shapes, renamed=(False,) if args.no_rename else (False, True))
    extra = harness.contested(shapes)
    with contextlib.ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            workdir = args.keep
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bpk_zoo_")))
        return grade_and_print(args, shapes, graded, extra, workdir)


def grade_and_print(args, shapes, graded, extra, workdir: Path) -> int:
    """Write every version under ``workdir``, time discovery, grade, print the comparison."""
    folders = {v: workdir / f"{i:03d}" for i, v in enumerate(graded + extra)}
    paths = {v: v.write(folder) for v, folder in folders.items()}

    discovery = {v: time_discovery(paths[v]) for v in graded}

    def run(v):
        files = harness.suite_files(harness.graded(v, args.train_bugs))
        return v, harness.run_unit(paths[v], folders[v] / "report.json", files=files)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        reports = dict(pool.map(run, graded + extra))
    elapsed = time.perf_counter() - started

    compared = as_expected = false_passes = 0
    per_shape = defaultdict(lambda: {"versions": 0, "original": [0, 0], "renamed": [0, 0], "false": 0, "ms": []})
    got = {}
    print(f"zoo: {len(shapes)} shapes, {len(graded)} graded versions, {len(extra)} contested variants, "
          f"{args.jobs} at once, {elapsed:.0f} s of suites")
    for v in graded:
        comps = harness.graded(v, args.train_bugs)
        verdict = harness.verdicts(reports[v], comps)
        got[v] = verdict
        row = per_shape[v.shape.id]
        row["versions"] += 1
        row["ms"].append(discovery[v])
        for comp in comps:
            compared += 1
            ok = verdict[comp][0] in v.allowed(comp)
            as_expected += ok
            row[v.naming][0] += ok
            row[v.naming][1] += 1
            if not ok:
                print(f"  {v.shape.id} {v.name} {v.naming} {comp}: expected {v.expected()[comp]} got "
                      f"{verdict[comp][0]} ({short(verdict[comp][1])})")
        if v.is_bug and verdict[v.bug.component][0] == "pass":
            false_passes += 1
            row["false"] += 1

    print()
    print(f"{'shape':32} {'versions':>8} {'original':>10} {'renamed':>10} {'false passes':>12} {'discovery ms':>12}")
    for shape in shapes:
        row = per_shape[shape.id]
        cells = [f"{row[n][0]}/{row[n][1]}" if row[n][1] else "-" for n in ("original", "renamed")]
        print(f"{shape.id:32} {row['versions']:>8} {cells[0]:>10} {cells[1]:>10} {row['false']:>12} "
              f"{statistics.median(row['ms']):>12.1f}")

    trained = [v for v in graded if not v.is_bug and not v.renamed
               and any(c.startswith("training_") for c in harness.graded(v, args.train_bugs))]
    if trained:
        print()
        print("training on the correct networks (the kit's loop; time per epoch from the check's own clock)")
        print(f"{'shape':32} {'training_xor':>26} {'training_spiral':>26}")
        for v in trained:
            cells = []
            for comp in ("training_xor", "training_spiral"):
                entry = reports[v].get("components", {}).get(comp, {})
                text = " ".join(c.get("message", "") for c in entry.get("checks", []))
                pace = re.search(r"\((\d+) epochs, ([\d.]+) ms each\)", text)
                cells.append(f"{entry.get('verdict', '-')}" + (f" {pace.group(2)} ms x {pace.group(1)}" if pace else ""))
            print(f"{v.shape.id:32} {cells[0]:>26} {cells[1]:>26}")

    if not args.no_rename:
        changed = []
        for v in graded:
            if v.renamed:
                original = harness.Version(v.shape, v.bug, renamed=False)
                for comp in got[v]:
                    if got[original][comp][0] != got[v][comp][0]:
                        changed.append(f"  {v.shape.id} {v.name} {comp}: original {got[original][comp][0]} -> "
                                       f"renamed {got[v][comp][0]}")
        print()
        print(f"renaming changed {len(changed)} verdicts")
        print("\n".join(changed) if changed else "  (none)")

    if extra:
        print()
        passing = 0
        lines = []
        for v in extra:
            verdict = harness.verdicts(reports[v])[v.bug.component]
            passing += verdict[0] == "pass"
            lines.append(f"  {v.shape.id} {v.bug.id} {v.bug.component}: {verdict[0]} ({short(verdict[1], 90)})")
        print(f"contested variants (correct code the judges fail today; not counted below): {passing}/{len(extra)} pass")
        print("\n".join(lines))

    print()
    median = statistics.median(discovery.values()) if discovery else 0.0
    print(f"zoo: {as_expected}/{compared} verdicts as expected over {len(shapes)} API shapes, "
          f"false passes {false_passes}, discovery median {median:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
