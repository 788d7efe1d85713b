"""SPEC.md gradient_checker: the student's own checker, at its own defaults, accepts a correct
linear and a correct tanh layer and rejects each with a kit-planted backward bug (gradients 1.5
times too large). The layers and networks it is handed are the student's classes with the kit's
maths in them (conformance/adapters/standins.py), so no other component's bug changes this
verdict (SPEC 0.3)."""
import pytest

from conformance.cases.gradchecker import build_gradchecker
from conformance.judges import gradchecker

pytestmark = pytest.mark.component("gradient_checker")


def test_gradient_checker(check):
    case = build_gradchecker(seed=0)
    check.run("gradient_checker.verdicts", case, gradchecker.judge_gradchecker, timeout=30)
