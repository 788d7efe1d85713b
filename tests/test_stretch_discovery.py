"""Stretch layers by behaviour (conformance/adapters/discovery/stretch.py): a batchnorm, layernorm,
dropout or conv2d is found by what it does whatever it is called, a buggy one is still found, a
convention the layer's own default implies is followed and named, and bad input gets a sentence.

The zoo (tests/zoo/stretch_catalogue.py) grades whole stretch modules; these are the small cases.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from conformance.adapters import build_adapter
from conformance.adapters.base import Missing
from conformance.loader import load_impl

NAMELESS_NORMS = """
import numpy as np

class Zq1:
    def __init__(self, width, decay=0.9):
        self.q1, self.q2 = np.ones(width), np.zeros(width)
        self.q3, self.q4 = np.zeros(width), np.ones(width)
        self.q5 = decay

    def forward(self, x, training=True):
        if training:
            m, v = x.mean(0), x.var(0)
            self.q3 = self.q5 * self.q3 + (1 - self.q5) * m
            self.q4 = self.q5 * self.q4 + (1 - self.q5) * v
        else:
            m, v = self.q3, self.q4
        self.q6 = 1 / np.sqrt(v + 1e-5)
        self.q7 = (x - m) * self.q6
        return self.q1 * self.q7 + self.q2

    def backward(self, dy):
        self.q8, self.q9 = (dy * self.q7).sum(0), dy.sum(0)
        g = dy * self.q1
        return self.q6 * (g - g.mean(0) - self.q7 * (g * self.q7).mean(0))

class Zq2:
    def __init__(self, width):
        self.q10, self.q11 = np.ones(width), np.zeros(width)

    def forward(self, x):
        self.q12 = 1 / np.sqrt(x.var(1, keepdims=True) + 1e-5)
        self.q13 = (x - x.mean(1, keepdims=True)) * self.q12
        return self.q10 * self.q13 + self.q11

    def backward(self, dy):
        self.q14, self.q15 = (dy * self.q13).sum(0), dy.sum(0)
        g = dy * self.q10
        return self.q12 * (g - g.mean(1, keepdims=True) - self.q13 * (g * self.q13).mean(1, keepdims=True))
"""


def adapter_for(tmp_path, source: str, name: str = "sub.py", **kw):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return build_adapter(load_impl(str(path)), **kw)


def _reference_bn(x, gamma, beta, eps=1e-5):
    return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + beta


def test_nameless_norms_are_told_apart_by_behaviour(tmp_path):
    adapter = adapter_for(tmp_path, NAMELESS_NORMS)
    inventory = adapter.inventory()
    assert inventory["batchnorm"].name == "Zq1" and inventory["layernorm"].name == "Zq2"
    bn_text = inventory["batchnorm"].detail
    assert "gamma in .q1, beta in .q2" in bn_text and "forward(training=True/False)" in bn_text, bn_text
    assert "default momentum=0.9 weights the old running value" in bn_text, bn_text
    layer = adapter.make_layer("batchnorm", num_features=3, eps=1e-5, momentum=0.1)
    rng = np.random.default_rng(0)
    x, gamma, beta, dy = rng.normal(size=(6, 3)) * 2 + 1, rng.uniform(0.5, 1.5, 3), rng.normal(size=3), rng.normal(size=(6, 3))
    layer.set_params({"gamma": gamma, "beta": beta})
    layer.set_training(True)
    np.testing.assert_allclose(layer.forward(x), _reference_bn(x, gamma, beta))
    layer.backward(dy)
    grads = layer.get_grads()
    np.testing.assert_allclose(grads["beta"], dy.sum(0))
    np.testing.assert_allclose(grads["gamma"], (dy * (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)).sum(0))
    # driven with momentum 0.9 (its own convention): the running mean moved 0.1 of the way to the batch's
    np.testing.assert_allclose(layer.obj.q3, 0.1 * x.mean(0))


def test_a_batchnorm_over_the_wrong_axis_is_still_the_batchnorm(tmp_path):
    buggy = NAMELESS_NORMS.replace("m, v = x.mean(0), x.var(0)", "m, v = x.mean(1, keepdims=True), x.var(1, keepdims=True)")
    adapter = adapter_for(tmp_path, buggy)
    assert adapter.found.stretch["batchnorm"].name == "Zq1"  # it keeps running statistics
    assert "it keeps running statistics" in adapter.found.stretch["batchnorm"].describe()


def test_a_layernorm_over_the_batch_axis_is_the_layernorm_beside_a_batchnorm(tmp_path):
    buggy = NAMELESS_NORMS.replace("x.var(1, keepdims=True) + 1e-5", "x.var(0, keepdims=True) + 1e-5") \
        .replace("(x - x.mean(1, keepdims=True))", "(x - x.mean(0, keepdims=True))")
    adapter = adapter_for(tmp_path, buggy)
    assert adapter.found.stretch["batchnorm"].name == "Zq1"
    assert adapter.found.stretch["layernorm"].name == "Zq2"
    assert "Zq1 is the batchnorm" in adapter.found.stretch["layernorm"].describe()


FUNCTIONAL_DROPOUT = """
import numpy as np

