"""SPEC.md layernorm (stretch): shapes, forward values against the reference and the golden fixture,
dx, dgamma and dbeta against the numerical derivatives of the student's own forward, the caller's
arrays left alone. `missing` when the implementation has no layernorm layer."""
from hypothesis import strategies as st

from conformance.cases.stretch import layernorm_case
from conformance.judges import layers
from conformance.layercheck import SEED, LayerCheck

GRADIENTS = (layers.forward, layers.input_gradient, layers.parameter_gradient)


class TestLayernorm(LayerCheck):
    component = "layernorm"
    cases = {"b4_f5": layernorm_case(seed=0), "b1_f3": layernorm_case(seed=1, batch=1, features=3)}
    judges = (layers.shapes, *GRADIENTS)
    draw = layernorm_case
    strategies = {"seed": SEED, "batch": st.integers(1, 5), "features": st.integers(2, 6)}
    properties = {"property": GRADIENTS}
    alone = {"leaves_inputs_alone": ("layer.stability", layernorm_case(seed=2), layers.stability)}
