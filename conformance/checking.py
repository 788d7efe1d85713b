"""The glue a conformance test module uses: probe, judge, record, assert.

A test module is one component (``conformance/test_<id>.py``)::

    import pytest
    from conformance.cases.layers import linear_case
    from conformance.judges import layers

    pytestmark = pytest.mark.component("linear")
    CASES = [linear_case(seed=0), linear_case(seed=1, batch=1)]

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c["recipe"])
    @pytest.mark.parametrize("judge", [layers.forward, layers.input_gradient])
    def test_unit(check, case, judge):
        check.run("layer.check", case, judge)

``check`` (a fixture of the plugin) calls the probe through the session's runner, hands the
outputs to the judge and turns the ``Outcome`` into pytest's language:

* pass     the test passes; the message (e.g. the convention found) goes to the report;
* fail     ``pytest.fail`` with the message, the evidence and a reproducing snippet;
* missing  ``pytest.skip("missing: ...")``: never a pass, never an error;
* error / timeout  (the student's code raised or hung) ``pytest.fail``, reported as such.

Every outcome is recorded in ``item.user_properties`` under ``"backprop_kit"``; the plugin
builds the summary table and the JSON report from those records.

Property checks take hypothesis settings from ``properties`` (the ``grading`` profile unless
``--hypothesis-profile explore`` was given or ``BACKPROP_KIT_PROFILE=explore`` is set)::

    @properties
    @given(seed=st.integers(0, 2**16), batch=st.integers(1, 5))
    def test_property(check, seed, batch): ...
"""
from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from conformance.diagnoses import explain
from conformance.cases import PLACEHOLDER, reproduce, snippet
from conformance.outcome import Outcome
from conformance.runner import ProbeFailure

RECORD = "backprop_kit"
DEFAULT_TIMEOUT = 5.0  # seconds for one unit-check probe call

# differing_executors: a LayerCheck property is a method of a declaration class that holds no state;
# run again in one process (backprop_kit.check() twice, pytester) it meets a fresh instance.
_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
           HealthCheck.differing_executors]
# grading: the same examples every run, so a grade never changes between runs.
settings.register_profile("grading", derandomize=True, max_examples=6, deadline=None, database=None,
                          print_blob=False, suppress_health_check=_HEALTH)
# explore: fresh random examples, more of them, for students hunting bugs.
settings.register_profile("explore", max_examples=60, deadline=None, suppress_health_check=_HEALTH)


PROFILES = ("grading", "explore")
ENV_PROFILE = "BACKPROP_KIT_PROFILE"


def active_profile() -> str:
    """``explore`` when chosen (``--hypothesis-profile explore`` or ``$BACKPROP_KIT_PROFILE``),
    else ``grading``: whatever else is the current hypothesis profile, a grade stays stable."""
    chosen = os.environ.get(ENV_PROFILE) or settings.get_current_profile_name()
    return "explore" if chosen == "explore" else "grading"


def properties(test):
    """Hypothesis settings for a property check: those of ``active_profile()``."""
    return settings(settings.get_profile(active_profile()))(test)


def run_probe(probe: str, case: dict, impl, style: str | None = None, adapter_file: str | None = None,
              map_file: str | None = None,
              timeout: float | None = None, pins: dict | None = None) -> dict:
    """Run one probe on an implementation, in this process (what the failure snippets call).
    ``impl`` is what ``--impl`` takes, or a namespace (``globals()`` in a notebook); ``pins``
    the tables of a map already read (``backprop_kit.check(linear=Layer_Dense)`` writes them)."""
    from conformance.adapters import build_adapter
    from conformance.loader import load_impl
    from conformance.runner import InProcessRunner

    adapter = build_adapter(load_impl(impl), style=style, adapter_file=adapter_file, map_file=map_file, pins=pins)
    return InProcessRunner(adapter).call(probe, case, timeout)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def format_outcome(outcome: Outcome) -> str:
    """The message, the catalogue sentence for its cause, then the evidence, one item a line."""
    parts = [outcome.message]
    if outcome.cause:
        parts.append(f"Likely cause ({outcome.cause}): {explain(outcome.cause)}")
    evidence = dict(outcome.evidence)
    evidence.pop("plot", None)  # drawn by the HTML feedback, never printed
    code = evidence.pop("snippet", "")
    for key, value in evidence.items():
        parts.append(f"{key}: {json.dumps(_jsonable(value))}")
    if code:
        parts.append(reproduce(code))
    return "\n".join(p for p in parts if p)


