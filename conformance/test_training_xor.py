"""SPEC.md training_xor (slow): the student's model, loss and optimizer, driven by the kit's loop
(conformance/training.py), reach >= 85% validation accuracy on XOR within the time budget."""
import pytest

from conformance.judges import training

pytestmark = [pytest.mark.component("training_xor"), pytest.mark.slow]


def test_training_xor(check):
    training.run_task(check, "xor-single" if check.style == "single_sample" else "xor")
