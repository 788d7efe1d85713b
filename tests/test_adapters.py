"""Adapters: style detection and every handle of every style against hand-computed numpy maths.

The implementations under tests/impls/ are correct, so each handle must reproduce the maths
exactly, in the conventions each style declares (batch averaging in the layer for attr_grads,
only in the loss elsewhere)."""
from pathlib import Path

import numpy as np
import pytest

from conformance.adapters import AdapterError, build_adapter, detect_style
from conformance.adapters.base import Missing
from conformance.components import COMPONENTS
from conformance.loader import load_impl

IMPLS = Path(__file__).parent / "impls"
SPECS = {
    "canonical": IMPLS / "canonical.py",
    "layer_dicts": IMPLS / "layer_dicts.ipynb",
    "attr_grads": IMPLS / "attr_grads.py",
    "dense_net": IMPLS / "dense_net.ipynb",
    "single_sample": IMPLS / "single_sample",
}
# How each correct implementation scales parameter gradients: "sum" (only the loss averages)
# or "mean" (attr_grads: the layer averages, the loss gradient is per sample).
LAYER_BATCH = {"canonical": "sum", "layer_dicts": "sum", "attr_grads": "mean", "dense_net": "sum"}
LINEAR_STYLES = list(LAYER_BATCH)


@pytest.fixture(scope="module")
def adapters():
    return {style: build_adapter(load_impl(str(spec))) for style, spec in SPECS.items()}


def rng(seed=0):
    return np.random.default_rng(seed)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize("style", SPECS)
def test_detects_style_and_says_why(adapters, style):
    adapter = adapters[style]
    assert adapter.style == style
    assert any("assignment" in r or "reference" in r for r in adapter.detected_because)
    assert adapter.detected_because[-1].startswith(f"clue scores: {style}")


def test_empty_namespace_falls_back_to_canonical_and_says_so():
    style, reasons, assumed = detect_style({"helper": len})
    assert style == "canonical" and assumed and "--style" in reasons[0]
    assert "every answer an assignment allows is accepted" in reasons[0]
    adapter = build_adapter({"helper": len})
    assert adapter.capabilities() == ("worked_example", "any_assignment")  # canonical's offer, and the assumption
    assert detect_style(load_impl(str(SPECS["attr_grads"])).namespace)[2] is False
    assert "any_assignment" not in build_adapter(load_impl(str(SPECS["attr_grads"]))).capabilities()


def test_style_override_and_unknown_style():
    loaded = load_impl(str(SPECS["attr_grads"]))
    adapter = build_adapter(loaded, style="canonical")
    assert adapter.style == "canonical" and "--style" in adapter.detected_because[0]
    with pytest.raises(AdapterError, match="unknown style 'keras'"):
        build_adapter(loaded, style="keras")


def test_user_adapter_file(tmp_path):
    good = tmp_path / "my_adapter.py"
    good.write_text(
        "from conformance.adapters import AttrGradsAdapter\n"
        "class MyAdapter(AttrGradsAdapter):\n"
        "    STYLE = 'mine'\n"
        "    def init_weights(self, kind, fan_in, fan_out, seed):\n"
        "        return super().init_weights('xavier', fan_in, fan_out, seed)\n"
    )
    adapter = build_adapter(load_impl(str(SPECS["attr_grads"])), adapter_file=str(good))
    assert adapter.style == "mine" and type(adapter.base).__name__ == "MyAdapter"
    assert adapter.init_weights("he", 4, 3, 0).shape == (3, 4)
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(AdapterError, match="defines 0 Adapter subclasses"):
        build_adapter({}, adapter_file=str(empty))


