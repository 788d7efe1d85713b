"""SPEC.md: relu. Shapes, forward values, input gradient, stability at +-1e3 and in float32, ReLU'(0)."""
from conformance.cases.layers import kink_case
from conformance.judges import layers
from conformance.layercheck import LayerCheck, activation


class TestRelu(LayerCheck):
    component = "relu"
    cases, stability, draw, strategies = activation("relu")
    properties = {"property": (layers.forward, layers.input_gradient)}
    alone = {"kink": ("layer.check", kink_case(), layers.relu_kink)}
