"""SPEC.md: cross_entropy. Value (mean over the batch), gradient against the student's own value
(on logits or on probabilities; int or one-hot labels, as the student's loss takes them), stability."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fixtures
from conformance import inputs
from conformance.checking import properties
from conformance.judges import losses

pytestmark = pytest.mark.component("cross_entropy")

CASES = [inputs.loss_case("cross_entropy", seed=0, batch=4, classes=3),
         inputs.loss_case("cross_entropy", seed=1, batch=1, classes=5)]


@pytest.mark.parametrize("judge", [losses.loss_value, losses.loss_gradient], ids=lambda j: j.__name__)
@pytest.mark.parametrize("case", CASES, ids=["b4_c3", "b1_c5"])
def test_cross_entropy(check, case, judge):
    check.run("loss.check", case, judge)


def test_cross_entropy_stability(check):
    check.run("loss.check", inputs.extreme_loss_case("cross_entropy"), losses.loss_stability)


@properties
@given(seed=st.integers(0, 2**16), batch=st.integers(1, 5), classes=st.integers(2, 6), scale=st.floats(0.1, 3.0))
def test_cross_entropy_property(check, seed, batch, classes, scale):
    case = inputs.loss_case("cross_entropy", seed=seed, batch=batch, classes=classes, scale=scale)
    for judge in (losses.loss_value, losses.loss_gradient):
        check.run("loss.check", case, judge)


@pytest.mark.parametrize("name", fixtures.names("cross_entropy"))
def test_cross_entropy_golden(check, name):
    check.run("loss.check", inputs.fixture_loss_case(name), losses.golden_value)