# --- layers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n_in", [4, 3], ids=["4->3", "square 3->3"])
@pytest.mark.parametrize("style", LINEAR_STYLES)
def test_linear_forward_backward_and_layout(adapters, style, n_in):
    layer = adapters[style].make_layer("linear", in_features=n_in, out_features=3)
    assert layer.conventions["weight_layout"] == ("in_out" if style == "attr_grads" else "out_in")
    g = rng(1)
    W, b, x, dy = g.normal(size=(3, n_in)), g.normal(size=3), g.normal(size=(5, n_in)), g.normal(size=(5, 3))
    kept = [a.copy() for a in (W, b, x, dy)]
    layer.set_params({"W": W, "b": b})
    np.testing.assert_allclose(layer.get_params()["W"], W)
    np.testing.assert_allclose(layer.forward(x), x @ W.T + b, rtol=1e-12)
    np.testing.assert_allclose(layer.backward(dy), dy @ W, rtol=1e-12)
    scale = 1 / 5 if LAYER_BATCH[style] == "mean" else 1.0
    grads = layer.get_grads()
    np.testing.assert_allclose(grads["W"], scale * dy.T @ x, rtol=1e-12)
    np.testing.assert_allclose(grads["b"], scale * dy.sum(axis=0), rtol=1e-12)
    for before, after in zip(kept, (W, b, x, dy)):
        np.testing.assert_array_equal(before, after)  # the kit's arrays are never mutated


def test_single_sample_has_no_linear_layer(adapters):
    with pytest.raises(Missing, match="no linear found by behaviour: .*pin it with --map"):
        adapters["single_sample"].make_layer("linear", in_features=4, out_features=3)


ACTIVATIONS = {
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "tanh": (np.tanh, lambda z: 1 / np.cosh(z) ** 2),
}


