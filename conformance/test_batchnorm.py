"""SPEC.md batchnorm (stretch): train-mode values and exact gradients against the reference, the
numerical VJP of the student's own train-mode forward, and eval mode with running statistics
(momentum convention, never-updated statistics and batch statistics in eval are named).
`missing` when the implementation has no batchnorm layer."""
from conformance.cases.stretch import build_batchnorm
from conformance.judges import stretch
from conformance.layercheck import LayerCheck


class TestBatchnorm(LayerCheck):
    component = "batchnorm"
    probe, timeout = "batchnorm.run", 30
    cases, judges = {None: build_batchnorm(seed=0)}, stretch.BATCHNORM_JUDGES
    golden_judge = None  # its fixtures check the reference against PyTorch (tests/test_fixtures.py)
