"""The conformance suite run as a student runs it (pytester, a fresh pytest process each time):
verdicts, causes, the summary table, the JSON report, --impl / $BACKPROP_KIT_IMPL, --pyargs,
--style, --adapter, the hypothesis profiles, the inventory, missing and unloadable code."""
import json
import re
import sys
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


@pytest.mark.parametrize("bug, component, cause, evidence", [
    ("transposed", "linear", "transposed_gradient", {"expected", "got", "where"}),
    ("unstable_softmax", "softmax", "unstable_softmax", {"where"}),  # where the first NaN is
])
def test_planted_bug_fails_with_its_cause(pytester, bug, component, cause, evidence):
    path = student(pytester, bug=bug)
    result, report = run(pytester, "--impl", str(path), modules=[component])
    entry = report["components"][component]
    assert entry["verdict"] == "fail", entry
    assert cause in entry["diagnosis"]
    assert any(c.get("cause") == cause for c in entry["checks"])
    result.stdout.fnmatch_lines(["*Reproduce with:*", f"*{component}*fail*{cause}*"])
    failing = next(c for c in entry["checks"] if c.get("cause") == cause)
    assert {"snippet", "likely_cause"} | evidence <= set(failing), failing
    assert cause.split("_")[-1] in failing["likely_cause"].lower()
    if {"expected", "got"} <= evidence:
        assert failing["where"]["abs_error"] > 0 and len(failing["expected"]) == len(failing["got"])
    if "where" in evidence:
        assert len(failing["where"]["index"]) == 2  # a (row, column) of the batch
    # The snippet, pasted into a fresh interpreter, reproduces the failure's message.
    pytester.makepyfile(repro=failing["snippet"])
    rerun = pytester.run(sys.executable, "repro.py")
    assert rerun.ret == 0 and failing["message"] in rerun.stdout.str(), rerun.stderr.str()


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


FOLDED = "gradient folded into cross_entropy (d/dlogits)"


@pytest.mark.parametrize("outcomes, verdict, says", [
    (["pass", "pass"], "pass", f"all 2 checks pass, 2 more not required; conventions: {FOLDED}"),
    (["pass", "fail"], "fail", "1 of 2 checks fail"),  # counted over the required checks only
    ([], "missing", f"no check is required: {FOLDED}"),
])
def test_checks_not_required_count_for_no_verdict(outcomes, verdict, says):
    """SPEC.md 0.6: a check the style and the student's own pipeline do not need is listed, named in
    the diagnosis, and never makes the component missing."""
    from conformance.report import summarise

    waived = [{"name": f"w{i}", "outcome": "missing", "message": "not required", "cause": "no_backward",
               "convention": FOLDED, "required": False} for i in range(2)]
    checks = [{"name": f"c{i}", "outcome": o, "message": "m", "cause": None} for i, o in enumerate(outcomes)]
    summary = summarise(checks + waived)
    assert (summary["verdict"], summary["diagnosis"][:len(says)]) == (verdict, says)
    assert len(summary["checks"]) == len(checks) + 2 and summary["checks"][-1]["required"] is False


def test_detected_style_and_inventory_are_shown(pytester):
    path = student(pytester, drop="Tanh")
    result, report = run(pytester, "--impl", str(path), modules=["inventory", "relu"])
    result.stdout.fnmatch_lines(["*checking * as style 'layer_dicts'*",
                                 "*because SGD.step takes (params, grads) lists*",
                                 "*hypothesis profile 'grading' (derandomized)*"])
    assert report["style"] == "layer_dicts" and any("get_params_and_grads" in b for b in report["because"])
    inventory = report["inventory"]
    assert inventory["linear"]["name"] == "Linear" and inventory["relu"]["name"] == "ReLU"
    assert inventory["tanh"]["name"] is None and inventory["conv2d"]["name"] is None
    assert "tanh" in inventory["tanh"]["detail"].lower() or "Tanh" in inventory["tanh"]["detail"]


@pytest.mark.parametrize("style, expected", [("canonical", "canonical"), ("attr_grads", "attr_grads")])
def test_style_option_overrides_detection(pytester, style, expected):
    path = student(pytester)
    result, report = run(pytester, "--impl", str(path), "--style", style, modules=["relu"])
    assert report["style"] == expected and report["because"] == [f"style {style} was chosen with --style"]
    result.stdout.fnmatch_lines([f"*as style '{expected}'*"])


