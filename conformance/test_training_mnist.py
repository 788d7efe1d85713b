"""SPEC.md training_mnist (slow): MNIST-class data, resolved in the order full MNIST, mnist-5k,
Fashion-MNIST (training.MNIST_ORDER); the data set used is named in the check message and the
report. Full MNIST uses the assignment's own bar (``mnist_bar`` in styles.toml: 90% layer_dicts, 95% attr_grads);
the others thresholds calibrated from the reference. No data at all: `missing`, with the fix."""
import pytest

from conformance.cases import training
from conformance.outcome import Outcome

pytestmark = [pytest.mark.component("training_mnist"), pytest.mark.slow]


def test_training_mnist(check):
    name, note = training.resolve_mnist()
    check.note("dataset", note)
    if name is None:
        check.expect(Outcome("missing", note))
    check.train(name, data_note=note)
