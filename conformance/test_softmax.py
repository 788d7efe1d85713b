"""SPEC.md: softmax. Shapes, forward values, input gradient, stability at +-1e3 and in float32;
the forward and the gradient on hypothesis-drawn shapes and scales; rows are probabilities."""
from conformance.judges import layers
from conformance.layercheck import LayerCheck, activation


class TestSoftmax(LayerCheck):
    component = "softmax"
    cases, stability, draw, strategies = activation("softmax")
    # The gradient apart from the forward: a Softmax whose gradient is folded into the loss
    # (assignment 001) needs no backward, and that check is then not required (SPEC.md 0.6).
    properties = {"property": (layers.forward, layers.softmax_rows), "gradient_property": (layers.input_gradient,)}
    per_case = {"rows": layers.softmax_rows}
