"""SPEC.md: sigmoid. Shapes, forward values, input gradient, stability at +-1e3 and in float32."""
from conformance.judges import layers
from conformance.layercheck import LayerCheck, activation


class TestSigmoid(LayerCheck):
    component = "sigmoid"
    cases, stability, draw, strategies = activation("sigmoid")
    properties = {"property": (layers.forward, layers.input_gradient)}
