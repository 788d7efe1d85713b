"""SPEC.md dropout (stretch): keep rate (6 binomial sd), inverted 1/(1-p) scaling, the forward's
mask reused in backward (read from the returned output), identity in eval.
`missing` when the implementation has no dropout layer."""
from conformance.cases.stretch import build_dropout
from conformance.judges import stretch
from conformance.layercheck import LayerCheck


class TestDropout(LayerCheck):
    component = "dropout"
    probe, timeout = "dropout.run", 30
    cases, judges = {None: build_dropout(seed=0)}, stretch.DROPOUT_JUDGES
    golden_judge = None  # its fixtures check the reference against PyTorch (tests/test_fixtures.py)
