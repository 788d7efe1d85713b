"""How long the conformance suite's fast tier takes on the reference (a benchmark, not a test).

    python bench/conformance_fast.py [--repeat 5] [--impl reference]

Runs `pytest conformance --impl IMPL -m "not slow"` in a fresh interpreter each time (so import
time counts, as it does for a student) and prints the median wall time. Target: under 10 s on the
2-core reference machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 10.0  # issue 3: the fast tier on the reference, on the 2-core machine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--impl", default="reference")
    args = parser.parse_args()

    command = [sys.executable, "-m", "pytest", "conformance", "--impl", args.impl,
               "-m", "not slow", "-q", "-p", "no:cacheprovider"]
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=os.environ.copy())
        times.append(time.perf_counter() - start)
        last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
        print(f"run {len(times)}: {times[-1]:.2f} s  [{last}]")
        if done.returncode not in (0,):
            print(done.stdout[-3000:], done.stderr[-2000:], sep="\n")
            return done.returncode
    print(f"cores: {os.cpu_count()}  runs: {args.repeat}")
    median = statistics.median(times)
    verdict = "met" if median < TARGET_S else "NOT met"
    print(f"fast tier on {args.impl}: median {median:.2f} s (min {min(times):.2f} s, max {max(times):.2f} s); "
          f"target < {TARGET_S:g} s {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
