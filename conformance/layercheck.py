"""One component, one declaration: the checks of a layer (or loss) spelled out once, here.

A conformance module declares what is particular to its component; ``LayerCheck`` turns the
declaration into pytest test methods named ``test_<id>...`` (the check names of the report)::

    class TestLinear(LayerCheck):
        component = "linear"
        cases = {"b4_5to3": linear_case(seed=0, batch=4, in_features=5, out_features=3), ...}
        judges = (*layers.UNIT_CHECKS, layers.parameter_gradient)       # on every case
        draw, strategies = linear_case, {"seed": SEED, "batch": st.integers(1, 5), ...}
        properties = {"property": (layers.forward, layers.input_gradient, layers.parameter_gradient)}
        alone = {"leaves_inputs_alone": ("layer.stability", linear_case(seed=2), layers.stability)}

(``activation(kind)`` gives an activation's cases, extreme inputs and draws in one line.)

What it supplies, in this order (each only when declared):

    test_<id>[<case>-<judge>]       every judge of ``judges`` on every case of ``cases`` (shapes and
                                    dtypes, forward against the reference, input and parameter
                                    gradients against central differences of the student's forward);
                                    a case id of None drops the case from the name
    test_<id>_stability[<case>]     ``stability_judge`` on each case of ``stability`` (extreme and
                                    float32 inputs, no mutation of the caller's arrays); one case
                                    without an id gives the unparametrised ``test_<id>_stability``
    test_<id>_<name>                hypothesis properties: ``properties[name]``'s judges on a case
                                    ``draw(**drawn)`` of the ``strategies``
    test_<id>_<name>[<case>]        ``per_case[name]`` (one judge) on every case of ``cases`` (with ids)
    test_<id>_<name>                ``alone[name] = (probe, case, judge)``: one check (a kink, ...)
    test_<id>_golden[<fixture>]     ``golden_judge`` on ``golden_case(name)`` for every fixture of the id

The component marker is set here; the probes, judges and cases stay where they live
(``conformance/probes``, ``conformance/judges``, ``conformance/cases``).
"""
from __future__ import annotations

from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fixtures
from conformance.cases import layers as layer_cases
from conformance.cases import losses as loss_cases
from conformance.checking import DEFAULT_TIMEOUT
from conformance.checking import properties as profile
from conformance.judges import layers, losses


class LayerCheck:
    component: str = ""
    probe = "layer.check"
    timeout = DEFAULT_TIMEOUT
    cases: dict = {}
    judges = layers.UNIT_CHECKS
    stability: dict = {}
    stability_probe, stability_judge = "layer.stability", staticmethod(layers.stability)
    draw = None
    strategies: dict = {}
    properties: dict = {}
    per_case: dict = {}
    alone: dict = {}
    golden_case, golden_judge = staticmethod(layer_cases.fixture_case), staticmethod(layers.golden_forward)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.component:  # a base of declarations (LossCheck), not one
            return
        cls.pytestmark = [pytest.mark.component(cls.component)]
        for suffix, test, marks in cls._checks():
            name = f"test_{cls.component}{suffix}"
            test.__name__, test.__qualname__ = name, f"{cls.__name__}.{name}"
            for mark in marks:  # named first: pytest marks only named functions
                test = mark(test)
            setattr(cls, name, test)

    @classmethod
    def _checks(cls):
        """(suffix, test, parametrize marks innermost first) for every declared check, in order."""
        run, over_cases = cls._runner, cls._case_marks()
        by_judge = pytest.mark.parametrize("judge", cls.judges, ids=lambda j: j.__name__)
        if cls.cases:
            yield "", cls._with_case(lambda self, check, case, judge: run(check, cls.probe, case, judge)), \
                [*over_cases, by_judge]
        if list(cls.stability) == [None]:
            yield "_stability", lambda self, check: run(check, cls.stability_probe, cls.stability[None],
                                                        cls.stability_judge), []
        elif cls.stability:
            yield "_stability", lambda self, check, case: run(check, cls.stability_probe, case, cls.stability_judge), \
                [pytest.mark.parametrize("case", list(cls.stability.values()), ids=list(cls.stability))]
        for suffix, judges in cls.properties.items():
            yield f"_{suffix}", cls._property(judges), [given(**cls.strategies), profile]
        for suffix, judge in cls.per_case.items():
            yield f"_{suffix}", lambda self, check, case, judge=judge: run(check, cls.probe, case, judge), over_cases
        for suffix, (probe, case, judge) in cls.alone.items():
            yield f"_{suffix}", lambda self, check, probe=probe, case=case, judge=judge: run(check, probe, case,
                                                                                              judge), []
        if cls.golden_judge is not None and fixtures.names(cls.component):
            yield "_golden", lambda self, check, name: run(check, cls.probe, cls.golden_case(name), cls.golden_judge), \
                [pytest.mark.parametrize("name", fixtures.names(cls.component))]

    @classmethod
    def _case_marks(cls) -> list:
        """The cases as a parametrisation, ids from their keys (one case keyed None: none, it is bound)."""
        if list(cls.cases) in ([], [None]):
            return []
        return [pytest.mark.parametrize("case", list(cls.cases.values()), ids=list(cls.cases))]

    @classmethod
    def _with_case(cls, test):
        if list(cls.cases) == [None]:
            return lambda self, check, judge: test(self, check, cls.cases[None], judge)
        return test

    @classmethod
    def _runner(cls, check, probe, case, judge):
        check.run(probe, case, judge, timeout=cls.timeout)

    @classmethod
    def _property(cls, judges):
        def test(self, check, **drawn):
            case = cls.draw(**drawn)
            for judge in judges:
                cls._runner(check, cls.probe, case, judge)
        return test


class LossCheck(LayerCheck):
    """A loss: value and gradient on every case and property, stability and golden through ``loss.check``."""
    probe = stability_probe = "loss.check"
    judges = (losses.loss_value, losses.loss_gradient)
    properties = {"property": (losses.loss_value, losses.loss_gradient)}
    stability_judge = staticmethod(losses.loss_stability)
    golden_case, golden_judge = staticmethod(loss_cases.fixture_loss_case), staticmethod(losses.loss_value)


SEED, SIZE = st.integers(0, 2**16), st.integers(1, 6)


def activation(kind: str) -> tuple:
    """An activation's cases (B = 3 and B = 1), its extreme and float32 inputs, and its draws."""
    return ({"b3": layer_cases.activation_case(kind, seed=0),
             "b1": layer_cases.activation_case(kind, seed=1, batch=1, features=6)},
            {"1e3": layer_cases.extreme_case(kind, magnitude=1e3),
             "float32": layer_cases.extreme_case(kind, magnitude=10.0, dtype="float32")},
            partial(layer_cases.activation_case, kind),
            {"seed": SEED, "batch": st.integers(1, 5), "features": SIZE, "scale": st.floats(0.5, 5.0)})
