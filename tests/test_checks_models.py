"""model_gradcheck, appendix_a: judges on hand-made answers (correct and each known bug), and the
probes through InProcessRunner on the kit's correct implementations."""
import numpy as np
import pytest

from checks_fakes import FakeAdapter
from conformance.adapters import build_adapter
from conformance.cases import appendix as appendix_cases
from conformance.cases import models as model_cases
from conformance.judges import models
from conformance.judges import single_sample as appendix
from conformance.loader import load_impl
from conformance.runner import InProcessRunner

IMPLS = ["reference", "tests/impls/attr_grads.py", "tests/impls/layer_dicts.ipynb", "tests/impls/dense_net.ipynb",
         "tests/impls/single_sample"]


def runner_for(impl):
    return InProcessRunner(build_adapter(load_impl(impl)))


def gradcheck(runner, seed=0):
    if runner.style == "single_sample":
        case = model_cases.build_single_sample(seed)
        return models.judge_single_sample(case, runner.call("model_gradcheck.single_sample", case))
    case = model_cases.build_gradcheck(seed)
    return models.judge_pipeline(case, runner.call("model_gradcheck.pipeline", case))


@pytest.mark.parametrize("pipeline, verdict, cause", [
    ({}, "pass", None),
    ({"layer_avg": True, "loss_avg": False}, "pass", None),  # assignment 001's convention, consistent
    ({"layer_avg": True}, "fail", "double_batch_average"),
    ({"loss_avg": False}, "fail", "missing_batch_average"),
    ({"softmax_twice": True}, "fail", "softmax_jacobian_on_logits_grad"),
    ({"softmax_twice": True, "layer_avg": True}, "fail", "softmax_jacobian_on_logits_grad"),
    ({"bias_avg": True}, "fail", "bias_gradient_averaged"),
])
def test_pipeline_verdict_and_cause(pipeline, verdict, cause):
    outcome = gradcheck(InProcessRunner(FakeAdapter(pipeline=pipeline)))
    assert (outcome.verdict, outcome.cause) == (verdict, cause), outcome.message


def test_double_average_message_names_one_over_b():
    outcome = gradcheck(InProcessRunner(FakeAdapter(pipeline={"layer_avg": True})))
    assert "1/B" in outcome.message and "B = 6" in outcome.message


def test_single_sample_sign_error_is_named():
    good = gradcheck(InProcessRunner(FakeAdapter(style="single_sample")))
    bad = gradcheck(InProcessRunner(FakeAdapter(style="single_sample", single_sign=-1.0)))
    assert good.verdict == "pass" and (bad.verdict, bad.cause) == ("fail", "sign_error_in_gradient")


def test_elementwise_detail_points_at_the_wrong_parameter():
    runner = InProcessRunner(FakeAdapter(pipeline={"loss_avg": False}))
    case = model_cases.build_gradcheck(0)
    outcome = models.judge_pipeline(case, runner.call("model_gradcheck.pipeline", case))
    detail = model_cases.detail_inputs(case)
    assert len(detail["points"]) == 2 * sum(v.size for v in case["params"].values())
    outcome = models.add_detail(outcome, detail, runner.call("model_gradcheck.pipeline", detail))
    errors = {k: v["relative_error"] for k, v in outcome.evidence["elementwise"].items()}
    assert all(e > 0.5 for e in errors.values())  # every gradient is 6x too large
    assert outcome.verdict == "fail" and "largest error" in outcome.message


@pytest.mark.parametrize("break_it, words", [
    (lambda out: out["grads"].pop("0.W"), "'0.W' was not returned"),
    (lambda out: out["grads"].__setitem__("2.b", np.full(4, np.nan)), "NaN"),
    (lambda out: out["grads"].__setitem__("0.W", np.zeros((5, 7))), "shape"),
    (lambda out: out.pop("point_losses"), "point_losses"),
])
def test_malformed_answers_fail_closed(break_it, words):
    case = model_cases.build_gradcheck(0)
    out = InProcessRunner(FakeAdapter()).call("model_gradcheck.pipeline", case)
    break_it(out)
    outcome = models.judge_pipeline(case, out)
    assert outcome.verdict == "fail" and outcome.cause == "malformed_answer" and words in outcome.message


def test_builder_keeps_relu_inputs_away_from_the_kink():
    for seed in range(5):
        case = model_cases.build_gradcheck(seed)
        pre = model_cases.pre_activations(case["params"], case["sizes"], case["x"])
        assert min(np.min(np.abs(z)) for z in pre) > model_cases.KINK_MARGIN


@pytest.mark.parametrize("impl", IMPLS)
def test_correct_implementations_pass_model_gradcheck(impl):
    outcome = gradcheck(runner_for(impl))
    assert outcome.verdict == "pass", outcome.message


# --- appendix_a ------------------------------------------------------------------------------------


def appendix_outputs(impl):
    fixture = appendix_cases.load_fixture()
    case = appendix_cases.build_appendix(fixture)
    return fixture, case, runner_for(impl).call("appendix_a.example", case)


@pytest.mark.parametrize("impl", ["reference", "tests/impls/single_sample"])
def test_appendix_a_passes_on_correct_implementations(impl):
    fixture, case, out = appendix_outputs(impl)
    outcomes = [appendix.quantity_judge(fixture, q)(case, out) for q in appendix_cases.QUANTITIES]
    assert [o.verdict for o in outcomes] == ["pass"] * len(appendix_cases.QUANTITIES), [o.message for o in outcomes]


def test_appendix_a_fails_a_wrong_value_and_computes_l_from_f():
    fixture, case, out = appendix_outputs("reference")
    out["grads"]["W1"] = out["grads"]["W1"] + 1.0
    assert appendix.quantity_judge(fixture, "dL_dW1")(case, out).cause == "appendix_a_mismatch"
    out["L"] = None
    outcome = appendix.quantity_judge(fixture, "L")(case, out)
    assert outcome.verdict == "pass" and "from your f" in outcome.message
    out["f"] = 2.5
    assert appendix.quantity_judge(fixture, "L")(case, out).verdict == "fail"


def test_appendix_a_probe_never_receives_the_answers():
    case = appendix_cases.build_appendix(appendix_cases.load_fixture())
    assert "expected" not in case and not set(case) & set(appendix_cases.QUANTITIES)


def test_appendix_fixture_problems_are_the_kits(tmp_path):
    with pytest.raises(appendix_cases.FixtureError, match="missing"):
        appendix_cases.load_fixture(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text('{"inputs": {}}')
    with pytest.raises(appendix_cases.FixtureError, match="malformed"):
        appendix_cases.load_fixture(tmp_path / "bad.json")
