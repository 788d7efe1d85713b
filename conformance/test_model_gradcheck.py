"""SPEC.md model_gradcheck: the whole network's parameter gradients against central differences
of the loss the student's own code reports (fast mode first, element-wise detail on failure).

A 5-7-4 ReLU network on a batch of 6 (non-square, B > 1), or the sizes the student's code fixes: double averaging (1/B), a missing
average (B) and the softmax Jacobian applied to d/dlogits again are told apart and named.
Code whose network takes one sample at a time (assignment 004, the ``one_sample`` capability)
gets the same check on OneHiddenLayerMLP with L = (f - y)^2 / 2.
"""
import pytest

from conformance.cases import models as cases
from conformance.judges import models

pytestmark = pytest.mark.component("model_gradcheck")

SEEDS = (0, 1)


@pytest.mark.parametrize("seed", SEEDS)
def test_model_gradcheck(check, seed):
    if check.offers("one_sample"):
        probe, case, judge = "model_gradcheck.single_sample", cases.build_single_sample(seed), models.judge_single_sample
    else:  # a network whose code fixes its sizes (784-128-10) is checked at those
        sizes = cases.checkable_sizes(check.probe("network.sizes", {"sizes": [5, 7, 4]}))
        probe, case, judge = "model_gradcheck.pipeline", cases.build_gradcheck(seed, sizes=sizes), models.judge_pipeline
    check.run(probe, case, judge, timeout=30, detail=models.ELEMENTWISE)