@pytest.mark.parametrize("style", SPECS)
@pytest.mark.parametrize("kind", ACTIVATIONS)
def test_elementwise_activations(adapters, style, kind):
    layer = adapters[style].make_layer(kind)
    assert layer.conventions["activation_api"] == ("derivative" if style == "single_sample" else "backward")
    g = rng(2)
    z, dy = g.normal(size=(4, 5)) + 0.05, g.normal(size=(4, 5))
    f, df = ACTIVATIONS[kind]
    np.testing.assert_allclose(layer.forward(z), f(z), rtol=1e-10)
    np.testing.assert_allclose(layer.backward(dy), dy * df(z), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("style, outcome", [("canonical", "vjp"), ("dense_net", "vjp"),
                                            ("attr_grads", "no backward"), ("layer_dicts", "no class"),
                                            ("single_sample", "no class")])
def test_softmax(adapters, style, outcome):
    if outcome == "no class":
        with pytest.raises(Missing, match="[Ss]oftmax"):
            adapters[style].make_layer("softmax")
        return
    layer = adapters[style].make_layer("softmax")
    z, dy = rng(3).normal(size=(3, 4)), rng(4).normal(size=(3, 4))
    p = softmax(z)
    np.testing.assert_allclose(layer.forward(z), p, rtol=1e-12)
    if outcome == "no backward":
        with pytest.raises(Missing, match="Softmax has no backward"):
            layer.backward(dy)
    else:
        np.testing.assert_allclose(layer.backward(dy), p * (dy - (dy * p).sum(axis=1, keepdims=True)), rtol=1e-10)


# --- losses ----------------------------------------------------------------------------------

CE = {  # style -> (input, targets, grad_wrt, expected backward from (logits, onehot, B))
    "canonical": ("logits", "int", "logits", lambda z, y, B: (softmax(z) - y) / B),
    "layer_dicts": ("logits", "int", "logits", lambda z, y, B: (softmax(z) - y) / B),
    "attr_grads": ("probs", "int", "logits", lambda z, y, B: softmax(z) - y),
    "dense_net": ("probs", "onehot", "probs", lambda z, y, B: -(y / softmax(z)) / B),
}


@pytest.mark.parametrize("style", CE)
def test_cross_entropy_conventions(adapters, style):
    loss = adapters[style].make_loss("cross_entropy")
    wants, targets, wrt, expected = CE[style]
    assert (loss.conventions["input"], loss.conventions["targets"], loss.conventions["grad_wrt"]) == (wants, targets, wrt)
    z, labels = rng(5).normal(size=(6, 4)), np.array([0, 3, 1, 1, 2, 0])
    y = np.eye(4)[labels]
    value = loss.forward(z if wants == "logits" else softmax(z), labels)
    np.testing.assert_allclose(value, -np.mean(np.log(softmax(z)[np.arange(6), labels])), rtol=1e-10)
    np.testing.assert_allclose(loss.backward(), expected(z, y, 6), rtol=1e-8)


@pytest.mark.parametrize("style, half", [("canonical", False), ("dense_net", True)])
def test_mse(adapters, style, half):
    loss = adapters[style].make_loss("mse")
    pred, target = rng(6).normal(size=(5, 2)), rng(7).normal(size=(5, 2))
    factor = 0.5 if half else 1.0
    np.testing.assert_allclose(loss.forward(pred, target), factor * np.mean((pred - target) ** 2), rtol=1e-12)
    np.testing.assert_allclose(loss.backward(), 2 * factor * (pred - target) / pred.size, rtol=1e-12)


@pytest.mark.parametrize("style, kind", [("layer_dicts", "mse"), ("attr_grads", "mse"), ("single_sample", "cross_entropy")])
def test_missing_losses_say_what_was_looked_for(adapters, style, kind):
    with pytest.raises(Missing):
        adapters[style].make_loss(kind)


# --- pipelines -------------------------------------------------------------------------------

PIPELINES = [(s, [3, 4, 2], "classification") for s in LINEAR_STYLES] + [
    ("attr_grads", [3, 3, 3], "classification"),
    ("canonical", [3, 4, 2], "regression"), ("dense_net", [3, 4, 2], "regression"),
    ("single_sample", [3, 4, 1], "regression"), ("single_sample", [3, 4, 2], "classification")]


def _batch(sizes, task, seed=8):
    g = rng(seed)
    x = g.normal(size=(6, sizes[0]))
    if task == "classification":
        return x, np.array([0, 1, 1, 0, 1, 0])
    return x, g.normal(size=(6, sizes[-1]))


@pytest.mark.parametrize("style, sizes, task", PIPELINES)
def test_pipeline_grads_match_finite_differences_of_the_students_loss(adapters, style, sizes, task):
    pipe = adapters[style].make_pipeline(sizes, task=task)
    x, labels = _batch(sizes, task)
    params = pipe.get_params()
    assert set(params) == ({"W1", "b1", "W2", "b2"} if style == "single_sample" else {"0.W", "0.b", "2.W", "2.b"})
    assert pipe.predict(x).shape == (6, sizes[-1])
    _, grads = pipe.loss_and_grads(x, labels)
    eps = 1e-6
    for key, value in params.items():
        numeric = np.zeros_like(value)
        for ix in np.ndindex(value.shape):
            for sign in (1, -1):
                shifted = {k: v.copy() for k, v in params.items()}
                shifted[key][ix] += sign * eps
                pipe.set_params(shifted)
                numeric[ix] += sign * pipe.loss(x, labels) / (2 * eps)
        np.testing.assert_allclose(grads[key], numeric, rtol=1e-5, atol=1e-8, err_msg=key)


@pytest.mark.parametrize("style, sizes, task", PIPELINES)
def test_pipeline_sgd_step_uses_the_last_gradients(adapters, style, sizes, task):
    pipe = adapters[style].make_pipeline(sizes, task=task)
    x, labels = _batch(sizes, task, seed=9)
    before = pipe.get_params()
    _, grads = pipe.loss_and_grads(x, labels)
    pipe.sgd_step(0.1)
    after = pipe.get_params()
    for key in before:
        np.testing.assert_allclose(after[key], before[key] - 0.1 * grads[key], rtol=1e-10, atol=1e-14, err_msg=key)


# --- optimizers ------------------------------------------------------------------------------


def _run(opt, steps):
    g = rng(10)
    params = {"a.W": g.normal(size=(3, 2)), "a.b": g.normal(size=2)}
    start = {k: v.copy() for k, v in params.items()}
    grads = [{k: g.normal(size=v.shape) for k, v in params.items()} for _ in range(steps)]
    for grad in grads:
        kept = {k: v.copy() for k, v in grad.items()}
        opt.step(params, grad)
        assert all(np.array_equal(kept[k], grad[k]) for k in grad)
    return start, grads, params


def _momentum(start, grads, lr, beta, form):
    p, v = {k: x.copy() for k, x in start.items()}, {k: 0 * x for k, x in start.items()}
    for g in grads:
        for k in p:
            v[k] = beta * v[k] + ((1 - beta) if form == "ema" else 1) * g[k]
            p[k] = p[k] - lr * v[k]
    return p


def _adam(start, grads, lr, b1=0.9, b2=0.999, eps=1e-8):
    p = {k: x.copy() for k, x in start.items()}
    m, v = {k: 0 * x for k, x in p.items()}, {k: 0 * x for k, x in p.items()}
    for t, g in enumerate(grads, 1):
        for k in p:
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v[k] = b2 * v[k] + (1 - b2) * g[k] ** 2
            p[k] = p[k] - lr * (m[k] / (1 - b1 ** t)) / (np.sqrt(v[k] / (1 - b2 ** t)) + eps)
    return p


OPTIMIZERS = [(s, "sgd", None) for s in SPECS] + [
    ("canonical", "momentum", "classical"), ("layer_dicts", "momentum", "ema"), ("attr_grads", "momentum", "classical"),
    ("canonical", "adam", None), ("layer_dicts", "adam", None)]


@pytest.mark.parametrize("style, kind, form", OPTIMIZERS)
def test_optimizer_steps(adapters, style, kind, form):
    opt = adapters[style].make_optimizer(kind, lr=0.05, momentum=0.8)
    start, grads, params = _run(opt, steps=3)
    if kind == "adam":
        expected = _adam(start, grads, 0.05)
    else:
        expected = _momentum(start, grads, 0.05, 0.8 if kind == "momentum" else 0.0, form)
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-10, err_msg=k)


