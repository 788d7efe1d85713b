"""SPEC.md 1 (linear): shapes, forward values, input and parameter gradients, stability.

Non-square layers (5 -> 3) make the weight layout and a transposed gradient unambiguous; B = 4
makes batch-mean and batch-sum parameter gradients distinguishable (B = 1 checks the edge).
"""
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fixtures
from conformance import inputs
from conformance.checking import properties
from conformance.judges import layers

pytestmark = pytest.mark.component("linear")

CASES = [inputs.linear_case(seed=0, batch=4, in_features=5, out_features=3),
         inputs.linear_case(seed=1, batch=1, in_features=2, out_features=4)]
JUDGES = [layers.shapes, layers.forward, layers.input_gradient, layers.parameter_gradient]


@pytest.mark.parametrize("judge", JUDGES, ids=lambda j: j.__name__)
@pytest.mark.parametrize("case", CASES, ids=["b4_5to3", "b1_2to4"])
def test_linear(check, case, judge):
    check.run("layer.check", case, judge)


@properties
@given(seed=st.integers(0, 2**16), batch=st.integers(1, 5), fan_in=st.integers(1, 6), fan_out=st.integers(1, 6))
def test_linear_property(check, seed, batch, fan_in, fan_out):
    case = inputs.linear_case(seed=seed, batch=batch, in_features=fan_in, out_features=fan_out)
    for judge in (layers.forward, layers.input_gradient, layers.parameter_gradient):
        check.run("layer.check", case, judge)


def test_linear_leaves_inputs_alone(check):
    check.run("layer.stability", inputs.linear_case(seed=2), layers.stability)


@pytest.mark.parametrize("name", fixtures.names("linear"))
def test_linear_golden(check, name):
    check.run("layer.check", inputs.fixture_case(name), layers.golden_forward)
