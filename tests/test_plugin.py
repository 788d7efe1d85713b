"""The conformance suite run as a student runs it (pytester, a fresh pytest process each time):
verdicts, causes, the summary table, the JSON report, --impl / $BACKPROP_KIT_IMPL, --pyargs."""
import json
from pathlib import Path

import pytest

import conformance
from conformance.components import COMPONENTS

pytest_plugins = ["pytester"]

SUITE = Path(conformance.__file__).parent
MINE = ["linear", "relu", "sigmoid", "tanh", "softmax", "cross_entropy", "mse"]

# A small student implementation in the style of assignment 000 (params/grads dicts, a fused
# loss, SGD.step(params, grads)), written for these tests. Linear averages its parameter
# gradients over the batch AND the loss averages too: the layer check accepts that convention
# (model_gradcheck is where the pair is judged).
STUDENT = '''
import numpy as np


class Layer:
    def __init__(self):
        self.params, self.grads, self.cache = {}, {}, {}


class Linear(Layer):
    def __init__(self, input_dim, output_dim):
        super().__init__()
        self.params["W"] = np.random.randn(output_dim, input_dim) * 0.1
        self.params["b"] = np.zeros(output_dim)

    def forward(self, x):
        self.cache["x"] = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, g):
        x = self.cache["x"]
        self.grads["W"] = g.T @ x / len(x)  # DW
        self.grads["b"] = g.mean(axis=0)
        return g @ self.params["W"]


class ReLU(Layer):
    def forward(self, x):
        self.cache["x"] = x
        return np.maximum(0, x)

    def backward(self, g):
        return g * (self.cache["x"] > 0)


class Sigmoid(Layer):
    def forward(self, x):
        self.cache["y"] = y = 1 / (1 + np.exp(-np.clip(x, -500, 500)))
        return y

    def backward(self, g):
        y = self.cache["y"]
        return g * y * (1 - y)


class Tanh(Layer):
    def forward(self, x):
        self.cache["y"] = y = np.tanh(x)
        return y

    def backward(self, g):
        return g * (1 - self.cache["y"] ** 2)


class Softmax(Layer):
    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))  # SHIFT
        self.cache["p"] = p = e / e.sum(axis=1, keepdims=True)
        return p

    def backward(self, g):
        p = self.cache["p"]
        return p * (g - (g * p).sum(axis=1, keepdims=True))


class SoftmaxCrossEntropy(Layer):
    def forward(self, logits, labels):
        z = logits - logits.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        self.cache["p"], self.cache["labels"] = np.exp(log_p), labels
        return -log_p[np.arange(len(labels)), labels].mean()

    def backward(self):
        g = self.cache["p"].copy()
        g[np.arange(len(g)), self.cache["labels"]] -= 1
        return g / len(g)


class Sequential:
    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, g):
        for layer in reversed(self.layers):
            g = layer.backward(g)
        return g

    def get_params_and_grads(self):
        return [l.params for l in self.layers], [l.grads for l in self.layers]


class SGD:
    def __init__(self, lr=0.1, momentum=0.0):
        self.lr, self.momentum, self.v = lr, momentum, None

    def step(self, params, grads):
        for p, g in zip(params, grads):
            for k in p:
                p[k] -= self.lr * g[k]
'''

BUGS = {
    "transposed": ("x.T @ g / len(x)  # DW", "g.T @ x / len(x)  # DW"),
    "unstable_softmax": ("np.exp(x)  # SHIFT", "np.exp(x - x.max(axis=1, keepdims=True))  # SHIFT"),
}


def student(pytester, bug=None, drop=None):
    """Write the student file (with one planted bug, or one class removed) and return its path."""
    source = STUDENT
    if bug:
        new, old = BUGS[bug]
        source = source.replace(old, new)
    if drop:
        start = source.index(f"class {drop}(")
        end = source.index("\nclass ", start + 1)
        source = source[:start] + source[end + 1:]
    return pytester.makepyfile(student=source)


def run(pytester, *args, modules=MINE):
    """pytest on the installed suite's modules (or --pyargs conformance when modules is None)."""
    targets = ["--pyargs", "conformance"] if modules is None else [str(SUITE / f"test_{m}.py") for m in modules]
    result = pytester.runpytest_subprocess(*targets, "-m", "not slow", "-p", "no:cacheprovider",
                                           "--report", "report.json", *args)
    return result, json.loads((pytester.path / "report.json").read_text())