def q1(x, cfg):
    keep = cfg["keep_prob"]
    if cfg["mode"] == "train":
        mask = (np.random.rand(*x.shape) < keep) / keep
        return x * mask, (cfg, mask)
    return x, (cfg, None)

def q2(dout, cache):
    cfg, mask = cache
    return dout * mask if mask is not None else dout
"""


def test_a_functional_dropout_named_by_its_keep_probability(tmp_path):
    adapter = adapter_for(tmp_path, FUNCTIONAL_DROPOUT)
    text = adapter.inventory()["dropout"].detail
    assert text.startswith("q1/q2: functions") and "'keep_prob' read as the keep probability" in text, text
    layer = adapter.make_layer("dropout", p=0.3)
    layer.set_training(True)
    x = np.ones((100, 100))
    y = layer.forward(x)
    assert abs(np.mean(y != 0) - 0.7) < 0.03 and np.allclose(y[y != 0], 1 / 0.7)
    np.testing.assert_allclose(layer.backward(x), y)
    layer.set_training(False)
    np.testing.assert_allclose(layer.forward(x), x)


# CS231n's text since 2019 defines dropout_param['p'] as the probability of KEEPING a unit, its
# 2016 text as the probability of dropping one: both codes keep p. Only their words tell them apart.
KEEPS_P = """
import numpy as np

def q3(x, cfg):
    \"\"\"Dropout forward.
    - cfg: a dict with keys
      - p: dropout parameter. {says}
      - mode: 'train' or 'test'
    \"\"\"
    if cfg["mode"] == "train":
        mask = (np.random.rand(*x.shape) < cfg["p"]) / cfg["p"]
        return x * mask, mask
    return x, None

def q4(dout, mask):
    return dout * mask if mask is not None else dout

class Q5:
    def __init__(self, p):
        # {says}
        self.p, self.training = p, True

    def forward(self, x):
        self.mask = (np.random.rand(*x.shape) < self.p) / self.p if self.training else 1.0
        return x * self.mask

    def backward(self, dy):
        return dy * self.mask
