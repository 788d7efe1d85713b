"""SPEC.md dropout (stretch): keep rate (6 binomial sd), inverted 1/(1-p) scaling, the forward's
mask reused in backward (read from the returned output), identity in eval.
`missing` when the implementation has no dropout layer."""
import pytest

from conformance.judges import stretch

pytestmark = pytest.mark.component("dropout")

CASE = stretch.build_dropout(seed=0)


@pytest.mark.parametrize("judge", stretch.DROPOUT_JUDGES, ids=lambda j: j.__name__)
def test_dropout(check, judge):
    check.run("dropout.run", CASE, judge, timeout=30)
