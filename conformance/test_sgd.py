"""SPEC.md sgd: one step and a 50-step trajectory of plain SGD on the kit's quadratic."""
import pytest

from conformance.cases.optim import build_optim
from conformance.judges import optim

pytestmark = pytest.mark.component("sgd")


def test_sgd(check):
    check.run("optim.trajectory", build_optim("sgd"), optim.judge_optim)
