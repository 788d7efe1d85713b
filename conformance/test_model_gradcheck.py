"""SPEC.md model_gradcheck: the whole network's parameter gradients against central differences
of the loss the student's own code reports (fast mode first, element-wise detail on failure).

A 5-7-4 ReLU network on a batch of 6 (non-square, B > 1), or the sizes the student's code fixes: double averaging (1/B), a missing
average (B) and the softmax Jacobian applied to d/dlogits again are told apart and named.
Single-sample implementations (assignment 004) get the same check on OneHiddenLayerMLP with
L = (f - y)^2 / 2.
"""
import pytest

from conformance.judges import models
from conformance.runner import ProbeFailure

pytestmark = pytest.mark.component("model_gradcheck")

SEEDS = (0, 1)


@pytest.mark.parametrize("seed", SEEDS)
def test_model_gradcheck(check, seed):
    if check.style == "single_sample":
        probe, case, judge = "model_gradcheck.single_sample", models.build_single_sample(seed), models.judge_single_sample
        values, to_loss = "point_outputs", models.single_sample_loss(case)
    else:
        try:  # a network whose code fixes its sizes (784-128-10) is checked at those
            sizes = models.checkable_sizes(check.probe("network.sizes", {"sizes": [5, 7, 4]}))
        except ProbeFailure:
            sizes = (5, 7, 4)
        probe, case, judge = "model_gradcheck.pipeline", models.build_gradcheck(seed, sizes=sizes), models.judge_pipeline
        values, to_loss = "point_losses", None
    outcome = judge(case, check.probe(probe, case, timeout=30))
    if outcome.verdict == "fail" and outcome.cause != "malformed_answer" and models.detail_affordable(case):
        detail = models.detail_inputs(case)
        try:
            outcome = models.add_detail(outcome, detail, check.runner.call(probe, detail, timeout=60),
                                        values_key=values, to_loss=to_loss)
        except ProbeFailure:
            pass  # the verdict stands without the element-wise detail
    check.expect(outcome)
