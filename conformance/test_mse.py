"""SPEC.md: mse. Value (four allowed forms, named), gradient against the student's own value."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fixtures
from conformance import inputs
from conformance.checking import properties
from conformance.judges import losses

pytestmark = pytest.mark.component("mse")

CASES = [inputs.loss_case("mse", seed=0, batch=4, classes=3), inputs.loss_case("mse", seed=1, batch=1, classes=2)]


@pytest.mark.parametrize("judge", [losses.loss_value, losses.loss_gradient], ids=lambda j: j.__name__)
@pytest.mark.parametrize("case", CASES, ids=["b4_d3", "b1_d2"])
def test_mse(check, case, judge):
    check.run("loss.check", case, judge)


@properties
@given(seed=st.integers(0, 2**16), batch=st.integers(1, 5), dims=st.integers(1, 4), scale=st.floats(0.1, 10.0))
def test_mse_property(check, seed, batch, dims, scale):
    case = inputs.loss_case("mse", seed=seed, batch=batch, classes=dims, scale=scale)
    for judge in (losses.loss_value, losses.loss_gradient):
        check.run("loss.check", case, judge)


@pytest.mark.parametrize("name", fixtures.names("mse"))
def test_mse_golden(check, name):
    check.run("loss.check", inputs.fixture_loss_case(name), losses.loss_value)
