"""SPEC.md batchnorm (stretch): train-mode values and exact gradients against the reference, the
numerical VJP of the student's own train-mode forward, and eval mode with running statistics
(momentum convention, never-updated statistics and batch statistics in eval are named).
`missing` when the implementation has no batchnorm layer."""
import pytest

from conformance.judges import stretch

pytestmark = pytest.mark.component("batchnorm")

CASE = stretch.build_batchnorm(seed=0)


@pytest.mark.parametrize("judge", stretch.BATCHNORM_JUDGES, ids=lambda j: j.__name__)
def test_batchnorm(check, judge):
    check.run("batchnorm.run", CASE, judge, timeout=30)
