"""SPEC.md training_spiral (slow): three interleaved spirals, threshold calibrated from the
reference with the kit's loop (see TASKS in conformance/cases/training.py and SPEC.md). A network on
a scalar autograd engine trains on the smaller spiral task calibrated for one (``spiral-scalar``)."""
import pytest

from conformance.cases.training import SCALAR_TASKS, scalar_note

pytestmark = [pytest.mark.component("training_spiral"), pytest.mark.slow]


def test_training_spiral(check):
    if check.offers("scalar_engine"):  # one Python object per number: the task calibrated for that
        check.train(SCALAR_TASKS["spiral"], scalar_note("spiral"))
    else:
        check.train("spiral")