# Evidence keys every report entry of a failed check may carry, in this order (the grader's
# feedback shows them): the expected and observed values, where the largest error is, the code
# that reproduces the check. Any other evidence goes under "evidence".
EVIDENCE_KEYS = ("expected", "got", "where", "snippet")


def report_entry(outcome: Outcome) -> dict:
    """What the JSON report keeps of one check's outcome (plain data only).

    Always ``outcome``, ``message``, ``cause``, ``convention``; ``required: False`` for a check
    the run does not need (SPEC.md 0.6: it counts for neither verdict nor score); a check that
    did not pass adds ``likely_cause`` (the catalogue sentence), the ``EVIDENCE_KEYS`` it has, and
    ``evidence``.
    ``plot`` (any outcome, when the judge gave one) is the plain data of a picture the HTML
    feedback draws (``conformance.pages.figures``): ``{"kind": "arrays", "expected", "got"}``,
    ``{"kind": "training", "losses", "accuracies", "threshold", ...}`` or ``{"kind":
    "non_finite", "x", "bad"}``.
    """
    evidence = dict(outcome.evidence)
    plot = evidence.pop("plot", None)
    entry = {"outcome": outcome.verdict, "message": outcome.message, "cause": outcome.cause,
             "convention": evidence.pop("convention", None)}
    if not outcome.required:
        entry["required"] = False
    if plot is not None:
        entry["plot"] = _jsonable(plot)
    if outcome.passed:
        return entry
    if outcome.cause:
        entry["likely_cause"] = explain(outcome.cause)
    for key in EVIDENCE_KEYS:
        if key in evidence:
            entry[key] = _jsonable(evidence.pop(key))
    if evidence:
        entry["evidence"] = _jsonable(evidence)
    return entry


