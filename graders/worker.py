"""The trusted worker: grades one submission by running the conformance suite with a SandboxRunner.

It runs kit code only (pytest, the judges, the reference); the submission's code runs in the
sandboxed child that ``SandboxRunner`` starts. The grader starts one worker per submission::

    python -m graders.worker SUBMISSION RESULT.json [--style S] [--timeout 60] [--max-timeouts 8]
                                                    [--pins JSON]   (a --map already read by the grader)

RESULT.json: {"report": <the suite's --report JSON or null>, "hello": <the child's hello>,
"load_failure": {"kind", "message"} | null, "events": [...], "imports": [...], "pytest_exit": int | null}
(the suite is not run, report and pytest_exit null, when the submission cannot be loaded at all).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from conformance.runner import ProbeFailure
from graders.policy import flagged_imports
from graders.sandbox import KIT_ROOT, Limits, SandboxRunner, default_hidden


class BudgetedRunner:
    """Wraps a SandboxRunner with a budget, so that a hung or crashing forward cannot cost every
    check its full timeout (or a fresh child): each call's timeout is capped; once a component
    has timed out or crashed the child ``per_component`` times, its remaining checks fail at
    once with that kind, and once the whole submission has timed out ``total`` times every
    remaining check does."""

    def __init__(self, runner: SandboxRunner, cap: float | None, per_component: int = 2, total: int = 8):
        self.runner, self.cap, self.per_component, self.total = runner, cap, per_component, total
        self.component: str | None = None  # set by _InstallRunner before each test
        self.timeouts: dict[str | None, int] = {}
        self.crashes: dict[str | None, int] = {}

    @property
    def style(self) -> str:
        return self.runner.style

    @property
    def detected_because(self) -> list[str]:
        return list((self.runner.hello or {}).get("detected_because", []))

    def call(self, probe: str, inputs: dict, timeout: float | None = None) -> dict:
        spent = sum(self.timeouts.values())
        if spent >= self.total or self.timeouts.get(self.component, 0) >= self.per_component:
            raise ProbeFailure("timeout", f"{probe} was not run: the submission already timed out {spent} "
                                          "times (time budget spent)")
        if self.crashes.get(self.component, 0) >= 2 * self.per_component:
            raise ProbeFailure("error", f"{probe} was not run: the submission's process already crashed "
                                        f"{self.crashes[self.component]} times in this component")
        if self.cap is not None:
            timeout = min(timeout, self.cap) if timeout else self.cap
        try:
            return self.runner.call(probe, inputs, timeout)
        except ProbeFailure as exc:
            if self.runner.load_failure is None:
                tally = self.timeouts if exc.kind == "timeout" else self.crashes if getattr(exc, "crashed", False) else {}
                tally[self.component] = tally.get(self.component, 0) + 1
            raise


class _InstallRunner:
    """pytest plugin object: hands our runner to conformance.plugin before collection and tells
    it which component each test belongs to."""

    def __init__(self, runner: BudgetedRunner):
        self.runner = runner

    def pytest_configure(self, config):
        import conformance.plugin

        config.stash[conformance.plugin.RUNNER_KEY] = self.runner

    def pytest_runtest_setup(self, item):
        marker = item.get_closest_marker("component")
        self.runner.component = marker.args[0] if marker and marker.args else None


def grade_one(submission: Path, *, style: str | None, timeout: float | None, max_timeouts: int,
              limits: Limits, hide: list[str], pytest_args: list[str], extra_probes: list[str],
              pins: dict | None = None) -> dict:
    import pytest

    sandbox = SandboxRunner(submission, style=style, limits=limits, hide=hide,
                            load_timeout=max(timeout or 30.0, 10.0), extra_probes=tuple(extra_probes), pins=pins)
    runner = BudgetedRunner(sandbox, timeout, total=max_timeouts)
    report, exit_code = None, None
    with tempfile.TemporaryDirectory(prefix="bpk-worker-") as tmp:
        report_path = Path(tmp) / "report.json"
        # --assert=plain: the suite decides with Outcomes, never bare asserts, and rewriting every
        # module of the kit (no bytecode is cached under PYTHONDONTWRITEBYTECODE) cost 0.5 s a worker.
        args = [str(KIT_ROOT / "conformance"), "-q", "-p", "no:cacheprovider", "--assert=plain",
                "--rootdir", str(KIT_ROOT), "--report", str(report_path), *pytest_args]
        try:
            # A submission that does not load is graded from the child's answer alone (every component
            # `error`, graders.grade.make_record): the suite would only repeat that answer 120 times.
            if sandbox.ensure_started() is not None:
                exit_code = int(pytest.main(args, plugins=[_InstallRunner(runner)]))
                report = json.loads(report_path.read_text()) if report_path.exists() else None
        finally:
            sandbox.close()
    failure = sandbox.load_failure
    return {
        "report": report, "hello": sandbox.hello, "pytest_exit": exit_code,
        "load_failure": {"kind": failure.kind, "message": failure.message} if failure else None,
        "events": sandbox.events, "imports": flagged_imports(submission),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m graders.worker", description=__doc__.splitlines()[0])
    p.add_argument("submission")
    p.add_argument("result")
    p.add_argument("--style")
    p.add_argument("--timeout", type=float, default=None, help="cap on every probe call, seconds")
    p.add_argument("--max-timeouts", type=int, default=8, help="timeouts after which nothing more is run")
    p.add_argument("--limits", default="{}", help="JSON object overriding graders.sandbox.Limits fields")
    p.add_argument("--hide", action="append", default=[], help="another folder the child must not see")
    p.add_argument("--extra-probes", action="append", default=[], help="a probe module to stage (tests)")
    p.add_argument("--pytest-arg", action="append", default=[], help="passed on to pytest (e.g. -m 'not slow')")
    p.add_argument("--pins", default=None, help="JSON: the tables of the --map the grader read and validated")
    a = p.parse_args(argv)
    submission = Path(a.submission).resolve()
    result = grade_one(submission, style=a.style, timeout=a.timeout, max_timeouts=a.max_timeouts,
                       limits=Limits(**json.loads(a.limits)), hide=default_hidden(submission.parent, *a.hide),
                       pytest_args=a.pytest_arg, extra_probes=a.extra_probes,
                       pins=json.loads(a.pins) if a.pins else None)
    tmp = Path(a.result).with_suffix(".tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:  # the grader's only
        fh.write(json.dumps(result, indent=1, default=str))
    os.replace(tmp, a.result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
