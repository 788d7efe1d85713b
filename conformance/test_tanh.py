"""SPEC.md: tanh. Shapes, forward values, input gradient, stability at +-1e3 and in float32."""
from conformance.judges import layers
from conformance.layercheck import LayerCheck, activation


class TestTanh(LayerCheck):
    component = "tanh"
    cases, stability, draw, strategies = activation("tanh")
    properties = {"property": (layers.forward, layers.input_gradient)}
