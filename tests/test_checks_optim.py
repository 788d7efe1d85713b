"""sgd, momentum, adam, gradient_checker, init: judges on hand-made answers (correct and each known
bug), the judge's bug variants against the reference, and the probes on the kit's implementations."""
import numpy as np
import pytest

import reference as ref
from checks_fakes import FakeAdapter
from conformance.adapters import build_adapter
from conformance.cases.gradchecker import build_gradchecker
from conformance.cases.init import FAN_IN, FAN_OUT, build_init
from conformance.cases.optim import build_optim
from conformance.judges import gradchecker, init, optim
from conformance.loader import load_impl
from conformance.runner import InProcessRunner, ProbeFailure

IMPLS = ["reference", "tests/impls/attr_grads.py", "tests/impls/layer_dicts.ipynb", "tests/impls/dense_net.ipynb",
         "tests/impls/single_sample"]


def run_optim(adapter, kind):
    case = build_optim(kind)
    return optim.judge_optim(case, InProcessRunner(adapter).call("optim.trajectory", case))


@pytest.mark.parametrize("kind, variant, verdict, cause", [
    ("sgd", "right", "pass", None),
    ("sgd", "sign", "fail", "sign_error_in_update"),
    ("sgd", "default_momentum", "fail", "momentum_in_plain_sgd"),
    ("sgd", "stale", "fail", "stale_gradient"),
    ("momentum", "right", "pass", None),
    ("momentum", "ema", "pass", "ema_vs_classical_momentum"),  # information, not a failure
    ("momentum", "sign", "fail", "sign_error_in_update"),
    ("momentum", "forget_velocity", "fail", "momentum_not_applied"),
    ("adam", "right", "pass", None),
    ("adam", "epsilon_hat", "pass", None),  # Kingma & Ba's efficient form, TensorFlow's
    ("adam", "no_bias_correction", "fail", "adam_missing_bias_correction"),
    ("adam", "sign", "fail", "sign_error_in_update"),
])
def test_optimizer_verdict_and_cause(kind, variant, verdict, cause):
    outcome = run_optim(FakeAdapter(optimizer=variant), kind)
    assert (outcome.verdict, outcome.cause) == (verdict, cause), outcome.message


def test_unknown_update_rule_fails_with_the_first_diverging_step():
    case = build_optim("sgd")
    traj = optim.replay_reference(case, lambda g: ref.SGD(g, 0.1))
    traj["W"][7:] += 0.01
    outcome = optim.judge_optim(case, {"trajectory": traj})
    assert (outcome.verdict, outcome.cause, outcome.evidence["step"]) == ("fail", "update_mismatch", 8)


@pytest.mark.parametrize("trajectory", [None, {"W": np.zeros((50, 3, 4))}, {"W": np.zeros((3, 4)), "b": np.zeros(4)}])
def test_malformed_trajectories_fail_closed(trajectory):
    outcome = optim.judge_optim(build_optim("sgd"), {"trajectory": trajectory})
    assert (outcome.verdict, outcome.cause) == ("fail", "malformed_answer")


@pytest.mark.parametrize("rule, make", [
    (optim.heavy_ball(0.1, 0.0), lambda g: ref.SGD(g, 0.1)),
    (optim.heavy_ball(0.05, 0.9), lambda g: ref.SGD(g, 0.05, 0.9, form="classical")),
    (optim.heavy_ball(0.05, 0.9, ema=True), lambda g: ref.SGD(g, 0.05, 0.9, form="ema")),
    (optim.adam(0.05, (0.9, 0.999), 1e-8), lambda g: ref.Adam(g, 0.05, (0.9, 0.999), 1e-8)),
])
def test_bug_variants_with_the_bug_switched_off_are_the_reference(rule, make):
    case = build_optim("sgd")
    got, want = optim.replay(case, rule), optim.replay_reference(case, make)
    assert all(np.allclose(got[k], want[k], rtol=1e-12, atol=1e-14) for k in want)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam"])
def test_correct_implementations_pass_or_are_missing(impl, kind):
    try:
        outcome = run_optim(build_adapter(load_impl(impl)), kind)
    except ProbeFailure as exc:
        assert exc.kind == "missing", exc.message
        return
    assert outcome.verdict == "pass", outcome.message


# --- gradient_checker ----------------------------------------------------------------------------


@pytest.mark.parametrize("checker, verdict, cause", [
    ("right", "pass", None), ("lenient", "fail", "checker_too_lenient"), ("strict", "fail", "checker_too_strict")])
def test_gradient_checker_verdicts(checker, verdict, cause):
    case = build_gradchecker(0)
    outcome = gradchecker.judge_gradchecker(case, InProcessRunner(FakeAdapter(checker=checker)).call(
        "gradient_checker.verdicts", case))
    assert (outcome.verdict, outcome.cause) == (verdict, cause)


@pytest.mark.parametrize("correct, planted, cause", [
    ({"error": None, "passed": None}, {"error": 0.1, "passed": None}, "checker_unreadable"),
    ({"error": 3e-4, "passed": None}, {"error": 0.1, "passed": None}, "checker_unreadable"),  # between the bars
    ({"error": 1e-9, "passed": None}, {"error": 0.5, "passed": True}, "checker_too_lenient"),  # its verdict wins
])
def test_gradient_checker_edge_answers(correct, planted, cause):
    outcome = gradchecker.judge_gradchecker({"seed": 0}, {"correct": correct, "planted": planted})
    assert (outcome.verdict, outcome.cause) == ("fail", cause)