def test_reference_passes_every_component_and_reports_all_ids(pytester):
    result, report = run(pytester, "--impl", "reference", modules=None)
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert list(report["components"]) == list(COMPONENTS)
    assert report["impl"] == "reference" and report["style"] == "canonical"
    for comp in MINE:
        entry = report["components"][comp]
        assert entry["verdict"] == "pass", (comp, entry)
        assert entry["checks"] and all({"name", "outcome", "message"} <= set(c) for c in entry["checks"])
    assert report["components"]["training_xor"]["verdict"] == "missing"  # deselected by -m "not slow"
    result.stdout.fnmatch_lines(["*checking reference as style 'canonical'*", "*backprop-kit summary*", "linear*pass*"])


def test_student_conventions_pass_and_are_named(pytester):
    path = student(pytester)
    _, report = run(pytester, "--impl", str(path), modules=["linear", "softmax", "cross_entropy"])
    assert report["style"] == "layer_dicts"
    linear = report["components"]["linear"]
    assert linear["verdict"] == "pass", linear
    assert "averaged over the batch" in linear["diagnosis"]
    assert report["components"]["cross_entropy"]["verdict"] == "pass"


@pytest.mark.parametrize("bug, component, cause", [
    ("transposed", "linear", "transposed_gradient"),
    ("unstable_softmax", "softmax", "unstable_softmax"),
])
def test_planted_bug_fails_with_its_cause(pytester, bug, component, cause):
    path = student(pytester, bug=bug)
    result, report = run(pytester, "--impl", str(path), modules=[component])
    entry = report["components"][component]
    assert entry["verdict"] == "fail", entry
    assert cause in entry["diagnosis"]
    assert any(c.get("cause") == cause for c in entry["checks"])
    result.stdout.fnmatch_lines(["*Reproduce with:*", f"*{component}*fail*{cause}*"])


def test_missing_class_is_missing_not_error(pytester):
    path = student(pytester, drop="Tanh")
    result, report = run(pytester, "--impl", str(path), modules=["tanh", "relu"])
    assert report["components"]["tanh"]["verdict"] == "missing", report["components"]["tanh"]
    assert report["components"]["relu"]["verdict"] == "pass"
    outcomes = result.parseoutcomes()
    assert "error" not in outcomes and "errors" not in outcomes


def test_env_var_names_the_impl(pytester, monkeypatch):
    path = student(pytester)
    monkeypatch.setenv("BACKPROP_KIT_IMPL", str(path))
    _, report = run(pytester, modules=["relu"])
    assert report["impl"] == str(path) and report["components"]["relu"]["verdict"] == "pass"


def test_without_impl_checks_are_skipped_with_the_reason(pytester, monkeypatch):
    monkeypatch.delenv("BACKPROP_KIT_IMPL", raising=False)
    result, report = run(pytester, modules=["relu"])
    assert result.ret == 0
    assert report["components"]["relu"]["verdict"] == "missing"
    assert "no --impl given" in report["components"]["relu"]["diagnosis"]


def test_plugin_is_inert_for_other_test_suites(pytester):
    pytester.makepyfile(test_other="def test_one():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 0
    assert "backprop-kit summary" not in result.stdout.str() and "backprop-kit:" not in result.stdout.str()


def test_installed_runner_is_used(pytester):
    """The grader's way in: a runner put in config.stash[RUNNER_KEY] before collection."""
    from conformance.adapters import build_adapter
    from conformance.loader import load_impl
    from conformance.plugin import RUNNER_KEY
    from conformance.runner import InProcessRunner

    class CountingRunner(InProcessRunner):
        calls = 0

        def call(self, probe, inputs, timeout=None):
            assert timeout is not None, f"probe {probe} called without a timeout"
            CountingRunner.calls += 1
            return super().call(probe, inputs, timeout)

    runner = CountingRunner(build_adapter(load_impl("reference")))
    runner.style = "installed"

    class Grader:
        def pytest_configure(self, config):
            config.stash[RUNNER_KEY] = runner

    result = pytester.runpytest(str(SUITE / "test_relu.py"), "-p", "no:cacheprovider", "--report", "r.json",
                                plugins=[Grader()])
    report = json.loads((pytester.path / "r.json").read_text())
    assert result.ret == 0 and CountingRunner.calls > 0
    assert report["style"] == "installed" and report["components"]["relu"]["verdict"] == "pass"


@pytest.mark.parametrize("outcomes, verdict", [
    (["pass", "pass"], "pass"),
    (["pass", "missing"], "missing"),  # a missing piece is never a pass
    (["missing", "fail"], "fail"),  # and never hides a failure
    (["fail", "error"], "error"),
    (["pass", "timeout", "error"], "timeout"),
    ([], "missing"),  # nothing collected
])
def test_component_verdict_is_the_worst_check(outcomes, verdict):
    from conformance.report import summarise

    checks = [{"name": f"c{i}", "outcome": o, "message": "m", "cause": None} for i, o in enumerate(outcomes)]
    assert summarise(checks)["verdict"] == verdict
