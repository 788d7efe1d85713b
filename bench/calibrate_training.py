"""Calibrate the training checks: run the kit's loop (conformance/training.py) on an implementation
(the reference by default) for several loop seeds and print accuracy and time per task.

    python bench/calibrate_training.py [--impl reference] [--seeds 5] [--tasks xor spiral mnist-5k]

Thresholds for spiral, spiral-scalar, mnist-5k and fashion-mnist are set to (min accuracy over seeds - margin)
and recorded in conformance/cases/training.py (TASKS) and SPEC.md.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from conformance.adapters import build_adapter
from conformance.cases import training
from conformance.loader import load_impl
from conformance.runner import InProcessRunner


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--impl", default="reference")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--tasks", nargs="*", default=["xor", "spiral", "spiral-scalar", "mnist-5k", "fashion-mnist", "mnist"])
    args = ap.parse_args(argv)
    runner = InProcessRunner(build_adapter(load_impl(args.impl)))
    print(f"{'task':14} {'threshold':>9} {'acc min':>8} {'acc mean':>8} {'s/run':>6} {'budget':>6}")
    for name in args.tasks:
        task = training.TASKS[name]
        try:
            X, y, Xv, yv = training.load_data(task)
        except Exception as exc:  # DataUnavailable: say so and go on
            print(f"{name:14} unavailable: {exc}")
            continue
        accs, times = [], []
        for seed in range(args.seeds):
            start = time.perf_counter()
            out = runner.call("training.fit", training.build_training(task, X, y, Xv, seed=seed))
            times.append(time.perf_counter() - start)
            accs.append(float(np.mean(np.argmax(out["val_outputs"], axis=1) == yv)))
        print(f"{name:14} {task.threshold:9.2f} {min(accs):8.3f} {np.mean(accs):8.3f} {np.mean(times):6.1f} "
              f"{task.budget_s:6.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
