"""The loss judges' reduction rule (SPEC 6, 7): a value summed over the batch passes only with its
exact gradient; a sum with the mean's gradient is loss_not_averaged; a per-sample mean is never
read as a sum (with B = 2, S / B is also S / 2)."""
import numpy as np
import pytest

from conformance.cases import losses as cases
from conformance.judges import losses


def _probe(case, value_fn, grad_fn):
    """What probes/losses.loss_check returns for a loss written as value_fn / grad_fn (MSE)."""
    pred, target = case["pred"], case["labels"]
    return {"student_name": "L", "conventions": {}, "value": float(value_fn(pred, target)),
            "grad": grad_fn(pred, target), "values_at_pred_points": np.array([value_fn(p, target) for p in case["points"]])}


SUM = lambda p, t: np.sum((p - t) ** 2)  # noqa: E731
HALF_SUM = lambda p, t: 0.5 * np.sum((p - t) ** 2)  # noqa: E731


@pytest.mark.parametrize("batch", [2, 4])
def test_a_sum_with_its_exact_gradient_passes_and_is_named(batch):
    case = cases.loss_case("mse", seed=3, batch=batch, classes=3)
    for value_fn, grad_fn, form in ((SUM, lambda p, t: 2 * (p - t), "sum over the batch"),
                                    (HALF_SUM, lambda p, t: p - t, "1/2 * sum over the batch")):
        out = _probe(case, value_fn, grad_fn)
        value, grad = losses.loss_value(case, out), losses.loss_gradient(case, out)
        assert value.verdict == "pass" and grad.verdict == "pass", (value.message, grad.message)
        if batch > 2:  # with B = 2, S / 2 is also the per-sample mean S / B, named first
            assert form in value.message


def test_a_sum_with_the_gradient_of_the_mean_is_loss_not_averaged():
    case = cases.loss_case("mse", seed=3, batch=4, classes=3)
    out = _probe(case, SUM, lambda p, t: 2 * (p - t) / len(p))
    value, grad = losses.loss_value(case, out), losses.loss_gradient(case, out)
    assert (value.verdict, value.cause) == ("fail", "loss_not_averaged")
    assert (grad.verdict, grad.cause) == ("fail", "loss_not_averaged")


def test_a_sum_with_a_gradient_b_times_too_large_is_inconsistent():
    case = cases.loss_case("mse", seed=3, batch=4, classes=3)
    out = _probe(case, SUM, lambda p, t: 2 * (p - t) * len(p))
    assert (losses.loss_gradient(case, out).cause) == "inconsistent_loss_scaling"


def test_a_per_sample_mean_on_two_samples_is_not_read_as_a_half_sum():
    case = cases.loss_case("mse", seed=3, batch=2, classes=3)
    out = _probe(case, lambda p, t: np.sum((p - t) ** 2) / len(p), lambda p, t: 2 * (p - t))  # per-sample gradient
    assert losses.loss_value(case, out).verdict == "pass"
    grad = losses.loss_gradient(case, out)
    assert grad.verdict == "pass" and "per-sample" in grad.message


def test_a_loss_with_a_value_only_has_its_value_judged_and_its_gradient_missing(tmp_path):
    from conformance.adapters import build_adapter
    from conformance.loader import load_impl
    from conformance.runner import InProcessRunner

    path = tmp_path / "value_only.py"
    path.write_text("import numpy as np\n\ndef q1(a, b):\n    return np.mean((a - b) ** 2)\n")
    case = cases.loss_case("mse", seed=2, batch=4, classes=3)
    out = InProcessRunner(build_adapter(load_impl(str(path)))).call("loss.check", case)
    assert losses.loss_value(case, out).verdict == "pass"
    grad = losses.loss_gradient(case, out)
    assert grad.verdict == "missing" and "no gradient" in grad.message
