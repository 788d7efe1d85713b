"""SPEC.md momentum: one step and a 50-step trajectory of SGD with momentum 0.9 on the kit's quadratic.

Classical momentum (v = b v + g, PyTorch's; v = b v - lr g with theta + v is the same rule) and EMA
momentum (v = b v + (1 - b) g) both pass; the message names the one found."""
import pytest

from conformance.cases.optim import build_optim
from conformance.judges import optim

pytestmark = pytest.mark.component("momentum")


def test_momentum(check):
    check.run("optim.trajectory", build_optim("momentum"), optim.judge_optim)
