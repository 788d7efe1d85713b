"""SPEC.md training_xor (slow): the student's model, loss and optimizer, driven by the kit's loop
(conformance/training.py), reach >= 85% validation accuracy on XOR within the time budget. Code whose network takes one
sample at a time (the ``one_sample`` capability) trains its one-output model on 0/1 targets."""
import pytest

pytestmark = [pytest.mark.component("training_xor"), pytest.mark.slow]


def test_training_xor(check):
    check.train("xor-single" if check.offers("one_sample") else "xor")