def _reports(**errors):
    """Probe outputs of an extended run: each case's reported error (a float) or verdict (a bool)."""
    base = {"correct": 1e-9, "planted": 0.2, "nonlinear": 1e-9, "nonlinear_planted": 0.2, "negated": 1.0}
    base.update(errors)
    out = {k: {"error": v, "passed": None} if isinstance(v, float) else {"error": None, "passed": v}
           for k, v in base.items()}
    out["step"] = ["epsilon", 1e-5] if "nonlinear_smaller_step" in errors or "smaller_step" in errors else None
    return out


@pytest.mark.parametrize("reports, cause", [
    (_reports(), None),
    # right on the linear layer, a large error on tanh that falls 10x with a 10x smaller step
    (_reports(nonlinear=3e-3, nonlinear_smaller_step=3e-4), "checker_one_sided_difference"),
    # ... that falls 100x: central differences with a step too large for the curvature
    (_reports(nonlinear=3e-3, nonlinear_smaller_step=3e-5), "checker_step_too_large"),
    (_reports(nonlinear=False, nonlinear_smaller_step=True), "checker_step_too_large"),
    # no step argument to vary: the curvature is named, not one of its two causes
    (_reports(nonlinear=3e-3), "checker_too_strict"),
    # rejects both correct layers and accepts the negated gradient
    (_reports(correct=1.0, nonlinear=1.0, negated=1e-12), "checker_sign_error"),
    (_reports(correct=0.33, nonlinear=0.33, negated=0.6), "checker_too_strict"),
    (_reports(nonlinear_planted=1e-6), "checker_too_lenient"),  # fooled on the tanh layer only
])
def test_gradient_checker_causes(reports, cause):
    outcome = gradchecker.judge_gradchecker({"seed": 0}, reports)
    assert (outcome.verdict, outcome.cause) == ("pass" if cause is None else "fail", cause), outcome.message


def test_a_legacy_adapter_checker_is_judged_on_the_linear_cases_and_says_so():
    outcome = gradchecker.judge_gradchecker({"seed": 0}, {"correct": {"error": 1e-9, "passed": None},
                                                          "planted": {"error": 0.2, "passed": None}})
    assert outcome.verdict == "pass" and "only a linear one was tried" in outcome.message


@pytest.mark.parametrize("impl", ["reference", "tests/impls/layer_dicts.ipynb", "tests/impls/dense_net.ipynb",
                                  "tests/impls/single_sample"])
def test_gradient_checkers_of_correct_implementations_pass(impl):
    case = build_gradchecker(0)
    outcome = gradchecker.judge_gradchecker(case, InProcessRunner(build_adapter(load_impl(impl))).call(
        "gradient_checker.verdicts", case))
    assert outcome.verdict == "pass", outcome.message


# --- init ----------------------------------------------------------------------------------------


def draw(dist, var, seed=0, shape=(FAN_OUT, FAN_IN)):
    rng = np.random.default_rng(seed)
    if dist == "normal":
        return rng.standard_normal(shape) * np.sqrt(var)
    return rng.uniform(-np.sqrt(3 * var), np.sqrt(3 * var), shape)


HE, XAVIER, LECUN = 2 / FAN_IN, 2 / (FAN_IN + FAN_OUT), 1 / FAN_IN


@pytest.mark.parametrize("kind, dist, var, verdict, closest", [
    ("he", "normal", HE, "pass", "he"),
    ("he", "uniform", HE, "pass", "he"),
    ("xavier", "normal", XAVIER, "pass", "xavier"),
    ("xavier", "uniform", XAVIER, "pass", "xavier"),
    ("he", "normal", LECUN, "fail", "lecun"),
    ("xavier", "uniform", HE, "fail", "he"),
    ("he", "normal", 1e-4, "fail", "unit_normal_times_0.01"),
])
def test_init_verdict_names_what_was_found(kind, dist, var, verdict, closest):
    outcome = init.judge_one(kind, draw(dist, var), FAN_IN, FAN_OUT)
    assert outcome.verdict == verdict and outcome.evidence["closest"] == closest
    assert outcome.evidence["distribution"] == dist
    assert outcome.verdict == "pass" or outcome.cause == "wrong_init_variance"


def test_init_tolerance_accepts_correct_draws_over_many_seeds():
    # 6 sampling sd: a correct initialiser fails with probability < 1e-8 per draw.
    assert all(init.judge_one("he", draw("normal", HE, seed=s), FAN_IN, FAN_OUT).passed for s in range(20))


@pytest.mark.parametrize("W, verdict", [("no he initialiser", "missing"), (np.zeros((3, 3)), "fail"),
                                        (np.full((FAN_OUT, FAN_IN), np.nan), "fail")])
def test_init_missing_and_malformed(W, verdict):
    assert init.judge_one("he", W, FAN_IN, FAN_OUT).verdict == verdict


@pytest.mark.parametrize("impl", IMPLS)
def test_initialisers_of_correct_implementations(impl):
    case = build_init(0)
    out = InProcessRunner(build_adapter(load_impl(impl))).call("init.draw", case)
    verdicts = [init.kind_judge(k)(case, out).verdict for k in case["kinds"]]
    assert set(verdicts) <= {"pass", "missing"} and "pass" in verdicts, verdicts