def test_unknown_style_is_one_sentence(pytester):
    path = student(pytester)
    result, report = run(pytester, "--impl", str(path), "--style", "keras", modules=["relu"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert report["load_error"] == ("unknown style 'keras': choose one of canonical, layer_dicts, attr_grads, "
                                    "dense_net, single_sample.")


def test_adapter_file_maps_an_unusual_api(pytester):
    """A course that renamed Linear and CrossEntropyLoss: discovery finds both by behaviour, and the
    worked example of ADAPTERS.md still maps them when passed."""
    source = (Path(__file__).parent / "impls" / "attr_grads.py").read_text()
    course = pytester.makepyfile(course=source.replace("CrossEntropyLoss", "NLLLoss").replace("Linear", "FullyConnected"))
    modules = ["inventory", "linear", "cross_entropy"]
    _, without = run(pytester, "--impl", str(course), modules=modules)
    assert without["style"] == "attr_grads"
    assert [without["components"][c]["verdict"] for c in modules[1:]] == ["pass", "pass"]
    assert without["inventory"]["linear"]["name"] == "FullyConnected"
    assert without["inventory"]["cross_entropy"]["name"] == "NLLLoss"
    example = SUITE / "adapters" / "example_adapter.py"
    result, report = run(pytester, "--impl", str(course), "--adapter", str(example), modules=modules)
    assert result.ret == 0, result.stdout.str()[-2000:]
    assert report["style"] == "fully_connected_course"
    assert [report["components"][c]["verdict"] for c in modules[1:]] == ["pass", "pass"]
    assert report["inventory"]["linear"]["name"] == "FullyConnected"
    assert "W stored (in, out)" in report["components"]["linear"]["diagnosis"]


@pytest.mark.parametrize("args, env, profile, examples", [
    ([], None, "grading", 6),
    (["--hypothesis-profile", "explore"], None, "explore", 60),
    ([], "explore", "explore", 60),
], ids=["default", "option", "env"])
def test_hypothesis_profiles(pytester, monkeypatch, args, env, profile, examples):
    if env:
        monkeypatch.setenv("BACKPROP_KIT_PROFILE", env)
    else:
        monkeypatch.delenv("BACKPROP_KIT_PROFILE", raising=False)
    result, report = run(pytester, "--impl", "reference", "--hypothesis-show-statistics", *args, modules=["relu"])
    assert result.ret == 0 and report["hypothesis_profile"] == profile
    result.stdout.fnmatch_lines([f"*{examples} passing, 0 failing*"])


def test_unknown_profile_in_the_environment_is_refused(pytester, monkeypatch):
    monkeypatch.setenv("BACKPROP_KIT_PROFILE", "fast")
    result = pytester.runpytest_subprocess(str(SUITE / "test_relu.py"), "--impl", "reference", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*BACKPROP_KIT_PROFILE='fast' is not a profile of the kit: use one of grading, explore.*"])


def test_an_implementation_defining_almost_nothing_is_missing_everywhere(pytester):
    path = pytester.makepyfile(almost="import numpy as np\n\ndef helper(x):\n    return np.asarray(x)\n")
    result, report = run(pytester, "--impl", str(path), modules=None)
    assert result.ret == 0, result.stdout.str()[-2000:]
    assert {e["verdict"] for e in report["components"].values()} == {"missing"}
    assert "no linear found by behaviour: not found: no class holds a (5, 3) or (3, 5) weight array" in \
        report["components"]["linear"]["diagnosis"]
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 1 and not {"failed", "error", "errors"} & set(outcomes)  # the inventory


# Input that is no network at all: each loads, every unit component is `missing`, and the linear
# diagnosis says what discovery tried (the grader's half: tests/test_grader.py).
BAD_INPUT = {
    "empty_file": ("", "no class holds a (5, 3) or (3, 5) weight array when built for 5 -> 3 features"),
    "string_utilities": ("def shout(s):\n    return s.upper() + '!'\n\n\ndef words(s):\n    return s.split()\n",
                         "no class holds a (5, 3) or (3, 5) weight array when built for 5 -> 3 features"),
    "constructor_needs_a_config": (
        "import numpy as np\n\n\nclass Layer:\n    def __init__(self, config):\n"
        "        self.W = np.zeros((config.n_in, config.n_out))\n\n    def forward(self, x):\n"
        "        return x @ self.W\n",
        "tried Layer (Layer(3) raised AttributeError: 'int' object has no attribute 'n_in')"),
    "forward_returns_a_list": (
        "import numpy as np\n\n\nclass Linear:\n    def __init__(self, n_in, n_out):\n"
        "        self.W = np.ones((n_in, n_out))\n        self.b = np.zeros(n_out)\n\n    def forward(self, x):\n"
        "        return (x @ self.W + self.b).tolist()\n",
        "tried Linear (holds W .W but no method maps (4, 5) rows or (5, 4) columns to 3 features)"),
}
KIT_TRACEBACK = re.compile(r"Traceback|File \"[^\"]+\", line \d+|\.py:\d+: |Error: .*\(in \w+, .*(conformance|graders)/")


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_missing_with_what_was_tried_never_a_traceback(pytester, case):
    source, tried = BAD_INPUT[case]
    path = pytester.path / "submission.py"
    path.write_text(source)
    result, report = run(pytester, "--impl", str(path), modules=MINE + ["inventory"])
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 0 and not KIT_TRACEBACK.search(output), output[-3000:]
    assert {c: report["components"][c]["verdict"] for c in MINE} == dict.fromkeys(MINE, "missing")
    linear = report["components"]["linear"]
    assert tried in linear["diagnosis"] and "pin it with --map (conformance/MAP.md)" in linear["diagnosis"]
    assert all(tried in check["message"] for check in linear["checks"])


def test_an_implementation_that_cannot_be_loaded_stops_with_one_sentence(pytester):
    path = pytester.makepyfile(broken="import numpy as np\nX = np.load('mnist_train.npy')\n")  # a script, no definitions
    result, report = run(pytester, "--impl", str(path), modules=None)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    sentence = (f"{path} defines no functions or classes (1 top-level statement not run): put your classes and "
                "functions at the top level of the file.")
    assert report["load_error"] == sentence
    assert result.stdout.str().count(sentence) == 2  # the exit line, and the summary's load error line
    assert {e["verdict"] for e in report["components"].values()} == {"error"}
    assert all(sentence in e["diagnosis"] for e in report["components"].values())


def test_notebook_dropped_cells_are_listed(pytester):
    notebook = Path(__file__).parent / "impls" / "layer_dicts.ipynb"
    result, report = run(pytester, "--impl", str(notebook), modules=["relu"])
    assert report["components"]["relu"]["verdict"] == "pass"
    dropped = {(d["kind"], d["text"]) for d in report["dropped"]}
    assert ("magic", "%matplotlib inline") in dropped and ("statement", "np.random.seed(0)") in dropped
    assert all(d["reason"] for d in report["dropped"])
    result.stdout.fnmatch_lines([f"*{len(report['dropped'])} notebook statements were not run*"])
    assert "MissingIDFieldWarning" not in result.stdout.str()


def test_a_py_files_dropped_statements_are_named_by_file_and_line_not_cell(pytester):
    path = pytester.makepyfile(script="import numpy as np\n\n\nclass Relu:\n    def forward(self, x):\n"
                                      "        return np.maximum(x, 0)\n\n\nprint('hello')\nx = np.ones(3)\n")
    result, report = run(pytester, "--impl", str(path), modules=["relu"])
    assert [(d["file"], d["line"], d["cell"], d["text"]) for d in report["dropped"]] == [
        ("script.py", 9, None, "print('hello')"), ("script.py", 10, None, "x = np.ones(3)")]
    result.stdout.fnmatch_lines(["backprop-kit: 2 top-level statements were not run "
                                 "(first: script.py, line 9: \"print('hello')\"); --report lists them all"])
    assert "cell None" not in result.stdout.str() and "notebook statements" not in result.stdout.str()


# --- SPEC.md is the spine: its ids, causes and figures agree with the code -------------------------

SPEC = (SUITE / "SPEC.md").read_text()


def _section(component: str) -> str:
    number = COMPONENTS.index(component) + 1
    start = SPEC.index(f"\n## {number}. {component}\n")
    end = SPEC.find("\n## ", start + 1)
    return SPEC[start:end if end > 0 else None]


def test_spec_sections_are_the_component_ids_in_order():
    import re

    headings = re.findall(r"^## (\d+)\. (\w+)$", SPEC, flags=re.M)  # "## 0. Rules common ..." has more words
    assert headings == [(str(i), c) for i, c in enumerate(COMPONENTS, 1)]
    assert "\n## 0. Rules common to every section\n" in SPEC


def test_every_component_has_its_module_and_marker():
    for component in COMPONENTS:
        module = SUITE / f"test_{component}.py"
        assert module.is_file(), module
        text = module.read_text()  # the marker, or a LayerCheck declaration (which sets it)
        assert f'pytest.mark.component("{component}")' in text or f'    component = "{component}"' in text, module


def test_spec_causes_are_the_catalogue():
    import re

    from conformance.adapters import STYLES
    from conformance.diagnoses import CAUSES

    named = set(re.findall(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`", SPEC)) - set(COMPONENTS) - set(STYLES) - {"detect_style"}
    assert sorted(named - set(CAUSES)) == []  # every cause SPEC.md names exists
    assert sorted(c for c in CAUSES if f"`{c}`" not in SPEC) == []  # and every cause is documented


def test_spec_says_when_a_check_is_required():
    """SPEC.md 0.6 states the rule, and the styles fold only what conformance/requirements.py can measure."""
    from conformance import requirements
    from conformance.adapters.style import styles

    rules = SPEC[SPEC.index("### 0.6 Verdicts"):SPEC.index("### 0.7")]
    assert "required only when the style or the student's own pipeline needs it" in " ".join(rules.split())
    folding = {name: data["fold_into_loss"] for name, data in styles().items() if data.get("fold_into_loss")}
    assert folding == {"layer_dicts": ["softmax"], "attr_grads": ["softmax"]}  # assignments 000 and 001
    assert {layer for layers in folding.values() for layer in layers} <= set(requirements.FOLDS_INTO)


def test_spec_tolerance_table_is_the_tolerances_module():
    from conformance.tolerances import TOLERANCES

    section = SPEC[SPEC.index("### 0.5 Tolerances"):SPEC.index("### 0.6 Verdicts")]
    rows = re.findall(r"^\| `(\w+)` *\| *([\d.e-]+) *\| *([\d.e-]+) *\|", section, flags=re.M)
    assert [(name, float(rtol), float(atol)) for name, rtol, atol in rows] == [
        (t.name, t.rtol, t.atol) for t in TOLERANCES]


def test_spec_verdict_order_is_the_kits():
    from conformance.components import VERDICTS

    section = SPEC[SPEC.index("### 0.6 Verdicts"):SPEC.index("### 0.7")]
    order = re.search(r"in the order\s+(\w+(?:\s*<\s*\w+)+)", section).group(1)
    assert tuple(re.split(r"\s*<\s*", order)) == VERDICTS


def _builder_cases():
    from conformance.cases import appendix, autograd, gradchecker, init, layers, losses, models, optim, stretch

    return [layers.linear_case(seed=1, batch=1), losses.loss_case("mse", seed=2), layers.kink_case(),
            optim.build_optim("momentum"), stretch.build_conv2d(seed=0, config=1), stretch.build_dropout(seed=3),
            autograd.build_ops(seed=0, group="reductions"), init.build_init(seed=0), gradchecker.build_gradchecker(),
            models.build_gradcheck(1, sizes=(4, 6, 3)), models.build_single_sample(1),
            appendix.build_appendix(appendix.load_fixture())]


@pytest.mark.parametrize("case", _builder_cases(), ids=lambda c: c["recipe"][:40])
def test_every_snippet_rebuilds_its_case(case):
    from conformance.cases import snippet

    code = snippet(case["recipe"], "some.probe").split("\nout = ")[0]  # the imports and the case
    scope = {}
    exec(code, scope)
    assert scope["case"]["recipe"] == case["recipe"]


def test_rubrics_use_component_ids():
    import tomllib

    rubrics = sorted((SUITE.parent / "graders" / "rubrics").glob("*.toml"))
    assert rubrics
    for path in rubrics:
        points = tomllib.loads(path.read_text()).get("points", {})
        assert points and set(points) <= set(COMPONENTS), (path.name, sorted(set(points) - set(COMPONENTS)))


@pytest.mark.parametrize("task, component", [("xor", "training_xor"), ("spiral", "training_spiral"),
                                             ("spiral-scalar", "training_spiral"), ("xor-scalar", "training_xor"),
                                             ("mnist", "training_mnist"), ("mnist-5k", "training_mnist"),
                                             ("fashion-mnist", "training_mnist")])
def test_spec_training_figures_match_the_tasks(task, component):
    from conformance.cases.training import TASKS

    t, text = TASKS[task], _section(component)
    if component == "training_mnist":
        text = next(line for line in text.splitlines() if line.startswith(f"| {task} "))
    for figure in ("-".join(map(str, t.sizes)), f"{t.epochs} epochs", f"batch {t.batch_size}", f"lr {t.lr:g}",
                   f"budget {t.budget_s:g} s", f"{t.threshold:.2f}"):
        assert figure in text, (task, figure, text)


def test_pyargs_with_a_module_name_from_another_directory(pytester):
    """`pytest --pyargs conformance --impl student` in the student's folder, far from the kit."""
    student(pytester)
    assert not str(pytester.path).startswith(str(SUITE.parent))
    result, report = run(pytester, "--impl", "student", modules=None)
    assert report["impl"] == "student" and report["style"] == "layer_dicts"
    assert report["components"]["relu"]["verdict"] == "pass" and report["components"]["conv2d"]["verdict"] == "missing"
    result.stdout.fnmatch_lines(["*checking student as style 'layer_dicts'*"])
