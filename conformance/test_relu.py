"""SPEC.md: relu. Shapes, forward values, input gradient, stability at +-1e3 and in float32."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fixtures
from conformance import inputs
from conformance.checking import properties
from conformance.judges import layers

pytestmark = pytest.mark.component("relu")

CASES = [inputs.activation_case("relu", seed=0), inputs.activation_case("relu", seed=1, batch=1, features=6)]
EXTREMES = [inputs.extreme_case("relu", magnitude=1e3), inputs.extreme_case("relu", magnitude=10.0, dtype="float32")]


@pytest.mark.parametrize("judge", layers.UNIT_CHECKS, ids=lambda j: j.__name__)
@pytest.mark.parametrize("case", CASES, ids=["b3", "b1"])
def test_relu(check, case, judge):
    check.run("layer.check", case, judge)


@pytest.mark.parametrize("case", EXTREMES, ids=["1e3", "float32"])
def test_relu_stability(check, case):
    check.run("layer.stability", case, layers.stability)


@properties
@given(seed=st.integers(0, 2**16), batch=st.integers(1, 5), features=st.integers(1, 6),
       scale=st.floats(0.5, 5.0))
def test_relu_property(check, seed, batch, features, scale):
    case = inputs.activation_case("relu", seed=seed, batch=batch, features=features, scale=scale)
    for judge in (layers.forward, layers.input_gradient):
        check.run("layer.check", case, judge)

def test_relu_kink(check):
    check.run("layer.check", inputs.kink_case(), layers.relu_kink)


@pytest.mark.parametrize("name", fixtures.names("relu"))
def test_relu_golden(check, name):
    check.run("layer.check", inputs.fixture_case(name), layers.golden_forward)
