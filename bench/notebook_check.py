"""How long ``backprop_kit.check()`` takes in a real notebook (a benchmark, not a test).

    python bench/notebook_check.py [--notebook examples/submissions/ada.ipynb] [--repeat 2]

Executes the notebook's cells in a Jupyter kernel (nbclient + ipykernel, as a student's Jupyter or
Colab does), then appends cells that call ``backprop_kit.check()`` (fast tier) and
``backprop_kit.check(slow=True)`` (the training checks too), each ``--repeat`` times in the same
kernel, and times every call inside the kernel with ``time.perf_counter``. The first call pays for
importing pytest, hypothesis and the suite; the later ones are what a student re-running the cell
waits. Prints one line per call and the verdict counts, so a slow call that also failed is seen.

Measured figures are in the closing notes of the issue that asked for them (#14); they depend on
the machine and its load, so no test asserts them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

TIMED = """import time, collections, json
import backprop_kit
_t = time.perf_counter()
_r = backprop_kit.check({args})
_s = time.perf_counter() - _t
print(json.dumps({{"call": "check({args})", "seconds": round(_s, 2),
                  "verdicts": dict(collections.Counter(_r.verdicts.values())),
                  "missing": sorted(c for c, v in _r.verdicts.items() if v == "missing")}}))"""


def main() -> int:
    import nbclient
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", type=Path, default=REPO / "examples" / "submissions" / "ada.ipynb")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    with warnings.catch_warnings():  # older notebooks have no cell ids: give them some
        warnings.simplefilter("ignore")
        nb = nbformat.from_dict(nbformat.validator.normalize(nbformat.read(args.notebook, as_version=4))[1])
    for call in ["", "slow=True"]:
        nb.cells += [nbformat.v4.new_code_cell(TIMED.format(args=call)) for _ in range(args.repeat)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as work:
        client = nbclient.NotebookClient(nb, timeout=1200, kernel_name="python3", allow_errors=True,
                                         resources={"metadata": {"path": work}})
        client.execute()
    print(f"notebook: {args.notebook.relative_to(REPO) if args.notebook.is_relative_to(REPO) else args.notebook}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                print(f"cell error: {out.get('ename')}: {out.get('evalue')}", file=sys.stderr)
            for line in (out.get("text") or "").splitlines():
                if line.startswith('{"call"'):
                    row = json.loads(line)
                    missing = f"   missing: {', '.join(row['missing'])}" if row["missing"] else ""
                    print(f"{row['call']:<22} {row['seconds']:7.2f} s   {row['verdicts']}{missing}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