@pytest.mark.parametrize("style, kind", [("dense_net", "momentum"), ("dense_net", "adam"), ("attr_grads", "adam"),
                                         ("single_sample", "momentum")])
def test_missing_optimizers(adapters, style, kind):
    with pytest.raises(Missing):
        adapters[style].make_optimizer(kind, lr=0.1)


# --- initialisers ----------------------------------------------------------------------------

INITS = [("canonical", "he"), ("canonical", "xavier"), ("layer_dicts", "xavier"), ("attr_grads", "he"),
         ("attr_grads", "xavier"), ("dense_net", "he"), ("single_sample", "he"), ("single_sample", "xavier")]


@pytest.mark.parametrize("style, kind", INITS)
def test_init_shape_scale_and_determinism(adapters, style, kind):
    adapter = adapters[style]
    W = adapter.init_weights(kind, 400, 300, seed=3)
    assert W.shape == (300, 400)
    expected_std = np.sqrt(2 / 400) if kind == "he" else np.sqrt(2 / 700)
    assert abs(W.std() / expected_std - 1) < 0.03
    np.testing.assert_array_equal(W, adapter.init_weights(kind, 400, 300, seed=3))
    assert not np.array_equal(W, adapter.init_weights(kind, 400, 300, seed=4))


@pytest.mark.parametrize("style, kind", [("layer_dicts", "he"), ("dense_net", "xavier")])
def test_init_the_style_does_not_offer(adapters, style, kind):
    with pytest.raises(Missing, match=f"not {kind}"):
        adapters[style].init_weights(kind, 4, 3, seed=0)


