"""Scalar autograd engines (issue #12): a ``Value`` of one float found by behaviour, lifted to
arrays by the kit (object arrays of values, a balanced-tree sum), networks of neurons read from
their lists, and the autograd checks on it.

The engine is the test's own: one float in ``.num``, its gradient in ``.d``, a recursive
topological sort in ``go()`` (names unlike micrograd's, so only behaviour can find them), and
one planted bug per failure the checks name, each a one-line edit.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

from conformance.adapters import build_adapter
from conformance.adapters.discovery import autograd as ag
from conformance.adapters.discovery import enginenets
from conformance.adapters.discovery.scalar import ScalarEngine, find_scalar_engine
from conformance.cases import autograd as autograd_cases
from conformance.cases import layers as layer_cases
from conformance.judges import autograd, layers
from conformance.loader import load_impl
from conformance.outcome import Outcome
from conformance.runner import InProcessRunner, ProbeFailure

ENGINE = '''
import math
import random


class Num:
    def __init__(self, num, kids=()):
        self.num = num
        self.d = 0.0
        self.kids = kids
        self.rule = lambda: None

    def __add__(self, other):
        out = Num(self.num + other.num, (self, other))

        def rule():
            self.d += out.d
            other.d += out.d
        out.rule = rule
        return out

    def __mul__(self, other):
        out = Num(self.num * other.num, (self, other))

        def rule():
            self.d += other.num * out.d
            other.d += self.num * out.d
        out.rule = rule
        return out

    def __sub__(self, other):
        return self + other * Num(-1.0)

    def tanh(self):
        t = math.tanh(self.num)
        out = Num(t, (self,))

        def rule():
            self.d += (1 - t * t) * out.d
        out.rule = rule
        return out

    def exp(self):
        out = Num(math.exp(self.num), (self,))

        def rule():
            self.d += out.num * out.d
        out.rule = rule
        return out

    def go(self):
        order, seen = [], set()

        def visit(v):
            if v not in seen:
                seen.add(v)
                for k in v.kids:
                    visit(k)
                order.append(v)
        visit(self)
        self.d = 1.0
        for v in reversed(order):
            v.rule()


class Unit:
    def __init__(self, n_in):
        self.ws = [Num(random.uniform(-1, 1)) for _ in range(n_in)]
        self.bias = Num(0.0)

    def __call__(self, xs):
        s = self.bias
        for w, x in zip(self.ws, xs):
            s = s + w * x
        return s

    def weights(self):
        return self.ws + [self.bias]


class Row:
    def __init__(self, n_in, n_out):
        self.units = [Unit(n_in) for _ in range(n_out)]

    def __call__(self, xs):
        return [u(xs) for u in self.units]


class Stack:
    def __init__(self, n_in, sizes):
        dims = [n_in] + sizes
        self.rows = [[Unit(a) for _ in range(b)] for a, b in zip(dims, dims[1:])]

    def __call__(self, xs):
        for k, row in enumerate(self.rows):
            xs = [u(xs) for u in row]
            if k < len(self.rows) - 1:
                xs = [x.tanh() for x in xs]
        return xs

    def clear(self):
        for row in self.rows:
            for u in row:
                for p in u.weights():
                    p.d = 0.0
'''

BUGS = {
    "exp_assigns": ("            self.d += out.num * out.d\n", "            self.d = out.num * out.d\n"),
    "mul_assigns": ("            self.d += other.num * out.d\n", "            self.d = other.num * out.d\n"),
    "no_reset": ("                    p.d = 0.0\n", "                    pass\n"),
}


def source(variant: str) -> str:
    if variant == "correct":
        return ENGINE
    old, new = BUGS[variant]
    assert ENGINE.count(old) == 1
    return ENGINE.replace(old, new)


def namespace(variant: str = "correct") -> list[tuple[str, object]]:
    ns: dict = {}
    exec(compile(source(variant), f"<{variant}>", "exec"), ns)
    return [(n, ns[n]) for n in ("Num", "Unit", "Row", "Stack")]


DEFS = namespace()


@pytest.fixture(scope="module")
def eng() -> ScalarEngine:
    return ag.find_engine(DEFS)


@pytest.fixture(scope="module")
def runners(tmp_path_factory):
    out = {}
    for variant in ("correct", *BUGS):
        path = tmp_path_factory.mktemp(variant) / "scalar_engine.py"
        path.write_text(source(variant))
        out[variant] = InProcessRunner(build_adapter(load_impl(str(path))))
    return out


def checks(runner) -> dict[str, Outcome]:
    specs = {f"ops_{g}": ("autograd.run", autograd_cases.build_ops(seed=0, group=g), autograd.elementary_ops)
             for g in autograd_cases.OPS_GROUPS}
    specs["accumulation"] = ("autograd.run", autograd_cases.build_accumulation(seed=0), autograd.accumulation)
    specs["broadcasting"] = ("autograd.run", autograd_cases.build_broadcasting(seed=0), autograd.broadcasting)
    specs["zero_grad"] = ("autograd.zero_grad", autograd_cases.build_zero_grad(seed=0), autograd.zero_grad)
    out = {}
    for name, (probe, case, judge) in specs.items():
        try:
            out[name] = judge(case, runner.call(probe, case, timeout=20))
        except ProbeFailure as exc:
            out[name] = Outcome(exc.kind, exc.message)
    return out


# --- the engine and the lift --------------------------------------------------------------------


def test_the_scalar_engine_is_found_by_behaviour_and_described(eng):
    assert isinstance(eng, ScalarEngine) and eng.name == "Num"
    assert (eng.data_attr, eng.grad_attr, eng.backward_name) == ("num", "d", "go")
    assert set(eng.ops) == {"add", "sub", "mul", "tanh", "exp"}
    text = eng.describe()
    assert "a scalar engine" in text and "lifted element-wise by the kit" in text and "balanced tree" in text


def test_an_array_engine_that_can_take_a_vjp_is_preferred_to_the_scalar_reading():
    from tests.test_autograd_discovery import ENGINE as ARRAY_ENGINE  # Node: a numpy engine with sum

    ns: dict = {}
    exec(compile(ARRAY_ENGINE, "<array>", "exec"), ns)
    found = ag.find_engine([(n, v) for n, v in ns.items() if isinstance(v, type)])
    assert found is not None and not isinstance(found, ScalarEngine)


A = np.array([[0.5, -1.25, 2.0], [1.5, 0.75, -0.3]])
B = np.array([[1.1, 0.4, -0.9], [-2.0, 0.6, 1.3]])
M = np.array([[0.2, -1.0], [1.4, 0.3], [-0.7, 0.9]])


@pytest.mark.parametrize("op, args, expected", [
    ("add", (A, B), A + B), ("sub", (A, B), A - B), ("mul", (A, B), A * B), ("matmul", (A, M), A @ M),
    ("tanh", (A,), np.tanh(A)), ("exp", (A,), np.exp(A)), ("sum", (A,), A.sum()), ("mean", (A,), A.mean()),
    ("add", (A, B[0]), A + B[0]),  # numpy's broadcasting of object arrays: the kit's, not the engine's
])
def test_object_array_operations_match_numpy(eng, op, args, expected):
    out = eng.apply(op, *[eng.tensor(a) for a in args])
    assert eng.is_value(out)
    np.testing.assert_allclose(eng.data(out), expected, rtol=1e-12)


def _depth(root) -> int:
    depth, level = 0, [root]
    while level:
        depth += 1
        level = list({id(k): k for v in level for k in v.kids}.values())
    return depth


def test_the_kits_sum_is_a_balanced_tree_and_a_recursive_backward_survives_a_big_batch(eng):
    n = 20000
    x = eng.tensor(np.linspace(-1.0, 1.0, n))
    total = eng.apply("sum", x).flat[0]
    assert _depth(total) <= int(np.ceil(np.log2(n))) + 1  # a left fold would be n deep
    assert n > sys.getrecursionlimit()  # so the student's recursive sort would fail on a chain
    eng.vjp(eng.apply("mul", x, x), np.full(n, 0.5))
    np.testing.assert_allclose(eng.grad(x), eng.data(x), rtol=1e-12)


def test_gradients_are_read_back_element_wise_and_reset_as_a_fresh_value_holds_them(eng):
    x, c = eng.tensor(A), eng.tensor(B)
    dy = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])
    how = eng.vjp(eng.apply("mul", x, c), dy)
    assert "the kit's balanced sum" in how
    np.testing.assert_allclose(eng.grad(x), B * dy, rtol=1e-12)
    np.testing.assert_allclose(eng.grad(c), A * dy, rtol=1e-12)
    eng.fresh_grad(x)
    assert not eng.grad(x).any()
    eng.write(x, B)
    np.testing.assert_array_equal(eng.data(x), B)


def test_a_network_of_units_is_read_as_w_out_in_and_b_from_its_lists(eng):
    net, rejected = enginenets.find(eng, DEFS)
    assert net is not None and net.name == "Stack", rejected
    assert "W (out, in)/b, W (out, in)/b" in net.describe() and "the kit's softmax cross-entropy" in net.describe()
    pipe = net.pipeline((5, 7, 4))
    params = pipe.get_params()
    assert {k: v.shape for k, v in params.items()} == {"0.W": (7, 5), "0.b": (7,), "2.W": (4, 7), "2.b": (4,)}
    x, labels = np.random.default_rng(0).standard_normal((3, 5)), np.array([0, 3, 1])
    value, grads = pipe.loss_and_grads(x, labels)
    for key in ("0.W", "2.b"):  # central differences of the kit's loss through the student's forward
        i = (1, 2) if key == "0.W" else (3,)
        eps, p = 1e-6, {k: v.copy() for k, v in params.items()}
        p[key][i] += eps
        pipe.set_params(p)
        up = pipe.loss(x, labels)
        p[key][i] -= 2 * eps
        pipe.set_params(p)
        down = pipe.loss(x, labels)
        assert np.isclose(grads[key][i], (up - down) / (2 * eps), rtol=1e-6, atol=1e-9), key
        pipe.set_params(params)


def test_no_scalar_engine_in_plain_classes():
    class Box:
        def __init__(self, v):
            self.v = v

    assert find_scalar_engine([("Box", Box)]) is None


# --- the autograd checks ------------------------------------------------------------------------


def test_a_correct_scalar_engine_passes_and_its_kit_only_checks_are_not_required(runners):
    out = checks(runners["correct"])
    assert {k: o.verdict for k, o in out.items()} == {
        "ops_arithmetic": "pass", "ops_elementwise": "pass", "ops_reductions": "missing", "accumulation": "pass",
        "broadcasting": "missing", "zero_grad": "pass"}
    assert not out["ops_reductions"].required and "the kit's own reductions" in out["ops_reductions"].message
    assert not out["broadcasting"].required and "does not apply to a scalar engine" in out["broadcasting"].message
    assert "x * c + x" in out["accumulation"].message and "tanh(x) + x" in out["accumulation"].message
    assert "Stack.clear()" in out["zero_grad"].message


@pytest.mark.parametrize("variant, label", [("exp_assigns", "exp(x) + x"), ("mul_assigns", "x * c + x")])
def test_a_backward_that_assigns_is_named_where_one_value_is_used_twice(runners, variant, label):
    out = checks(runners[variant])
    acc = out["accumulation"]
    assert (acc.verdict, acc.cause) == ("fail", "gradient_not_accumulated")
    assert label in acc.message and "only one of the two uses" in acc.message
    assert "x * x" not in acc.message.split("Not defined")[0].split(":")[0]  # x * x alone cannot show it
    assert out["ops_elementwise"].verdict == "pass" and out["ops_arithmetic"].verdict == "pass"


def test_a_network_reset_that_misses_values_is_no_reset(runners):
    zg = checks(runners["no_reset"])["zero_grad"]
    assert (zg.verdict, zg.cause) == ("fail", "zero_grad_missing")


def test_a_reset_written_in_the_students_training_loop_counts_and_one_inside_a_class_does_not(tmp_path):
    """The lecture notebooks reset in their loop (``for p in params: p.d = 0.0``), code the kit never
    runs: found in the source and named with its line. The same line inside a class is a method the
    kit tried by behaviour, and a method that misses some values is no reset."""
    loop = "\n\ndef train(net, data):\n    for x, y in data:\n        for p in net.params():\n            p.d = 0.0\n"
    path = tmp_path / "engine_and_loop.py"
    path.write_text(source("no_reset") + loop)
    runner = InProcessRunner(build_adapter(load_impl(str(path))))
    zg = checks(runner)["zero_grad"]
    assert zg.verdict == "pass" and "your own code's p.d = 0.0 (engine_and_loop.py, line" in zg.message, zg.message
    inside = tmp_path / "inside.py"
    inside.write_text(source("no_reset") + "\n\nclass Trainer:\n    def step(self, net):\n        for p in net.params():\n"
                      "            p.d = 0.0\n")
    zg = checks(InProcessRunner(build_adapter(load_impl(str(inside)))))["zero_grad"]
    assert (zg.verdict, zg.cause) == ("fail", "zero_grad_missing"), zg.message


def test_a_reset_in_a_notebook_cell_is_found_with_the_graders_nbformat_too(tmp_path, monkeypatch):
    """The same notebook gives the same answer locally and in the grader's child, whose nbformat is
    the text-only shim (graders/nbformat_shim.py)."""
    import importlib.util
    import json
    from pathlib import Path

    from conformance.probes.autograd import inline_reset

    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": text}
             for text in ("%matplotlib inline\nimport math", "for step in range(3):\n    for p in params:\n"
                                                             "        p.d = 0.0\n")]
    path = tmp_path / "lecture.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    local = inline_reset(type("Loaded", (), {"origin": str(path)})(), "d")
    shim_path = Path(__file__).resolve().parents[1] / "graders" / "nbformat_shim.py"
    spec = importlib.util.spec_from_file_location("nbformat", shim_path)
    shim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shim)
    monkeypatch.setitem(sys.modules, "nbformat", shim)
    in_child = inline_reset(type("Loaded", (), {"origin": str(path)})(), "d")
    assert local == in_child == "your own code's p.d = 0.0 (lecture.ipynb cell 1, line 3)"


def test_a_layer_called_per_sample_on_lists_is_graded_as_the_linear_component(runners):
    found = runners["correct"].call("inventory", {})["found"]["linear"]
    assert found["name"] == "Row" and "through your autograd engine Num" in found["detail"]
    case = layer_cases.linear_case(seed=0)
    outcomes = [judge(case, runners["correct"].call("layer.check", case, timeout=20))
                for judge in layers.UNIT_CHECKS + (layers.parameter_gradient,)]
    assert [o.verdict for o in outcomes] == ["pass"] * len(outcomes), [o.message for o in outcomes]
    wrong = [judge(case, runners["mul_assigns"].call("layer.check", case, timeout=20))
             for judge in (layers.parameter_gradient,)]
    assert wrong[0].verdict == "fail"  # w * x assigns: only the last sample's gradient survives in W


# --- optimisers and mse over the engine's values -------------------------------------------------

OPTIMISERS = '''

class Descent:
    def __init__(self, params, lr=0.1):
        self.params = list(params)
        self.lr = lr

    def step(self):
        for p in self.params:
            p.num -= self.lr * p.d


class Heavy:
    def __init__(self, params, lr=0.1, momentum=0.9):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.vel = [0.0] * len(self.params)

    def step(self):
        for i, p in enumerate(self.params):
            self.vel[i] = self.momentum * self.vel[i] + p.d
            p.num -= self.lr * self.vel[i]


class Adaptive:
    def __init__(self, params, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params, self.lr, self.b1, self.b2, self.eps, self.t = list(params), lr, beta1, beta2, eps, 0
        self.m, self.v = {}, {}

    def step(self):
        self.t += 1
        for p in self.params:
            m = self.m[id(p)] = self.b1 * self.m.get(id(p), 0.0) + (1 - self.b1) * p.d
            v = self.v[id(p)] = self.b2 * self.v.get(id(p), 0.0) + (1 - self.b2) * p.d * p.d
            p.num -= self.lr * (m / (1 - self.b1 ** self.t)) / (math.sqrt(v / (1 - self.b2 ** self.t)) + self.eps)
'''
SCALAR_OPT_BUGS = {"heavy_sign": ("            p.num -= self.lr * self.vel[i]\n",
                                  "            p.num += self.lr * self.vel[i]\n")}
HANDED = '''

class Walker:
    def __init__(self, lr=0.1):
        self.lr = lr

    def update(self, values):
        for p in values:
            p.num = p.num - self.lr * p.d
'''
FUNCTION = '''

def sgd_step(params, lr):
    for p in params:
        p.num -= lr * p.d
'''
MODEL_STEP = ('''    def clear(self):''', '''    def step(self, lr):
        for row in self.rows:
            for u in row:
                for p in u.weights():
                    p.num -= lr * p.d

    def clear(self):''')
MODEL_HELD = '''

class ModelDescent:
    def __init__(self, model, lr=0.1):
        self.model, self.lr = model, lr

    def step(self):
        for p in self.model.parameters():
            p.num -= self.lr * p.d
'''
IDLE = '''

class Idle:
    def __init__(self, params, lr=0.1):
        self.params, self.lr = list(params), lr

    def step(self):
        for p in self.params:
            p.d = 0.0
'''
MSE = '''

def squared_error(outputs, targets):
    total = Num(0.0)
    for o, t in zip(outputs, targets):
        e = o - Num(t)
        total = total + e * e
    return total * Num(1.0 / len(outputs))
'''
ROW_MSE = '''

def row_loss(y_true, y_pred):
    total = Num(0.0)
    for row_p, row_t in zip(y_pred, y_true):
        for p, t in zip(row_p, row_t):
            e = p - t
            total = total + e * e
    return total * Num(0.5)
'''


def _runner(tmp_path, text, name="student.py"):
    path = tmp_path / name
    path.write_text(text)
    return InProcessRunner(build_adapter(load_impl(str(path))))


def _optim(runner, kind):
    from conformance.cases.optim import build_optim
    from conformance.judges import optim

    case = build_optim(kind)
    try:
        return optim.judge_optim(case, runner.call("optim.trajectory", case, timeout=20))
    except ProbeFailure as exc:
        return Outcome(exc.kind, exc.message)


@pytest.mark.parametrize("extra, kind, name, how", [
    (OPTIMISERS, "sgd", "Descent", "Descent([Nums], lr).step()"),
    (OPTIMISERS, "momentum", "Heavy", "Heavy([Nums], lr).step()"),
    (OPTIMISERS, "adam", "Adaptive", "Adaptive([Nums], lr).step()"),
    (HANDED, "sgd", "Walker", "Walker(lr).update([Nums])"),
    (FUNCTION, "sgd", "sgd_step", "sgd_step([Nums], lr)"),
    (MODEL_HELD, "sgd", "ModelDescent", "ModelDescent(model, lr).step() with model.parameters()"),
    (MODEL_STEP, "sgd", "Stack.step", "Stack.step(lr) on your network's own Nums"),
])
def test_optimisers_over_a_flat_list_of_values_are_found_and_judged(tmp_path, extra, kind, name, how):
    runner = _runner(tmp_path, ENGINE.replace(*extra) if isinstance(extra, tuple) else ENGINE + extra)
    found = runner.call("inventory", {})["found"][kind]
    assert found["name"] == name and how in found["detail"], found
    outcome = _optim(runner, kind)
    assert outcome.verdict == "pass", outcome.message


def test_a_momentum_sign_error_over_values_fails_with_its_cause(tmp_path):
    old, new = SCALAR_OPT_BUGS["heavy_sign"]
    runner = _runner(tmp_path, ENGINE + OPTIMISERS.replace(old, new))
    assert runner.call("inventory", {})["found"]["momentum"]["name"] == "Heavy"
    outcome = _optim(runner, "momentum")
    assert (outcome.verdict, outcome.cause) == ("fail", "sign_error_in_update"), outcome.message


def test_the_scalar_network_names_the_optimiser_that_drives_it(tmp_path):
    runner = _runner(tmp_path, ENGINE + OPTIMISERS)
    from conformance.cases.models import build_gradcheck

    out = runner.call("model_gradcheck.pipeline", build_gradcheck(seed=0), timeout=60)
    assert out["conventions"]["update"] == "your optimiser Descent", out["conventions"]


def test_an_optimiser_over_values_that_moves_nothing_gets_one_sentence(tmp_path):
    runner = _runner(tmp_path, ENGINE + IDLE)
    found = runner.call("inventory", {})["found"]["sgd"]
    assert found["name"] is None
    said = "Idle (handed the parameters as Nums with their .d set, Idle([Nums], lr).step() ran and no Num's .num moved)"
    assert said in found["detail"], found["detail"]
    outcome = _optim(runner, "sgd")
    assert outcome.verdict == "missing" and said in outcome.message, outcome.message
    half = _runner(tmp_path, ENGINE + IDLE.replace("            p.d = 0.0\n", "            p.num -= self.lr * p.d\n"
                                                   "            break\n"), "half.py")
    assert "Idle([Nums], lr).step() ran and only 1 of the 16 Nums' .num moved" in \
        half.call("inventory", {})["found"]["sgd"]["detail"]


@pytest.mark.parametrize("variant, verdict, cause", [("correct", "pass", None), ("missing_two", "fail",
                                                                                   "missing_half_factor")])
def test_an_mse_of_values_is_found_and_judged(tmp_path, variant, verdict, cause):
    from conformance.cases.losses import loss_case
    from conformance.judges import losses as loss_judges

    text = ENGINE + MSE
    if variant == "missing_two":  # the value keeps (p - t)^2, the gradient loses its 2: a rule by hand
        text = text.replace("        e = o - Num(t)\n        total = total + e * e\n",
                            "        e = o - Num(t)\n        total = total + e * Num(e.num)\n")
    runner = _runner(tmp_path, text)
    found = runner.call("inventory", {})["found"]["mse"]
    assert found["name"] == "squared_error" and "one flat list of every output" in found["detail"], found
    case = loss_case("mse", seed=0, batch=4, classes=3)
    out = runner.call("loss.check", case, timeout=20)
    outcomes = [j(case, out) for j in (loss_judges.loss_value, loss_judges.loss_gradient)]
    got = [(o.verdict, o.cause) for o in outcomes]
    assert ("fail", cause) in got if verdict == "fail" else all(v == "pass" for v, _ in got), got


def test_an_mse_over_rows_of_values_with_the_target_first_is_read_in_its_order(tmp_path):
    """Num has no __rmul__, so a float target cannot be subtracted from: the targets are handed as Nums."""
    runner = _runner(tmp_path, ENGINE + ROW_MSE)
    found = runner.call("inventory", {})["found"]["mse"]
    assert found["name"] == "row_loss" and "row_loss(target, pred) with the predictions as a list per sample " \
        "(Nums), the targets as Nums" in found["detail"] and "1/2 * sum" in found["detail"], found


def test_an_mse_that_also_runs_on_plain_numbers_is_judged_through_the_engine(tmp_path):
    """The lecture's ``sum((yp - yt) ** 2 for ...)`` computes a value on numpy rows too, where no
    gradient can be found; through the engine its backward gives one, and that reading is judged."""
    from pathlib import Path

    from conformance.cases.losses import loss_case
    from conformance.judges import losses as loss_judges

    lecture = (Path(__file__).parent / "zoo" / "networks" / "micrograd_scalar_neurons.py").read_text()
    runner = _runner(tmp_path, lecture + "\n\ndef mse_loss(ys_pred, ys_true):\n    return sum((yp - yt) ** 2 for yp, yt "
                                         "in zip(ys_pred, ys_true)) * (1.0 / len(ys_pred))\n")
    found = runner.call("inventory", {})["found"]["mse"]
    assert found["name"] == "mse_loss" and "through your scalar engine Value" in found["detail"], found
    case = loss_case("mse", seed=1, batch=3, classes=2)
    out = runner.call("loss.check", case, timeout=20)
    assert [j(case, out).verdict for j in (loss_judges.loss_value, loss_judges.loss_gradient)] == ["pass", "pass"]


def test_weights_drawn_with_pythons_random_are_the_same_on_every_build():
    """Determinism (the same grade on every run): micrograd draws its weights with random.uniform,
    so the kit seeds Python's random wherever it seeds numpy's, before every call that builds."""
    import random

    from conformance.adapters._common import construct
    from conformance.adapters.discovery.objects import attempt

    class Neuron:
        def __init__(self, n_in):
            self.w = [random.uniform(-1, 1) for _ in range(n_in)]

    random.seed(12345)
    first = attempt(Neuron, 4).w
    random.random()  # whatever ran in between
    assert attempt(Neuron, 4).w == first
    assert construct(Neuron, 4).w == construct(Neuron, 4).w == first