"""


@pytest.mark.parametrize("says, kept", [("We keep each neuron output with probability p.", 0.7),
                                        ("Each unit is retained with probability p.", 0.7),
                                        ("We drop each neuron output with probability p.", 0.3),
                                        ("Each unit is kept with probability 1 - p.", 0.3),
                                        ("The rate p of the dropout.", 0.3)],
                         ids=["keep", "retained", "drop", "kept_1_minus_p", "silent"])
@pytest.mark.parametrize("as_class", [False, True], ids=["functions", "class"])
def test_a_dropouts_p_is_the_keep_probability_when_its_own_words_say_so(tmp_path, says, kept, as_class):
    source = KEEPS_P.format(says=says)
    if as_class:
        source = source.split("def q3")[0] + "class Q5" + source.split("class Q5")[1]
    else:
        source = source.split("class Q5")[0]
    adapter = adapter_for(tmp_path, source)
    layer = adapter.make_layer("dropout", p=0.3)  # the kit's drop rate
    layer.set_training(True)
    y = layer.forward(np.ones((200, 100)))
    assert abs(np.mean(y != 0) - kept) < 0.03  # 0.3 is what the judge fails as dropout_p_is_keep_probability
    text = adapter.inventory()["dropout"].detail
    assert ("read as the keep probability (its own words say so: \"" + says + "\")" in text) == (kept == 0.7), text


@pytest.mark.parametrize("source, kind, sentence", [
    ("", "batchnorm", "no class or function pair normalises each feature over the batch"),
    ("class BatchNormalizer:\n    def __init__(self, weights_file, config):\n        pass\n", "batchnorm",
     "BatchNormalizer (its constructor needs 'config', which the kit cannot supply for a batchnorm)"),
    ("import numpy as np\nclass Dropper:\n    def __init__(self, p):\n        self.p = p\n"
     "    def forward(self, x):\n        return list(x * (np.random.rand(*x.shape) > self.p))\n", "dropout",
     "no method of Dropper(0.3) maps a (200, 50) input to an output of that shape"),
    ("import numpy as np\nclass Conv:\n    def __init__(self, in_channels, out_channels, kernel_size):\n"
     "        self.w = np.zeros((out_channels, in_channels, kernel_size, kernel_size))\n"
     "    def forward(self, x):\n        return x.sum()\n", "conv2d",
     "holds a 4-D weight but maps no NCHW or NHWC input to a 4-D output"),
])
def test_bad_input_gets_a_sentence(tmp_path, source, kind, sentence):
    adapter = adapter_for(tmp_path, source)
    assert sentence in adapter.inventory()[kind].detail
    hyper = {"batchnorm": {"num_features": 4, "eps": 1e-5, "momentum": 0.1}, "dropout": {"p": 0.3},
             "conv2d": {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "stride": 1, "padding": 0}}[kind]
    with pytest.raises(Missing) as exc:
        adapter.make_layer(kind, **hyper)
    assert "found by behaviour" in str(exc.value) or "looked for" in str(exc.value)


def test_a_style_class_behaviour_does_not_confirm_is_said_to_be_taken_by_name(tmp_path):
    source = "class BatchNorm:\n    def __init__(self, weights_file, config):\n        pass\n"
    found = adapter_for(tmp_path, source).inventory()["batchnorm"]
    assert found.name == "BatchNorm" and "by its name only (not found by behaviour: BatchNorm (its constructor " \
        "needs 'config'" in found.detail, found.detail


def test_map_pins_a_stretch_class(tmp_path):
    (tmp_path / "api.toml").write_text('[layernorm]\nclass = "Zq2"\n')
    adapter = adapter_for(tmp_path, NAMELESS_NORMS, map_file=str(tmp_path / "api.toml"))
    assert adapter.found.stretch["layernorm"].name == "Zq2"
    assert adapter.found.stretch["batchnorm"].name == "Zq1"


def test_stretch_discovery_is_quick_and_deterministic(tmp_path):
    first = adapter_for(tmp_path, NAMELESS_NORMS, name="a.py")
    second = adapter_for(tmp_path, NAMELESS_NORMS, name="b.py")
    first.found.stretch, second.found.stretch  # noqa: B018 - discovers the family
    assert first.found.seconds < 1.0
    assert first.found.stretch["batchnorm"].describe() == second.found.stretch["batchnorm"].describe()


SELF_UPDATING_CONV = """
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

