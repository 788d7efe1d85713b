"""pytest plugin of the conformance suite (registered through the ``pytest11`` entry point).

Loaded by every pytest run in the environment, so it stays inert unless tests carrying the
``component`` marker are collected: then it loads ``--impl`` (or ``$BACKPROP_KIT_IMPL``), says
which API style it detected and why, records every check's outcome from pytest's own reports,
prints the summary table and writes ``--report`` (JSON) and ``--report-html`` (a page).

Without ``--impl`` and without the environment variable, conformance tests are skipped with the
reason "no --impl given" (the summary shows every component ``missing``). ``make test`` passes
``--impl reference`` so the kit's CI gates the reference. An implementation that cannot be
loaded stops the run after collection (exit code 4) with one sentence; the table and ``--report``
still follow, every component ``error``.

Hypothesis: property checks use the kit's ``grading`` profile (derandomized) unless
``--hypothesis-profile explore`` or ``BACKPROP_KIT_PROFILE=explore`` chooses ``explore``.

The grader installs its own runner before collection::

    def pytest_configure(config):
        config.stash[conformance.plugin.RUNNER_KEY] = SandboxRunner(...)
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conformance.checking import ENV_PROFILE, PROFILES, RECORD, Check, active_profile
from conformance.adapters.discovery import UNIT
from conformance.components import COMPONENTS, VERDICTS

ENV_IMPL = "BACKPROP_KIT_IMPL"
RUNNER_KEY = pytest.StashKey[object]()
_STATE_KEY = pytest.StashKey["_State"]()
NO_IMPL = "no --impl given (pass --impl mypkg, a .py/.ipynb path or reference, or set BACKPROP_KIT_IMPL)"


@dataclass
class _State:
    active: bool = False
    component_of: dict[str, str] = field(default_factory=dict)  # nodeid -> component id
    checks: dict[str, dict] = field(default_factory=dict)  # nodeid -> check record
    notes: dict[str, object] = field(default_factory=dict)
    runner: object = None
    load_error: str | None = None
    because: list[str] = field(default_factory=list)
    dropped: list = field(default_factory=list)
    cache: dict = field(default_factory=dict)


def pytest_addoption(parser):
    group = parser.getgroup("backprop-kit", "Backprop Kit conformance suite")
    group.addoption("--impl", default=None,
                    help="implementation to check: module name, .py file, package dir, .ipynb or 'reference' "
                         f"(default: ${ENV_IMPL})")
    group.addoption("--style", default=None, help="API style to use instead of detecting it")
    group.addoption("--adapter", default=None, help="path to a .py file defining an Adapter subclass")
    group.addoption("--map", default=None, dest="api_map",
                    help="api.toml pinning what discovery gets wrong (conformance/MAP.md)")
    group.addoption("--report", default=None, help="write the per-component verdicts as JSON to this path")
    group.addoption("--report-html", default=None, dest="report_html",
                    help="write the report as one self-contained HTML page (tables, evidence, pictures) to this path")


def pytest_configure(config):
    config.addinivalue_line("markers", "component(id): the SPEC.md component a conformance check belongs to")
    config.addinivalue_line("markers", "slow: training checks and other long runs (deselect with -m 'not slow')")
    config.addinivalue_line("markers", "needs_data: needs an optional data set")
    profile = os.environ.get(ENV_PROFILE)
    if profile and profile not in PROFILES:
        raise pytest.UsageError(f"{ENV_PROFILE}={profile!r} is not a profile of the kit: use one of {', '.join(PROFILES)}.")
    config.stash[_STATE_KEY] = state = _State()
    config.pluginmanager.register(_Recorder(state), "backprop_kit_recorder")


def impl_spec(config) -> str | None:
    return config.getoption("--impl") or os.environ.get(ENV_IMPL) or None


def _state(config) -> _State:
    return config.stash[_STATE_KEY]


def _build_runner(config) -> None:
    """Load the implementation once (or take the grader's runner); remember a load error."""
    state = _state(config)
    if state.runner is not None or state.load_error is not None:
        return
    installed = config.stash.get(RUNNER_KEY, None)
    if installed is not None:
        state.runner = installed
        state.because = list(getattr(installed, "detected_because", []) or [])
        return
    spec = impl_spec(config)
    if spec is None:
        return
    from conformance.adapters import AdapterError, build_adapter
    from conformance.loader import LoadError, load_impl
    from conformance.runner import InProcessRunner

    try:
        loaded = load_impl(spec)
        adapter = build_adapter(loaded, style=config.getoption("--style"),
                                adapter_file=config.getoption("--adapter"), map_file=config.getoption("api_map"))
    except (LoadError, AdapterError) as exc:
        state.load_error = str(exc)
        return
    except Exception as exc:  # the student's code raised while being loaded: report, never crash
        state.load_error = f"loading raised {type(exc).__name__}: {exc}"
        return
    state.runner = InProcessRunner(adapter)
    state.because = list(adapter.detected_because)
    state.dropped = [dict(vars(d)) for d in getattr(loaded, "dropped", [])]  # as the grader's hello lists them


@pytest.fixture(scope="session")
def runner(request):
    """The session's runner: the grader's if installed, else an InProcessRunner over --impl."""
    config = request.config
    _build_runner(config)
    state = _state(config)
    if state.load_error:
        pytest.fail(f"could not load {impl_spec(config)}: {state.load_error}", pytrace=False)
    if state.runner is None:
        pytest.skip(NO_IMPL)
    return state.runner


@pytest.fixture
def check(request, runner):
    """The glue of one conformance test (``conformance.checking.Check``)."""
    state = _state(request.config)
    impl = impl_spec(request.config)
    return Check(runner, request.node, impl, state.cache, style=request.config.getoption("--style"),
                 adapter_file=request.config.getoption("--adapter"), map_file=request.config.getoption("api_map"))


def pytest_collection_modifyitems(session, config, items):
    state = _state(config)
    for item in items:
        marker = item.get_closest_marker("component")
        if marker and marker.args:
            state.component_of[item.nodeid] = marker.args[0]
    state.active = bool(state.component_of)


def pytest_collection_finish(session):
    state = _state(session.config)
    if not state.active:
        return
    _build_runner(session.config)
    if state.load_error:
        # One sentence, once: running every check only to repeat it would bury it. The summary
        # table and --report still follow, every component `error` with this diagnosis.
        pytest.exit(f"backprop-kit: could not load {impl_spec(session.config)}: {state.load_error}",
                    returncode=pytest.ExitCode.USAGE_ERROR)
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is None:
        return
    if state.runner is None:
        tr.write_line(f"backprop-kit: {NO_IMPL}; conformance checks are skipped.", yellow=True)
    else:
        style = getattr(state.runner, "style", "unknown")
        tr.write_line(f"backprop-kit: checking {impl_spec(session.config) or 'the installed runner'} "
                      f"as style {style!r}")
        for reason in state.because:
            tr.write_line(f"backprop-kit:   because {reason}")
        tr.write_line(f"backprop-kit: hypothesis profile {active_profile()!r} "
                      + ("(fresh random examples)" if active_profile() == "explore" else "(derandomized)"))
        if state.dropped:
            from conformance.report import dropped_where

            first = state.dropped[0]
            what = "notebook" if any(d.get("cell") is not None for d in state.dropped) else "top-level"
            tr.write_line(f"backprop-kit: {len(state.dropped)} {what} statements were not run "
                          f"(first: {dropped_where(first)}: {first['text']!r}); --report lists them all")


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ").removeprefix("missing: ")


def check_name(nodeid: str) -> str:
    """A check's name: its test id without the module and any class (a ``LayerCheck``'s
    ``conformance/test_relu.py::TestRelu::test_relu[b3-forward]`` is ``test_relu[b3-forward]``)."""
    path, bracket, params = nodeid.partition("[")
    return path.rsplit("::", 1)[-1] + bracket + params


def _record(state: _State, report) -> None:
    """One test phase's report -> the check's entry (the worst phase wins)."""
    for key, value in report.user_properties:
        if key.startswith(f"{RECORD}."):
            state.notes[key.split(".", 1)[1]] = value
    if report.nodeid not in state.component_of:
        return
    records = [v for k, v in report.user_properties if k == RECORD]
    if records:
        entry = dict(records[-1])  # conformance.checking.report_entry
    elif report.skipped:
        entry = {"outcome": "missing", "message": _skip_reason(report), "cause": None}
    elif report.failed:
        text = report.longreprtext.strip().splitlines()
        entry = {"outcome": "error", "message": text[-1] if text else "the check raised", "cause": None}
    elif report.when == "call":
        entry = {"outcome": "pass", "message": "", "cause": None}
    else:
        return
    previous = state.checks.get(report.nodeid)
    if previous is None or VERDICTS.index(entry["outcome"]) >= VERDICTS.index(previous["outcome"]):
        entry["name"] = check_name(report.nodeid)
        state.checks[report.nodeid] = entry


class _Recorder:
    """Per-run hook object: pytest hands it every test report."""

    def __init__(self, state: _State):
        self.state = state

    def pytest_runtest_logreport(self, report):
        if self.state.active:
            _record(self.state, report)


def build_report(config) -> dict:
    """The JSON report: every component id, its verdict, diagnosis and checks."""
    from conformance.report import summarise

    state = _state(config)
    by_component: dict[str, list[dict]] = {c: [] for c in COMPONENTS}
    for nodeid, comp in state.component_of.items():
        if nodeid in state.checks:
            by_component.setdefault(comp, []).append(state.checks[nodeid])
    reason = NO_IMPL if state.runner is None and not state.load_error else None
    inventory = state.notes.get("inventory") or {}
    components = {c: summarise(checks, reason) for c, checks in by_component.items()}
    if state.load_error:  # nothing ran: every component is an error, for the one reason
        components = {c: {"verdict": "error", "diagnosis": f"could not load the implementation: {state.load_error}",
                          "checks": []} for c in by_component}
    for comp, entry in components.items():
        found = inventory.get(comp) or {}
        if not entry["checks"] and found.get("detail"):
            entry["diagnosis"] += f" (inventory: {found['detail']})"
    return {
        "impl": impl_spec(config) or ("(installed runner)" if state.runner is not None else ""),
        "style": getattr(state.runner, "style", "unknown") if state.runner is not None else "none",
        "because": state.because,
        "hypothesis_profile": active_profile(),
        "load_error": state.load_error,
        "components": components,
        "inventory": inventory,
        "dropped": state.dropped,
    }


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = _state(config)
    if not state.active:
        return
    from conformance.report import table

    report = build_report(config)
    terminalreporter.write_sep("=", "backprop-kit summary")
    for line in table(report):
        terminalreporter.write_line(line)
    for comp, found in (report.get("inventory") or {}).items():
        if comp in UNIT and (found or {}).get("detail"):  # how each was found, so a wrong guess shows
            label = f"found {comp}" if found.get("name") else f"no {comp}"
            terminalreporter.write_line(f"backprop-kit: {label}: {found['detail']}")
    if state.notes.get("dataset"):  # training_mnist's data set, printed as well as in the report (issue #5)
        terminalreporter.write_line(f"backprop-kit: {state.notes['dataset']}")
    path = config.getoption("--report")
    if path:
        Path(path).write_text(json.dumps(report, indent=2))
        terminalreporter.write_line(f"backprop-kit: report written to {path}")
    page = config.getoption("report_html")
    if page:
        from conformance.pages import student_page

        Path(page).write_text(student_page(report), encoding="utf-8")
        terminalreporter.write_line(f"backprop-kit: HTML report written to {page}")
