"""SPEC.md 1 (linear): shapes, forward values, input and parameter gradients, stability.

Non-square layers (5 -> 3) make the weight layout and a transposed gradient unambiguous; B = 4
makes batch-mean and batch-sum parameter gradients distinguishable (B = 1 checks the edge).
"""
from hypothesis import strategies as st

from conformance.cases.layers import linear_case
from conformance.judges import layers
from conformance.layercheck import LayerCheck, SEED, SIZE


class TestLinear(LayerCheck):
    component = "linear"
    cases = {"b4_5to3": linear_case(seed=0, batch=4, in_features=5, out_features=3),
             "b1_2to4": linear_case(seed=1, batch=1, in_features=2, out_features=4)}
    judges = (*layers.UNIT_CHECKS, layers.parameter_gradient)
    draw = linear_case
    strategies = {"seed": SEED, "batch": st.integers(1, 5), "in_features": SIZE, "out_features": SIZE}
    properties = {"property": (layers.forward, layers.input_gradient, layers.parameter_gradient)}
    alone = {"leaves_inputs_alone": ("layer.stability", linear_case(seed=2), layers.stability)}
