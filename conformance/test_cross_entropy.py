"""SPEC.md: cross_entropy. Value (mean over the batch), gradient against the student's own value
(on logits or on probabilities; int or one-hot labels, as the student's loss takes them), stability."""
from functools import partial

from hypothesis import strategies as st

from conformance.cases.losses import extreme_loss_case, loss_case
from conformance.judges import losses
from conformance.layercheck import SEED, LossCheck


class TestCrossEntropy(LossCheck):
    component = "cross_entropy"
    cases = {"b4_c3": loss_case("cross_entropy", seed=0, batch=4, classes=3),
             "b1_c5": loss_case("cross_entropy", seed=1, batch=1, classes=5)}
    stability = {None: extreme_loss_case("cross_entropy")}
    draw = partial(loss_case, "cross_entropy")
    strategies = {"seed": SEED, "batch": st.integers(1, 5), "classes": st.integers(2, 6), "scale": st.floats(0.1, 3.0)}
    golden_judge = staticmethod(losses.golden_value)
