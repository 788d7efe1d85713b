"""The stability judge on hand-made probe answers: every failure says where it happened."""
import numpy as np
import pytest

from conformance.cases import layers as cases
from conformance.judges import layers


def answer(case, **changes):
    """A correct probe answer for ``case`` (the reference's own outputs), with ``changes`` applied."""
    ref = layers.reference_pass(case)
    out = {"y": ref["y"], "dx": ref["dx"], "warnings": [], "x_mutated": False, "dy_mutated": False}
    return {**out, **changes}


def test_correct_answer_passes():
    case = cases.extreme_case("softmax", magnitude=1e3)
    assert layers.stability(case, answer(case)).verdict == "pass"


@pytest.mark.parametrize("key", ["x", "dy"])
def test_in_place_mutation_names_the_changed_element(key):
    case = cases.extreme_case("relu", magnitude=1e3)
    after = np.array(case[key], dtype=float)
    after[1, 2] = 12345.0
    outcome = layers.stability(case, answer(case, **{f"{key}_mutated": True, f"{key}_after": after}))
    assert (outcome.verdict, outcome.cause) == ("fail", "in_place_mutation")
    assert outcome.evidence["where"]["index"] == [1, 2] and outcome.evidence["where"]["got"] == 12345.0


@pytest.mark.parametrize("key", ["y", "dx"])
def test_non_finite_output_names_the_first_nan_and_the_input_there(key):
    case = cases.extreme_case("sigmoid", magnitude=1e3)
    bad = np.array(layers.reference_pass(case)[key])
    bad[0, 3] = np.nan
    outcome = layers.stability(case, answer(case, **{key: bad}))
    assert (outcome.verdict, outcome.cause) == ("fail", "unstable_sigmoid")
    where = outcome.evidence["where"]
    assert where["index"] == [0, 3] and np.isnan(where["got"])
    assert where["x"] == np.asarray(case["x"])[0, 3] and np.isfinite(where["expected"])