class Zq1:
    def __init__(self, filters, in_channels, kernel_size):
        self.q1 = np.random.randn(filters, in_channels, kernel_size, kernel_size) * 0.1
        self.q2 = np.zeros(filters)

    def forward(self, x):
        self.q3 = x
        k = self.q1.shape[2]
        self.q4 = sliding_window_view(x, (k, k), axis=(2, 3))          # (n, c, ho, wo, k, k)
        return np.einsum("nchwij,fcij->nfhw", self.q4, self.q1) + self.q2[:, None, None]

    def backward(self, output_gradient, learning_rate):
        k = self.q1.shape[2]
        dw = np.einsum("nchwij,nfhw->fcij", self.q4, output_gradient)
        dx = np.zeros_like(self.q3)
        for i in range(k):
            for j in range(k):
                dx[:, :, i:i + output_gradient.shape[2], j:j + output_gradient.shape[3]] += \\
                    np.einsum("nfhw,fc->nchw", output_gradient, self.q1[:, :, i, j])
        self.q1 -= learning_rate * dw
        self.q2 -= learning_rate * output_gradient.sum(axis=(0, 2, 3))
        return dx
"""


def test_a_conv_that_updates_itself_gives_the_implied_gradient_and_keeps_its_weights(tmp_path):
    adapter = adapter_for(tmp_path, SELF_UPDATING_CONV)
    text = adapter.inventory()["conv2d"].detail
    assert "it updates itself in backward(dy, learning_rate)" in text, text
    layer = adapter.make_layer("conv2d", in_channels=2, out_channels=3, kernel_size=2, stride=1, padding=0)
    rng = np.random.default_rng(0)
    W, b, x = rng.normal(size=(3, 2, 2, 2)), rng.normal(size=3), rng.normal(size=(2, 2, 4, 5))
    layer.set_params({"W": W, "b": b})
    y = layer.forward(x)
    dy = rng.normal(size=y.shape)
    layer.backward(dy)
    grads = layer.get_grads()
    np.testing.assert_allclose(grads["b"], dy.sum(axis=(0, 2, 3)))
    windows = np.lib.stride_tricks.sliding_window_view(x, (2, 2), axis=(2, 3))
    np.testing.assert_allclose(grads["W"], np.einsum("nchwij,nfhw->fcij", windows, dy), atol=1e-12)
    np.testing.assert_allclose(layer.get_params()["W"], W)  # put back after the step


NHWC_CONV = """
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

class Zq1:
    def __init__(self, n_filters, ksize, c_in):
        self.q1 = np.random.randn(ksize, ksize, c_in, n_filters) * 0.1
        self.q2 = np.zeros(n_filters)

    def forward(self, x):
        k = self.q1.shape[0]
        self.q3 = x
        self.q4 = sliding_window_view(x, (k, k), axis=(1, 2))          # (n, ho, wo, c, k, k)
        return np.einsum("nhwcij,ijcf->nhwf", self.q4, self.q1) + self.q2

    def backward(self, dy):
        k = self.q1.shape[0]
        self.q5 = np.einsum("nhwcij,nhwf->ijcf", self.q4, dy)
        self.q6 = dy.sum(axis=(0, 1, 2))
        dx = np.zeros_like(self.q3)
        for i in range(k):
            for j in range(k):
                dx[:, i:i + dy.shape[1], j:j + dy.shape[2], :] += np.einsum("nhwf,cf->nhwc", dy, self.q1[i, j])
        return dx
"""


def test_an_nhwc_conv_with_a_kernel_stored_kh_kw_in_out_is_read_in_the_kits_layout(tmp_path):
    adapter = adapter_for(tmp_path, NHWC_CONV)
    text = adapter.inventory()["conv2d"].detail
    assert "layout: input NHWC, W (kh, kw, in, out)" in text, text
    layer = adapter.make_layer("conv2d", in_channels=2, out_channels=3, kernel_size=2, stride=1, padding=0)
    rng = np.random.default_rng(1)
    W, b, x = rng.normal(size=(3, 2, 2, 2)), rng.normal(size=3), rng.normal(size=(2, 2, 4, 5))  # NCHW, (out, in, kh, kw)
    layer.set_params({"W": W, "b": b})
    windows = np.lib.stride_tricks.sliding_window_view(x, (2, 2), axis=(2, 3))   # (n, c, ho, wo, kh, kw)
    y = layer.forward(x)
    np.testing.assert_allclose(y, np.einsum("nchwij,fcij->nfhw", windows, W) + b[:, None, None])
    dy = rng.normal(size=y.shape)
    assert layer.backward(dy).shape == x.shape
    np.testing.assert_allclose(layer.get_grads()["W"], np.einsum("nchwij,nfhw->fcij", windows, dy), atol=1e-12)
    np.testing.assert_allclose(layer.get_params()["W"], W)


NHWC_CONV_PAIR = """
import numpy as np

