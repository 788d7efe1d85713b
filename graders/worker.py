"""The trusted worker: grades one submission by running the conformance suite with a SandboxRunner.

It runs kit code only (pytest, the judges, the reference); the submission's code runs in the
sandboxed child that ``SandboxRunner`` starts. The grader starts one worker per submission::

    python -m graders.worker OPTIONS    (a graders.messages.WorkerOptions, as JSON)

RESULT.json: {"report": <the suite's --report JSON or null>, "hello": <the child's hello>,
"load_failure": {"kind", "message"} | null, "events": [...], "imports": [...], "pytest_exit": int | null}
(the suite is not run, report and pytest_exit null, when the submission cannot be loaded at all).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from conformance.runner import ProbeFailure
from graders.policy import flagged_imports
from graders.messages import WorkerOptions
from graders.sandbox import SandboxRunner
from graders.staging import KIT_ROOT, default_hidden


class BudgetedRunner:
    """Wraps a SandboxRunner with a budget, so that a hung or crashing forward cannot cost every
    check its full timeout (or a fresh child): each call's timeout is capped; once a component
    has timed out or crashed the child ``per_component`` times, its remaining checks fail at
    once with that kind, and once the whole submission has timed out ``total`` times every
    remaining check does. Also the pytest plugin that installs it: it hands itself to
    conformance.plugin before collection and learns which ``component`` each test belongs to."""

    def __init__(self, runner: SandboxRunner, cap: float | None, per_component: int = 2, total: int = 8,
                 component: str | None = None):
        self.runner, self.cap, self.per_component, self.total = runner, cap, per_component, total
        self.component = component  # the running test's (pytest_runtest_setup)
        self.timeouts: dict[str | None, int] = {}
        self.crashes: dict[str | None, int] = {}

    @property
    def style(self) -> str:
        return self.runner.style

    @property
    def detected_because(self) -> list[str]:
        return list(self.runner.hello.detected_because) if self.runner.hello else []

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
                tally = self.timeouts if exc.kind == "timeout" else self.crashes if exc.crashed else {}
                tally[self.component] = tally.get(self.component, 0) + 1
            raise

    # --- pytest hooks (registered with pytest.main(..., plugins=[runner])) ---------------------
    def pytest_configure(self, config):
        import conformance.plugin

        config.stash[conformance.plugin.RUNNER_KEY] = self

    def pytest_runtest_setup(self, item):
        marker = item.get_closest_marker("component")
        self.component = marker.args[0] if marker and marker.args else None


def grade_one(job: WorkerOptions) -> dict:
    import pytest

    submission = Path(job.submission).resolve()
    hide = default_hidden(submission.parent, *job.hide)
    sandbox = SandboxRunner(submission, style=job.style, limits=job.limits, hide=hide, pins=job.pins,
                            load_timeout=max(job.timeout or 30.0, 10.0), extra_probes=tuple(job.extra_probes))
    runner = BudgetedRunner(sandbox, job.timeout, total=job.max_timeouts)
    report, exit_code = None, None
    with tempfile.TemporaryDirectory(prefix="bpk-worker-") as tmp:
        report_path = Path(tmp) / "report.json"
        # --assert=plain: the suite decides with Outcomes, never bare asserts, and rewriting every
        # module of the kit (no bytecode is cached under PYTHONDONTWRITEBYTECODE) cost 0.5 s a worker.
        args = [str(KIT_ROOT / "conformance"), "-q", "-p", "no:cacheprovider", "--assert=plain",
                "--rootdir", str(KIT_ROOT), "--report", str(report_path), *job.pytest_args]
        try:
            # A submission that does not load is graded from the child's answer alone (every component
            # `error`, graders.grade.make_record): the suite would only repeat that answer 120 times.
            if sandbox.ensure_started() is not None:
                exit_code = int(pytest.main(args, plugins=[runner]))
                report = json.loads(report_path.read_text()) if report_path.exists() else None
        finally:
            sandbox.close()
    failure = sandbox.load_failure
    return {
        "report": report, "hello": sandbox.hello and sandbox.hello.to_wire(), "pytest_exit": exit_code,
        "load_failure": {"kind": failure.kind, "message": failure.message} if failure else None,
        "events": sandbox.events, "imports": flagged_imports(submission),
    }


def main(argv: list[str] | None = None) -> int:
    job = WorkerOptions.from_wire(json.loads((sys.argv[1:] if argv is None else argv)[0]))
    result = grade_one(job)
    tmp = Path(job.result).with_suffix(".tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:  # the grader's only
        fh.write(json.dumps(result, indent=1, default=str))
    os.replace(tmp, job.result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