# --- gradient checkers -----------------------------------------------------------------------


@pytest.mark.parametrize("style", ["canonical", "layer_dicts", "dense_net", "single_sample"])
def test_gradient_checker_tells_correct_from_planted_bug(adapters, style):
    check = adapters[style].gradient_checker()
    good, bad = check(planted_bug=False, seed=0), check(planted_bug=True, seed=0)
    if good["error"] is not None:
        assert good["error"] < 1e-6 and bad["error"] > 1e-2
    if good["passed"] is not None:
        assert good["passed"] is True and bad["passed"] is False
    assert (good["error"], good["passed"]) != (None, None)


def test_attr_grads_has_no_gradient_checker(adapters):
    with pytest.raises(Missing, match="no gradient checker found by behaviour"):
        adapters["attr_grads"].gradient_checker()


# --- single-sample model and inventory -------------------------------------------------------


def test_single_sample_model_is_the_students_object(adapters):
    model = adapters["single_sample"].single_sample_model(2, 2, "relu")
    model.set_parameters({"W1": np.array([[1.0, -2.0], [0.5, 1.0]]), "b1": np.zeros(2),
                          "W2": np.array([[1.0, -1.0]]), "b2": np.zeros(1)})
    f = model.forward(np.array([1.0, -1.0]))
    assert f == 3.0
    np.testing.assert_allclose(model.backward(np.array([1.0, -1.0]), 2.0, f)["dL_dW1"], [[1.0, -1.0], [0.0, 0.0]])


@pytest.mark.parametrize("style, found, missing", [
    ("canonical", {"conv2d": "Conv2D", "batchnorm": "BatchNorm1d", "adam": "Adam", "cross_entropy": "SoftmaxCrossEntropy"}, []),
    ("layer_dicts", {"batchnorm": "BatchNorm", "gradient_checker": "numerical_gradient_check"}, ["conv2d", "mse"]),
    ("attr_grads", {"linear": "Linear", "model_gradcheck": "MLP"}, ["gradient_checker", "adam"]),
    ("dense_net", {"linear": "Dense", "sgd": "Dense.update"}, ["momentum", "adam"]),
    ("single_sample", {"appendix_a": "OneHiddenLayerMLP", "gradient_checker": "check_all_gradients"},
     ["linear", "training_mnist"]),
])
def test_inventory(adapters, style, found, missing):
    inventory = adapters[style].inventory()
    assert list(inventory) == list(COMPONENTS)
    for comp, name in found.items():
        assert inventory[comp].name == name, comp
    for comp in missing:
        assert inventory[comp].name is None and inventory[comp].detail, comp


@pytest.mark.parametrize("returned, expected", [
    (3e-9, {"error": 3e-9, "passed": None}),
    (True, {"error": None, "passed": True}),
    ({"x": 1e-9, "W": 0.2}, {"error": 0.2, "passed": None}),
    ({"W1": {"error": 1e-3, "passed": False}, "b1": {"error": 1e-9, "passed": True}}, {"error": 1e-3, "passed": False}),
    ((False, 0.5), {"error": 0.5, "passed": False}),
    ("looks fine", {"error": None, "passed": None}),
])
def test_interpret_check_reads_every_return_shape(returned, expected):
    from conformance.adapters._common import interpret_check
    assert interpret_check(returned) == expected


def test_a_skeleton_raising_not_implemented_is_missing(tmp_path):
    path = tmp_path / "skeleton.py"
    path.write_text("class BatchNorm1d:\n    def __init__(self, num_features):\n        self.params = {}\n"
                    "    def forward(self, x):\n        raise NotImplementedError('exercise')\n")
    layer = build_adapter(load_impl(str(path)), style="canonical").make_layer("batchnorm", num_features=3)
    with pytest.raises(Missing, match="BatchNorm1d.forward raises NotImplementedError"):
        layer.forward(np.ones((2, 3)))


