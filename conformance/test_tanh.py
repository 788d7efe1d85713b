"""SPEC.md: tanh. Shapes, forward values, input gradient, stability at +-1e3 and in float32."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fixtures
from conformance import inputs
from conformance.checking import properties
from conformance.judges import layers

pytestmark = pytest.mark.component("tanh")

CASES = [inputs.activation_case("tanh", seed=0), inputs.activation_case("tanh", seed=1, batch=1, features=6)]
EXTREMES = [inputs.extreme_case("tanh", magnitude=1e3), inputs.extreme_case("tanh", magnitude=10.0, dtype="float32")]


@pytest.mark.parametrize("judge", layers.UNIT_CHECKS, ids=lambda j: j.__name__)
@pytest.mark.parametrize("case", CASES, ids=["b3", "b1"])
def test_tanh(check, case, judge):
    check.run("layer.check", case, judge)


@pytest.mark.parametrize("case", EXTREMES, ids=["1e3", "float32"])
def test_tanh_stability(check, case):
    check.run("layer.stability", case, layers.stability)


@properties
@given(seed=st.integers(0, 2**16), batch=st.integers(1, 5), features=st.integers(1, 6),
       scale=st.floats(0.5, 5.0))
def test_tanh_property(check, seed, batch, features, scale):
    case = inputs.activation_case("tanh", seed=seed, batch=batch, features=features, scale=scale)
    for judge in (layers.forward, layers.input_gradient):
        check.run("layer.check", case, judge)


@pytest.mark.parametrize("name", fixtures.names("tanh"))
def test_tanh_golden(check, name):
    check.run("layer.check", inputs.fixture_case(name), layers.golden_forward)
