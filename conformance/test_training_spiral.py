"""SPEC.md training_spiral (slow): three interleaved spirals, threshold calibrated from the
reference with the kit's loop (see TASKS in conformance/cases/training.py and SPEC.md)."""
import pytest

pytestmark = [pytest.mark.component("training_spiral"), pytest.mark.slow]


def test_training_spiral(check):
    check.train("spiral")