def slide(images, kernel, bias, settings):
    s, p = settings["stride"], settings["pad"]
    padded = np.pad(images, ((0, 0), (p, p), (p, p), (0, 0)))
    kh, kw, _, n_out = kernel.shape
    rows = (padded.shape[1] - kh) // s + 1
    cols = (padded.shape[2] - kw) // s + 1
    out = np.zeros((images.shape[0], rows, cols, n_out))
    for i in range(rows):
        for j in range(cols):
            window = padded[:, i * s:i * s + kh, j * s:j * s + kw, :]
            out[:, i, j, :] = np.tensordot(window, kernel, axes=([1, 2, 3], [0, 1, 2]))
            for f in range(n_out):
                b_f = bias[:, :, :, f]
                out[:, i, j, f] += BIAS_READ
    return out, (images, kernel, bias, settings)

def slide_back(d_out, memo):
    images, kernel, bias, settings = memo
    s, p = settings["stride"], settings["pad"]
    padded = np.pad(images, ((0, 0), (p, p), (p, p), (0, 0)))
    d_padded, d_kernel = np.zeros_like(padded), np.zeros_like(kernel)
    kh, kw = kernel.shape[:2]
    for i in range(d_out.shape[1]):
        for j in range(d_out.shape[2]):
            window = padded[:, i * s:i * s + kh, j * s:j * s + kw, :]
            d_kernel += np.tensordot(window, d_out[:, i, j, :], axes=([0], [0]))
            d_padded[:, i * s:i * s + kh, j * s:j * s + kw, :] += np.tensordot(d_out[:, i, j, :], kernel, axes=([1], [3]))
    d_images = d_padded[:, p:p + images.shape[1], p:p + images.shape[2], :]
    return d_images, d_kernel, d_out.sum(axis=(0, 1, 2)).reshape(bias.shape)
"""


@pytest.mark.parametrize("bias_read, verdict", [("b_f.reshape(())", "pass"), ("float(b_f)", "error")])
def test_a_functional_nhwc_conv_with_a_4d_bias_is_read_in_its_layout_or_is_the_students_error(tmp_path, bias_read,
                                                                                                 verdict):
    """The course notebooks' conv_forward(A_prev, W (kh, kw, in, out), b (1, 1, 1, out), hparameters): found in
    that layout and judged right; the same code converting the 4-D bias with float() raises on every
    layout the kit tries, furthest in its own, so it is the student's error with the student's line,
    never missing."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    source = NHWC_CONV_PAIR.replace("BIAS_READ", bias_read)
    adapter = adapter_for(tmp_path, source)
    assert "images NHWC, W (kh, kw, in, out), b (1, 1, 1, out)" in adapter.inventory()["conv2d"].detail
    impl, report = tmp_path / "conv_pair.py", tmp_path / "report.json"
    impl.write_text(textwrap.dedent(source))
    subprocess.run([sys.executable, "-m", "pytest", "conformance/test_conv2d.py", "--impl", str(impl), "--report",
                    str(report), "-q", "-p", "no:cacheprovider", "-o", "addopts="],
                   cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300)
    entry = json.loads(report.read_text())["components"]["conv2d"]
    assert entry["verdict"] == verdict, entry
    if verdict == "error":
        assert "in slide, " in entry["diagnosis"] or "in slide," in json.dumps(entry), entry
