"""SPEC.md adam: one step and a 50-step trajectory of Adam (lr 0.05, betas (0.9, 0.999)) on the kit's quadratic."""
import pytest

from conformance.cases.optim import build_optim
from conformance.judges import optim

pytestmark = pytest.mark.component("adam")


def test_adam(check):
    check.run("optim.trajectory", build_optim("adam"), optim.judge_optim)