# --- stretch layers --------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["canonical", "layer_dicts"])
def test_batchnorm_train_and_eval(adapters, style):
    layer = adapters[style].make_layer("batchnorm", num_features=3, eps=1e-5, momentum=0.5)
    assert layer.param_names() == ("gamma", "beta")
    gamma, beta, x = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0]), rng(11).normal(size=(8, 3))
    layer.set_params({"gamma": gamma, "beta": beta})
    layer.set_training(True)
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    np.testing.assert_allclose(layer.forward(x), gamma * x_hat + beta, rtol=1e-10)
    dy = rng(12).normal(size=(8, 3))
    layer.backward(dy)
    np.testing.assert_allclose(layer.get_grads()["beta"], dy.sum(axis=0), rtol=1e-12)
    layer.set_training(False)
    assert not np.allclose(layer.forward(x), gamma * x_hat + beta)  # running statistics now


def test_dropout_modes(adapters):
    layer = adapters["canonical"].make_layer("dropout", p=0.5)
    x = rng(13).uniform(1, 2, size=(50, 20))
    layer.set_training(True)
    y = layer.forward(x)
    assert set(np.unique(np.round(y / x, 12))) == {0.0, 2.0}
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), y / x)
    layer.set_training(False)
    np.testing.assert_array_equal(layer.forward(x), x)


def test_conv2d_forward_and_bias_grad(adapters):
    layer = adapters["canonical"].make_layer("conv2d", in_channels=2, out_channels=3, kernel_size=2, stride=1, padding=1)
    g = rng(14)
    W, b, x = g.normal(size=(3, 2, 2, 2)), g.normal(size=3), g.normal(size=(2, 2, 4, 4))
    layer.set_params({"W": W, "b": b})
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.array([[[[np.sum(xp[n, :, i:i + 2, j:j + 2] * W[o]) + b[o] for j in range(5)] for i in range(5)]
                          for o in range(3)] for n in range(2)])
    y = layer.forward(x)
    np.testing.assert_allclose(y, expected, rtol=1e-10)
    layer.backward(np.ones_like(y))
    np.testing.assert_allclose(layer.get_grads()["b"], np.full(3, 2 * 25.0))


def test_single_sample_binary_classification_scores(adapters):
    pipe = adapters["single_sample"].make_pipeline([2, 3, 2], task="classification")
    x = rng(15).normal(size=(4, 2))
    scores = pipe.predict(x)
    f = pipe.predict(x)[:, 1]
    np.testing.assert_allclose(scores[:, 0], 1 - f)
    np.testing.assert_allclose(pipe.loss(x, np.array([0, 1, 1, 0])), np.mean(0.5 * (f - [0, 1, 1, 0]) ** 2))


def test_a_style_matched_by_a_class_name_alone_does_not_impose_its_assignments_initialiser():
    """A public library's Dense (0.01 * randn, no He in its text) is not assignment 003's Dense: its
    He is not assumed; with --style dense_net, or with the whole assignment's API, it is."""
    class Dense:
        def __init__(self, n_in, n_out):
            self.params = {"W": np.random.default_rng(0).standard_normal((n_out, n_in)) * 0.01,
                           "b": np.zeros(n_out)}

    guessed = build_adapter({"Dense": Dense})
    assert guessed.style == "dense_net" and guessed.base.weak
    assert guessed.init_asks() == ()
    with pytest.raises(Missing, match="matched to the dense_net style by its names alone, so that assignment's He is "
                                      r"not assumed \(pass --style dense_net"):
        guessed.init_draw("he", 64, 32, 0)
    chosen = build_adapter({"Dense": Dense}, style="dense_net")
    assert not chosen.base.weak and chosen.init_asks() == ("he",)
    assert "dense_net assignment asks to initialise He" in chosen.init_draw("he", 64, 32, 0)[1]
    assert not build_adapter(load_impl(str(SPECS["dense_net"]))).base.weak
