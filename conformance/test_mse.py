"""SPEC.md: mse. Value (four allowed forms, named), gradient against the student's own value."""
from functools import partial

from hypothesis import strategies as st

from conformance.cases.losses import loss_case
from conformance.layercheck import SEED, LossCheck


class TestMse(LossCheck):
    component = "mse"
    cases = {"b4_d3": loss_case("mse", seed=0, batch=4, classes=3),
             "b1_d2": loss_case("mse", seed=1, batch=1, classes=2)}
    draw = partial(loss_case, "mse")
    strategies = {"seed": SEED, "batch": st.integers(1, 5), "classes": st.integers(1, 4), "scale": st.floats(0.1, 10.0)}
