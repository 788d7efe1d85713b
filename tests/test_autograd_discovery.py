"""Autograd engines (issue #12): found by behaviour, judged operation by operation, and the unit
components written on them graded through the engine.

The engines are the test's own: a correct one (attribute names unlike any other engine's, so only
behaviour can find them) and one planted bug per named failure, each a one-line edit of it.
"""
from __future__ import annotations

import pytest

from conformance.cases import layers as cases
from conformance.cases.losses import loss_case
from conformance.adapters import build_adapter
from conformance.cases import autograd as autograd_cases
from conformance.judges import autograd, layers, losses
from conformance.loader import load_impl
from conformance.outcome import Outcome
from conformance.runner import InProcessRunner, ProbeFailure

ENGINE = '''
import numpy as np


def _fit(g, shape):
    """Sum a broadcast gradient back to ``shape``."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


class Node:
    def __init__(self, value, parents=(), back=None):
        self.value = np.asarray(value, dtype=float)
        self.g = None
        self.parents, self.back = parents, back

    def _acc(self, g):
        self.g = g if self.g is None else self.g + g

    def __add__(self, other):
        def back(out):
            self._acc(_fit(out.g, self.value.shape))
            other._acc(_fit(out.g, other.value.shape))
        return Node(self.value + other.value, (self, other), back)

    def __mul__(self, other):
        def back(out):
            self._acc(_fit(out.g * other.value, self.value.shape))
            other._acc(_fit(out.g * self.value, other.value.shape))
        return Node(self.value * other.value, (self, other), back)

    def __matmul__(self, other):
        def back(out):
            self._acc(out.g @ other.value.T)
            other._acc(self.value.T @ out.g)
        return Node(self.value @ other.value, (self, other), back)

    def relu(self):
        return Node(np.maximum(self.value, 0), (self,), lambda out: self._acc(out.g * (self.value > 0)))

    def sum(self):
        return Node(self.value.sum(), (self,), lambda out: self._acc(np.ones_like(self.value) * out.g))

    def mean(self):
        n = self.value.size
        return Node(self.value.mean(), (self,), lambda out: self._acc(np.ones_like(self.value) * out.g / n))

    def backward(self):
        order, seen = [], set()

        def visit(n):
            if id(n) not in seen:
                seen.add(id(n))
                for p in n.parents:
                    visit(p)
                order.append(n)
        visit(self)
        self.g = np.ones_like(self.value)
        for n in reversed(order):
            if n.back is not None:
                n.back(n)


def exp(t):
    e = np.exp(t.value)
    return Node(e, (t,), lambda out: t._acc(out.g * e))


def log(t):
    return Node(np.log(t.value), (t,), lambda out: t._acc(out.g / t.value))


class Dense:
    def __init__(self, n_in, n_out):
        self.W = Node(np.random.randn(n_in, n_out) * 0.1)
        self.b = Node(np.zeros(n_out))

    def __call__(self, x):
        return x @ self.W + self.b

    def zero_grad(self):
        self.W.g = None
        self.b.g = None


class Rectifier:
    def __call__(self, x):
        return x.relu()


def squared_error(pred, target):
    d = pred + target * Node(-1.0)
    return (d * d).mean()


def nll_of_scores(scores, classes):
    """Softmax cross-entropy of raw scores (B, C) and class ids, averaged; its own backward."""
    z = scores.value - scores.value.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    idx, n = np.asarray(classes, dtype=int), len(classes)
    onehot = np.eye(p.shape[1])[idx]
    return Node(-np.log(p[np.arange(n), idx]).mean(), (scores,), lambda out: scores._acc(out.g * (p - onehot) / n))
'''