class Check:
    """What a conformance test uses (the ``check`` fixture): probe calls, judging, recording."""

    def __init__(self, runner, item, impl: str | None, cache: dict, style: str | None = None,
                 adapter_file: str | None = None, map_file: str | None = None):
        self.runner, self.item, self.impl, self._cache = runner, item, impl, cache
        self._options = {"style": style, "adapter_file": adapter_file, "map_file": map_file}  # for the reproducing snippet

    @property
    def style(self) -> str:
        return getattr(self.runner, "style", "unknown")

    @property
    def cache(self) -> dict:
        """The session's cache (probe answers by recipe; ``conformance.requirements``' findings)."""
        return self._cache

    @property
    def component(self) -> str | None:
        marker = self.item.get_closest_marker("component")
        return marker.args[0] if marker and marker.args else None

    def probe(self, name: str, case: dict, timeout: float = DEFAULT_TIMEOUT) -> dict:
        """The probe's outputs; a missing/error/timeout ends the test with that outcome. Calls
        with a recipe are cached for the session (the same case serves several judges)."""
        result = self.answer(name, case, timeout)
        if isinstance(result, ProbeFailure):
            if result.kind == "missing":  # the sentence already names what was looked for
                self.expect(Outcome("missing", result.message))
            verb = {"timeout": "timed out", "error": "raised"}.get(result.kind, "failed")
            self.expect(Outcome(result.kind, f"{name} {verb}: {result.message}"))
        return result

    def answer(self, name: str, case: dict, timeout: float = DEFAULT_TIMEOUT) -> dict | ProbeFailure:
        """The probe's outputs, or the ``ProbeFailure`` it ended with (the test goes on)."""
        key = (name, case.get("recipe")) if isinstance(case, dict) and case.get("recipe") else None
        # After one timeout, the same probe on the same kind of component is not waited for again.
        hung = ("timeout", name, case.get("kind") if isinstance(case, dict) else None)
        if key in self._cache or hung in self._cache:
            result = self._cache.get(key) or self._cache[hung]
        else:
            try:
                result = self.runner.call(name, case, timeout=timeout)
            except ProbeFailure as exc:
                result = exc
            if key is not None:
                self._cache[key] = result
            if isinstance(result, ProbeFailure) and result.kind == "timeout":
                self._cache[hung] = result
        return result

    def offers(self, capability: str) -> bool:
        """Whether the code under test offers ``capability`` (``Adapter.capabilities``, reported by
        the probe side once a session; an unreadable answer offers nothing)."""
        key = ("capabilities",)
        if key not in self._cache:
            out = self.answer("capabilities", {}, timeout=30)
            offers = out.get("offers") if isinstance(out, dict) else None
            self._cache[key] = {c for c in offers if isinstance(c, str)} if isinstance(offers, list) else set()
        return capability in self._cache[key]

    def style_fact(self, key: str, default: Any = None) -> Any:
        """A fact of this run's style in ``styles.toml`` (e.g. ``mnist_bar``), read on this side."""
        from conformance.adapters.style import styles

        return (styles().get(self.style) or {}).get(key, default)

    def run(self, probe: str, case: dict, judge: Callable[[dict, dict], Outcome],
            timeout: float = DEFAULT_TIMEOUT, detail: tuple[Callable, Callable] | None = None,
            detail_timeout: float = 60.0) -> Outcome:
        """probe -> judge -> expect, with a reproducing snippet attached to a failure. ``detail =
        (inputs, add)``: the case ``inputs(case, outcome)`` (None: none) is probed once more,
        uncached, and ``add(outcome, inputs, outputs)`` tells the outcome what it shows (a detail
        probe that fails leaves the verdict as it was)."""
        out = self.probe(probe, case, timeout)
        outcome = judge(case, out)
        more = detail[0](case, outcome) if detail else None
        if more is not None:
            try:
                outcome = detail[1](outcome, more, self.runner.call(probe, more, timeout=detail_timeout))
            except ProbeFailure:
                pass
        if not outcome.passed and "snippet" not in outcome.evidence and isinstance(case, dict) and case.get("recipe"):
            outcome = replace(outcome, evidence={**outcome.evidence, "snippet": snippet(case["recipe"], probe, judge)})
        return self.expect(outcome)

    def train(self, task: str, data_note: str = "") -> Outcome:
        """training_<task>: the kit's loop on the student's pipeline; the validation labels stay on
        this side, and full MNIST has the style's own bar (``mnist_bar``) where it gives one."""
        from conformance.cases.training import own_sizes, task_data
        from conformance.judges.training import judge_training

        made = task_data(task, data_note)
        if isinstance(made, Outcome):  # the data or the user's settings end the check here
            return self.expect(made)
        spec, case, y_val, note = made
        case, said = own_sizes(spec, case, self.answer("network.sizes", {"sizes": list(spec.sizes)}))
        note = " ".join(filter(None, (note, said)))
        out = self.probe("training.fit", case, timeout=spec.budget_s * 1.5 + 30)
        threshold = self.style_fact("mnist_bar", spec.threshold) if spec.dataset == "mnist" else spec.threshold
        return self.expect(judge_training(spec, case, out, y_val, threshold=threshold, data_note=note))

    def record(self, outcome: Outcome) -> None:
        self.item.user_properties.append((RECORD, report_entry(outcome)))

    def expect(self, outcome: Outcome) -> Outcome:
        """Record ``outcome`` and end the test accordingly (a pass returns it). A check the run
        does not need (``conformance.requirements``) is recorded as not required and skipped."""
        from conformance.requirements import weigh

        if not isinstance(outcome, Outcome):
            outcome = Outcome("fail", f"the judge returned {type(outcome).__name__}, not an Outcome (a kit bug).")
        outcome = weigh(self, self.component, outcome)
        code = outcome.evidence.get("snippet")
        run = (f"impl={self.impl!r}" if self.impl else PLACEHOLDER) + "".join(
            f", {k}={v!r}" for k, v in self._options.items() if v)
        if isinstance(code, str) and PLACEHOLDER in code and run != PLACEHOLDER:  # name this run's code
            outcome = replace(outcome, evidence={**outcome.evidence, "snippet": code.replace(PLACEHOLDER, run)})
        self.record(outcome)
        if outcome.verdict == "pass":
            return outcome
        if not outcome.required:
            pytest.skip(outcome.message)
        if outcome.verdict == "missing":
            pytest.skip(f"missing: {outcome.message}")
        pytest.fail(format_outcome(outcome), pytrace=False)

    def note(self, key: str, value: Any) -> None:
        """Attach extra plain data to the report (e.g. the inventory)."""
        self.item.user_properties.append((f"{RECORD}.{key}", _jsonable(value)))
