"""The kit catches real bugs: every mutant of tests/mutants.py fails exactly the check meant to
catch it, naming the intended cause, and nothing outside its declared components.

Each mutant is written to a temporary directory and checked by the conformance suite in its own
subprocess (``python -m pytest <files> --impl <mutant> --report r.json``), two at a time: the fast
tier always (so collateral failures are seen), a training module only when the mutant names it.
The catch rate is printed at the end of the run (tests/conftest.py, pytest_terminal_summary).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conformance.components import COMPONENTS, TRAINING_COMPONENTS
from mutants import MUTANTS, RESULTS, WORKERS, Mutant, _table_problems, check_matches, plant, run_suite


def run_mutant(mutant: Mutant, workdir: Path) -> dict:
    impl = plant(mutant.base, [(mutant.old, mutant.new)], workdir)
    wanted = [c for c in COMPONENTS if c not in TRAINING_COMPONENTS or c in mutant.components_run()]
    return run_suite(impl, wanted, workdir)


def problems(mutant: Mutant, report: dict) -> list[str]:
    """Every way the report falls short of "caught exactly, with the intended diagnosis"."""
    if "crash" in report:
        return [f"the suite wrote no report:\n{report['crash']}"]
    if report.get("load_error"):
        return [f"the mutant did not load: {report['load_error']}"]
    found, comps = [], report["components"]
    entry = comps[mutant.component]
    if entry["verdict"] != "fail":
        found.append(f"{mutant.component} is {entry['verdict']!r}, expected 'fail' ({entry['diagnosis']})")
    failing = [c for c in entry["checks"] if c["outcome"] != "pass" and c["outcome"] != "missing"]
    intended = [c for c in failing if any(check_matches(c["name"], p) for p in mutant.checks)]
    if not intended:
        found.append(f"none of the intended checks {mutant.checks} failed")
    for c in failing:
        if c not in intended:
            found.append(f"another check of {mutant.component} failed: {c['name']} "
                         f"[{c.get('cause')}] {c['message'][:200]}")
        elif c["outcome"] != "fail" or c.get("cause") != mutant.cause:
            found.append(f"{c['name']} is {c['outcome']!r} with cause {c.get('cause')!r}, expected "
                         f"{mutant.cause!r}: {c['message'][:200]}")
    for comp, other in comps.items():
        if comp not in mutant.components_run() and other["verdict"] in ("fail", "error", "timeout"):
            found.append(f"{comp} is {other['verdict']!r} too (not declared in also): {other['diagnosis'][:200]}")
    return found


@pytest.fixture(scope="session")
def mutant_runs(request, tmp_path_factory):
    """Futures of every collected mutant's report, started at once and run WORKERS at a time."""
    params = (item.callspec.params.get("mutant") for item in request.session.items if hasattr(item, "callspec"))
    selected = {m.id for m in params if isinstance(m, Mutant)}
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    futures = {m.id: pool.submit(run_mutant, m, tmp_path_factory.mktemp(m.id)) for m in MUTANTS if m.id in selected}
    yield futures
    pool.shutdown(cancel_futures=True)


def test_mutant_table_is_sound():
    assert _table_problems() == []
    assert len(MUTANTS) >= 40
    styles = {m.style_root for m in MUTANTS}
    assert styles == {"canonical.py", "layer_dicts.ipynb", "attr_grads.py", "dense_net.ipynb", "single_sample",
                      "autograd_engine.py"}
    assert {m.component for m in MUTANTS} == set(COMPONENTS), "every component needs a mutant"


def _param(m: Mutant):
    marks = [pytest.mark.xfail(strict=True, reason=m.xfail_reason)] if m.xfail_reason else []
    return pytest.param(m, id=m.id, marks=marks)


@pytest.mark.parametrize("mutant", [_param(m) for m in MUTANTS])
def test_mutant_is_caught(mutant, mutant_runs):
    RESULTS[mutant.id] = False
    found = problems(mutant, mutant_runs[mutant.id].result())
    assert not found, f"mutant {mutant.id} was not caught as intended:\n  " + "\n  ".join(found)
    RESULTS[mutant.id] = not mutant.xfail_reason