ACCUMULATE = "self.g = g if self.g is None else self.g + g"
BROADCAST = ("self._acc(_fit(out.g, self.value.shape))\n            other._acc(_fit(out.g, other.value.shape))")
RESET = "    def zero_grad(self):\n        self.W.g = None\n        self.b.g = None\n"
SEED = "self.g = np.ones_like(self.value)"
VARIANTS = {
    "correct": [],
    "assigns": [(ACCUMULATE, "self.g = g")],  # grad = instead of grad +=
    "no_sum_back": [(BROADCAST, "self._acc(out.g)\n            other._acc(out.g)")],
    "raises": [(SEED, 'raise ValueError("the graph has a cycle")')],
    "no_reset": [(RESET, "")],
    "ce_no_onehot": [("* (p - onehot) / n))", "* p / n))")],  # the gradient forgets the label's -1
}


def engine_source(variant: str) -> str:
    text = ENGINE
    for old, new in VARIANTS[variant]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def runners(tmp_path_factory):
    folder = tmp_path_factory.mktemp("engines")
    out = {}
    for variant in VARIANTS:
        path = folder / f"engine_{variant}.py"
        path.write_text(engine_source(variant))
        out[variant] = InProcessRunner(build_adapter(load_impl(str(path))))
    return out


def judged(runner, probe: str, case: dict, judge) -> Outcome:
    """The outcome a conformance check would record: the judge's, or the probe's failure."""
    try:
        out = runner.call(probe, case, timeout=10)
    except ProbeFailure as exc:
        return Outcome(exc.kind, exc.message)
    return judge(case, out)


def autograd_checks(runner) -> dict[str, Outcome]:
    checks = {f"ops_{g}": ("autograd.run", autograd_cases.build_ops(seed=0, group=g), autograd.elementary_ops)
              for g in autograd_cases.OPS_GROUPS}
    checks["accumulation"] = ("autograd.run", autograd_cases.build_accumulation(seed=0), autograd.accumulation)
    checks["broadcasting"] = ("autograd.run", autograd_cases.build_broadcasting(seed=0), autograd.broadcasting)
    checks["zero_grad"] = ("autograd.zero_grad", autograd_cases.build_zero_grad(seed=0), autograd.zero_grad)
    return {name: judged(runner, *spec) for name, spec in checks.items()}


def unit_outcomes(runner, kind: str) -> list[Outcome]:
    if kind in ("mse", "cross_entropy"):
        case = loss_case(kind, seed=0, batch=4, classes=3)
        return [judged(runner, "loss.check", case, j) for j in (losses.loss_value, losses.loss_gradient)]
    case = cases.linear_case(seed=0) if kind == "linear" else cases.activation_case(kind, seed=0)
    judges = layers.UNIT_CHECKS + ((layers.parameter_gradient,) if kind == "linear" else ())
    return [judged(runner, "layer.check", case, j) for j in judges]


def test_the_engine_is_found_by_behaviour_and_described(runners):
    found = runners["correct"].call("inventory", {})["found"]
    engine = found["autograd"]
    assert engine["name"] == "Node"
    detail = engine["detail"]
    assert ".value" in detail and "backward() on a scalar fills .g" in detail
    for op in ("+", "*", "@", "exp()", "log()", ".relu()", ".sum()", ".mean()"):
        assert op in detail, op
    assert "lacks" in detail and "tanh" in detail  # what the engine does not define is listed
    assert found["linear"]["name"] == "Dense" and "through your autograd engine Node" in found["linear"]["detail"]
    assert found["relu"]["name"] == "Rectifier" and found["mse"]["name"] == "squared_error"
    assert found["cross_entropy"]["name"] == "nll_of_scores"
    assert "value: mean over the batch, on logits" in found["cross_entropy"]["detail"]


def test_a_correct_engine_passes_every_check_and_lists_what_it_lacks(runners):
    outcomes = autograd_checks(runners["correct"])
    assert {name: o.verdict for name, o in outcomes.items()} == {name: "pass" for name in outcomes}
    assert "sub" in outcomes["ops_arithmetic"].message and "not graded" in outcomes["ops_arithmetic"].message
    assert "Dense.zero_grad()" in outcomes["zero_grad"].message


@pytest.mark.parametrize("kind", ["linear", "relu", "mse", "cross_entropy"])
def test_unit_components_on_a_correct_engine_pass_through_it(runners, kind):
    outcomes = unit_outcomes(runners["correct"], kind)
    assert [o.verdict for o in outcomes] == ["pass"] * len(outcomes), [o.message for o in outcomes]


