"""SPEC.md autograd (stretch): the student's own autograd engine, operation by operation, against
central differences of its own forward; a value used twice, broadcasting, and resetting
gradients between steps. `missing` when the submission has no engine."""
import pytest

from conformance.cases import autograd as cases
from conformance.judges import autograd

pytestmark = pytest.mark.component("autograd")

OPS = [cases.build_ops(seed=0, group=g) for g in cases.OPS_GROUPS]


@pytest.mark.parametrize("case", OPS, ids=cases.OPS_GROUPS)
def test_autograd_ops(check, case):
    check.run("autograd.run", case, autograd.elementary_ops)


def test_autograd_accumulation(check):
    check.run("autograd.run", cases.build_accumulation(seed=0), autograd.accumulation)


def test_autograd_broadcasting(check):
    check.run("autograd.run", cases.build_broadcasting(seed=0), autograd.broadcasting)


def test_autograd_zero_grad(check):
    check.run("autograd.zero_grad", cases.build_zero_grad(seed=0), autograd.zero_grad)
