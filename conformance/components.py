"""The component ids of SPEC.md: the spine of the kit.

They name the test modules (``test_<id>.py``), the ``component`` marker, the rubric keys,
the gradebook columns and the report entries. The order here is the gradebook's column order.
"""

COMPONENTS = (
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "cross_entropy",
    "mse",
    "model_gradcheck",
    "sgd",
    "momentum",
    "adam",
    "gradient_checker",
    "init",
    "appendix_a",
    "training_xor",
    "training_spiral",
    "training_mnist",
    "batchnorm",
    "dropout",
    "conv2d",
    "autograd",
    "layernorm",
)

# Verdicts, best first (SPEC.md 0.6): a component's verdict is the worst of its checks' outcomes,
# so a missing piece is never a pass and never hides a failure.
VERDICTS = ("pass", "missing", "fail", "error", "timeout")

TRAINING_COMPONENTS = ("training_xor", "training_spiral", "training_mnist")