def test_assigning_instead_of_adding_is_named_and_only_hits_a_value_used_twice(runners):
    outcomes = autograd_checks(runners["assigns"])
    acc = outcomes["accumulation"]
    assert (acc.verdict, acc.cause) == ("fail", "gradient_not_accumulated")
    assert "x + x" in acc.message and "x * x" in acc.message and "half" in acc.message
    # a single use is still right; with = the gradients cannot add up across steps, so no reset is needed
    for name in ("ops_arithmetic", "ops_elementwise", "ops_reductions", "broadcasting", "zero_grad"):
        assert outcomes[name].verdict == "pass", (name, outcomes[name].message)
    assert all(o.verdict == "pass" for o in unit_outcomes(runners["assigns"], "linear"))
    assert all(o.verdict == "pass" for o in unit_outcomes(runners["assigns"], "relu"))
    # squared_error uses d twice (d * d): its gradient is half the true one
    mse = unit_outcomes(runners["assigns"], "mse")
    assert [o.verdict for o in mse] == ["pass", "fail"] and mse[1].cause == "missing_half_factor"


def test_broadcasting_not_summed_back_is_named_in_the_engine_and_in_the_linear_layer(runners):
    outcomes = autograd_checks(runners["no_sum_back"])
    bc = outcomes["broadcasting"]
    assert (bc.verdict, bc.cause) == ("fail", "broadcast_not_summed")
    assert "(4, 3)" in bc.message and "expected (3,)" in bc.message
    assert outcomes["ops_arithmetic"].verdict == "pass"  # same shapes: nothing to sum back
    linear = {o.cause for o in unit_outcomes(runners["no_sum_back"], "linear") if o.verdict == "fail"}
    assert linear == {"bias_gradient_not_summed"}
    assert all(o.verdict == "pass" for o in unit_outcomes(runners["no_sum_back"], "relu"))


def test_gradients_that_add_up_with_no_reset_anywhere_fail_zero_grad(runners):
    outcomes = autograd_checks(runners["no_reset"])
    zg = outcomes["zero_grad"]
    assert (zg.verdict, zg.cause) == ("fail", "zero_grad_missing")
    assert "twice" in zg.message and "nothing in your submission resets it" in zg.message
    assert all(o.verdict == "pass" for name, o in outcomes.items() if name != "zero_grad")


def test_a_backward_that_raises_is_the_students_error_in_one_sentence(runners):
    outcomes = autograd_checks(runners["raises"])
    for name in ("ops_arithmetic", "ops_elementwise", "ops_reductions", "accumulation", "broadcasting", "zero_grad"):
        o = outcomes[name]
        assert o.verdict == "error", (name, o.verdict, o.message)
        assert "Node.backward() raised ValueError: the graph has a cycle (in backward" in o.message, o.message
        assert "Traceback" not in o.message and "conformance/" not in o.message
    for kind in ("linear", "relu", "mse", "cross_entropy"):
        outcomes = unit_outcomes(runners["raises"], kind)
        assert {o.verdict for o in outcomes} == {"error"}, kind  # one probe runs forward and backward
        message = outcomes[0].message
        assert "Node.backward() raised ValueError: the graph has a cycle (in backward" in message
        assert message.count("\n") == 0 and "Traceback" not in message


def test_a_cross_entropy_on_the_engine_with_a_wrong_gradient_fails_through_it(runners):
    value, gradient = unit_outcomes(runners["ce_no_onehot"], "cross_entropy")
    assert value.verdict == "pass", value.message
    assert (gradient.verdict, gradient.cause) == ("fail", "wrong_loss_gradient"), gradient.message


def test_no_engine_is_missing_with_what_an_engine_is():
    runner = InProcessRunner(build_adapter(load_impl("reference")))
    for name, outcome in autograd_checks(runner).items():
        assert outcome.verdict == "missing", (name, outcome)
        assert "no autograd engine" in outcome.message
    assert runner.call("inventory", {})["found"]["autograd"]["name"] is None
